"""Interval calibration on a panel of real series: conformal quantiles of scaled errors per horizon.

For every series in the real panel and every origin with at least ``min_train`` points, each model
forecasts every later observed year (:mod:`analysis.goals.panel`). Each error is scaled by the
model's own h-step scale (:func:`analysis.goals.forecast.interval_scale`: the RMS of its error if the
observed trend continues, so the drift stays in the scale and short windows count as uncertain).
Per model and horizon h the interval half-width in scale units is the conformal quantile: the
ceil((n_h + 1)(1 - alpha))-th smallest |scaled error|.

Forecast errors of different municipalities in the same year move together (one source, common
shocks), so the independent unit is the *target year*: a horizon counts as observed only with enough
target years behind it, the uncertainty of q_h comes from a bootstrap that resamples target years,
and validation holds out whole data sets or blocks of target years.

Beyond the largest observed horizon, q_h follows a growth law a * h^b (b within ``groeiwet_b``)
fitted on the observed horizons and never below the last observed q (no pinch): such intervals are
labelled "extrapolatie". P(goal met) beyond it comes from a stated model (a scaled Student t matched
to the extrapolated 80% and 95% half-widths), not from a count of panel errors.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.goals.panel import (  # noqa: F401  (re-exported: the panel lives in goals.panel)
    ALPHAS,
    FORECAST_KEYS,
    PanelSpec,
    check_forecast_config,
    load_panel,
    mixedlm_crosscheck,
    panel_backtest,
    panel_pace,
    panel_specs,
)

MIN_N_FOR_Q = 19  # smallest n_h with a finite 95% conformal quantile: ceil(20 * 0.95) = 19
MIN_YEARS_FOR_Q = 3  # fewer target years behind a horizon are one or two common shocks, not evidence
TREND_R = 2.0  # trend/noise above this: the trend class, calibrated on its own panel errors
Z80, Z95 = stats.norm.ppf(0.9), stats.norm.ppf(0.975)


@functools.lru_cache(maxsize=4096)  # pure in (q80, q95); goals share their calibrated widths
def t_model(q80: float, q95: float) -> tuple[float, float]:
    """(df, scale) of the symmetric scaled Student t whose 80% and 95% central half-widths are q80 and
    q95. The ratio q95 / q80 sets the tail weight: at or below the normal's (1.53) the normal is used
    (df = inf), above the Cauchy's (4.13) df = 1."""
    ratio = q95 / q80 if q80 > 0 else float("nan")

    def r(df):
        return stats.t.ppf(0.975, df) / stats.t.ppf(0.9, df)

    if not np.isfinite(ratio) or ratio <= Z95 / Z80:
        df = float("inf")
    elif ratio >= r(1.0):
        df = 1.0
    else:
        df = float(optimize.brentq(lambda v: r(v) - ratio, 1.0, 1e6))
    tq = Z80 if math.isinf(df) else stats.t.ppf(0.9, df)
    return df, q80 / tq


# --- conformal quantiles ---------------------------------------------------------------------------


def conformal_quantile(abs_errors: np.ndarray, alpha: float) -> float:
    """ceil((n + 1)(1 - alpha))-th smallest value; inf when n is too small for that rank."""
    a = np.sort(np.asarray(abs_errors, dtype=float))
    n = len(a)
    k = math.ceil((n + 1) * (1 - alpha))
    return float(a[k - 1]) if 1 <= k <= n else float("inf")


def fit_growth_law(h, q, weights=None, b_bounds=(0.0, 0.5)) -> tuple[float, float]:
    """Least squares of log q = log a + b log h with b restricted to ``b_bounds``.

    With a single horizon the exponent is not identified; the lower bound is used then (the interval
    scale already grows with h, so the lower bound 0 means: the width keeps growing as the scale does).
    """
    h, q = np.asarray(h, float), np.asarray(q, float)
    ok = np.isfinite(q) & (q > 0)
    h, q = h[ok], q[ok]
    w = np.ones(len(h)) if weights is None else np.asarray(weights, float)[ok]
    if len(h) == 0:
        return float("nan"), float("nan")
    lh, lq = np.log(h), np.log(q)
    scl = w.sum()  # np.average(lq - b * lh, weights=w), its weight sum computed once
    if scl == 0.0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")

    def loga(b):
        return float(np.multiply(lq - b * lh, w).sum() / scl)

    if len(h) < 2:
        b = b_bounds[0]
    else:
        res = optimize.minimize_scalar(
            lambda b: float(np.sum(w * (lq - loga(b) - b * lh) ** 2)), bounds=b_bounds, method="bounded"
        )
        b = float(res.x)
    return float(np.exp(loga(b))), b


@dataclass
class Calibration:
    """Conformal half-widths (in scale units) per model, horizon and alpha, with their evidence."""

    table: pd.DataFrame  # model, h, alpha, q, n, n_doeljaren, bron ('waargenomen'/'extrapolatie')
    errors: dict[tuple[str, int], np.ndarray]  # signed scaled errors per (model, h)
    law: dict[tuple[str, float], tuple[float, float]]
    h_obs: dict[str, int]
    b_bounds: tuple[float, float] = (0.0, 0.5)
    # trend class (trend/noise > TREND_R): one q per (model, alpha) over the observed horizons, and
    # its signed errors per model; empty when the panel has too little evidence for the class. It can
    # only widen an interval: the panel's trends are few and mostly transient, so a narrower trend q
    # learnt from them would not hold for a persistent trend (a planted test shows coverage 0.39)
    trend_q: dict[tuple[str, float], float] = field(default_factory=dict)
    trend_errors: dict[str, np.ndarray] = field(default_factory=dict)
    _q: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.table is not None:  # None: a bootstrap replicate, its _q given
            self._q = {(r.model, int(r.h), float(r.alpha)): float(r.q) for r in self.table.itertuples()}

    def trending(self, model: str, r: float | None) -> bool:
        """Does a series with trend/noise ratio ``r`` get the trend class's calibration?"""
        return r is not None and bool(r > TREND_R) and (model, 0.2) in self.trend_q

    def quantile(self, model: str, h: int, alpha: float, r: float | None = None) -> tuple[float, bool]:
        """(half-width in scale units, extrapolated?) for ``model`` at horizon ``h``; ``r`` the
        series' trend/noise ratio (the trend class has its own q, the same at every horizon)."""
        hmax = self.h_obs[model]
        if self.trending(model, r):  # never narrower than the pooled calibration (see trend_q)
            pooled = self.quantile(model, h, alpha)[0]
            return max(self.trend_q[(model, float(alpha))], pooled), h > hmax
        if h <= hmax:
            return self._q[(model, int(h), float(alpha))], False
        a, b = self.law[(model, float(alpha))]
        return max(a * h**b, self._q[(model, hmax, float(alpha))]), True

    def error_sample(self, model: str, h: int, r: float | None = None) -> np.ndarray:
        """The observed scaled errors at an observed horizon h (or of the trend class), symmetrised:
        the sign of a panel series' error says nothing about the direction of another series' trend."""
        own = self.trending(model, r) and self.trend_q[(model, 0.2)] > self.quantile(model, h, 0.2)[0]
        e = self.trend_errors[model] if own else self.errors[(model, int(h))]
        return np.concatenate([e, -e])

    def prob_met(
        self,
        model: str,
        h: int,
        forecast: float,
        scale: float,
        target: float,
        lower_is_better: bool,
        r: float | None = None,
    ) -> float:
        """P(goal met) at horizon h, ``scale`` the series' interval scale at h.

        Observed horizons: the share k / n of the symmetrised panel errors that meet the target.
        Beyond them: the scaled Student t of :func:`t_model`, matched to the extrapolated 80% and
        95% half-widths (the model is stated, a probability is never a floor of an error count).
        nan without a scale (a series without any variation supports no probability).
        """
        if not scale > 0:
            return float("nan")
        z = (target - forecast) / scale  # the target in scale units from the point forecast
        if h <= self.h_obs[model]:
            e = self.error_sample(model, h, r)
            met = e <= z if lower_is_better else e >= z
            return float(met.mean())
        df, tau = t_model(self.quantile(model, h, 0.2, r)[0], self.quantile(model, h, 0.05, r)[0])
        # the unfrozen calls (freezing a distribution per goal costs more than the cdf itself)
        if math.isinf(df):
            return float(stats.norm.cdf(z, scale=tau) if lower_is_better else stats.norm.sf(z, scale=tau))
        return float(stats.t.cdf(z, df, scale=tau) if lower_is_better else stats.t.sf(z, df, scale=tau))


def _groups(bt: pd.DataFrame, models) -> tuple[dict, np.ndarray]:
    """Per (model, h): |e| sorted, the target-year index of each sorted value, and the signed errors."""
    clean = bt.dropna(subset=["e"])
    clean = clean[clean["model"].isin(list(models))]
    years = np.sort(clean["target_year"].unique())
    out = {}
    for (m, h), g in clean.groupby(["model", "h"], sort=True):
        e = g["e"].to_numpy()
        order = np.argsort(np.abs(e), kind="stable")
        yi = np.searchsorted(years, g["target_year"].to_numpy())
        out[(m, int(h))] = (np.abs(e)[order], yi[order], e)
    return out, years


def _weighted_q(a_sorted: np.ndarray, w: np.ndarray, alpha: float) -> float:
    """Conformal quantile where row i counts w[i] times (w = 1: the plain rank rule)."""
    n = float(w.sum())
    if n == 0:
        return float("inf")
    k = math.ceil((n + 1) * (1 - alpha))
    if k > n:
        return float("inf")
    return float(a_sorted[np.searchsorted(np.cumsum(w), k)])


def _calibrate_groups(groups, models, b_bounds, alphas, year_w=None, monotone=True, table=True):
    """q per (model, h, alpha), observed horizons and growth laws from prepared groups; with
    ``table=False`` the rows (model, h, alpha, q, n, n_doeljaren) as a list, not a DataFrame."""
    rows, h_obs, law = [], {}, {}
    for model in models:
        hs = sorted(h for (m, h) in groups if m == model)
        qs = {alpha: [] for alpha in alphas}
        obs_h, ns, nys = [], [], []
        for h in hs:
            a, yi, _ = groups[(model, h)]
            w = np.ones(len(a)) if year_w is None else year_w[yi]
            n = float(w.sum())
            ny = len(np.unique(yi[w > 0]))
            if n < MIN_N_FOR_Q or ny < MIN_YEARS_FOR_Q or h != len(obs_h) + 1:
                break  # observed: contiguous from 1, enough errors AND enough target years
            obs_h.append(h)
            ns.append(n)
            nys.append(ny)
            for alpha in alphas:
                qs[alpha].append(_weighted_q(a, w, alpha))
        if not obs_h:
            continue
        h_obs[model] = obs_h[-1]
        for alpha in alphas:
            q = np.array(qs[alpha])
            if monotone:
                q = np.maximum.accumulate(q)
            law[(model, alpha)] = fit_growth_law(obs_h, q, ns, b_bounds)
            rows += [(model, h, alpha, qq, n, ny) for h, qq, n, ny in zip(obs_h, q, ns, nys, strict=True)]
    if not table:
        return rows, h_obs, law
    tab = pd.DataFrame(rows, columns=["model", "h", "alpha", "q", "n", "n_doeljaren"])
    return tab, h_obs, law


def calibrate(
    bt: pd.DataFrame, models, b_bounds=(0.0, 0.5), alphas=ALPHAS, monotone: bool = True
) -> Calibration:
    """Conformal q_h per model from backtest rows ``bt`` (any subset of the panel).

    Horizons with fewer than 19 scaled errors (no finite 95% quantile) or fewer than 3 target years
    are not "observed"; beyond the last observed horizon the growth law takes over. With
    ``monotone`` q_h never shrinks with h. Windows with trend/noise > TREND_R (the trend class)
    get one q of their own over the observed horizons when the panel holds >= 19 of their errors
    over >= 3 target years (in the scale of :func:`interval_scale`, q barely depends on h).
    """
    groups, _ = _groups(bt, models)
    tab, h_obs, law = _calibrate_groups(groups, models, b_bounds, alphas, monotone=monotone)
    errors = {(m, h): groups[(m, h)][2] for m in h_obs for h in range(1, h_obs[m] + 1)}
    trend_q, trend_e = {}, {}
    if "trend_ruis" in bt:
        clean = bt.dropna(subset=["e"])
        for m in h_obs:
            t = clean[(clean["model"] == m) & (clean["trend_ruis"] > TREND_R) & (clean["h"] <= h_obs[m])]
            if len(t) >= MIN_N_FOR_Q and t["target_year"].nunique() >= MIN_YEARS_FOR_Q:
                trend_e[m] = t["e"].to_numpy()
                for alpha in alphas:
                    trend_q[(m, float(alpha))] = conformal_quantile(np.abs(trend_e[m]), alpha)
    return Calibration(tab.assign(bron="waargenomen"), errors, law, h_obs, tuple(b_bounds), trend_q, trend_e)


def bootstrap_by_target_year(
    bt: pd.DataFrame, models, reps: int, seed: int, h_max: int, b_bounds=(0.0, 0.5), alphas=ALPHAS
) -> pd.DataFrame:
    """Percentile band (5-95%) of q_h, resampling whole target years with replacement.

    Every replicate recalibrates (including the growth law), so the band for an extrapolated horizon
    carries the uncertainty of the law's fit as well.
    """
    rng = np.random.default_rng(seed)
    groups, years = _groups(bt, models)
    draws = []
    for _ in range(reps):
        w = np.bincount(rng.integers(0, len(years), len(years)), minlength=len(years)).astype(float)
        rows, h_obs, law = _calibrate_groups(groups, models, b_bounds, alphas, year_w=w, table=False)
        q = {(m, int(h), float(a)): float(qq) for m, h, a, qq, _, _ in rows}
        cal = Calibration(None, {}, law, h_obs, tuple(b_bounds), _q=q)  # type: ignore[arg-type]
        for model in h_obs:
            for alpha in alphas:
                draws += [(model, alpha, h, cal.quantile(model, h, alpha)[0]) for h in range(1, h_max + 1)]
    d = pd.DataFrame(draws, columns=["model", "alpha", "h", "q"]).astype({"q": float})
    d = d[np.isfinite(d["q"])]
    gb = d.groupby(["model", "alpha", "h"])["q"]
    out = gb.size().to_frame("n_replicaties")  # and per group the 5% and 95% quantile of q
    q = d["q"].to_numpy()
    for i, (name, p) in enumerate((("q_p05", 0.05), ("q_p95", 0.95))):
        out.insert(i, name, [_series_quantile(q[pos], p) for _, pos in _row_groups(gb)])
    return out.reset_index()


def _row_groups(gb) -> list[tuple]:
    """(key, row positions) per group of ``gb`` in its order (sorted keys, rows in table order)."""
    codes = gb.ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(gb.ngroups + 1))
    return [(key, order[bounds[i] : bounds[i + 1]]) for i, key in enumerate(gb.size().index)]


def _series_quantile(v: np.ndarray, p: float) -> float:
    """``pd.Series(v).quantile(p)`` for finite v, as pandas computes it (linear, on a 1 x n block)."""
    return np.percentile(v[np.newaxis, :], np.asarray([p]) * 100.0, axis=1, method="linear")[0, 0]


def calibration_table(cal: Calibration, boot: pd.DataFrame, h_max: int) -> pd.DataFrame:
    """q per model, alpha and h = 1..h_max (observed or extrapolated), with the bootstrap band."""
    rows = []
    obs = cal.table.set_index(["model", "h", "alpha"])
    for model in cal.h_obs:
        for alpha in ALPHAS:
            a, b = cal.law[(model, alpha)]
            for h in range(1, h_max + 1):
                q, ext = cal.quantile(model, h, alpha)
                key = (model, h, alpha)
                rows.append(
                    {
                        "model": model,
                        "alpha": alpha,
                        "niveau": f"{round((1 - alpha) * 100)}%",
                        "h": h,
                        "q": q,
                        "bron": "extrapolatie" if ext else "waargenomen",
                        "n": int(obs.loc[key, "n"]) if key in obs.index else 0,
                        "n_doeljaren": int(obs.loc[key, "n_doeljaren"]) if key in obs.index else 0,
                        "groeiwet_a": a,
                        "groeiwet_b": b,
                    }
                )
    return pd.DataFrame(rows).merge(boot, on=["model", "alpha", "h"], how="left")
