"""`veerkracht goals`: panel evidence (backtest, calibration, validation), every measurable goal, and
the outputs in outputs/goals/. Evaluation lives in :mod:`analysis.goals.evaluate`, figures in
:mod:`analysis.goals.figures`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from analysis.config import Paths, programma_gemeente
from analysis.figures import save
from analysis.goals.calibration import Calibration, bootstrap_by_target_year, calibrate, calibration_table
from analysis.goals.catalog import load_catalog, partner_names
from analysis.goals.evaluate import IndicatorRows, PanelPace, evaluate, goal_series, regions_for
from analysis.goals.figures import fan_chart
from analysis.goals.forecast import BENCHMARKS, POINT_MODELS, TREND_LABEL
from analysis.goals.panel import (
    check_forecast_config,
    load_panel,
    mixedlm_crosscheck,
    panel_backtest,
    panel_pace,
    panel_specs,
)
from analysis.goals.progress import write_progress
from analysis.goals.validation import validate
from analysis.io import write_json, write_table
from analysis.processed.build import load_indicators, load_regions

HEADLINE_ID = "P2-03-GEM"


@dataclass
class PanelEvidence:
    panel: pd.DataFrame
    detail: pd.DataFrame
    ranking: list[str]
    calibration: Calibration
    kalibratie: pd.DataFrame
    validatie: pd.DataFrame
    mixedlm: pd.DataFrame
    tempo: pd.DataFrame
    pace: PanelPace
    datasets: dict[str, str]


def model_ranking(detail: pd.DataFrame, candidates) -> pd.DataFrame:
    """Candidates by rolling-origin MASE pooled over the real panel (all origins and horizons)."""
    d = detail[detail["model"].isin(candidates)].dropna(subset=["abs_scaled"])
    key = ["dataset", "series", "origin", "target_year"]
    common = d.groupby(key)["model"].nunique()
    keep = common[common == d["model"].nunique()].index  # same forecast cases for every model
    d = d.set_index(key).loc[keep].reset_index()
    r = d.groupby("model")["abs_scaled"].agg(mase="mean", n="size").reset_index()
    r["mase_ratio_naief"] = r["mase"] / float(r.loc[r["model"] == "naief", "mase"].iloc[0])
    r["volgorde"] = r["mase"].rank(method="first").astype(int)
    return r.sort_values("volgorde").reset_index(drop=True)


def backtest_summary(detail: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Per data set (and all together), model and horizon: MASE, MASE vs naive, and for the two
    benchmarks the coverage and MSIS of their own t-intervals.

    Groups are row positions over numpy columns; every mean is pandas' (validation._mean), so the
    table is the one a groupby over sub-frames gives, bit for bit."""
    from analysis.goals.calibration import _row_groups

    d = detail.dropna(subset=["abs_scaled"]).reset_index(drop=True)
    num = ("target_year", "abs_scaled", "actual", "forecast", "mase_scale", "lo80", "hi80", "lo95", "hi95")
    col = {c: d[c].to_numpy() for c in num}
    keys = list(zip(*(d[c].tolist() for c in ("series", "dataset", "origin", "target_year")), strict=True))
    naive_rows = np.flatnonzero(d["model"].to_numpy() == "naief")
    groups = _row_groups(d.groupby(["model", "h"]))
    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):  # as in pandas: x / 0 is inf or nan, silently
        for ds, part in [*_row_groups(d.groupby("dataset")), ("alle", np.arange(len(d)))]:
            in_part = np.zeros(len(d), bool)
            in_part[part] = True
            naive = {keys[i]: col["abs_scaled"][i] for i in naive_rows if in_part[i]}
            for (model, h), pos in groups:
                g = pos[in_part[pos]]
                if not len(g):
                    continue
                nm = np.array([naive.get(keys[i], np.nan) for i in g], dtype=float)
                reeks = labels.get(ds, "alle echte panelen samen")
                cells = _summary_cells(model, col, g, nm)
                rows.append({"dataset": ds, "reeks": reeks, "model": model, "h": int(h), **cells})
    return pd.DataFrame(rows)


def _summary_cells(model: str, col: dict, g: np.ndarray, naive: np.ndarray) -> dict:
    """One row of :func:`backtest_summary`: rows ``g`` of the columns ``col``, ``naive`` the naive
    model's scaled error for the same forecast cases (nan where it has none)."""
    from analysis.goals.validation import _mean, interval_score

    nm, mase = _mean(naive), _mean(col["abs_scaled"][g])
    y, f = col["actual"][g], col["forecast"][g]
    row = {
        "n": len(g),
        "n_doeljaren": len(set(col["target_year"][g].tolist())),
        "mase": mase,
        "mase_ratio_naief": mase / nm if nm > 0 else np.nan,
        "mape": _mean(np.abs(y - f) / np.abs(y)) * 100,
    }
    if model in BENCHMARKS:
        for alpha, tag in ((0.2, "80"), (0.05, "95")):
            lo, hi = col[f"lo{tag}"][g], col[f"hi{tag}"][g]
            row[f"dekking{tag}_t"] = _mean(((lo <= y) & (y <= hi)).astype(float))
            row[f"msis{tag}_t"] = _mean(interval_score(lo, hi, y, alpha) / col["mase_scale"][g])
    return row


def panel_evidence(paths: Paths, fcfg: dict) -> PanelEvidence:
    check_forecast_config(fcfg)
    specs = panel_specs(fcfg)
    panel = load_panel(paths.snapshot, specs)
    cands = list(fcfg.get("candidates", POINT_MODELS))
    models = list(dict.fromkeys([*cands, *BENCHMARKS]))
    detail = panel_backtest(panel, models, int(fcfg["min_train"]))
    rank = model_ranking(detail, cands)
    ranking = rank["model"].tolist()
    b_bounds = tuple(float(x) for x in fcfg["groeiwet_b"])
    cal = calibrate(detail, models, b_bounds)
    boot_cfg = fcfg["bootstrap"]
    h_max = int(fcfg["h_max"])
    boot = bootstrap_by_target_year(
        detail, [ranking[0]], int(boot_cfg["replicaties"]), int(boot_cfg["seed"]), h_max, b_bounds
    )
    kal = calibration_table(cal, boot, h_max)
    val = validate(detail, models, b_bounds, int(fcfg["doeljaarblok"]))
    mixed = mixedlm_crosscheck(panel, h_max)
    q = kal[kal["model"].isin(BENCHMARKS + (ranking[0],))][["model", "alpha", "h", "q"]]
    mixed = mixed.merge(
        q.pivot_table(index=["alpha", "h"], columns="model", values="q")
        .add_prefix("q_conformal_")
        .reset_index(),
        on=["alpha", "h"],
        how="left",
    )
    window = int(fcfg["tempo_venster"])
    tempo = panel_pace(panel, window)
    used = sorted(tempo["dataset"].unique())
    labels = {p.naam: p.label for p in specs}
    bron = f"snelste {window}-jaarsverandering (Theil-Sen) in {', '.join(labels[u] for u in used)}"
    pace = PanelPace.from_table(tempo, window, bron)
    return PanelEvidence(panel, detail, ranking, cal, kal, val, mixed, tempo, pace, labels)


def headline_table(row: dict) -> str:
    """The headline case as the markdown table in docs/methode_prognoses.md (a test compares them)."""

    def n0(v):
        return f"{v:,.0f}".replace(",", ".")

    def pct(v):
        return f"{v:+.2f}%".replace(".", ",")

    row = {**row, **{k: int(row[k]) for k in ("basisjaar", "doeljaar", "laatste_jaar", "h_doeljaar")}}
    lines = [
        "| grootheid | waarde |",
        "|---|---|",
        f"| basiswaarde {row['basisjaar']} | {n0(row['basiswaarde'])} |",
        f"| doelwaarde {row['doeljaar']} (−70%) | {n0(row['doelwaarde_berekend'])} |",
        f"| laatste waarde {row['laatste_jaar']} (voorlopig) | {n0(row['laatste_waarde'])} |",
        f"| model | {row['model']} |",
        f"| prognose {row['doeljaar']} | {n0(row['prognose'])} |",
        f"| 80%-interval ({row['interval_soort']}, h = {row['h_doeljaar']}) | "
        f"{n0(row['lo80'])}–{n0(row['hi80'])} |",
        f"| 95%-interval ({row['interval_soort']}) | {n0(row['lo95'])}–{n0(row['hi95'])} |",
        f"| kans doel gehaald ({TREND_LABEL}) | {row['kans_band']} |",
        f"| status | {row['status']} |",
        f"| benodigd tempo | {pct(row['benodigd_tempo_pct'])} per jaar |",
        f"| waargenomen tempo (Theil-Sen) | {pct(row['waargenomen_tempo_pct'])} per jaar |",
        f"| snelste daling in het paneel | {pct(row['snelste_paneltempo_pct'])} per jaar |",
        f"| scenario trend zet door | {n0(row['scenario_trend_zet_door'])} |",
        f"| scenario trend halveert | {n0(row['scenario_trend_halveert'])} |",
        f"| scenario snelste daling in paneel | {n0(row['scenario_beste_in_paneel'])} |",
    ]
    return "\n".join(lines)


def status_counts(status: pd.DataFrame) -> dict:
    """Status counts with real and synthetic series apart (never one total that mixes them); goals
    for which no series exists at all are counted on their own."""
    synth = status["synthetic"].fillna(False).astype(bool)
    meas = status["status"] != "niet meetbaar"
    empty = status["origin"].fillna("").eq("") if "origin" in status else pd.Series(False, index=status.index)
    return {
        "echt": status.loc[meas & ~synth & ~empty, "status"].value_counts().to_dict(),
        "synthetisch": status.loc[meas & synth, "status"].value_counts().to_dict(),
        "zonder_gegevens": int((meas & ~synth & empty).sum()),
        "niet_meetbaar": int((~meas).sum()),
    }


GEEN_PROGRAMMA = "geen focusgebieden/programmadoelen voor deze gemeente"


def run(paths: Paths) -> dict:
    gemeente = paths.gemeente
    if gemeente != programma_gemeente():
        # the programme's goals are set for its own municipality and focus areas only
        out = paths.outputs / "goals"
        write_json(
            out / "samenvatting.json",
            {"gemeente": gemeente, "geen_programma": True, "toelichting": GEEN_PROGRAMMA},
        )
        return {
            "dir": out,
            "geen_programma": True,
            "n_goals": 0,
            "n_measurable": 0,
            "synthetic_indicators": [],
        }
    goals, raw = load_catalog()
    fcfg, scfg = raw["forecast"], raw["status"]
    ind = load_indicators(paths)
    reg = load_regions(paths)
    names = dict(zip(reg["region_code"], reg["name"], strict=True))
    out = paths.outputs / "goals"
    (out / "figuren").mkdir(parents=True, exist_ok=True)
    ev = panel_evidence(paths, fcfg)
    ind_rows = IndicatorRows(ind)
    rows, fcs = [], []
    for goal in goals:
        if not goal.meetbaar:
            rows.append(
                {
                    "doel_id": goal.id,
                    "pijler": goal.pijler,
                    "indicator": None,
                    "region_code": None,
                    "status": "niet meetbaar",
                    "toelichting_status": f"{goal.reden}; bron nodig: {goal.bron}",
                    "synthetic": False,
                    "bron_nodig": goal.bron,
                    "bij_wie": ", ".join(partner_names(goal, raw["partners"])),
                }
            )
            continue
        for region in regions_for(goal, gemeente):
            s = goal_series(ind_rows, goal, region, gemeente)
            row, fc = evaluate(goal, region, s, fcfg, scfg, ev.calibration, ev.ranking, ev.pace)
            rows.append(row)
            if len(fc):
                fcs.append(fc)
                if region in ("FG00", gemeente):
                    headline = goal.id == HEADLINE_ID
                    fig = fan_chart(goal, region, names.get(region, region), row, fc, headline)
                    path = out / (
                        "kopcasus_armoede_gemeente.png" if headline else f"figuren/{goal.id}_{region}.png"
                    )
                    save(fig, path)
    status = pd.DataFrame(rows)
    texts = {g.id: g.tekst for g in goals}
    status.insert(1, "tekst", status["doel_id"].map(texts))
    status["gebied"] = status["region_code"].map(names)
    write_table(out / "status", status)
    write_table(out / "prognoses", pd.concat(fcs, ignore_index=True))
    write_table(
        out / "catalogus",
        pd.DataFrame([asdict(g) for g in goals]).assign(
            geografie=lambda d: d["geografie"].map(lambda t: ",".join(t)),
            partner=lambda d: d["partner"].map(lambda t: ",".join(t)),
            bij_wie=[", ".join(partner_names(g, raw["partners"])) for g in goals],
        ),
    )
    write_progress(paths, goals, raw, status, names)
    write_table(out / "backtest_detail", ev.detail)
    write_table(out / "backtest", backtest_summary(ev.detail, ev.datasets))
    write_table(out / "modelkeuze", model_ranking(ev.detail, list(fcfg.get("candidates", POINT_MODELS))))
    write_table(out / "kalibratie", ev.kalibratie)
    write_table(out / "validatie", ev.validatie)
    write_table(out / "kruiscontrole_mixedlm", ev.mixedlm)
    write_table(out / "paneltempo", ev.tempo)
    head = status[status["doel_id"] == HEADLINE_ID]
    counts = status_counts(status)
    write_json(
        out / "samenvatting.json",
        {
            "n_doelen": len(goals),
            "n_meetbaar": sum(g.meetbaar for g in goals),
            "status_echt": counts["echt"],
            "status_synthetisch": counts["synthetisch"],
            "n_zonder_gegevens": counts["zonder_gegevens"],
            "n_niet_meetbaar": counts["niet_meetbaar"],
            "kans_betekenis": TREND_LABEL,
            "modelvolgorde": ev.ranking,
            "paneel": ev.datasets,
            "kopcasus": None
            if head.empty
            else {k: (None if pd.isna(v) else v) for k, v in head.iloc[0].items() if k != "tekst"},
        },
    )
    return {
        "dir": out,
        "n_goals": len(goals),
        "n_measurable": sum(g.meetbaar for g in goals),
        "status_counts": counts,
        "synthetic_indicators": sorted(
            status.loc[status["synthetic"].fillna(False).astype(bool), "indicator"].dropna().unique()
        ),
    }
