"""Point forecasts for short annual series, benchmarks, rolling-origin backtest and target arithmetic.

Candidates for the point forecast (``POINT_MODELS``):

* ``naief``: the last value (random walk);
* ``drift``: last value plus the average yearly change (first to last observation);
* ``lineair``: OLS linear trend on the year;
* ``loglineair``: OLS trend on log(y), back-transformed (the median); level series with y > 0 only,
  never on a gap (parity goals);
* ``naief_drift``: equal-weight combination of naive and drift.

Uncertainty does not come from these models but from the panel calibration in
:mod:`analysis.goals.calibration` (conformal quantiles of scaled errors per horizon). The two
benchmarks naive and drift also carry their textbook t-intervals (``naief-t``, ``drift-t``), so every
backtest table shows what a plain benchmark achieves next to the calibrated intervals.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.goals.labels import TREND_LABEL  # noqa: F401  (re-exported)

POINT_MODELS = ("naief", "drift", "lineair", "loglineair", "naief_drift")
LOG_MODELS = frozenset({"loglineair"})
BENCHMARKS = ("naief", "drift")


def _as_arrays(years, values) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(years, dtype=int), np.asarray(values, dtype=float)


def yearly_changes(years, values) -> np.ndarray:
    """First differences per year (a gap of g years divides the change by g)."""
    years, y = _as_arrays(years, values)
    return np.diff(y) / np.diff(years)


def series_scale(years, values) -> float:
    """Per-series scale for errors: SD of the yearly first differences (nan with < 3 points)."""
    d = yearly_changes(years, values)
    return float(np.std(d, ddof=1)) if len(d) >= 2 else float("nan")


# share of the observed drift each point model carries forward (naive none, drift all of it)
DRIFT_WEIGHT = {"naief": 0.0, "naief_drift": 0.5, "drift": 1.0, "lineair": 1.0, "loglineair": 1.0}


def trend_noise(years, values) -> float:
    """Trend/noise ratio of a window: |mean yearly change| / SD of the yearly changes (nan < 3 points)."""
    d = yearly_changes(years, values)
    if len(d) < 2:
        return float("nan")
    sd = float(np.std(d, ddof=1))
    if sd > 0:
        return abs(float(np.mean(d))) / sd
    return float("inf") if np.mean(d) != 0 else float("nan")


def interval_scale(years, values, h, model: str = "naief") -> np.ndarray:
    """Scale of the h-step error of ``model``: its root mean square if trend and noise continue.

    With m the mean and s the SD of the yearly changes: sqrt((w h m)^2 + h s^2), where
    w = 1 - DRIFT_WEIGHT[model] is the part of the drift the point forecast leaves out (all of it for
    naive). The drift stays in the scale, so the interval of a trending series grows with its trend
    (linearly in h) and that of a flat one with its noise (sqrt h). nan with fewer than 3 points.
    """
    d = yearly_changes(years, values)
    h = np.asarray(h, dtype=float)
    if len(d) < 2:
        return np.full(h.shape, np.nan)
    return _scale(float(np.mean(d)), float(np.std(d, ddof=1)), h, model)


def _scale(m: float, s: float, h: np.ndarray, model: str) -> np.ndarray:
    """:func:`interval_scale` from the mean ``m`` and SD ``s`` of the yearly changes (h float)."""
    bias = (1.0 - DRIFT_WEIGHT[model]) * h * m
    return np.sqrt(bias**2 + h * s**2)


def mase_scale(years, values) -> float:
    """MASE denominator: mean absolute yearly change in the training window (non-seasonal)."""
    d = yearly_changes(years, values)
    return float(np.mean(np.abs(d))) if len(d) else float("nan")


def point_forecast(years, values, future, model: str, gap: bool = False) -> np.ndarray | None:
    """Point forecast of ``model`` for the years in ``future``; None when the model does not apply.

    ``gap=True`` marks a parity gap (focus area minus municipality): a log model is refused there,
    because a gap can be zero or negative and its sign is the whole point.
    """
    years, y = _as_arrays(years, values)
    future = np.asarray(future, dtype=int)
    if model in LOG_MODELS and gap:
        raise ValueError(f"{model}: log model on a parity gap is not allowed")
    h = (future - years[-1]).astype(float)
    last = y[-1]
    span = years[-1] - years[0]
    slope = (y[-1] - y[0]) / span if span > 0 else 0.0
    if model == "naief":
        return np.full(len(future), last)
    if model == "drift":
        return last + slope * h
    if model == "naief_drift":
        return last + 0.5 * slope * h
    if model in ("lineair", "loglineair"):
        if len(y) < 3:
            return None
        if model == "loglineair" and not (y > 0).all():
            return None
        yy = np.log(y) if model == "loglineair" else y
        x = (years - years[0]).astype(float)
        b, a = np.polyfit(x, yy, 1)
        fit = a + b * (future - years[0])
        return np.exp(fit) if model == "loglineair" else fit
    raise ValueError(f"unknown model {model}")


def benchmark_interval(years, values, future, model: str, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Textbook t-interval of the naive or drift benchmark (Hyndman & Athanasopoulos, fpp3 5.5).

    naive: sigma from the first differences, sigma_h = sigma sqrt(h), df = n - 1;
    drift: sigma from the differences around their mean, sigma_h = sigma sqrt(h (1 + h / (n - 1))),
    df = n - 2.
    """
    years, y = _as_arrays(years, values)
    future = np.asarray(future, dtype=int)
    h = (future - years[-1]).astype(float)
    d = yearly_changes(years, y)
    point = point_forecast(years, y, future, model)
    sd, df = _benchmark_sd(d, h, model)
    q = _t_quantile(max(df, 1), 1 - alpha / 2)
    return point - q * sd, point + q * sd


def _benchmark_sd(d: np.ndarray, h: np.ndarray, model: str) -> tuple[np.ndarray, int]:
    """SD of the h-step error and degrees of freedom of :func:`benchmark_interval`."""
    if model == "naief":
        sigma, df = float(np.sqrt(np.mean(d**2))), len(d)
        return sigma * np.sqrt(h), df
    if model == "drift":
        sigma, df = float(np.std(d, ddof=1)), len(d) - 1
        return sigma * np.sqrt(h * (1 + h / len(d))), df
    raise ValueError(f"no benchmark interval for {model}")


@lru_cache(maxsize=256)
def _t_quantile(df: int, p: float) -> float:
    return float(special.stdtrit(df, p))


MIN_TRAIN = 4  # fewest training points of a backtest origin (backtest's default, choose_model's own)


def backtest(
    years,
    values,
    models=POINT_MODELS,
    min_train: int = MIN_TRAIN,
    max_h: int | None = None,
    series_id: str = "",
    gap: bool = False,
) -> pd.DataFrame:
    """Rolling-origin evaluation: fit on the first k points (k >= ``min_train``), forecast every later
    observed year (or up to ``max_h`` ahead). Only ``y[:k]`` is used for an origin's forecasts, scales
    and benchmark intervals: no look-ahead.

    Columns: series, model, origin, target_year, h, n_train, actual, forecast, scale (the model's
    :func:`interval_scale` at h), trend_ruis (trend/noise ratio of the training window), mase_scale,
    e (scaled error = (actual - forecast) / scale), abs_scaled (|actual - forecast| / mase_scale) and,
    for the benchmarks, their t-interval bounds lo80/hi80/lo95/hi95.
    """
    parts: dict[str, list] = {c: [] for c in BACKTEST_COLUMNS}
    for cols in _backtest_cases(years, values, models, min_train, max_h, gap, full=True):
        n = len(cols["actual"])
        cols["series"] = [series_id] * n
        cols["model"] = [cols["model"]] * n
        for c in BACKTEST_COLUMNS:
            parts[c].append(cols[c])
    if not parts["model"]:
        return pd.DataFrame(columns=list(BACKTEST_COLUMNS))
    return pd.DataFrame({c: np.concatenate(v) for c, v in parts.items()})


def _backtest_cases(years, values, models, min_train: int, max_h, gap: bool, full: bool):
    """The columns of :func:`backtest` per origin and model (``model`` a single name); with
    ``full=False`` only model and abs_scaled (what :func:`choose_model` needs). The arithmetic is the
    one of :func:`point_forecast`, :func:`benchmark_interval`, :func:`interval_scale`,
    :func:`mase_scale` and :func:`trend_noise`, with the window's yearly changes computed once."""
    years, y = _as_arrays(years, values)
    for k in range(min_train, len(y)):
        ty, tv = years[:k], y[:k]
        targets = years[k:] if max_h is None else years[k:][years[k:] - ty[-1] <= max_h]
        if len(targets) == 0:
            continue
        actual = y[k : k + len(targets)]
        d = np.diff(tv) / np.diff(ty)  # yearly_changes(ty, tv)
        ms = float(np.mean(np.abs(d))) if len(d) else float("nan")  # mase_scale
        n = len(targets)
        nan = np.full(n, np.nan)
        if full:
            hs = targets - ty[-1]
            hf = np.asarray(hs, dtype=float)
            if len(d) >= 2:  # trend_noise and the moments of interval_scale
                m, sd = float(np.mean(d)), float(np.std(d, ddof=1))
                if sd > 0:
                    tn = abs(float(np.mean(d))) / sd
                else:
                    tn = float("inf") if np.mean(d) != 0 else float("nan")
            else:
                tn = float("nan")
        for model in models:
            if gap and model in LOG_MODELS:
                continue
            f = point_forecast(ty, tv, targets, model, gap=gap)
            if f is None:
                continue
            err = actual - f
            abs_scaled = np.abs(err) / ms if ms > 0 else nan
            if not full:
                yield {"model": model, "abs_scaled": abs_scaled}
                continue
            bench = {"lo80": nan, "hi80": nan, "lo95": nan, "hi95": nan}
            if model in BENCHMARKS:
                bsd, df = _benchmark_sd(d, hf, model)
                for alpha, tag in ((0.2, "80"), (0.05, "95")):
                    q = _t_quantile(max(df, 1), 1 - alpha / 2)
                    bench[f"lo{tag}"], bench[f"hi{tag}"] = f - q * bsd, f + q * bsd
            s = _scale(m, sd, hf, model) if len(d) >= 2 else np.full(hf.shape, np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                e = np.where(s > 0, err / s, np.nan)
            yield {
                "model": model,
                "origin": np.full(n, int(ty[-1])),
                "target_year": targets,
                "h": hs,
                "n_train": np.full(n, k),
                "actual": actual,
                "forecast": f,
                "scale": s,
                "trend_ruis": np.full(n, tn),
                "mase_scale": np.full(n, ms),
                "e": e,
                "abs_scaled": abs_scaled,
                **bench,
            }


BACKTEST_COLUMNS = (
    "series", "model", "origin", "target_year", "h", "n_train", "actual", "forecast", "scale",
    "trend_ruis", "mase_scale", "e", "abs_scaled", "lo80", "hi80", "lo95", "hi95",
)  # fmt: skip


def choose_model(
    years, values, ranking: list[str], min_points: int, margin: float, gap: bool = False
) -> tuple[str, str, dict[str, float]]:
    """Point model for one series, by rolling-origin error.

    ``ranking``: candidates best-first by rolling-origin MASE on the real panel. The panel's best
    applicable model is the default; the series' own backtest (needs ``min_points`` observations)
    overrides it only when its best model's MASE is at least ``margin`` (e.g. 0.2 = 20%) lower than
    the default's on this series: a handful of own errors is too few to overrule the panel on a tie.
    Returns (model, reason, {model: own MASE}).
    """
    years, y = _as_arrays(years, values)
    cands = [
        m
        for m in ranking
        if not (gap and m in LOG_MODELS)
        and point_forecast(years, y, [int(years[-1]) + 1], m, gap=gap) is not None
    ]
    if not cands:
        raise ValueError("no applicable model")
    default = cands[0]
    why = "beste rolling-origin MASE op het echte paneel" + (
        "" if default == ranking[0] else f" ({ranking[0]} niet toepasbaar)"
    )
    if len(y) < min_points:
        return default, why + f"; reeks te kort voor eigen backtest (< {min_points})", {}
    # backtest(...).dropna(subset=["abs_scaled"]).groupby("model")["abs_scaled"].mean(), without
    # the backtest frame: the same values in the same order into the same groupby mean
    labels, vals = [], []
    for case in _backtest_cases(years, y, cands, MIN_TRAIN, None, gap, full=False):
        a = case["abs_scaled"]
        a = a[~np.isnan(a)]
        labels += [case["model"]] * len(a)
        vals.append(a)
    if not labels:
        return default, why, {}
    score = pd.Series(np.concatenate(vals)).groupby(np.array(labels, dtype=object)).mean().to_dict()
    best = min(score, key=lambda m: (score[m], cands.index(m)))
    if default in score and score[best] < (1 - margin) * score[default]:
        return (
            best,
            (
                f"eigen rolling-origin MASE {score[best]:.2f} tegen {score[default]:.2f} voor {default} "
                f"(paneelkeuze): meer dan {margin:.0%} beter"
            ),
            score,
        )
    return default, why + f"; eigen backtest niet duidelijk beter (marge {margin:.0%})", score


# --- target arithmetic and pace ----------------------------------------------------------------


def target_value(doeltype: str, doelwaarde: float | None, baseline: float | None) -> float | None:
    """The value the indicator (or the parity gap) must reach in the target year."""
    if doeltype == "relatief":
        return None if baseline is None else baseline * (1 + doelwaarde)
    if doeltype == "absoluut":
        return doelwaarde
    if doeltype == "richting":
        return baseline
    if doeltype == "pariteit":
        return 0.0
    raise ValueError(doeltype)


def is_met(value: float, target: float, lower_is_better: bool) -> bool:
    return value <= target if lower_is_better else value >= target


def required_pace(latest: float, latest_year: int, target: float, target_year: int) -> float:
    """Change per year (in units) needed from the latest value to reach the target in the target year."""
    return (target - latest) / (target_year - latest_year)


def required_pace_pct(latest: float, latest_year: int, target: float, target_year: int) -> float:
    """Compound yearly % change needed (level series with latest, target > 0; else nan)."""
    if latest <= 0 or target <= 0:
        return float("nan")
    return float(((target / latest) ** (1 / (target_year - latest_year)) - 1) * 100)


def observed_pace(years, values) -> float:
    """Robust yearly change: Theil-Sen slope (median of pairwise slopes), not an endpoint slope,
    so one odd first or last year does not set the pace."""
    years, y = _as_arrays(years, values)
    if len(y) < 2:
        return float("nan")
    if len(y) == 2:
        return float((y[1] - y[0]) / (years[1] - years[0]))
    if not np.isfinite(y).all():  # scipy's own nan handling
        return float(stats.theilslopes(y, years.astype(float))[0])
    return _theil_sen_slope(y, years.astype(float))


def _theil_sen_slope(y: np.ndarray, x: np.ndarray) -> float:
    """The slope of ``scipy.stats.theilslopes(y, x)`` (finite y), computed as scipy does, without its
    confidence interval and intercept: the median of the pairwise slopes with x[i] > x[j]."""
    deltax = x[:, np.newaxis] - x
    deltay = y[:, np.newaxis] - y
    pos = deltax > 0
    slopes = deltay[pos] / deltax[pos]
    if not slopes.size:
        return float(stats.theilslopes(y, x)[0])  # scipy's error for x without spread
    slopes.sort()
    return float(np.median(slopes))


def observed_pace_pct(years, values) -> float:
    """Robust compound yearly % change: Theil-Sen slope of log(y) (y > 0), as a percentage."""
    years, y = _as_arrays(years, values)
    if len(y) < 2 or not (y > 0).all():
        return float("nan")
    return float((np.exp(observed_pace(years, np.log(y))) - 1) * 100)


# --- probability and status ---------------------------------------------------------------------

P_BANDS = ((0.05, "< 5%"), (0.30, "5–30%"), (0.70, "30–70%"), (np.inf, "> 70%"))


def p_band(p: float | None) -> str | None:
    """The band a probability is reported in; a model never supports more precision than this."""
    if p is None or not np.isfinite(p):
        return None
    for upper, label in P_BANDS:
        if p < upper:
            return label
    return P_BANDS[-1][1]


def status_of(p: float | None, op_koers: float, risico: float) -> str:
    if p is None or not np.isfinite(p):
        return "onvoldoende data"
    if p >= op_koers:
        return "op koers"
    if p >= risico:
        return "risico"
    return "niet op koers"
