"""Doelen: the programme goals that apply to the area, with forecasts, scenarios and fan chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from analysis.factsheets import sections as S
from analysis.factsheets.fmt import csv_download, nl_number, plain, unit_words, with_unit
from analysis.factsheets.gebied import Gebied, goal_catalog, programma_naam


def _signed(value: float, difference: bool) -> str:
    """A bare interval bound in Dutch notation (a sign for a gap: '+2,5', '−15,1')."""
    decimals = 0 if abs(value) >= 100 else (1 if abs(value) >= 1 else 2)
    txt = nl_number(value, decimals)
    if difference and value > 0:
        txt = "+" + txt
    return txt.replace("-", "\u2212", 1) if txt.startswith("-") else txt


def _gemeten(label: str, gebied: str, region: str) -> str:
    """'Gemeten: Huishoudens 25-64 jaar met lage welvaart, gemeente Zwijndrecht' (what the series is)."""
    where = f"gemeente {gebied}" if region.startswith("GM") else gebied
    if where.startswith("Alle "):
        where = "alle " + where[5:]
    return f"Gemeten: {label}, {where}"


def _goal_row(area: Gebied, r) -> S.DoelRij:
    unit, label = area.unit(r.indicator)
    gap = r.doeltype == "pariteit"
    band = getattr(r, "kans_band", None)
    kans = "n.b." if band is None or pd.isna(band) else str(band)
    if pd.notna(r.prognose) and pd.notna(r.lo80):
        # the unit once, on the point forecast: "6,4 per 1.000 inwoners (80%-interval 0,9 tot 42,6)"
        bounds = [
            with_unit(v, unit, "", gap) if unit in ("%", "x 1.000 euro") else _signed(v, gap)
            for v in (r.lo80, r.hi80)
        ]
        prog = f"{with_unit(r.prognose, unit, label, gap)}"
        if gap:
            prog += " t.o.v. de gemeente"
        prog += f" (80%-interval {bounds[0]} tot {bounds[1]})"
    elif pd.notna(r.prognose):
        prog = f"{with_unit(r.prognose, unit, label, gap)} (waargenomen)"
    else:
        prog = "n.b."
    if gap:
        target = "verschil 0 met gemeente"
    elif pd.isna(r.doelwaarde_berekend):
        target = "n.b."
    else:
        target = with_unit(r.doelwaarde_berekend, unit, label)
    return S.DoelRij(
        doel_id=str(r.doel_id),
        tekst=str(r.tekst),
        gemeten=_gemeten(label, str(r.gebied), str(r.region_code)),
        gebied=str(r.gebied),
        status=str(r.status),
        synthetisch=bool(r.synthetic),
        kans=kans,
        prognose=prog,
        extrapolatie=getattr(r, "interval_soort", None) == "extrapolatie" and prog != "n.b.",
        doelwaarde=target,
        tempo=_pace_cell(r, unit, label),
    )


def _pace_cell(r, unit: str, label: str) -> str:
    need, seen = getattr(r, "benodigd_tempo_pct", None), getattr(r, "waargenomen_tempo_pct", None)
    if need is not None and pd.notna(need) and seen is not None and pd.notna(seen):
        return f"{nl_number(need, 1)}% / {nl_number(seen, 1)}%"
    need, seen = getattr(r, "benodigd_tempo", None), getattr(r, "waargenomen_tempo", None)
    if need is not None and pd.notna(need) and seen is not None and pd.notna(seen):
        w = unit_words(label, unit)
        words = f" {w}" if w else (" procentpunt" if unit == "%" else "")
        return f"{nl_number(need, 2)} / {nl_number(seen, 2)}{words}"
    return "n.b."


def build(area: Gebied) -> S.Doelen:
    if not area.programme:
        from analysis.config import programma_gemeente

        eigen = area.gemeente == programma_gemeente()  # e.g. Zwijndrecht in the national run
        return S.Doelen(
            programma=False, programma_naam=programma_naam(), beschikbaar=False, eigen_gemeente=eigen
        )
    from analysis.goals.labels import TREND_LABEL

    if area.goal_rows is None:
        return S.Doelen(programma=True, programma_naam=programma_naam(), beschikbaar=False)
    if not area.goal_groups:
        links = []
        if area.level == "wijk":
            fb = area.reg[
                (area.reg["level"] == "buurt")
                & (area.reg["wijk_code"] == area.code)
                & area.reg["focusgebied"].notna()
            ]
            for fg in dict.fromkeys(fb["focusgebied"]):
                if fg in area.reg.index:
                    how = "exact" if area.reg.loc[fg, "mapping"] == "exact" else "benaderd"
                    links.append(S.FocusLink(str(area.reg.loc[fg, "name"]), area.link_to(fg), how))
        what = "wijk" if area.level == "wijk" else "buurt"
        reason = (
            f"Voor deze {what} gelden geen eigen programmadoelen. De doelen van het programma gaan "
            "over de focusgebieden en over alle focusbuurten samen; ze staan op de factsheets van "
            "die gebieden en van de gemeente."
        )
        return S.Doelen(
            programma=True,
            programma_naam=programma_naam(),
            beschikbaar=True,
            geen_doelen=reason,
            focusgebieden=tuple(links),
            trend_label=TREND_LABEL,
        )
    g = area.goal_rows[area.goal_rows["status"] != "niet meetbaar"]
    groups = []
    for head, region, together in area.goal_groups:
        part = g[g["region_code"] == region]
        if together:
            uitleg = (
                "Deze doelen zijn gemeten op alle focusbuurten samen, niet op dit gebied apart."
                if area.level != "focusgebied" or area.code != "FG00"
                else "Gemeten op alle focusbuurten van het programma samen."
            )
        else:
            uitleg = ""
        rijen = tuple(_goal_row(area, r) for r in part.itertuples())
        with_data = [r for r in rijen if r.prognose != "n.b."]
        groups.append(
            S.DoelGroep(
                kop=head,
                uitleg=uitleg,
                rijen=rijen,
                samen=together,
                alle_synthetisch=bool(with_data) and all(r.synthetisch for r in with_data),
            )
        )
    csv = csv_download(_goal_records(g), f"doelen-{area.code.lower()}.csv", "Download de doelen als CSV")
    return S.Doelen(
        programma=True,
        programma_naam=programma_naam(),
        beschikbaar=True,
        groepen=tuple(groups),
        scenarios=_scenarios(area, g),
        trend_label=TREND_LABEL,
        fan=_fan(area),
        csv=Markup(csv),
        **_not_measurable(area),
    )


def _not_measurable(area: Gebied) -> dict:
    """The goals no data measures yet, with the source needed and who holds it (goals/status)."""
    from analysis.goals.progress import HTML

    st = area.ctx.goals
    if st is None:
        return {}
    out = {"rapportage": f"../{HTML}"}  # written by the same goals run as status.parquet
    if "bij_wie" not in st:
        return out
    rows = st[st["status"] == "niet meetbaar"]
    out["niet_meetbaar"] = tuple(
        S.NietMeetbaar(str(r.doel_id), str(r.tekst), str(r.bron_nodig), str(r.bij_wie))
        for r in rows.itertuples()
    )
    return out


def _goal_records(g: pd.DataFrame) -> pd.DataFrame:
    """The goal table as shown, for the CSV download (P(met) only as its band, with its meaning)."""
    cols = {
        "doel_id": "doel",
        "gebied": "gebied",
        "status": "status",
        "kans_band": "kans_gehaald",
        "kans_betekenis": "betekenis_kans",
        "doeljaar": "doeljaar",
        "prognose": "prognose",
        "lo80": "interval80_laag",
        "hi80": "interval80_hoog",
        "interval_soort": "interval",
        "doelwaarde_berekend": "doelwaarde",
        "benodigd_tempo_pct": "benodigd_tempo_pct_per_jaar",
        "waargenomen_tempo_pct": "waargenomen_tempo_pct_per_jaar",
        "bron": "bron",
    }
    out = g[[c for c in cols if c in g]].rename(columns=cols)
    out.insert(3, "herkomst", np.where(g["synthetic"].fillna(False).astype(bool), "synthetisch", "echt"))
    if "bron" in out:
        out["bron"] = out["bron"].map(lambda b: plain(b) if isinstance(b, str) else b)
    return out


def _scenarios(area: Gebied, g: pd.DataFrame) -> tuple[S.Scenario, ...]:
    """Pace and scenarios for the real-data goals with a horizon beyond the tested one."""
    if "scenario_trend_zet_door" not in g:
        return ()
    out = []
    for r in g[g["scenario_trend_zet_door"].notna()].itertuples():
        if r.synthetic:
            continue
        unit, label = area.unit(r.indicator)
        pace = ""
        if pd.notna(r.benodigd_tempo_pct) and pd.notna(r.snelste_paneltempo_pct):
            pace = (
                f"Nodig is {nl_number(r.benodigd_tempo_pct, 2)}% per jaar tot {int(r.doeljaar)}; "
                f"waargenomen {nl_number(r.waargenomen_tempo_pct, 2)}% per jaar; de snelste "
                f"aanhoudende verandering in het paneel was {nl_number(r.snelste_paneltempo_pct, 2)}% "
                f"per jaar ({plain(r.paneltempo_bron)}). "
            )
        out.append(
            S.Scenario(
                doel_id=str(r.doel_id),
                gebied=str(r.gebied),
                tempo=pace,
                doeljaar=int(r.doeljaar),
                trend=with_unit(r.scenario_trend_zet_door, unit, label),
                halveert=with_unit(r.scenario_trend_halveert, unit, label),
                beste=with_unit(r.scenario_beste_in_paneel, unit, label),
                doel=with_unit(r.doelwaarde_berekend, unit, label),
                gehaald=str(r.scenarios_gehaald),
            )
        )
    return tuple(out)


def _fan(area: Gebied) -> Markup | None:
    """The headline goal's fan chart (analysis.factsheets.charts.fan_chart_html) with its table."""
    if area.ctx.forecasts is None or not area.goal_groups:
        return None
    goal_id, region = (
        ("P2-03-GEM", area.code) if area.level == "gemeente" else ("P2-03", area.goal_regions[0])
    )
    fc = area.ctx.forecasts
    fc = fc[(fc["doel_id"] == goal_id) & (fc["region_code"] == region)]
    row = area.ctx.goals
    row = row[(row["doel_id"] == goal_id) & (row["region_code"] == region)]
    if fc.empty or row.empty:
        return None
    from analysis.factsheets.charts import fan_chart_html

    chart = fan_chart_html(
        goal_catalog()[goal_id],
        region,
        str(area.reg.loc[region, "name"]),
        row.iloc[0].to_dict(),
        fc,
        area.catalog,
        headline=goal_id == "P2-03-GEM",
    )
    return Markup(chart.html)
