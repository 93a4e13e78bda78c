"""The two-axis resilience signal itself: pure functions on frames and arrays.

Conventions
-----------
* Axis A (concentration of low self-reliance): a higher score means MORE concentration.
* Axis B (outcome: liveability, safety, social cohesion): a higher score means a BETTER outcome.
* Every indicator is standardised year by year: ``z = (x - location) / scale * direction``. The
  scale is the (household-weighted) SD between the areas of the municipality at the same level;
  the location is their weighted mean (reference ``gemeente``) or the national value of that year
  (reference ``nederland``; no national value -> no national z, never a silent fallback).
* Axis level: weighted mean of the indicators' z in their latest year within the window.
* Axis change: weighted mean of the indicators' change, each the OLS slope of its z over the window
  times the window length minus one (so "change over the window"), from at least three years.
* Coverage: available share of the configured axis weight; below ``min_coverage`` no score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.resilience.config import REFERENCES, ResilienceConfig

LEVEL_CLASSES = ("hoog", "gemiddeld", "laag", "onvoldoende data")
TREND_CLASSES = ("stijgend", "stabiel", "dalend", "onvoldoende data")
SIGNALS = ("signaal", "aandacht", "geen signaal", "onvoldoende data")


def _weighted_stats(xt: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and weighted SD per indicator, over the areas where both value and weight exist:
    ``xt`` indicators x areas (C order), ``w`` per area.

    The sums run along the contiguous area axis, as pandas sums the columns of a frame (its block
    holds them as rows): the same pairwise summation, so the same bits as the frame version."""
    mask = ~np.isnan(xt) & ~np.isnan(w)[None, :]
    ww = np.where(mask, mask * w[None, :], 0.0)
    n = mask.sum(axis=1)
    wsum = ww.sum(axis=1)
    den = np.where(wsum == 0, np.nan, wsum)
    mean = (np.where(np.isnan(xt), 0.0, xt) * ww).sum(axis=1) / den
    dev = (xt - mean[:, None]) ** 2
    var = (np.where(np.isnan(dev), 0.0, dev) * ww).sum(axis=1) / den
    sd = np.sqrt(var)
    # fewer than two areas or no spread: the indicator cannot discriminate here
    with np.errstate(invalid="ignore"):
        sd = np.where((n >= 2) & (sd > 1e-12), sd, np.nan)
    return mean, sd


def year_frame(values: pd.DataFrame, year: int, regions: list[str], inds: list[str]) -> pd.DataFrame:
    """Rows ``regions``, columns ``inds`` of one year of a (region_code, year) x indicator pivot."""
    if len(values) and year in values.index.get_level_values(1):
        return values.xs(year, level=1).reindex(index=regions, columns=inds)
    return pd.DataFrame(np.nan, index=regions, columns=inds)


@dataclass(frozen=True)
class AxisPanel:
    """Aligned z-scores of one axis for the window: arrays years x regions x indicators, one per
    reference, plus the z of the published lower and upper reliability bounds (NaN = no bound)."""

    axis: str
    years: np.ndarray
    regions: list[str]
    indicators: list[str]
    weights: pd.Series  # configured weights of all axis indicators (also those without data)
    z: dict[str, np.ndarray]
    z_lo: dict[str, np.ndarray]
    z_hi: dict[str, np.ndarray]


def build_axis_panel(
    values: pd.DataFrame,
    hh: pd.Series,
    cfg: ResilienceConfig,
    axis: str,
    years: list[int],
    regions: list[str],
    national: pd.DataFrame | None = None,
    bounds: dict[str, tuple[pd.DataFrame, pd.DataFrame]] | None = None,
) -> AxisPanel:
    """``values``: (region_code, year) x indicator; ``national``: year x indicator (NL values);
    ``bounds``: indicator -> (lower, upper) pivots shaped like ``values``."""
    dirs = cfg.directions(axis)
    inds = list(dirs)
    sign = pd.Series(dirs).reindex(inds).to_numpy(dtype=float)
    w = hh.reindex(regions).to_numpy(float)
    z = {r: [] for r in REFERENCES}
    zl = {r: [] for r in REFERENCES}
    zh = {r: [] for r in REFERENCES}
    bound_inds = [(i, ind) for i, ind in enumerate(inds) if ind in (bounds or {})]
    for y in years:
        xv = year_frame(values, y, regions, inds).to_numpy(float)  # areas x indicators
        xt = np.ascontiguousarray(xv.T)  # indicators x areas, C order (see _weighted_stats)
        mean, sd = _weighted_stats(xt, w)
        nat = (
            national.loc[y].reindex(inds).to_numpy(float)
            if national is not None and y in national.index
            else np.full(len(inds), np.nan)
        )
        lo_t = np.full(xt.shape, np.nan)
        hi_t = lo_t.copy()
        for i, ind in bound_inds:
            lo, hi = bounds[ind]
            lo_t[i] = year_frame(lo, y, regions, [ind])[ind].to_numpy(float)
            hi_t[i] = year_frame(hi, y, regions, [ind])[ind].to_numpy(float)
        # each z array in the memory order the frame arithmetic this replaces gave it (that of the
        # year's values; of the bound frames: by column with bounds, else by row), so that the
        # matrix products of axis_scores round exactly as before: outputs stay byte-identical
        keep = ((xt, z, xv.flags.c_contiguous), (lo_t, zl, not bound_inds), (hi_t, zh, not bound_inds))
        for ref, loc in (("gemeente", mean), ("nederland", nat)):
            for frame, out, c_order in keep:
                zz = ((frame - loc[:, None]) / sd[:, None]).T * sign  # areas x indicators
                out[ref].append(np.ascontiguousarray(zz) if c_order else zz)
    return AxisPanel(
        axis=axis,
        years=np.array(years),
        regions=list(regions),
        indicators=inds,
        weights=cfg.weights(axis),
        z={r: np.stack(v) for r, v in z.items()},
        z_lo={r: np.stack(v) for r, v in zl.items()},
        z_hi={r: np.stack(v) for r, v in zh.items()},
    )


def last_available(z: np.ndarray) -> np.ndarray:
    """Per region and indicator, the z of the latest year (axis 0) that has one."""
    out = np.full(z.shape[1:], np.nan)
    for t in range(z.shape[0]):
        out = np.where(np.isnan(z[t]), out, z[t])
    return out


def slope_change(z: np.ndarray, years: np.ndarray) -> np.ndarray:
    """OLS slope of z over ``years`` (axis 0) times (window length - 1), per region and indicator.

    Needs at least three years with a value; otherwise NaN (no trend from one or two points).
    A positive result means the value rose relative to the reference.
    """
    ok = ~np.isnan(z)
    n = ok.sum(axis=0)
    shape = (len(years),) + (1,) * (z.ndim - 1)
    t = np.broadcast_to(years.reshape(shape).astype(float), z.shape)
    tm = np.where(ok, t, 0).sum(0) / np.maximum(n, 1)
    ym = np.where(ok, z, 0).sum(0) / np.maximum(n, 1)
    sxy = np.where(ok, (t - tm) * (z - ym), 0).sum(0)
    sxx = np.where(ok, (t - tm) ** 2, 0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where((n >= 3) & (sxx > 0), sxy / np.where(sxx > 0, sxx, 1.0), np.nan)
    return slope * (len(years) - 1)


def weighted_axis(per_ind: np.ndarray, w: np.ndarray, total: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean over available indicators (last axis) and the available share of ``total``."""
    avail = ~np.isnan(per_ind)
    num = np.where(avail, per_ind, 0.0) @ w
    den = avail.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return score, den / total if total > 0 else np.zeros_like(den)


def axis_scores(
    panel: AxisPanel,
    ref: str,
    min_coverage: float,
    weights: pd.Series | None = None,
    mask: np.ndarray | None = None,
    z: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Level, change and their coverage for every region of the panel against ``ref``.

    Coverage is the available share of the *configured* axis weight, so an indicator absent from
    the data lowers coverage rather than silently reweighting the rest.
    """
    w0 = panel.weights.reindex(panel.indicators).fillna(0.0)
    w = (w0 if weights is None else weights.reindex(panel.indicators).fillna(0.0)).to_numpy()
    zz = panel.z[ref] if z is None else z
    total = float(w0.sum())
    # coverage: what the data hold, against the configured weights (a sensitivity draw that leaves
    # an indicator out changes the score, not whether the area can be scored)
    lvl_ind, chg_ind = last_available(zz), slope_change(zz, panel.years)
    _, cov_l = weighted_axis(lvl_ind, w0.to_numpy(), total)
    _, cov_c = weighted_axis(chg_ind, w0.to_numpy(), total)
    if mask is not None:
        lvl_ind = np.where(mask[None, :], lvl_ind, np.nan)
        chg_ind = np.where(mask[None, :], chg_ind, np.nan)
    level, _ = weighted_axis(lvl_ind, w, total)
    change, _ = weighted_axis(chg_ind, w, total)
    return {
        "niveau": np.where(cov_l >= min_coverage, level, np.nan),
        "trend": np.where(cov_c >= min_coverage, change, np.nan),
        "dekking": cov_l,
        "dekking_trend": cov_c,
    }


def level_class(level: np.ndarray, t: float) -> np.ndarray:
    level = np.asarray(level, dtype=float)
    out = np.where(level >= t, "hoog", np.where(level <= -t, "laag", "gemiddeld")).astype(object)
    out[np.isnan(level)] = "onvoldoende data"
    return out


def trend_class(change: np.ndarray, t: float) -> np.ndarray:
    change = np.asarray(change, dtype=float)
    out = np.where(change >= t, "stijgend", np.where(change <= -t, "dalend", "stabiel")).astype(object)
    out[np.isnan(change)] = "onvoldoende data"
    return out


def flags(a_lvl, a_chg, b_lvl, b_chg, t_level: float, t_change: float) -> dict[str, np.ndarray]:
    """The four adverse conditions (NaN never counts as adverse)."""
    with np.errstate(invalid="ignore"):
        return {
            "A hoog": np.nan_to_num(np.asarray(a_lvl, float), nan=-np.inf) >= t_level,
            "A stijgend": np.nan_to_num(np.asarray(a_chg, float), nan=-np.inf) >= t_change,
            "B laag": np.nan_to_num(np.asarray(b_lvl, float), nan=np.inf) <= -t_level,
            "B dalend": np.nan_to_num(np.asarray(b_chg, float), nan=np.inf) <= -t_change,
        }


def signal(a_lvl, a_chg, b_lvl, b_chg, t_level: float, t_change: float) -> np.ndarray:
    """'signaal' = A hoog AND (A stijgend OR B laag OR B dalend); 'aandacht' = some adverse
    condition but not that combination; 'onvoldoende data' = no A level."""
    f = flags(a_lvl, a_chg, b_lvl, b_chg, t_level, t_change)
    focus = f["A hoog"] & (f["A stijgend"] | f["B laag"] | f["B dalend"])
    anyf = f["A hoog"] | f["A stijgend"] | f["B laag"] | f["B dalend"]
    out = np.where(focus, "signaal", np.where(anyf, "aandacht", "geen signaal")).astype(object)
    out[np.isnan(np.asarray(a_lvl, float))] = "onvoldoende data"
    return out


def signal_reason(a_lvl, a_chg, b_lvl, b_chg, t_level: float, t_change: float) -> list[str]:
    f = flags(a_lvl, a_chg, b_lvl, b_chg, t_level, t_change)
    names = list(f)
    stacked = np.stack([f[k] for k in names], axis=-1)
    return ["; ".join(n for n, on in zip(names, row, strict=True) if on) for row in stacked]


def contributions(panel: AxisPanel, ref: str = "gemeente") -> pd.DataFrame:
    """Per region and indicator: z in its latest year, its change, weight and share of the level."""
    zz = panel.z[ref]
    lvl = pd.DataFrame(last_available(zz), index=panel.regions, columns=panel.indicators)
    chg = pd.DataFrame(slope_change(zz, panel.years), index=panel.regions, columns=panel.indicators)
    w = panel.weights.reindex(panel.indicators).fillna(0.0)
    avail_w = lvl.notna().mul(w, axis=1).sum(axis=1)
    share = lvl.mul(w, axis=1).div(avail_w.replace(0, np.nan), axis=0)
    out = lvl.stack(future_stack=True).rename("z").to_frame()
    out["z_trend"] = chg.stack(future_stack=True)
    out["gewicht"] = np.tile(w.to_numpy(), len(panel.regions))
    out["bijdrage"] = share.stack(future_stack=True)
    out = out.rename_axis(["region_code", "indicator"]).reset_index()
    out.insert(1, "as", panel.axis)
    return out
