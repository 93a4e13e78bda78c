"""Oordeel: the verdict block of the kop section, built from the area's score row by the rules in
:mod:`analysis.factsheets.oordeel` (the sentences are generated, never free text)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.factsheets import echt as E
from analysis.factsheets import oordeel as R
from analysis.factsheets import sections as S
from analysis.factsheets.fmt import fmt_value, origin_nl, plain, samenstelling_nl
from analysis.factsheets.gebied import Gebied, drempels


def _get(s, col: str):
    v = s.get(col)
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _indicator_fact(area: Gebied, indicator: str, year: int) -> str | None:
    """'45,3 in 2024 (bron: ...; synthetisch)' for the area's figure of ``indicator`` up to ``year``."""
    ind = area.ctx.indicators
    rows = ind[(ind["region_code"] == area.code) & (ind["indicator"] == indicator) & (ind["year"] <= year)]
    if rows.empty:
        return None
    r = rows.sort_values("year").iloc[-1]
    unit = area.catalog.get(indicator, {}).get("unit", "")
    where = (
        "synthetische invulling, geen echt cijfer"
        if r["origin"] == "synthetic"
        else f"bron: {plain(str(r['source_table']))}; {origin_nl(str(r['origin']))}"
    )
    return f"{fmt_value(float(r['value']), unit)} in {int(r['year'])} ({where})"


def bullets(area: Gebied, year: int, n: int = 3) -> tuple[str, ...]:
    """The indicators with the largest unfavourable weight in the axis levels, with value, year, source.

    Buurten have per-indicator contributions; an aggregate gets its composition instead."""
    b = area.ctx.contributions
    out: list[str] = []
    if b is not None:
        b = b[(b["region_code"] == area.code) & b["bijdrage"].notna()].rename(columns={"as": "axis"})
        adverse = np.where(b["axis"] == "A", b["bijdrage"], -b["bijdrage"])
        b = b.assign(adv=adverse).sort_values("adv", ascending=False)
        for r in b.head(n).itertuples():
            label = area.catalog.get(r.indicator, {}).get("label", r.indicator)
            richting = "ongunstig" if r.adv > 0 else "gunstig"
            fact = _indicator_fact(area, r.indicator, year)
            out.append(
                f"{label} (as {r.axis}, {richting}): {fact}" if fact else f"{label} (as {r.axis}, {richting})"
            )
    s = area.score
    if not out and s is not None and isinstance(s.get("samenstelling"), str):
        eenheden = f"{area.eenheid.capitalize()}en"
        out.append(f"{eenheden} in dit gebied: {samenstelling_nl(str(s['samenstelling']))}.")
    return tuple(out)


def real_goal_findings(goals, regions: list[str], catalog: dict) -> tuple[str, ...]:
    """Goals measured on REAL series for these regions, first in the verdict: 'Echte bevinding: doel
    P2-03-GEM (Huishoudens 25-64 jaar met lage welvaart, gemeente Zwijndrecht) is niet op koers
    (kans om het doel in 2040 te halen: < 5%).'"""
    if goals is None or not len(goals):
        return ()
    g = goals[goals["region_code"].isin(regions) & ~goals["synthetic"].fillna(False).astype(bool)]
    g = g[~g["status"].isin(["niet meetbaar", "onvoldoende data"])]
    out = []
    for r in g.itertuples():
        label = catalog.get(r.indicator, {}).get("label", r.indicator)
        where = f"gemeente {r.gebied}" if str(r.region_code).startswith("GM") else str(r.gebied)
        kans = getattr(r, "kans_band", None)
        tail = (
            f" (kans om het doel in {int(r.doeljaar)} te halen: {kans})"
            if isinstance(kans, str) and pd.notna(r.doeljaar)
            else ""
        )
        out.append(f"Echte bevinding: doel {r.doel_id} ({label}, {where}) is {r.status}{tail}.")
    return tuple(out)


def build(area: Gebied) -> S.Oordeel | None:
    s = area.score
    if s is None:
        return None
    t = drempels()
    echt = E.echte_regels(area)  # national sheet: the real figures first
    vraagt = E.vraagt_echte_cijfers(area)
    if vraagt:  # national, every input synthetic: no level, trend, signal or composition as a finding
        return S.Oordeel(
            niveau=(),
            ontwikkeling=None,
            signalen=(),
            signaal_zin=None,
            regel="",
            punten=(),
            bevindingen=real_goal_findings(area.ctx.goals, area.goal_regions[:1], area.catalog),
            synthetisch=None,
            echt=echt,
            vraagt=vraagt,
        )
    niveau, signalen = [], []
    for ref in R.REFERENTIES:
        naam = R.referentie_naam(ref, area.gemeente_naam, area.level)
        klassen = {a: _get(s, f"{a}_niveauklasse_{ref}") for a in ("A", "B")}
        waarden = {a: _get(s, f"{a}_niveau_{ref}") for a in ("A", "B")}
        zin = R.niveau_zin(area.name, naam, klassen, waarden, t.niveau)
        if zin:
            niveau.append(zin)
        woord = R.signaal_volgens_regel(
            waarden["A"],
            _get(s, f"A_trend_{ref}"),
            waarden["B"],
            _get(s, f"B_trend_{ref}"),
            t.niveau,
            t.verandering,
        )
        signalen.append((naam, woord))
    eigen = _get(s, "signaal_eigen_niveau")
    if isinstance(eigen, str):
        signalen.append((R.referentie_naam("eigen_niveau", area.gemeente_naam, area.level), eigen))
    trend = R.trend_zin(
        str(_get(s, "jaren") or ""),
        {a: _get(s, f"{a}_trendklasse_gemeente") for a in ("A", "B")},
        R.referentie_naam("gemeente", area.gemeente_naam, area.level),
    )
    synth = bool(s["synthetic_inputs"]) if pd.notna(s.get("synthetic_inputs")) else False
    return S.Oordeel(
        niveau=tuple(niveau),
        ontwikkeling=trend,
        signalen=tuple(signalen),
        signaal_zin=R.signaal_zin(dict(signalen)),
        regel=R.regel_tekst(t.niveau, t.verandering, t.jaren),
        punten=bullets(area, int(s["year"])),
        bevindingen=real_goal_findings(area.ctx.goals, area.goal_regions[:1], area.catalog),
        synthetisch=R.synthetisch_zin(area.name) if synth else None,
        echt=echt,
    )
