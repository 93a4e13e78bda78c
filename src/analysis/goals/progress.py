"""The voortgangsrapportage: all goals of the programme, grouped by pillar, one row each.

Written by `veerkracht goals` (and so by `veerkracht report`) as
``outputs/<GM>/voortgangsrapportage.html`` plus ``voortgangsrapportage.csv`` (the same table). Each
goal has one of four report statuses (op koers / niet op koers / nog geen trend / niet meetbaar),
its latest value with year and source, the forecast for its target year in words, and for the goals
that are not (yet) measurable the data that is needed and who holds it.

The previous report's table is kept as ``voortgangsrapportage_vorige.csv`` (only replaced when the
table changed, so rerunning on the same data keeps the comparison); the summary lists the goals
whose status changed since then. A status that rests on a synthetic series is labelled synthetic and
counted apart; real ones lead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from analysis.config import Paths, indicator_catalog
from analysis.goals.catalog import Doel, partner_names
from analysis.io import write_json, write_text

STATUS_REPORT = {
    "op koers": "op koers",
    "risico": "niet op koers",
    "niet op koers": "niet op koers",
    "onvoldoende data": "nog geen trend",
    "niet meetbaar": "niet meetbaar",
}
REPORT_STATUSES = ("op koers", "niet op koers", "nog geen trend", "niet meetbaar")
STATUS_KIND = {
    "op koers": "groen",
    "niet op koers": "rood",
    "nog geen trend": "oranje",
    "niet meetbaar": "grijs",
}
HTML, CSV, PREVIOUS, META = (
    "voortgangsrapportage.html",
    "voortgangsrapportage.csv",
    "voortgangsrapportage_vorige.csv",
    "voortgangsrapportage.json",
)
COLUMNS = (
    "pijler",
    "pijler_naam",
    "doel_id",
    "tekst",
    "status",
    "herkomst",
    "gemeten",
    "laatste_waarde",
    "laatste_jaar",
    "bron",
    "prognose",
    "per_focusgebied",
    "gegevens_nodig",
    "bij_wie",
)
COMPARE = ("status", "herkomst")


def _num(v) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and not pd.isna(v)


def _fmt(value, unit: str, label: str, gap: bool) -> str:
    from analysis.factsheets.fmt import with_unit

    return with_unit(float(value), unit, label, gap)


def _supplier(indicator: str | None) -> str | None:
    spec = indicator_catalog().get(indicator or "", {})
    src = spec.get("source")
    return src.get("supplier") if isinstance(src, dict) else None


def _forecast_words(goal: Doel, r: pd.Series, unit: str, label: str) -> str:
    gap = goal.doeltype == "pariteit"
    after = " t.o.v. de gemeente" if gap else ""
    if gap:
        doel = "geen achterstand op het gemiddelde van de gemeente"
    elif _num(r.get("doelwaarde_berekend")):
        doel = _fmt(r["doelwaarde_berekend"], unit, label, False)
    else:
        doel = "verbetering ten opzichte van " + str(goal.basisjaar)
    if r.get("kans_band") == "waargenomen" and _num(r.get("prognose")):
        seen = _fmt(r["prognose"], unit, label, gap)
        return f"Doeljaar {goal.doeljaar} is al gemeten: {seen}{after}; doel {doel}."
    if not _num(r.get("prognose")):
        why = str(r.get("toelichting_status") or "te weinig waarnemingen")
        return f"Nog geen prognose voor {goal.doeljaar}: {why}."
    lo, hi = (_fmt(r[k], unit, label, gap) for k in ("lo80", "hi80"))
    text = (
        f"In {goal.doeljaar} naar verwachting {_fmt(r['prognose'], unit, label, gap)}{after} "
        f"(80%-interval {lo} tot {hi}); doel: {doel}."
    )
    if r.get("kans_band"):
        text += f" Kans dat het doel gehaald wordt: {r['kans_band']}"
        text += " (risico)." if r.get("status") == "risico" else "."
    if r.get("interval_soort") == "extrapolatie":
        text += " Het doeljaar ligt verder weg dan de getoetste horizon: lees dit als scenario."
    return text


def _focus_counts(rows: pd.DataFrame) -> str:
    fg = rows[rows["region_code"].astype(str).str.match(r"^FG(0[1-9]|1[0-5])$")]
    if fg.empty:
        return ""
    counts = fg["status"].map(STATUS_REPORT).value_counts()
    parts = [f"{int(counts[s])} {s}" for s in REPORT_STATUSES if s in counts]
    return f"{len(fg)} focusgebieden: " + ", ".join(parts)


def goal_record(goal: Doel, rows: pd.DataFrame, partners: dict, gemeente: str, names: dict) -> dict:
    """One row of the report for ``goal``; ``rows`` are its rows of goals/status.parquet."""
    pijlers = partners.get("__pijlers__", {})
    rec = dict.fromkeys(COLUMNS, "")
    rec.update(
        pijler=goal.pijler, pijler_naam=pijlers.get(goal.pijler, ""), doel_id=goal.id, tekst=goal.tekst
    )
    who = partner_names(goal, partners)
    if not goal.meetbaar:
        rec.update(
            status="niet meetbaar",
            herkomst="",
            gegevens_nodig=f"{goal.reden}. Nodig: {goal.bron}.",
            bij_wie=", ".join(who),
        )
        return rec
    spec = indicator_catalog().get(goal.indicator, {})
    unit, label = spec.get("unit", ""), spec.get("label", goal.indicator)
    supplier = _supplier(goal.indicator)
    if supplier and supplier not in who:
        who = [supplier, *who]
    rec["bij_wie"] = ", ".join(who)
    # imported here: a fact sheet reads this module's file names without the forecast machinery
    from analysis.goals.evaluate import regions_for

    main = regions_for(goal, gemeente)[0]
    where = names.get(main, main)
    where = (
        f"gemeente {where}" if main == gemeente else ("alle focusbuurten samen" if main == "FG00" else where)
    )
    rec["gemeten"] = f"{label}; {where}"
    if goal.doeltype == "pariteit":
        rec["gemeten"] += " (verschil met de gemeente)"
    hit = rows[rows["region_code"] == main]
    rec["per_focusgebied"] = _focus_counts(rows)
    if hit.empty:
        rec.update(status="nog geen trend", prognose="Geen gegevens voor dit doel in deze run.")
        return rec
    r = hit.iloc[0]
    rec["status"] = STATUS_REPORT.get(str(r["status"]), "nog geen trend")
    n = int(r["n_punten"]) if _num(r.get("n_punten")) else 0
    if n == 0:
        if supplier:
            rec["gegevens_nodig"] = f"Nog geen gegevens: de levering van {supplier} ontbreekt."
        else:
            rec["gegevens_nodig"] = "Nog geen gegevens." + (
                f" {goal.toelichting}" if goal.toelichting else ""
            )
        rec["prognose"] = f"Nog geen prognose voor {goal.doeljaar}: geen waarnemingen."
        return rec
    from analysis.factsheets.fmt import plain

    rec["herkomst"] = "synthetisch" if bool(r.get("synthetic")) else "echt"
    rec["laatste_waarde"] = _fmt(r["laatste_waarde"], unit, label, goal.doeltype == "pariteit")
    rec["laatste_jaar"] = f"{int(r['laatste_jaar'])}" + (
        " (voorlopig)" if bool(r["laatste_jaar_voorlopig"]) else ""
    )
    rec["bron"] = plain(str(r.get("bron") or "")).replace("herkomst: local", "herkomst: partnergegevens")
    rec["prognose"] = _forecast_words(goal, r, unit, label)
    if rec["status"] == "nog geen trend" and n < 3:
        rec["gegevens_nodig"] = f"Meer jaren nodig ({n} waarneming(en))."
    return rec


def progress_table(
    goals: list[Doel], raw: dict, status: pd.DataFrame, gemeente: str, names: dict
) -> pd.DataFrame:
    partners = {**raw.get("partners", {}), "__pijlers__": raw.get("pijlers", {})}
    recs = [goal_record(g, status[status["doel_id"] == g.id], partners, gemeente, names) for g in goals]
    return (
        pd.DataFrame(recs, columns=list(COLUMNS))
        .sort_values(["pijler"], kind="stable")
        .reset_index(drop=True)
    )


def changes(new: pd.DataFrame, old: pd.DataFrame | None) -> list[dict]:
    """Goals whose status (or its origin: echt/synthetisch) differs from the previous table."""
    if old is None:
        return []
    old = old.fillna("").astype({"doel_id": str}).set_index("doel_id")
    out = []
    for r in new.itertuples():
        if r.doel_id not in old.index:
            out.append({"doel_id": r.doel_id, "was": "(nieuw doel)", "nu": r.status, "herkomst": r.herkomst})
            continue
        o = old.loc[r.doel_id]
        if any(str(o.get(c, "")) != str(getattr(r, c)) for c in COMPARE):
            was = str(o.get("status", "")) + (f" ({o['herkomst']})" if str(o.get("herkomst", "")) else "")
            out.append({"doel_id": r.doel_id, "was": was, "nu": r.status, "herkomst": r.herkomst})
    for gid in sorted(set(old.index) - set(new["doel_id"])):
        out.append(
            {"doel_id": gid, "was": str(old.loc[gid].get("status", "")), "nu": "(vervallen)", "herkomst": ""}
        )
    return out


def _safe_csv(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    return df.map(
        lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
    )


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError):
        return None  # an unreadable old table is no previous report: say there is none
    return df if "doel_id" in df and "status" in df else None


def summary(table: pd.DataFrame) -> dict:
    meas = table[table["status"] != "niet meetbaar"]
    trend = meas[meas["status"].isin(["op koers", "niet op koers"])]
    by = {
        h: trend[trend["herkomst"] == h]["status"].value_counts().to_dict() for h in ("echt", "synthetisch")
    }
    return {
        "n_doelen": len(table),
        "n_meetbaar": len(meas),
        "n_met_trend": len(trend),
        "echt": {s: int(by["echt"].get(s, 0)) for s in ("op koers", "niet op koers")},
        "synthetisch": {s: int(by["synthetisch"].get(s, 0)) for s in ("op koers", "niet op koers")},
        "n_geen_trend": int((meas["status"] == "nog geen trend").sum()),
        "n_niet_meetbaar": int((table["status"] == "niet meetbaar").sum()),
    }


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("analysis.goals", "templates"),
        autoescape=select_autoescape(["j2", "html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    table: pd.DataFrame, info: dict, gemeente_naam: str, diff: list[dict], previous: dict | None, scfg: dict
) -> str:
    from analysis.factsheets.fmt import SYNTH_BADGE, badge, csv_download
    from analysis.factsheets.page import page

    groups = []
    for (nr, naam), part in table.groupby(["pijler", "pijler_naam"], sort=True):
        groups.append({"nr": nr, "naam": naam, "rijen": part.to_dict("records")})
    csv = csv_download(_safe_csv(table), CSV, "Download deze tabel als CSV")
    body = (
        _environment()
        .get_template("voortgangsrapportage.html.j2")
        .render(
            gemeente=gemeente_naam,
            datum=info["datum_tekst"],
            s=summary(table),
            groepen=groups,
            diff=diff,
            vorige=previous,
            badge=lambda st: Markup(badge(st, STATUS_KIND.get(st, "grijs"))),
            SYNTH=Markup(SYNTH_BADGE),
            csv=Markup(csv),
            op_koers=f"{float(scfg['op_koers']):.0%}",
            risico=f"{float(scfg['risico']):.0%}",
        )
    )
    nav = '<nav class="top noprint"><a href="factsheets/index.html">Overzicht van alle gebieden</a></nav>\n'
    return page(f"Voortgangsrapportage doelen — {gemeente_naam}", body, nav=nav)


def write_progress(paths: Paths, goals: list[Doel], raw: dict, status: pd.DataFrame, names: dict) -> Path:
    """Write the report (HTML, CSV, JSON with dates); keep the previous table for the comparison."""
    from analysis.factsheets.fmt import dutch_date

    out = paths.outputs
    table = progress_table(goals, raw, status, paths.gemeente, names)
    current, kept = _read_csv(out / CSV), _read_csv(out / PREVIOUS)
    meta_path = out / META
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    except (OSError, ValueError):
        meta = {}
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    compare_to, prev_date = kept, meta.get("vorige_datum")
    if current is not None and changes(table, current):
        compare_to, prev_date = current, meta.get("datum")  # the last report differs: it becomes 'previous'
        write_csv_text(out / PREVIOUS, current)
    elif kept is None and current is not None:
        compare_to, prev_date = current, meta.get("datum")  # a rerun of the only report so far
    diff = changes(table, compare_to)
    info = {"datum": now, "datum_tekst": dutch_date(now), "vorige_datum": prev_date}
    previous = None
    if compare_to is not None:
        previous = {"datum": dutch_date(prev_date) if prev_date else "onbekende datum"}
    scfg = raw.get("status") or {"op_koers": 0.7, "risico": 0.3}
    html = render(table, info, names.get(paths.gemeente, paths.gemeente), diff, previous, scfg)
    write_csv_text(out / CSV, table)
    write_text(out / HTML, html)
    write_json(meta_path, {"datum": now, "vorige_datum": prev_date, "veranderd": diff, **summary(table)})
    return out / HTML


def write_csv_text(path: Path, df: pd.DataFrame) -> Path:
    """Dutch spreadsheet CSV (semicolon, UTF-8 with BOM), formula prefixes neutralised."""
    text = "\ufeff" + _safe_csv(df).to_csv(index=False, sep=";", lineterminator="\r\n")
    return write_text(path, text)
