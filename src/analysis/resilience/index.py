"""The resilience index itself: pure functions on frames and arrays.

Conventions: an *aligned* z-score is positive when the buurt is more vulnerable than the
reference (direction already applied). The composite is the weighted mean of the aligned
z-scores that are available, with each domain carrying its configured share of the weight; the
coverage is the share of the total weight that was available.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import load_yaml
from analysis.errors import InputError

KLASSEN = ("rood", "oranje", "groen", "onvoldoende data")


@dataclass(frozen=True)
class IndexConfig:
    directions: dict[str, int]
    domains_of: dict[str, str]
    weights: dict[str, float]
    domain_weights: dict[str, float]
    year: int | None = None
    reference: str = "gemeente"
    min_coverage: float = 0.5
    trend_years: int = 5
    trend_weight: float = 0.5
    rood: float = 1.0
    oranje: float = 0.5
    sensitivity: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path = "resilience.yaml") -> IndexConfig:
        raw = load_yaml(path)
        try:
            inds = raw["indicators"]
            cfg = cls(
                directions={k: int(v["direction"]) for k, v in inds.items()},
                domains_of={k: str(v["domain"]) for k, v in inds.items()},
                weights={k: float(v["weight"]) for k, v in inds.items()},
                domain_weights={k: float(v) for k, v in raw["domains"].items()},
                year=None if raw.get("year", "latest") == "latest" else int(raw["year"]),
                reference=str(raw.get("reference", "gemeente")),
                min_coverage=float(raw.get("min_coverage", 0.5)),
                trend_years=int(raw["trend"]["years"]),
                trend_weight=float(raw["trend"]["weight"]),
                rood=float(raw["classes"]["rood"]),
                oranje=float(raw["classes"]["oranje"]),
                sensitivity=dict(raw.get("sensitivity", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"config/{path}: missing or invalid entry ({exc})") from exc
        cfg.check()
        return cfg

    def check(self) -> None:
        bad_dir = {k: v for k, v in self.directions.items() if v not in (-1, 1)}
        if bad_dir:
            raise InputError(f"resilience config: direction must be +1 or -1: {bad_dir}")
        unknown = sorted(set(self.domains_of.values()) - set(self.domain_weights))
        if unknown:
            raise InputError(f"resilience config: indicator domain(s) without a weight: {unknown}")
        if self.reference not in ("gemeente", "nederland"):
            raise InputError("resilience config: reference must be 'gemeente' or 'nederland'")

    @property
    def indicators(self) -> list[str]:
        return list(self.directions)

    def effective_weights(self, indicators: list[str] | None = None) -> pd.Series:
        """Indicator weight such that each domain carries its configured share."""
        inds = indicators or self.indicators
        w = pd.Series({i: self.weights[i] for i in inds})
        dom = pd.Series({i: self.domains_of[i] for i in inds})
        dom_total = w.groupby(dom).transform("sum")
        return w / dom_total * dom.map(self.domain_weights)

    def without(self, indicator: str) -> IndexConfig:
        keep = [i for i in self.indicators if i != indicator]
        return replace(
            self,
            directions={i: self.directions[i] for i in keep},
            domains_of={i: self.domains_of[i] for i in keep},
            weights={i: self.weights[i] for i in keep},
        )


def weighted_stats(x: pd.DataFrame, w: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Weighted mean and weighted SD per column, over rows where both value and weight exist."""
    w = w.reindex(x.index)
    mask = x.notna() & w.notna().to_numpy()[:, None]
    ww = mask.mul(w, axis=0).where(mask, 0.0)
    n = mask.sum()
    wsum = ww.sum()
    mean = (x.fillna(0.0) * ww).sum() / wsum.replace(0, np.nan)
    var = (((x - mean) ** 2).fillna(0.0) * ww).sum() / wsum.replace(0, np.nan)
    sd = np.sqrt(var)
    # fewer than two buurten or no spread: the indicator cannot discriminate here
    sd = sd.where((n >= 2) & (sd > 1e-12))
    return mean, sd


def standardise(
    x: pd.DataFrame,
    w: pd.Series,
    directions: dict[str, int],
    national: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Aligned z-scores of ``x`` (regions × indicators); returns (z, location, scale).

    Location is the weighted municipal mean, or the national value when ``national`` is given
    (falling back to the municipal mean for indicators without a national value). Scale is the
    weighted SD between the municipality's buurten.
    """
    mean, sd = weighted_stats(x, w)
    loc = mean if national is None else national.reindex(mean.index).fillna(mean)
    sign = pd.Series(directions).reindex(x.columns)
    z = (x - loc) / sd * sign
    return z, loc, sd


def apply_standardisation(
    x: pd.DataFrame, loc: pd.Series, sd: pd.Series, directions: dict[str, int]
) -> pd.DataFrame:
    sign = pd.Series(directions).reindex(x.columns)
    return (x - loc.reindex(x.columns)) / sd.reindex(x.columns) * sign


def composite(z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean over available aligned z (last axis) and the available weight share."""
    avail = ~np.isnan(z)
    num = np.where(avail, z, 0.0) @ w
    den = avail.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return score, den / w.sum()


def trend_change(levels: np.ndarray, years: np.ndarray) -> np.ndarray:
    """OLS slope of the level over ``years`` (axis 0) times the window length, per region.

    Needs at least three years with a value; otherwise NaN (no trend from one or two points).
    """
    T = levels.shape[0]
    ok = ~np.isnan(levels)
    n = ok.sum(axis=0)
    t = np.broadcast_to(years[:, None].astype(float), levels.shape)
    tm = np.where(ok, t, 0).sum(0) / np.maximum(n, 1)
    ym = np.where(ok, levels, 0).sum(0) / np.maximum(n, 1)
    sxy = np.where(ok, (t - tm) * (levels - ym), 0).sum(0)
    sxx = np.where(ok, (t - tm) ** 2, 0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where((n >= 3) & (sxx > 0), sxy / np.where(sxx > 0, sxx, 1.0), np.nan)
    return slope * (T - 1)


def classify(index: pd.Series, coverage: pd.Series, cfg: IndexConfig) -> pd.Series:
    k = pd.Series("groen", index=index.index, dtype=object)
    k[index >= cfg.oranje] = "oranje"
    k[index >= cfg.rood] = "rood"
    k[index.isna() | (coverage < cfg.min_coverage)] = "onvoldoende data"
    return k


def _year_frame(values: pd.DataFrame, year: int, regions: list[str], inds: list[str]) -> pd.DataFrame:
    if year in values.index.get_level_values(1):
        return values.xs(year, level=1).reindex(index=regions, columns=inds)
    return pd.DataFrame(np.nan, index=regions, columns=inds)


@dataclass(frozen=True)
class Panel:
    """Aligned z-scores for the trend window: array years × regions × indicators, with the
    standardisation (location, scale) of each year so other areas can be scored alike."""

    z: np.ndarray
    years: np.ndarray
    regions: list[str]
    indicators: list[str]
    locs: list[pd.Series]
    scales: list[pd.Series]

    def standardise_like(self, values: pd.DataFrame, regions: list[str], directions: dict[str, int]) -> Panel:
        """Panel for other areas (wijk, focus area, ...) on this panel's per-year standardisation."""
        zs = [
            apply_standardisation(
                _year_frame(values, y, regions, self.indicators), loc, sd, directions
            ).to_numpy(dtype=float)
            for y, loc, sd in zip(self.years, self.locs, self.scales, strict=True)
        ]
        return Panel(np.stack(zs), self.years, regions, self.indicators, self.locs, self.scales)


def build_panel(
    values: pd.DataFrame,
    weights: pd.Series,
    cfg: IndexConfig,
    years: list[int],
    national: pd.DataFrame | None = None,
    regions: list[str] | None = None,
) -> Panel:
    """``values``: rows (region_code, year), columns indicators. Standardised year by year, so the
    trend measures a buurt's position *relative to the municipality* (rising concentration)."""
    inds = [i for i in cfg.indicators if i in values.columns]
    regions = sorted(regions if regions is not None else values.index.get_level_values(0).unique())
    zs, locs, scales = [], [], []
    for y in years:
        nat = None
        if national is not None and cfg.reference == "nederland" and y in national.index:
            nat = national.loc[y]
        z, loc, scale = standardise(_year_frame(values, y, regions, inds), weights, cfg.directions, nat)
        zs.append(z.to_numpy(dtype=float))
        locs.append(loc)
        scales.append(scale)
    return Panel(np.stack(zs), np.array(years), regions, inds, locs, scales)


def score_panel(
    panel: Panel,
    w: pd.Series,
    cfg: IndexConfig,
    mask: np.ndarray | None = None,
    base_w: pd.Series | None = None,
) -> dict[str, np.ndarray]:
    """Level, change, index and coverage for every region of the panel.

    Coverage is the available share of the *configured* total weight, so an indicator that is
    absent from the data lowers coverage rather than silently reweighting the rest.
    """
    wv = w.reindex(panel.indicators).fillna(0.0).to_numpy()
    total = float(cfg.effective_weights().sum())
    z = panel.z if mask is None else np.where(mask[None, None, :], panel.z, np.nan)
    levels = np.stack([composite(z[t], wv)[0] for t in range(z.shape[0])])
    level, _ = composite(z[-1], wv)
    bw = wv if base_w is None else base_w.reindex(panel.indicators).fillna(0.0).to_numpy()
    coverage = (~np.isnan(z[-1])).astype(float) @ bw / total
    change = trend_change(levels, panel.years)
    index = level + cfg.trend_weight * np.nan_to_num(change, nan=0.0)
    index = np.where(coverage >= cfg.min_coverage, index, np.nan)
    return {"level_score": level, "change": change, "index": index, "coverage": coverage}


def contributions(panel: Panel, w: pd.Series) -> pd.DataFrame:
    """Per region and indicator: aligned z of the final year and its share of the level score."""
    wv = w.reindex(panel.indicators).fillna(0.0)
    z = pd.DataFrame(panel.z[-1], index=panel.regions, columns=panel.indicators)
    avail_w = z.notna().mul(wv, axis=1).sum(axis=1)
    contrib = z.mul(wv, axis=1).div(avail_w.replace(0, np.nan), axis=0)
    out = z.stack(future_stack=True).rename("z").to_frame()
    out["weight"] = np.tile(wv.to_numpy(), len(panel.regions))
    out["contribution"] = contrib.stack(future_stack=True)
    return out.rename_axis(["region_code", "indicator"]).reset_index()
