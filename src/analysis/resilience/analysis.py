"""Resilience analysis on the processed tables: scores, classes, validation, sensitivity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from analysis.errors import InputError
from analysis.resilience.index import (
    IndexConfig,
    Panel,
    build_panel,
    classify,
    contributions,
    score_panel,
)


@dataclass(frozen=True)
class ResilienceResult:
    scores: pd.DataFrame  # one row per area (buurt, focusgebied, wijk, gemeente)
    contributions: pd.DataFrame
    excluded: pd.DataFrame
    year: int
    years: list[int]
    indicators_used: list[str]
    indicators_missing: list[str]
    synthetic: bool
    panel: Panel
    weights: pd.Series


def _pivot(ind: pd.DataFrame, codes: list[str], inds: list[str]) -> pd.DataFrame:
    d = ind[ind["region_code"].isin(codes) & ind["indicator"].isin(inds)]
    return d.pivot_table(index=["region_code", "year"], columns="indicator", values="value")


def _latest_weight(ind: pd.DataFrame, codes: list[str], name: str) -> pd.Series:
    """Latest real weight per region; a synthetic one only where no real one exists."""
    d = ind[(ind["indicator"] == name) & ind["region_code"].isin(codes)]
    d = d.assign(_real=d["origin"] != "synthetic").sort_values(["_real", "year"])
    return d.groupby("region_code")["value"].last()


def compute(
    ind: pd.DataFrame,
    regions: pd.DataFrame,
    cfg: IndexConfig,
    min_inwoners: int,
    gemeente: str | None = None,
) -> ResilienceResult:
    """Score every buurt of the municipality above ``min_inwoners`` and every larger area."""
    reg = pd.DataFrame(regions.drop(columns="geometry", errors="ignore"))
    if gemeente is not None and gemeente not in set(reg.loc[reg["level"] == "gemeente", "region_code"]):
        raise InputError(f"municipality code {gemeente}: not in the processed regions table")
    buurten = reg[reg["level"] == "buurt"]
    if buurten.empty:
        raise InputError("regions.gpkg: no buurten to score")
    pop = buurten.set_index("region_code")["inwoners"].fillna(0)
    excluded = pop[pop < min_inwoners]
    excluded_df = pd.DataFrame(
        {
            "region_code": excluded.index,
            "name": buurten.set_index("region_code").loc[excluded.index, "name"].to_numpy(),
            "inwoners": excluded.to_numpy(),
            "reden": [f"minder dan {min_inwoners} inwoners" for _ in excluded],
        }
    )
    scored = sorted(set(pop.index) - set(excluded.index))
    if not scored:
        raise InputError(f"no buurt has at least {min_inwoners} inhabitants: nothing to score")

    available = sorted(set(ind.loc[ind["region_code"].isin(scored), "indicator"]))
    used = [i for i in cfg.indicators if i in available]
    missing = [i for i in cfg.indicators if i not in available]
    values = _pivot(ind, scored, used)
    data_years = sorted(values.index.get_level_values(1).unique()) if len(values) else []
    if not data_years:
        raise InputError("indicators.parquet: none of the index indicators has buurt values")
    year = cfg.year if cfg.year is not None else max(data_years)
    if year not in data_years:
        raise InputError(f"resilience config: year {year} has no buurt data (available {data_years})")
    years = [y for y in data_years if y <= year][-cfg.trend_years :]

    hh = _latest_weight(ind, scored, "huishoudens").reindex(scored)
    national = None
    if cfg.reference == "nederland":
        nat = ind[(ind["region_code"] == "NL00") & ind["indicator"].isin(used)]
        national = nat.pivot_table(index="year", columns="indicator", values="value")
    panel = build_panel(values, hh, cfg, years, national, regions=scored)
    w = cfg.effective_weights(panel.indicators)
    s = score_panel(panel, w, cfg)
    b = pd.DataFrame({"region_code": panel.regions, **s})

    # larger areas: their own (aggregated, weighted) values on the buurten's standardisation
    others = reg[reg["level"].isin(["focusgebied", "wijk", "gemeente"])]["region_code"].tolist()
    ov = _pivot(ind, others, used)
    rows = []
    if len(ov):
        op = panel.standardise_like(ov, others, cfg.directions)
        rows.append(pd.DataFrame({"region_code": others, **score_panel(op, w, cfg)}))
        contrib = pd.concat([contributions(panel, w), contributions(op, w)], ignore_index=True)
    else:
        contrib = contributions(panel, w)
    scores = pd.concat([b, *rows], ignore_index=True)
    scores["klasse"] = classify(scores["index"], scores["coverage"], cfg).to_numpy()
    meta = reg.set_index("region_code")
    scores["level"] = scores["region_code"].map(meta["level"])
    scores["name"] = scores["region_code"].map(meta["name"])
    scores["focusgebied"] = scores["region_code"].map(meta["focusgebied"])
    scores["inwoners"] = scores["region_code"].map(meta["inwoners"])
    scores["n_indicatoren"] = (
        scores["region_code"]
        .map(contrib.dropna(subset=["z"]).groupby("region_code").size())
        .fillna(0)
        .astype(int)
    )
    scores["year"] = year
    buurt_rank = scores.loc[scores["level"] == "buurt", "index"].rank(ascending=False, method="min")
    scores["rang"] = buurt_rank.reindex(scores.index)

    inputs = ind[ind["indicator"].isin(used) & ind["year"].isin(years)]
    origins = inputs.groupby("region_code")["origin"].agg(lambda s: ",".join(sorted(set(s))))
    scores["input_origins"] = scores["region_code"].map(origins).fillna("")
    scores["synthetic_inputs"] = scores["input_origins"].str.contains("synthetic")
    synthetic = bool(scores["synthetic_inputs"].any())
    cols = [
        "region_code",
        "name",
        "level",
        "focusgebied",
        "inwoners",
        "year",
        "level_score",
        "change",
        "index",
        "coverage",
        "n_indicatoren",
        "klasse",
        "rang",
        "input_origins",
        "synthetic_inputs",
    ]
    return ResilienceResult(
        scores=scores.reindex(columns=cols),
        contributions=contrib,
        excluded=excluded_df,
        year=year,
        years=years,
        indicators_used=panel.indicators,
        indicators_missing=missing,
        synthetic=synthetic,
        panel=panel,
        weights=w,
    )


def _drivers(contrib: pd.DataFrame, code: str, largest: bool, n: int = 3) -> str:
    c = contrib[(contrib["region_code"] == code)].dropna(subset=["z"])
    c = c.sort_values("contribution", ascending=not largest).head(n)
    return ", ".join(f"{r.indicator} (z={r.z:+.1f})" for r in c.itertuples())


def validate_against_focus(res: ResilienceResult) -> tuple[dict, pd.DataFrame]:
    """Precision/recall of 'rood' against the programme's focus buurten, ROC AUC, disagreements."""
    b = res.scores[(res.scores["level"] == "buurt") & res.scores["index"].notna()]
    y = b["focusgebied"].notna().to_numpy()
    red = (b["klasse"] == "rood").to_numpy()
    tp = int((y & red).sum())
    metrics = {
        "year": res.year,
        "n_buurten": int(len(b)),
        "n_focus": int(y.sum()),
        "n_rood": int(red.sum()),
        "true_positives": tp,
        "precision_rood": tp / red.sum() if red.sum() else float("nan"),
        "recall_rood": tp / y.sum() if y.sum() else float("nan"),
        "roc_auc": float(roc_auc_score(y, b["index"])) if 0 < y.sum() < len(y) else float("nan"),
        "synthetic_inputs": res.synthetic,
        "status": "methodedemonstratie op synthetische invoer (geen bevinding)"
        if res.synthetic
        else "op echte invoer",
    }
    rows = []
    for r in b.itertuples():
        focus, flagged = isinstance(r.focusgebied, str), r.klasse == "rood"
        if focus == flagged:
            continue
        rows.append(
            {
                "region_code": r.region_code,
                "name": r.name,
                "focusgebied": r.focusgebied,
                "klasse": r.klasse,
                "index": r.index,
                "soort": "rood, geen focusbuurt" if flagged else "focusbuurt, niet rood",
                "drijvende_indicatoren": _drivers(res.contributions, r.region_code, largest=flagged),
                "synthetic_inputs": res.synthetic,
            }
        )
    cols = [
        "region_code",
        "name",
        "focusgebied",
        "klasse",
        "index",
        "soort",
        "drijvende_indicatoren",
        "synthetic_inputs",
    ]
    return metrics, pd.DataFrame(rows, columns=cols)


def sensitivity(
    res: ResilienceResult, cfg: IndexConfig, n_sim: int | None = None
) -> tuple[pd.DataFrame, dict]:
    """Monte Carlo over weights and indicator sets (seeded).

    Each draw multiplies every indicator weight by a log-normal factor and leaves each indicator
    out with a fixed probability (at least two kept). Reported per buurt: P(rood), the 5-95% rank
    interval and a robustness label; overall: Spearman rank correlation with the baseline.
    """
    s = cfg.sensitivity
    n_sim = int(n_sim or s.get("n_sim", 500))
    rng = np.random.default_rng(int(s.get("seed", 0)))
    panel, w0 = res.panel, res.weights.reindex(res.panel.indicators)
    base = score_panel(panel, w0, cfg)["index"]
    n_i = len(panel.indicators)
    red = np.zeros(len(panel.regions))
    valid = np.zeros(len(panel.regions))
    ranks = np.full((n_sim, len(panel.regions)), np.nan)
    draws = np.full((n_sim, len(panel.regions)), np.nan)
    rhos = []
    for k in range(n_sim):
        factor = rng.lognormal(0.0, float(s.get("weight_sd", 0.35)), n_i)
        mask = rng.random(n_i) >= float(s.get("drop_probability", 0.15))
        if mask.sum() < 2:
            mask[rng.choice(n_i, 2, replace=False)] = True
        idx = score_panel(panel, w0 * factor, cfg, mask=mask, base_w=w0)["index"]
        ok = ~np.isnan(idx)
        red += ok & (idx >= cfg.rood)
        valid += ok
        ranks[k] = pd.Series(idx).rank(ascending=False).to_numpy()
        draws[k] = idx
        both = ok & ~np.isnan(base)
        if both.sum() >= 3:
            rhos.append(spearmanr(base[both], idx[both]).statistic)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_red = np.where(valid > 0, red / valid, np.nan)
    hi, lo = float(s.get("robust_above", 0.9)), float(s.get("robust_below", 0.1))
    label = np.where(
        p_red >= hi, "robuust rood", np.where(p_red <= lo, "robuust niet rood", "hangt af van modelkeuzes")
    )
    label = np.where(np.isnan(p_red), "onvoldoende data", label)
    table = pd.DataFrame(
        {
            "region_code": panel.regions,
            "index_basis": base,
            "p_rood": p_red,
            "index_p05": np.nanpercentile(draws, 5, axis=0),
            "index_p95": np.nanpercentile(draws, 95, axis=0),
            "rang_p05": np.nanpercentile(ranks, 5, axis=0),
            "rang_mediaan": np.nanmedian(ranks, axis=0),
            "rang_p95": np.nanpercentile(ranks, 95, axis=0),
            "robuustheid": label,
            "synthetic_inputs": res.synthetic,
        }
    )
    summary = {
        "n_sim": n_sim,
        "seed": int(s.get("seed", 0)),
        "spearman_mediaan": float(np.median(rhos)) if rhos else float("nan"),
        "spearman_p05": float(np.percentile(rhos, 5)) if rhos else float("nan"),
        "n_robuust_rood": int((label == "robuust rood").sum()),
        "n_afhankelijk": int((label == "hangt af van modelkeuzes").sum()),
    }
    return table, summary
