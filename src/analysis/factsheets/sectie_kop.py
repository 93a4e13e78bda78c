"""Kop: the sheet's first screen (name, population, signal, what it rests on, focus area, goals)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.factsheets import echt as E
from analysis.factsheets import sectie_oordeel
from analysis.factsheets import sections as S
from analysis.factsheets.fmt import samenstelling_nl
from analysis.factsheets.gebied import LEVEL_NL, Gebied, drempels
from analysis.factsheets.render import SIGNAAL_BADGE

REDEN_NL = {
    "A hoog": "hoge concentratie van lage zelfredzaamheid (as A)",
    "A stijgend": "die concentratie neemt toe (as A)",
    "B laag": "lage uitkomst op leefbaarheid en veiligheid (as B)",
    "B dalend": "die uitkomst gaat achteruit (as B)",
}
AS_NAAM = {"A": "zelfredzaamheid (A)", "B": "leefbaarheid en veiligheid (B)"}


def signal_of(area: Gebied) -> S.Signaal | None:
    s = area.score
    if s is None or E.alleen_synthetisch(area):  # national, every input synthetic: no finding
        return None
    if isinstance(s.get("signaal"), str):
        word, reason = s["signaal"], s.get("signaal_reden")
        against = f"de {area.eenheid}en van de gemeente"
    elif isinstance(s.get("signaal_eigen_niveau"), str):
        word, reason = s["signaal_eigen_niveau"], s.get("signaal_reden_eigen_niveau")
        against = f"de andere {'wijken' if area.level == 'wijk' else 'focusgebieden'} van de gemeente"
    else:
        return None
    if word not in SIGNAAL_BADGE:  # 'onvoldoende data'
        return None
    reasons = tuple(REDEN_NL.get(r.strip(), r.strip()) for r in str(reason or "").split(";") if r.strip())
    p = None if area.sens is None else float(area.sens["p_signaal"])
    rob = None if area.sens is None else str(area.sens["robuustheid"])
    return S.Signaal(
        woord=word,
        kleur=SIGNAAL_BADGE[word],
        redenen=reasons,
        vergeleken_met=against,
        p_signaal=p,
        robuustheid=rob,
        synthetisch=bool(s["synthetic_inputs"]),
    )


def contributions_of(area: Gebied, n: int = 3) -> tuple[S.Bijdrage, ...]:
    """The indicators that weigh most in this buurt's axis levels (unfavourable first)."""
    b = area.ctx.contributions
    if b is None:
        return ()
    b = b[(b["region_code"] == area.code) & b["bijdrage"].notna()]
    if b.empty:
        return ()
    # axis A: higher = more concentration (unfavourable); axis B: higher = better
    adverse = np.where(b["as"] == "A", b["bijdrage"], -b["bijdrage"])
    b = b.rename(columns={"as": "axis"}).assign(adv=adverse).sort_values("adv", ascending=False)
    out = []
    for r in b.head(n).itertuples():
        label = area.catalog.get(r.indicator, {}).get("label", r.indicator)
        out.append(
            S.Bijdrage(
                label=label,
                as_naam=AS_NAAM.get(r.axis, r.axis),
                richting="ongunstig" if r.adv > 0 else "gunstig",
                waarde=float(r.bijdrage),
            )
        )
    return tuple(out)


def _focus_areas_text(area: Gebied, codes) -> str:
    """'Schildersbuurt (exact), Koninginneweg (benaderd)' for focus-area codes."""
    parts = []
    for fg in codes:
        if fg in area.reg.index:
            how = "exact" if area.reg.loc[fg, "mapping"] == "exact" else "benaderd"
            parts.append(f"{area.reg.loc[fg, 'name']} (koppeling {how})")
    return ", ".join(parts)


def focus_of(area: Gebied) -> S.Focus | None:
    if not area.programme:
        return None
    fgs = area.reg[(area.reg["level"] == "focusgebied") & (area.reg.index != "FG00")]
    approx = fgs[fgs["mapping"] != "exact"]
    if area.level == "gemeente" or area.code == "FG00":
        text = f"Het programma heeft {len(fgs)} focusgebieden"
        if len(approx):
            text += (
                f"; bij {len(approx)} valt de grens niet samen met CBS-buurtgrenzen (koppeling benaderd, "
                f"door de gemeente te bevestigen): {', '.join(approx['name'])}"
            )
        return S.Focus(area.code == "FG00", None, None, None, text + ".")
    if area.level == "focusgebied":
        how = "exact" if area.info["mapping"] == "exact" else "benaderd"
        return S.Focus(True, area.name, how, None, _mapping_text(how))
    if area.level == "buurt":
        if not area.focus:
            return S.Focus(False, tekst="Deze buurt is geen focusbuurt van het programma.")
        fg = area.reg.loc[area.focus]
        how = "exact" if fg["mapping"] == "exact" else "benaderd"
        return S.Focus(True, str(fg["name"]), how, area.link_to(area.focus), _mapping_text(how))
    if area.level == "wijk":
        b = area.reg[(area.reg["level"] == "buurt") & (area.reg["wijk_code"] == area.code)]
        codes = list(dict.fromkeys(b["focusgebied"].dropna()))
        if not codes:
            return S.Focus(False, tekst="Geen focusgebied van het programma in deze wijk.")
        return S.Focus(False, tekst="Focusgebieden in deze wijk: " + _focus_areas_text(area, codes) + ".")
    return None


def _mapping_text(how: str) -> str:
    if how == "exact":
        return "De grens van het focusgebied valt samen met CBS-buurtgrenzen (koppeling exact)."
    return (
        "Let op: de grens van het focusgebied valt niet samen met CBS-buurtgrenzen; de cijfers gelden "
        "voor de buurt of buurten die het gebied het best benaderen (koppeling benaderd, door de gemeente "
        "te bevestigen)."
    )


def goal_counts_of(area: Gebied) -> str | None:
    """Goal statuses per applicable group, real and synthetic series apart (never one mixed total)."""
    if not area.programme or area.goal_rows is None:
        return None
    if not area.goal_groups:
        return (
            "Voor dit gebied gelden geen eigen programmadoelen: de doelen gaan over de focusgebieden "
            "en over alle focusbuurten samen."
        )
    parts = []
    for _head, region, together in area.goal_groups:
        g = area.goal_rows[area.goal_rows["region_code"] == region]
        g = g[~g["status"].isin(["niet meetbaar", "onvoldoende data"])]
        synth = g["synthetic"].fillna(False).astype(bool)
        out = []
        for label, part in (("echte", g[~synth]), ("synthetische", g[synth])):
            if len(part):
                on = int((part["status"] == "op koers").sum())
                out.append(f"{len(part)} op {label} reeksen, waarvan {on} op koers")
        if out:
            who = "alle focusbuurten samen" if together else str(area.reg.loc[region, "name"])
            parts.append(f"{who}: " + "; ".join(out))
    if not parts:
        return "Geen van de doelen voor dit gebied heeft genoeg gegevens voor een prognose."
    return "Doelen met een prognose — " + " · ".join(parts) + "."


def build(area: Gebied) -> S.Kop:
    parent = None
    if area.level == "buurt" and area.wijk in area.reg.index:
        parent = f"wijk {area.reg.loc[area.wijk, 'name']}"
    s = area.score
    sig = signal_of(area)
    samenstelling = None
    share = None
    geen = None
    if s is not None and isinstance(s.get("samenstelling"), str):
        samenstelling = samenstelling_nl(str(s["samenstelling"]))
        share = None if pd.isna(s.get("aandeel_inwoners_signaal")) else float(s["aandeel_inwoners_signaal"])
    if s is not None and sig is None and samenstelling is None:
        geen = "Voor dit gebied is geen veerkrachtsignaal berekend (te weinig inwoners of gegevens)."
    if s is None and area.ctx.scores is not None:
        geen = "Voor dit gebied is geen veerkrachtsignaal berekend (te weinig inwoners of gegevens)."
    if E.alleen_synthetisch(area):  # national, every input synthetic: no finding (the verdict says why)
        sig, samenstelling, share, geen = None, None, None, E.NIET_GETOOND
    bijdragen = contributions_of(area)
    return S.Kop(
        naam=area.name,
        code=area.code,
        niveau=LEVEL_NL.get(area.level, area.level),
        ouder=parent,
        gemeente_naam=area.gemeente_naam,
        peiljaar=area.year,
        synthetisch=area.has_synthetic,
        bevolking=area.population,
        signaal=sig,
        samenstelling=samenstelling,
        aandeel_signaal=share,
        geen_score=geen,
        drempels=drempels(),
        bijdragen=bijdragen,
        bijdragen_synthetisch=bool(s is not None and s["synthetic_inputs"]) and bool(bijdragen),
        focus=focus_of(area),
        doelen_tekst=goal_counts_of(area),
        heeft_analyse=area.ctx.scores is not None,
        oordeel=sectie_oordeel.build(area),
        eenheid=area.eenheid,
    )
