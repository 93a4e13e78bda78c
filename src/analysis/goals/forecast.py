"""Forecasts for short annual series with honest intervals, and the target arithmetic.

Candidate models (all statsmodels):

* ``lineair``: OLS linear trend on the year; t prediction intervals.
* ``loglineair``: OLS linear trend on log(y) (counts, y > 0); intervals back-transformed, so the
  point forecast is the median.
* ``ets_gedempt``: additive-error ETS with a damped additive trend (needs >= 6 consecutive years).

A series with fewer than ``min_points`` observations gets no forecast ("onvoldoende data"): we
never extrapolate from one or two points.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

MODELS = ("lineair", "loglineair", "ets_gedempt")
Z80 = stats.norm.ppf(0.9)


@dataclass(frozen=True)
class Forecast:
    model: str
    years: np.ndarray
    mean: np.ndarray  # point forecast (median for loglineair)
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray
    loc: np.ndarray  # predictive distribution per year: loc + scale * t(df) [on log scale if log]
    scale: np.ndarray
    df: float
    log: bool

    def widen(self, k: float) -> Forecast:
        """Intervals and predictive spread multiplied by ``k`` (empirical calibration)."""
        if k == 1.0:
            return self
        scale = self.scale * k
        dist = stats.t(self.df) if np.isfinite(self.df) else stats.norm
        q80, q95 = dist.ppf(0.9), dist.ppf(0.975)
        centre = np.log(self.mean) if self.log else self.mean
        tf = np.exp if self.log else (lambda a: a)
        return Forecast(
            self.model,
            self.years,
            self.mean,
            tf(centre - q80 * scale),
            tf(centre + q80 * scale),
            tf(centre - q95 * scale),
            tf(centre + q95 * scale),
            self.loc,
            scale,
            self.df,
            self.log,
        )

    def prob_below(self, year: int, threshold: float) -> float:
        """P(Y_year <= threshold) under the predictive distribution."""
        i = int(np.searchsorted(self.years, year))
        if i >= len(self.years) or self.years[i] != year:
            raise ValueError(f"no forecast for {year}")
        thr = threshold
        if self.log:
            if threshold <= 0:
                return 0.0
            thr = np.log(threshold)
        loc, scale = self.loc[i], self.scale[i]
        if scale <= 0 or not np.isfinite(scale):
            return float(loc <= thr)
        dist = stats.t(self.df) if np.isfinite(self.df) else stats.norm
        return float(dist.cdf((thr - loc) / scale))


def _consecutive(years: np.ndarray) -> bool:
    return len(years) > 1 and bool(np.all(np.diff(years) == 1))


def _ols(years: np.ndarray, y: np.ndarray, future: np.ndarray, log: bool, name: str) -> Forecast:
    yy = np.log(y) if log else y
    X = sm.add_constant(years.astype(float) - years[0], has_constant="add")
    Xf = sm.add_constant(future.astype(float) - years[0], has_constant="add")
    if np.allclose(yy, yy[0]):
        # constant series: no trend, no spread; the forecast is the constant, stated as such
        c = np.full(len(future), yy[0])
        out = np.exp(c) if log else c
        return Forecast(name, future, out, out, out, out, out, c, np.zeros(len(future)), np.inf, log)
    res = sm.OLS(yy, X).fit()
    pred = res.get_prediction(Xf)
    mean = pred.predicted_mean
    se = np.sqrt(pred.se_mean**2 + res.scale)
    df = float(res.df_resid)
    q80, q95 = stats.t.ppf(0.9, df), stats.t.ppf(0.975, df)
    tf = np.exp if log else (lambda a: a)
    return Forecast(
        name,
        future,
        tf(mean),
        tf(mean - q80 * se),
        tf(mean + q80 * se),
        tf(mean - q95 * se),
        tf(mean + q95 * se),
        mean,
        se,
        df,
        log,
    )


def _ets(years: np.ndarray, y: np.ndarray, future: np.ndarray) -> Forecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    h = int(future[-1] - years[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = pd.Series(
            y.astype(float), index=pd.period_range(str(int(years[0])), periods=len(y), freq="Y")
        )
        res = ETSModel(series, error="add", trend="add", damped_trend=True).fit(disp=False)
        pred = res.get_prediction(start=len(y), end=len(y) + h - 1)
        f80 = pred.summary_frame(alpha=0.2)
        f95 = pred.summary_frame(alpha=0.05)
    steps = (future - years[-1] - 1).astype(int)
    mean = f80["mean"].to_numpy()[steps]
    lo80, hi80 = f80["pi_lower"].to_numpy()[steps], f80["pi_upper"].to_numpy()[steps]
    scale = (hi80 - lo80) / (2 * Z80)
    return Forecast(
        "ets_gedempt",
        future,
        mean,
        lo80,
        hi80,
        f95["pi_lower"].to_numpy()[steps],
        f95["pi_upper"].to_numpy()[steps],
        mean,
        scale,
        np.inf,
        False,
    )


def fit_forecast(years, values, future, model: str) -> Forecast | None:
    """Fit ``model`` on (years, values) and forecast ``future`` years; None if not applicable."""
    years = np.asarray(years, dtype=int)
    y = np.asarray(values, dtype=float)
    future = np.asarray(future, dtype=int)
    if model == "lineair":
        return _ols(years, y, future, False, model)
    if model == "loglineair":
        return _ols(years, y, future, True, model) if (y > 0).all() else None
    if model == "ets_gedempt":
        if len(y) < 6 or not _consecutive(years) or np.allclose(y, y[0]):
            return None
        try:
            return _ets(years, y, future)
        except (ValueError, np.linalg.LinAlgError, AttributeError):
            return None
    raise ValueError(f"unknown model {model}")


def backtest(
    years, values, models=MODELS, min_train: int = 4, max_h: int = 3, series_id: str = ""
) -> pd.DataFrame:
    """Rolling-origin evaluation: fit on the first k points, forecast h = 1..max_h ahead."""
    years = np.asarray(years, dtype=int)
    y = np.asarray(values, dtype=float)
    rows = []
    for k in range(min_train, len(y)):
        for model in models:
            horizon_years = years[k : k + max_h]
            f = fit_forecast(years[:k], y[:k], horizon_years, model)
            if f is None:
                continue
            for j, yr in enumerate(horizon_years):
                actual = y[k + j]
                a = np.log(actual) if f.log and actual > 0 else actual
                z = (a - f.loc[j]) / f.scale[j] if f.scale[j] > 0 else np.nan
                rows.append(
                    {
                        "series": series_id,
                        "model": model,
                        "origin": int(years[k - 1]),
                        "h": int(yr - years[k - 1]),
                        "actual": actual,
                        "forecast": f.mean[j],
                        "abs_error": abs(actual - f.mean[j]),
                        "pct_error": abs(actual - f.mean[j]) / abs(actual) * 100 if actual else np.nan,
                        "in80": f.lo80[j] <= actual <= f.hi80[j],
                        "in95": f.lo95[j] <= actual <= f.hi95[j],
                        "z": z,
                        "df": f.df,
                    }
                )
    return pd.DataFrame(rows)


def calibration_factor(bt: pd.DataFrame, level: float = 0.8) -> float:
    """Factor k so that intervals k times wider cover ``level`` of the held-out values.

    From standardised backtest errors z = (actual - loc) / scale: k is the ``level`` quantile
    of |z| divided by the nominal quantile. Never below 1: intervals are only widened.
    """
    z = bt["z"].dropna().abs()
    if len(z) < 20:
        return 1.0
    df = bt["df"].replace([np.inf], np.nan)
    nominal = (
        stats.t.ppf(0.5 + level / 2, df.median()) if df.notna().any() else stats.norm.ppf(0.5 + level / 2)
    )
    return max(1.0, float(np.quantile(z, level) / nominal))


def choose_model(
    years, values, default: str, min_points: int, candidates=("lineair", "loglineair")
) -> tuple[str, str]:
    """Model with the lowest rolling-origin MAE on this series, or the default when too short."""
    if len(values) < min_points:
        return default, f"reeks te kort voor backtest (< {min_points}): standaardmodel"
    bt = backtest(years, values, models=candidates)
    if bt.empty:
        return default, "geen backtest mogelijk: standaardmodel"
    mae = bt.groupby("model")["abs_error"].mean()
    best = str(mae.idxmin())
    return best, f"laagste backtest-MAE ({mae[best]:.3g})"


# --- target arithmetic ---------------------------------------------------------------------------


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
    """Change per year needed from the latest value to reach the target in the target year."""
    return (target - latest) / (target_year - latest_year)


def observed_pace(years, values) -> float:
    """OLS slope per year of the observed series."""
    years = np.asarray(years, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan")
    return float(np.polyfit(years - years[0], values, 1)[0])


def prob_met(f: Forecast, year: int, target: float, lower_is_better: bool) -> float:
    p_below = f.prob_below(year, target)
    return p_below if lower_is_better else 1.0 - p_below


def status_of(p: float | None, op_koers: float, risico: float) -> str:
    if p is None or not np.isfinite(p):
        return "onvoldoende data"
    if p >= op_koers:
        return "op koers"
    if p >= risico:
        return "risico"
    return "niet op koers"
