"""`veerkracht goals`: evaluate every measurable goal, backtest the models, write outputs/goals/."""

from __future__ import annotations

from dataclasses import asdict

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.config import Paths, programma_gemeente
from analysis.figures import finish, save, sources_of
from analysis.goals.catalog import Doel, load_catalog
from analysis.goals.forecast import (
    backtest,
    choose_model,
    fit_forecast,
    is_met,
    observed_pace,
    prob_met,
    required_pace,
    status_of,
    target_value,
)
from analysis.io import write_json, write_table
from analysis.processed.build import load_indicators, load_regions
from analysis.records import ORIGIN_PRIORITY, ORIGINS
from analysis.sources import snapshot

GEO_CODES = {"focusgebieden_samen": ["FG00"], "elk_focusgebied": [f"FG{i:02d}" for i in range(1, 16)]}


def regions_for(goal: Doel, gemeente: str) -> list[str]:
    out: list[str] = []
    for g in goal.geografie:
        out += [gemeente] if g == "gemeente" else GEO_CODES[g]
    return out


def goal_series(ind: pd.DataFrame, goal: Doel, region: str, gemeente: str) -> pd.DataFrame:
    """Observed series for a goal: the indicator, or for parity the gap area - municipality."""
    cols = ["year", "value", "provisional", "origin", "source_table"]
    own = ind[(ind["region_code"] == region) & (ind["indicator"] == goal.indicator)][cols]
    if goal.doeltype != "pariteit":
        return own.sort_values("year").reset_index(drop=True)
    ref = ind[(ind["region_code"] == gemeente) & (ind["indicator"] == goal.indicator)][cols]
    m = own.merge(ref, on="year", suffixes=("", "_ref"))
    worst = np.maximum(m["origin"].map(ORIGIN_PRIORITY), m["origin_ref"].map(ORIGIN_PRIORITY))
    return (
        pd.DataFrame(
            {
                "year": m["year"],
                "value": m["value"] - m["value_ref"],
                "provisional": m["provisional"] | m["provisional_ref"],
                "origin": worst.map(dict(enumerate(ORIGINS))),
                "source_table": m["source_table"],
            }
        )
        .sort_values("year")
        .reset_index(drop=True)
    )


def evaluate(
    goal: Doel,
    region: str,
    s: pd.DataFrame,
    fcfg: dict,
    scfg: dict,
    calibration: dict[str, float] | None = None,
):
    """Status row and forecast rows for one goal and area."""
    row = {
        "doel_id": goal.id,
        "pijler": goal.pijler,
        "indicator": goal.indicator,
        "region_code": region,
        "doeltype": goal.doeltype,
        "richting": goal.richting,
        "basisjaar": goal.basisjaar,
        "doeljaar": goal.doeljaar,
        "n_punten": len(s),
        "eerste_jaar": int(s["year"].min()) if len(s) else None,
        "laatste_jaar": int(s["year"].max()) if len(s) else None,
        "laatste_waarde": float(s["value"].iloc[-1]) if len(s) else None,
        "laatste_jaar_voorlopig": bool(s["provisional"].iloc[-1]) if len(s) else False,
        "voorlopige_jaren": ",".join(str(y) for y in s.loc[s["provisional"], "year"]),
        "origin": ",".join(sorted(set(s["origin"]))) if len(s) else "",
        "bron": sources_of(s.assign(year=s["year"])) if len(s) else "",
        "basiswaarde": None,
        "doelwaarde_berekend": None,
        "model": None,
        "modelkeuze": None,
        "prognose": None,
        "lo80": None,
        "hi80": None,
        "lo95": None,
        "hi95": None,
        "p_gehaald": None,
        "benodigd_tempo": None,
        "waargenomen_tempo": None,
        "status": "onvoldoende data",
        "toelichting_status": "",
    }
    row["synthetic"] = "synthetic" in row["origin"]
    if len(s) < int(scfg["min_punten"]):
        row["toelichting_status"] = f"minder dan {scfg['min_punten']} waarnemingen"
        return row, pd.DataFrame()
    years, values = s["year"].to_numpy(), s["value"].to_numpy()
    base = None
    if goal.doeltype in ("relatief", "richting"):
        hit = s.loc[s["year"] == goal.basisjaar, "value"]
        if hit.empty:
            row["toelichting_status"] = f"basisjaar {goal.basisjaar} niet waargenomen"
            return row, pd.DataFrame()
        base = float(hit.iloc[0])
    target = target_value(goal.doeltype, goal.doelwaarde, base)
    row["basiswaarde"], row["doelwaarde_berekend"] = base, target
    row["waargenomen_tempo"] = observed_pace(years, values)
    last_year = int(years[-1])
    lower = goal.lower_is_better
    if goal.doeljaar <= last_year:
        obs = float(s.loc[s["year"] == goal.doeljaar, "value"].iloc[0])
        row.update(
            p_gehaald=float(is_met(obs, target, lower)),
            prognose=obs,
            status="op koers" if is_met(obs, target, lower) else "niet op koers",
            toelichting_status="doeljaar al waargenomen",
        )
        return row, pd.DataFrame()
    row["benodigd_tempo"] = required_pace(float(values[-1]), last_year, target, goal.doeljaar)
    model, why = choose_model(
        years,
        values,
        fcfg["default_model"],
        int(fcfg["min_backtest_points"]),
        tuple(fcfg.get("candidates", ["lineair", "loglineair"])),
    )
    future = np.arange(last_year + 1, goal.doeljaar + 1)
    f = fit_forecast(years, values, future, model)
    if f is None:
        model, why = "lineair", f"{model} niet toepasbaar: lineair"
        f = fit_forecast(years, values, future, model)
    k = (calibration or {}).get(model, 1.0)
    f = f.widen(k)
    p = prob_met(f, goal.doeljaar, target, lower)
    i = -1
    row.update(
        model=model,
        modelkeuze=why,
        kalibratiefactor=k,
        prognose=float(f.mean[i]),
        lo80=float(f.lo80[i]),
        hi80=float(f.hi80[i]),
        lo95=float(f.lo95[i]),
        hi95=float(f.hi95[i]),
        p_gehaald=p,
        status=status_of(p, float(scfg["op_koers"]), float(scfg["risico"])),
    )
    if row["laatste_jaar_voorlopig"]:
        row["toelichting_status"] = "laatste jaar voorlopig"
    fc = pd.DataFrame(
        {
            "doel_id": goal.id,
            "region_code": region,
            "year": f.years,
            "soort": "prognose",
            "waarde": f.mean,
            "lo80": f.lo80,
            "hi80": f.hi80,
            "lo95": f.lo95,
            "hi95": f.hi95,
            "model": model,
            "synthetic": row["synthetic"],
        }
    )
    obs = pd.DataFrame(
        {
            "doel_id": goal.id,
            "region_code": region,
            "year": years,
            "soort": "waarneming",
            "waarde": values,
            "model": None,
            "synthetic": row["synthetic"],
            "provisional": s["provisional"].to_numpy(),
        }
    )
    return row, pd.concat([obs, fc], ignore_index=True)


def fan_chart(
    goal: Doel, region: str, name: str, row: dict, fc: pd.DataFrame, headline=False, tight: bool = True
) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 4.6))
    obs = fc[fc["soort"] == "waarneming"]
    pr = fc[fc["soort"] == "prognose"]
    ax.fill_between(pr["year"], pr["lo95"], pr["hi95"], color="#9ecae1", alpha=0.5, label="95%-interval")
    ax.fill_between(pr["year"], pr["lo80"], pr["hi80"], color="#4292c6", alpha=0.5, label="80%-interval")
    ax.plot(pr["year"], pr["waarde"], color="#08519c", linestyle="--", label=f"prognose ({row['model']})")
    prov = obs["provisional"].fillna(False).astype(bool)
    ax.plot(obs["year"], obs["waarde"], "o-", color="black", label="waarneming")
    if prov.any():
        ax.plot(
            obs.loc[prov, "year"],
            obs.loc[prov, "waarde"],
            "o",
            mfc="white",
            mec="black",
            label="voorlopig / methodebreuk",
        )
    target = row["doelwaarde_berekend"]
    if goal.doeltype == "relatief" and row["basiswaarde"] is not None:
        ax.plot(
            [goal.basisjaar, goal.doeljaar],
            [row["basiswaarde"], target],
            color="#c0392b",
            linewidth=1,
            label="doelpad (lineair)",
        )
    ax.scatter([goal.doeljaar], [target], marker="*", s=160, color="#c0392b", zorder=4, label="doel")
    from analysis.config import indicator_catalog

    label = indicator_catalog()[goal.indicator]["label"]
    ylabel = f"{label}: verschil met gemeente" if goal.doeltype == "pariteit" else label
    ax.set_ylabel(ylabel)
    p = row["p_gehaald"]
    title = f"{goal.id} {name}: {row['status']}" + (f" (kans doel gehaald {p:.0%})" if p is not None else "")
    if headline:
        title = "Kopcasus armoede: gemeente Zwijndrecht (niet de focusbuurten)\n" + title
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return finish(fig, row["bron"], row["synthetic"], tight=tight)


def backtest_report(paths: Paths) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = []
    for fname, label in (
        (snapshot.POVERTY_FILE, "nr196 lage welvaart hh 25-64 (21 gemeenten, 2011-2020)"),
        (
            "databankzh_nr199_lage_welvaart_eenpersoonshh_per100hh.csv",
            "nr199 lage welvaart eenpersoonshh per 100 (50 gemeenten, 2011-2016)",
        ),
    ):
        ts = snapshot.read_timeseries(paths.snapshot, fname)
        for code, g in ts.groupby(ts["region_code"].fillna(ts["region_name"])):
            g = g.dropna(subset=["value"]).sort_values("year")
            bt = backtest(g["year"].to_numpy(), g["value"].to_numpy(), series_id=str(code))
            if len(bt):
                frames.append(bt.assign(dataset=label))
    detail = pd.concat(frames, ignore_index=True)
    summary = (
        detail.groupby(["dataset", "model", "h"])
        .agg(
            n=("abs_error", "size"),
            mape=("pct_error", "mean"),
            dekking80=("in80", "mean"),
            dekking95=("in95", "mean"),
        )
        .reset_index()
    )
    return detail, summary


def calibrate(detail: pd.DataFrame) -> tuple[dict[str, float], pd.DataFrame]:
    """Interval widening per model from the pooled backtest, and an out-of-sample check:
    factors from one data set applied to the other (coverage should then be near nominal)."""
    from analysis.goals.forecast import calibration_factor

    factors = {m: calibration_factor(g) for m, g in detail.groupby("model")}
    checks = []
    sets = sorted(detail["dataset"].unique())
    for model, g in detail.groupby("model"):
        for train in sets:
            for test in sets:
                if train == test or g[g["dataset"] == test].empty or g[g["dataset"] == train].empty:
                    continue
                k = calibration_factor(g[g["dataset"] == train])
                zt = g.loc[g["dataset"] == test, ["z", "df"]].dropna()
                from scipy import stats

                q80 = stats.t.ppf(0.9, zt["df"].replace(np.inf, 1e6))
                q95 = stats.t.ppf(0.975, zt["df"].replace(np.inf, 1e6))
                checks.append(
                    {
                        "model": model,
                        "kalibratie_op": train,
                        "getoetst_op": test,
                        "factor": k,
                        "dekking80_ongekalibreerd": float((zt["z"].abs() <= q80).mean()),
                        "dekking80_gekalibreerd": float((zt["z"].abs() <= k * q80).mean()),
                        "dekking95_ongekalibreerd": float((zt["z"].abs() <= q95).mean()),
                        "dekking95_gekalibreerd": float((zt["z"].abs() <= k * q95).mean()),
                        "n": len(zt),
                    }
                )
    return factors, pd.DataFrame(checks)


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
    detail, summary = backtest_report(paths)
    factors, checks = calibrate(detail)
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
                }
            )
            continue
        for region in regions_for(goal, gemeente):
            s = goal_series(ind, goal, region, gemeente)
            row, fc = evaluate(goal, region, s, fcfg, scfg, factors)
            rows.append(row)
            if len(fc):
                fcs.append(fc)
                if region in ("FG00", gemeente):
                    headline = goal.id == "P2-03-GEM"
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
            geografie=lambda d: d["geografie"].map(lambda t: ",".join(t))
        ),
    )
    write_table(out / "backtest_detail", detail)
    write_table(out / "backtest", summary)
    write_table(out / "kalibratie", checks)
    write_json(
        out / "samenvatting.json",
        {
            "n_doelen": len(goals),
            "n_meetbaar": sum(g.meetbaar for g in goals),
            "status": status["status"].value_counts().to_dict(),
            "kalibratiefactoren": factors,
        },
    )
    return {
        "dir": out,
        "n_goals": len(goals),
        "n_measurable": sum(g.meetbaar for g in goals),
        "synthetic_indicators": sorted(
            status.loc[status["synthetic"].fillna(False).astype(bool), "indicator"].dropna().unique()
        ),
    }
