"""Out-of-sample validation of the calibrated intervals: leave one data set out and leave a block of
target years out, coverage per horizon and per trend/noise class with Wilson intervals, MSIS next to
the naive-t and drift-t benchmarks, MASE against naive."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from analysis.goals.calibration import TREND_R, _row_groups, calibrate
from analysis.goals.forecast import BENCHMARKS

# --- validation ------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # pure in (k, n); many summaries share them
def wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def interval_score(lo, hi, y, alpha: float) -> np.ndarray:
    lo, hi, y = (np.asarray(v, float) for v in (lo, hi, y))
    return (hi - lo) + 2 / alpha * np.clip(lo - y, 0, None) + 2 / alpha * np.clip(y - hi, 0, None)


TREND_NOISE_BINS = (0.0, 0.5, 1.0, 2.0, 4.0, np.inf)
TREND_NOISE_LABELS = ("0-0,5", "0,5-1", "1-2", "2-4", "> 4")
LENGTH_BINS = (0, 5, 7, np.inf)  # training points at the origin
LENGTH_LABELS = ("4-5 jaar", "6-7 jaar", ">= 8 jaar")


def trend_noise_class(r) -> pd.Series:
    """Trend/noise class of a training window (|mean change| / SD of the changes), as a label."""
    return pd.cut(pd.Series(r, dtype=float), TREND_NOISE_BINS, labels=TREND_NOISE_LABELS, include_lowest=True)


YEAR_CLUSTER_REPS, YEAR_CLUSTER_SEED = 400, 23  # resamples of the target years, their seed


def _year_cluster_ci(
    hit, uy, inv, reps: int = YEAR_CLUSTER_REPS, seed: int = YEAR_CLUSTER_SEED
) -> tuple[float, float]:
    """95% percentile interval of a coverage when whole target years are resampled (the target year is
    the independent unit: errors of one year move together); ``uy`` the unique target years
    (``np.unique(years, return_inverse=True)``), ``inv`` each row's index into them."""
    if len(uy) < 2:
        return float("nan"), float("nan")
    k = np.bincount(inv, weights=np.asarray(hit, dtype=float), minlength=len(uy))
    n = np.bincount(inv, minlength=len(uy)).astype(float)
    w = _year_weights(len(uy), reps, seed)
    cov = (w @ k) / (w @ n)
    return float(np.quantile(cov, 0.025)), float(np.quantile(cov, 0.975))


@lru_cache(maxsize=64)  # the draws depend only on (number of years, reps, seed): shared, never changed
def _year_weights(n_years: int, reps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n_years, np.full(n_years, 1 / n_years), size=reps).astype(float)
    w.flags.writeable = False
    return w


def target_year_blocks(years, size: int = 2) -> list[tuple[int, ...]]:
    ys = sorted(int(y) for y in set(years))
    return [tuple(ys[i : i + size]) for i in range(0, len(ys), size)]


def validate(bt: pd.DataFrame, models, b_bounds=(0.0, 0.5), block: int = 2) -> pd.DataFrame:
    """Out-of-sample check of the calibrated intervals, in two schemes:

    * ``dataset``: calibrate on all data sets but one, test on the held-out one;
    * ``doeljaarblok``: calibrate on all target years outside a block of ``block`` consecutive
      target years, test on that block.

    Per fold and pooled over folds ("alle"), per horizon (``indeling = horizon``), per
    trend/noise class of the training window (``trend_ruis``) and per training length (``lengte``):
    coverage with Wilson 95% intervals and a target-year bootstrap interval, MSIS of the calibrated
    interval next to the naive-t and drift-t benchmarks, MASE and its ratio to naive.
    """
    out = []
    clean = bt.dropna(subset=["e"])
    folds = [("dataset", str(d), clean["dataset"] == d) for d in sorted(clean["dataset"].unique())]
    for blk in target_year_blocks(clean["target_year"], block):
        test = clean["target_year"].isin(blk)
        folds.append(("doeljaarblok", f"{blk[0]}-{blk[-1]}", test))
    for scheme in ("dataset", "doeljaarblok"):
        pairs = []
        for sch, name, test in folds:
            if sch != scheme:
                continue
            pair = (clean[~test], clean[test])
            res = _pool([pair], models, b_bounds, classes=False)
            if len(res):
                out.append(res.assign(schema=scheme, toets=name))
            pairs.append(pair)
        pooled = _pool(pairs, models, b_bounds)
        if len(pooled):
            out.append(pooled.assign(schema=scheme, toets="alle"))
    cols = ["schema", "toets"]
    df = pd.concat(out, ignore_index=True)
    return df[cols + [c for c in df.columns if c not in cols]]


def _pool(folds, models, b_bounds, classes: bool = True) -> pd.DataFrame:
    """Pool the held-out rows of all folds (each judged by its own fold's calibration); per horizon,
    and with ``classes`` also per trend/noise class and per training length."""
    parts = []
    for train, test in folds:
        cal = calibrate(train, models, b_bounds)
        t = test[test["model"].isin(list(cal.h_obs))]
        mh = t[["model", "h"]].drop_duplicates()
        for alpha, tag in ((0.2, "80"), (0.05, "95")):
            mh[f"q{tag}"] = [
                cal.quantile(m, int(h), alpha)[0] for m, h in zip(mh["model"], mh["h"], strict=True)
            ]
        mh["extrap"] = [h > cal.h_obs[m] for m, h in zip(mh["model"], mh["h"], strict=True)]
        t = t.merge(mh, on=["model", "h"], how="left")
        for (m, alpha), q in cal.trend_q.items():  # the trend class: its own q, never narrower
            sel = (t["model"] == m) & (t["trend_ruis"] > TREND_R)
            col = "q80" if alpha == 0.2 else "q95"
            t.loc[sel, col] = np.maximum(t.loc[sel, col], q)
        parts.append(t)
    if not parts:
        return pd.DataFrame()
    allt = pd.concat(parts, ignore_index=True)
    key = ["series", "dataset", "origin", "target_year"]
    for b in BENCHMARKS:  # the benchmark's t-interval for the same forecast case, next to each row
        bb = allt.loc[allt["model"] == b, [*key, "lo80", "hi80", "lo95", "hi95"]]
        allt = allt.merge(bb.rename(columns=lambda c, b=b: c if c in key else f"{b}_{c}"), on=key, how="left")
    nv = allt.loc[allt["model"] == "naief", [*key, "abs_scaled"]].rename(columns={"abs_scaled": "naief_as"})
    allt = allt.merge(nv, on=key, how="left")
    y, ms = allt["actual"], allt["mase_scale"]
    for alpha, tag in ((0.2, "80"), (0.05, "95")):
        q = allt[f"q{tag}"]
        allt[f"hit{tag}"] = allt["e"].abs() <= q
        lo, hi = allt["forecast"] - q * allt["scale"], allt["forecast"] + q * allt["scale"]
        # forecast +/- q * scale is exactly the interval forecast_series draws (scale = interval_scale)
        allt[f"is{tag}"] = interval_score(lo, hi, y, alpha) / ms
        for b in BENCHMARKS:
            blo, bhi = allt[f"{b}_lo{tag}"], allt[f"{b}_hi{tag}"]
            allt[f"is{tag}_{b}"] = interval_score(blo, bhi, y, alpha) / ms
            allt[f"hit{tag}_{b}"] = ((blo <= y) & (y <= bhi)).where(blo.notna())
    cols = _SummaryColumns(allt)
    rows = [
        {"indeling": "horizon", "klasse": "alle", "model": m, "h": int(h), **_summary(cols.take(pos))}
        for (m, h), pos in _groups(allt, ["model", "h"])
    ]
    if classes:
        allt["klasse"] = trend_noise_class(allt["trend_ruis"].to_numpy()).astype(str).to_numpy()
        allt["lengte"] = pd.cut(allt["n_train"], LENGTH_BINS, labels=LENGTH_LABELS).astype(str)
        for ind, col in (("trend_ruis", "klasse"), ("lengte", "lengte")):
            rows += [
                {"indeling": ind, "klasse": c, "model": m, "h": pd.NA, **_summary(cols.take(pos))}
                for (m, c), pos in _groups(allt, ["model", col])
            ]
    out = pd.DataFrame(rows)
    out["h"] = out["h"].astype("Int64")
    return out


def _groups(df: pd.DataFrame, keys: list[str]):
    """(key, row positions) per group of ``df.groupby(keys)``, in its order (sorted keys, rows in
    table order, missing keys left out): the rows each group's sub-frame would hold."""
    return _row_groups(df.groupby(keys))


class _SummaryColumns:
    """The columns :func:`_summary` reads, once as numpy arrays (a group is a selection of rows)."""

    NAMES = (
        "target_year", "extrap", "abs_scaled", "naief_as",
        *(f"{c}{tag}{b}" for tag in ("80", "95") for c in ("hit", "is") for b in ("", "_naief", "_drift")),
    )  # fmt: skip

    def __init__(self, allt: pd.DataFrame):
        self.cols = {c: allt[c].to_numpy() for c in self.NAMES}
        for tag in ("80", "95"):  # coverage of a benchmark: nan where it has no interval
            for b in BENCHMARKS:
                self.cols[f"hit{tag}_{b}"] = allt[f"hit{tag}_{b}"].astype(float).to_numpy()

    def take(self, pos: np.ndarray) -> dict[str, np.ndarray]:
        return {c: v[pos] for c, v in self.cols.items()}


def _mean(a: np.ndarray) -> float:
    """``pd.Series(a).mean()`` bit for bit: missing values count as 0 in the sum and not in n."""
    mask = np.isnan(a)
    if mask.any():
        a = a.copy()
        np.putmask(a, mask, 0)
    count = np.float64(mask.size - mask.sum())
    return float(a.sum(dtype=np.float64) / count) if count > 0 else float("nan")


def _summary(g: dict[str, np.ndarray]) -> dict:
    n = len(g["target_year"])
    uy, inv = np.unique(g["target_year"], return_inverse=True)
    row = {"n": n, "n_doeljaren": len(uy)}
    ext = g["extrap"]
    row["interval"] = "extrapolatie" if ext.all() else ("deels extrapolatie" if ext.any() else "waargenomen")
    for tag in ("80", "95"):
        k = int(g[f"hit{tag}"].sum())
        row[f"dekking{tag}"] = k / n
        row[f"dekking{tag}_wilson_lo"], row[f"dekking{tag}_wilson_hi"] = wilson(k, n)
        row[f"dekking{tag}_doeljaar_lo"], row[f"dekking{tag}_doeljaar_hi"] = _year_cluster_ci(
            g[f"hit{tag}"], uy, inv
        )
        row[f"msis{tag}"] = _mean(g[f"is{tag}"])
        for b in BENCHMARKS:
            row[f"msis{tag}_{b}_t"] = _mean(g[f"is{tag}_{b}"])
            row[f"dekking{tag}_{b}_t"] = _mean(g[f"hit{tag}_{b}"])
    row["mase"] = _mean(g["abs_scaled"])
    row["mase_naief"] = _mean(g["naief_as"])
    row["mase_ratio_naief"] = row["mase"] / row["mase_naief"] if row["mase_naief"] > 0 else np.nan
    return row
