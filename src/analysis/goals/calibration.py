"""Interval calibration on a panel of real series: conformal quantiles of scaled errors per horizon.

For every series in the real bundled panels and every origin with at least ``min_train`` points, each
model forecasts every later observed year. Errors are scaled by the series' own scale (SD of the
yearly differences in the training window). Per model and horizon h the interval half-width in scale
units is the conformal quantile: the ceil((n_h + 1)(1 - alpha))-th smallest |scaled error|.

Forecast errors of different municipalities in the same year move together (one source, common
shocks), so the independent unit is the *target year*: uncertainty of q_h comes from a bootstrap
that resamples target years, and validation holds out whole data sets or blocks of target years.

Beyond the largest observed horizon, q_h follows a growth law a * h^b (b in [0.5, 1]) fitted on the
observed horizons; such intervals are labelled "extrapolatie".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import InputError
from analysis.goals.forecast import BENCHMARKS, backtest, series_scale
from analysis.sources import snapshot

ALPHAS = (0.2, 0.05)
MIN_N_FOR_Q = 19  # smallest n_h with a finite 95% conformal quantile: ceil(20 * 0.95) = 19


# --- the panel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelSpec:
    naam: str
    bestand: str
    label: str
    gebruik: bool
    reden: str = ""


FORECAST_KEYS = (
    "candidates", "min_backtest_points", "eigen_keuze_marge", "min_train", "groeiwet_b", "h_max",
    "scenario_na_jaren", "tempo_venster", "doeljaarblok", "bootstrap", "paneel",
)  # fmt: skip


def check_forecast_config(fcfg: dict) -> None:
    """Every key the forecasts need, with a sane value, or one clear error naming it."""
    missing = [k for k in FORECAST_KEYS if k not in fcfg]
    if missing:
        raise InputError(f"config/doelen.yaml: forecast.{missing[0]} missing")
    from analysis.goals.forecast import POINT_MODELS

    bad = [m for m in fcfg["candidates"] if m not in POINT_MODELS]
    if bad or "naief" not in fcfg["candidates"]:
        raise InputError(
            f"config/doelen.yaml: forecast.candidates must be from {POINT_MODELS} and include naief"
        )
    lo, hi = (float(x) for x in fcfg["groeiwet_b"])
    if not 0 < lo <= hi:
        raise InputError("config/doelen.yaml: forecast.groeiwet_b must be [low, high] with 0 < low <= high")
    if int(fcfg["min_train"]) < 3:
        raise InputError("config/doelen.yaml: forecast.min_train must be >= 3 (a scale needs 2 differences)")


def panel_specs(fcfg: dict) -> list[PanelSpec]:
    out = []
    for e in fcfg.get("paneel", []):
        try:
            out.append(
                PanelSpec(
                    str(e["naam"]),
                    str(e["bestand"]),
                    str(e["label"]),
                    bool(e["gebruik"]),
                    str(e.get("reden", "")),
                )
            )
        except KeyError as exc:
            raise InputError(f"config/doelen.yaml: forecast.paneel entry misses {exc}") from exc
    if not any(p.gebruik for p in out):
        raise InputError("config/doelen.yaml: forecast.paneel has no data set with gebruik: true")
    return out


def load_panel(snapshot_dir: Path, specs: list[PanelSpec]) -> pd.DataFrame:
    """Long frame dataset, series, year, value of every used real panel (published values only)."""
    frames = []
    for spec in specs:
        if not spec.gebruik:
            continue
        ts = snapshot.read_timeseries(snapshot_dir, spec.bestand).dropna(subset=["value"])
        region = ts["region_code"].fillna(ts["region_name"]).astype(str)
        several = ts["indicator"].nunique() > 1
        sid = region + (" | " + ts["indicator"].astype(str) if several else "")
        frames.append(
            pd.DataFrame({"dataset": spec.naam, "series": sid, "year": ts["year"], "value": ts["value"]})
        )
    return pd.concat(frames, ignore_index=True).sort_values(["dataset", "series", "year"])


def panel_backtest(panel: pd.DataFrame, models, min_train: int) -> pd.DataFrame:
    frames = []
    for (ds, sid), g in panel.groupby(["dataset", "series"], sort=True):
        bt = backtest(g["year"].to_numpy(), g["value"].to_numpy(), models, min_train, series_id=sid)
        if len(bt):
            frames.append(bt.assign(dataset=ds))
    return pd.concat(frames, ignore_index=True)


# --- conformal quantiles ---------------------------------------------------------------------------


def conformal_quantile(abs_errors: np.ndarray, alpha: float) -> float:
    """ceil((n + 1)(1 - alpha))-th smallest value; inf when n is too small for that rank."""
    a = np.sort(np.asarray(abs_errors, dtype=float))
    n = len(a)
    k = math.ceil((n + 1) * (1 - alpha))
    return float(a[k - 1]) if 1 <= k <= n else float("inf")


def fit_growth_law(h, q, weights=None, b_bounds=(0.5, 1.0)) -> tuple[float, float]:
    """Least squares of log q = log a + b log h with b restricted to ``b_bounds``.

    With a single horizon the exponent is not identified; the upper bound (the wider, random-walk-like
    growth) is used then.
    """
    h, q = np.asarray(h, float), np.asarray(q, float)
    ok = np.isfinite(q) & (q > 0)
    h, q = h[ok], q[ok]
    w = np.ones(len(h)) if weights is None else np.asarray(weights, float)[ok]
    if len(h) == 0:
        return float("nan"), float("nan")
    lh, lq = np.log(h), np.log(q)

    def loga(b):
        return float(np.average(lq - b * lh, weights=w))

    if len(h) < 2:
        b = b_bounds[1]
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
    b_bounds: tuple[float, float] = (0.5, 1.0)
    _q: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._q = {(r.model, int(r.h), float(r.alpha)): float(r.q) for r in self.table.itertuples()}

    def quantile(self, model: str, h: int, alpha: float) -> tuple[float, bool]:
        """(half-width in scale units, extrapolated?) for ``model`` at horizon ``h``."""
        hmax = self.h_obs[model]
        if h <= hmax:
            return self._q[(model, int(h), float(alpha))], False
        a, b = self.law[(model, float(alpha))]
        return max(a * h**b, self._q[(model, hmax, float(alpha))]), True

    def error_sample(self, model: str, h: int) -> np.ndarray:
        """Scaled errors representing horizon h (symmetrised): observed errors at h, or beyond the
        observed horizons the errors at the last one stretched by the growth law."""
        hmax = self.h_obs[model]
        e = self.errors[(model, min(h, hmax))]
        if h > hmax:
            e = e * self.quantile(model, h, 0.2)[0] / self.quantile(model, hmax, 0.2)[0]
        return np.concatenate([e, -e])

    def prob_met(
        self, model: str, h: int, forecast: float, scale: float, target: float, lower_is_better: bool
    ) -> float:
        """P(goal met) from the calibrated error distribution at horizon h, as (k + 1) / (n + 2) with
        k of the n panel errors meeting the target: a finite panel never supports exactly 0 or 1."""
        e = self.error_sample(model, h)
        values = forecast + scale * e if scale > 0 else np.full(len(e), forecast)
        met = values <= target if lower_is_better else values >= target
        return (int(met.sum()) + 1) / (len(e) + 2)


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


def _calibrate_groups(groups, models, b_bounds, alphas, year_w=None, monotone=True):
    """q per (model, h, alpha), observed horizons and growth laws from prepared groups."""
    rows, h_obs, law = [], {}, {}
    for model in models:
        hs = sorted(h for (m, h) in groups if m == model)
        qs = {alpha: [] for alpha in alphas}
        obs_h, ns, nys = [], [], []
        for h in hs:
            a, yi, _ = groups[(model, h)]
            w = np.ones(len(a)) if year_w is None else year_w[yi]
            n = float(w.sum())
            if n < MIN_N_FOR_Q or h != len(obs_h) + 1:
                break  # observed horizons are contiguous from 1 with enough errors
            obs_h.append(h)
            ns.append(n)
            nys.append(len(np.unique(yi[w > 0])))
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
    tab = pd.DataFrame(rows, columns=["model", "h", "alpha", "q", "n", "n_doeljaren"])
    return tab, h_obs, law


def calibrate(
    bt: pd.DataFrame, models, b_bounds=(0.5, 1.0), alphas=ALPHAS, monotone: bool = True
) -> Calibration:
    """Conformal q_h per model from backtest rows ``bt`` (any subset of the panel).

    Horizons with fewer than 19 scaled errors are not "observed" (no finite 95% quantile); beyond the
    last observed horizon the growth law takes over. With ``monotone`` q_h never shrinks with h.
    """
    groups, _ = _groups(bt, models)
    tab, h_obs, law = _calibrate_groups(groups, models, b_bounds, alphas, monotone=monotone)
    errors = {(m, h): groups[(m, h)][2] for m in h_obs for h in range(1, h_obs[m] + 1)}
    return Calibration(tab.assign(bron="waargenomen"), errors, law, h_obs, tuple(b_bounds))


def bootstrap_by_target_year(
    bt: pd.DataFrame, models, reps: int, seed: int, h_max: int, b_bounds=(0.5, 1.0), alphas=ALPHAS
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
        tab, h_obs, law = _calibrate_groups(groups, models, b_bounds, alphas, year_w=w)
        cal = Calibration(tab, {}, law, h_obs, tuple(b_bounds))
        for model in h_obs:
            for alpha in alphas:
                draws += [(model, alpha, h, cal.quantile(model, h, alpha)[0]) for h in range(1, h_max + 1)]
    d = pd.DataFrame(draws, columns=["model", "alpha", "h", "q"])
    d = d[np.isfinite(d["q"])]
    return (
        d.groupby(["model", "alpha", "h"])["q"]
        .agg(q_p05=lambda s: s.quantile(0.05), q_p95=lambda s: s.quantile(0.95), n_replicaties="size")
        .reset_index()
    )


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


# --- validation ------------------------------------------------------------------------------------


def wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def interval_score(lo, hi, y, alpha: float) -> np.ndarray:
    lo, hi, y = (np.asarray(v, float) for v in (lo, hi, y))
    return (hi - lo) + 2 / alpha * np.clip(lo - y, 0, None) + 2 / alpha * np.clip(y - hi, 0, None)


def target_year_blocks(years, size: int = 2) -> list[tuple[int, ...]]:
    ys = sorted(int(y) for y in set(years))
    return [tuple(ys[i : i + size]) for i in range(0, len(ys), size)]


def validate(bt: pd.DataFrame, models, b_bounds=(0.5, 1.0), block: int = 2) -> pd.DataFrame:
    """Out-of-sample check of the calibrated intervals, in two schemes:

    * ``dataset``: calibrate on all data sets but one, test on the held-out one;
    * ``doeljaarblok``: calibrate on all target years outside a block of ``block`` consecutive
      target years, test on that block.

    Per fold and pooled over folds ("alle"): coverage with Wilson 95% intervals, MSIS of the
    calibrated interval next to the naive-t and drift-t benchmarks, MASE and its ratio to naive.
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
            res = _pool([pair], models, b_bounds)
            if len(res):
                out.append(res.assign(schema=scheme, toets=name))
            pairs.append(pair)
        pooled = _pool(pairs, models, b_bounds)
        if len(pooled):
            out.append(pooled.assign(schema=scheme, toets="alle"))
    cols = ["schema", "toets"]
    df = pd.concat(out, ignore_index=True)
    return df[cols + [c for c in df.columns if c not in cols]]


def _pool(folds, models, b_bounds) -> pd.DataFrame:
    """Pool the held-out rows of all folds (each judged by its own fold's calibration)."""
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
        parts.append(t.merge(mh, on=["model", "h"], how="left"))
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
        allt[f"is{tag}"] = interval_score(lo, hi, y, alpha) / ms
        for b in BENCHMARKS:
            blo, bhi = allt[f"{b}_lo{tag}"], allt[f"{b}_hi{tag}"]
            allt[f"is{tag}_{b}"] = interval_score(blo, bhi, y, alpha) / ms
            allt[f"hit{tag}_{b}"] = ((blo <= y) & (y <= bhi)).where(blo.notna())
    rows = []
    for (model, h), g in allt.groupby(["model", "h"]):
        n = len(g)
        row = {"model": model, "h": int(h), "n": n, "n_doeljaren": g["target_year"].nunique()}
        ext = g["extrap"]
        row["interval"] = (
            "extrapolatie" if ext.all() else ("deels extrapolatie" if ext.any() else "waargenomen")
        )
        for tag in ("80", "95"):
            k = int(g[f"hit{tag}"].sum())
            row[f"dekking{tag}"] = k / n
            row[f"dekking{tag}_wilson_lo"], row[f"dekking{tag}_wilson_hi"] = wilson(k, n)
            row[f"msis{tag}"] = float(g[f"is{tag}"].mean())
            for b in BENCHMARKS:
                row[f"msis{tag}_{b}_t"] = float(g[f"is{tag}_{b}"].mean())
                row[f"dekking{tag}_{b}_t"] = float(g[f"hit{tag}_{b}"].astype(float).mean())
        row["mase"] = float(g["abs_scaled"].mean())
        row["mase_naief"] = float(g["naief_as"].mean())
        row["mase_ratio_naief"] = row["mase"] / row["mase_naief"] if row["mase_naief"] > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --- model-based cross-check ---------------------------------------------------------------------


def mixedlm_crosscheck(panel: pd.DataFrame, h_max: int) -> pd.DataFrame:
    """Panel random walk with common year effects (statsmodels MixedLM), as a cross-check.

    Scaled yearly differences d_it / s_i = mu + u_t + eps_it with a random intercept u_t per year.
    The variance of an h-step random-walk error in scale units is then h (var_u + var_eps), so the
    model-implied 80% / 95% half-widths are z * sqrt(h (var_u + var_eps)). The share var_u / (var_u +
    var_eps) says how much of the year-to-year change is common to all municipalities.
    """
    import statsmodels.api as sm

    rows = []
    for (ds, sid), g in panel.groupby(["dataset", "series"]):
        g = g.sort_values("year")
        s = series_scale(g["year"], g["value"])
        if not s > 0:
            continue
        d = np.diff(g["value"].to_numpy()) / np.diff(g["year"].to_numpy()) / s
        rows += [(ds, sid, int(y), v) for y, v in zip(g["year"].to_numpy()[1:], d, strict=True)]
    df = pd.DataFrame(rows, columns=["dataset", "series", "year", "d"])
    res = sm.MixedLM(df["d"], np.ones((len(df), 1)), groups=df["year"]).fit(reml=True)
    var_u, var_e = float(res.cov_re.iloc[0, 0]), float(res.scale)
    out = []
    for h in range(1, h_max + 1):
        for alpha in ALPHAS:
            z = stats.norm.ppf(1 - alpha / 2)
            out.append(
                {
                    "h": h,
                    "alpha": alpha,
                    "q_mixedlm": z * math.sqrt(h * (var_u + var_e)),
                    "var_jaar": var_u,
                    "var_rest": var_e,
                    "aandeel_jaareffect": var_u / (var_u + var_e),
                    "n_verschillen": len(df),
                    "n_jaren": df["year"].nunique(),
                }
            )
    return pd.DataFrame(out)


# --- pace in the panel -----------------------------------------------------------------------------


def panel_pace(panel: pd.DataFrame, window: int) -> pd.DataFrame:
    """Robust pace in every window of ``window`` consecutive years of every panel series: Theil-Sen
    % per year on log(y), and Theil-Sen slope in scale units per year (for gap series)."""
    from analysis.goals.forecast import observed_pace, observed_pace_pct

    rows = []
    for (ds, sid), g in panel.groupby(["dataset", "series"]):
        g = g.sort_values("year")
        yrs, v = g["year"].to_numpy(), g["value"].to_numpy()
        s = series_scale(yrs, v)
        for i in range(0, len(v) - window + 1):
            yy, vv = yrs[i : i + window], v[i : i + window]
            if yy[-1] - yy[0] != window - 1:
                continue
            rows.append(
                {
                    "dataset": ds,
                    "series": sid,
                    "van": int(yy[0]),
                    "tot": int(yy[-1]),
                    "tempo_pct": observed_pace_pct(yy, vv),
                    "tempo_schaal": observed_pace(yy, vv) / s if s > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows)
