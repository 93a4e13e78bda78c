"""Aggregate part values (buurten, or gemeenten for Nederland and the Drechtsteden) to larger areas.

Counts are summed; rates, scores and means are weighted means with the indicator's weight
(inwoners or huishoudens, see config/indicators.yaml). Plain means of percentages are never taken.

Every aggregate carries its **coverage**: the share (0-1) of the area's weight that lies in parts
with a value. The weight is the indicator's own weight for a rate/score/mean, and for a count the
population it counts (``COUNT_WEIGHTS``: households for household counts, dwellings for the housing
stock, inhabitants otherwise). An aggregate below ``MIN_COVERAGE`` (0.95) is not written; a count
written with coverage below 1 is the sum over the covered parts (a lower bound), which its coverage
says. Part weights are taken from the same year where held, otherwise from the nearest year that
has them (only 2023 has real buurt counts offline); a part whose weight is not known in any year
(the uninhabited water buurt BU05059997 in the bundled data) counts in neither numerator nor
denominator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config import indicator_catalog
from analysis.records import COLUMNS, ORIGIN_PRIORITY, ORIGINS

MIN_COVERAGE = 0.95
OUT_COLUMNS = [*COLUMNS, "coverage"]
# the population a count covers; a count not listed here covers inhabitants
COUNT_WEIGHTS = {
    "huishoudens": "huishoudens",
    "hh_sociaal_minimum": "huishoudens",
    "hh_laag_inkomen": "huishoudens",
    "lage_welvaart_hh_25_64": "huishoudens",
    "woningvoorraad": "woningvoorraad",
}


def coverage_weight(indicator: str, spec: dict) -> str:
    """The weight whose share an aggregate's coverage reports (and, for a mean, its weight)."""
    return spec.get("weight") or COUNT_WEIGHTS.get(indicator, "inwoners")


def part_weights(
    long: pd.DataFrame, weight: str, years: list[int], part_level: str = "buurt"
) -> pd.DataFrame:
    """Weight per part and year: same-year value, else the value of the nearest year that has one
    (the earlier year on a tie)."""
    w = long[(long["level"] == part_level) & (long["indicator"] == weight)]
    w = w.pivot_table(index="year", columns="region_code", values="value")
    if w.empty:
        return pd.DataFrame(columns=["region_code", "year", "w"])
    held = w.index.to_numpy(dtype=float)
    vals = w.to_numpy(dtype=float)  # held years x parts
    target = np.asarray(years, dtype=float)
    dist = np.abs(target[:, None] - held[None, :])  # target years x held years
    dist = np.where(np.isnan(vals)[None, :, :], np.inf, dist[:, :, None])  # x parts
    picked = vals[dist.argmin(axis=1), np.arange(vals.shape[1])[None, :]]
    out = pd.DataFrame(picked, index=pd.Index(years, name="year"), columns=w.columns)
    out = out.stack().rename("w").reset_index()
    out.columns = ["year", "region_code", "w"]
    return out[["region_code", "year", "w"]]


def aggregate_candidates(
    long: pd.DataFrame,
    membership: pd.DataFrame,
    level: str,
    *,
    part_level: str = "buurt",
    parts_name: str = "buurten",
) -> pd.DataFrame:
    """Every aggregate of the ``part_level`` rows of ``long`` to the areas of ``membership``
    (columns area_code, part_code), with its coverage, before the coverage gate."""
    catalog = indicator_catalog()
    summable = ("count", "rate", "score", "mean")
    kinds = {i: spec.get("kind") for i, spec in catalog.items() if spec.get("kind") in summable}
    b = long[(long["level"] == part_level) & long["indicator"].isin(list(kinds))]
    if b.empty or membership.empty:
        return pd.DataFrame(columns=OUT_COLUMNS)
    members = membership[["area_code", "part_code"]].drop_duplicates()
    years = sorted(b["year"].unique().tolist())
    wname_of = {i: coverage_weight(i, catalog[i]) for i in b["indicator"].unique()}
    # part weights per weight name, member of which area, and the area's total weight (denominator)
    w = pd.concat(
        [part_weights(long, wn, years, part_level).assign(wname=wn) for wn in sorted(set(wname_of.values()))],
        ignore_index=True,
    )
    w = w[w["w"] > 0].merge(members, left_on="region_code", right_on="part_code")
    keys = ["area_code", "part_code", "year", "wname"]
    denominator = w.groupby(["wname", "area_code", "year"])["w"].sum().rename("w_all")

    d = b.merge(members, left_on="region_code", right_on="part_code")
    d["wname"] = d["indicator"].map(wname_of)
    d = d.merge(w[[*keys, "w"]], on=keys, how="left")
    is_count = d["indicator"].map(kinds).eq("count")
    d = d[is_count | d["w"].notna()]  # a mean needs the part's weight
    is_count = is_count.loc[d.index]
    d = d.assign(
        wx=np.where(is_count, d["value"], d["w"] * d["value"]),
        wv=np.where(is_count, 1.0, d["w"]),
        w_cov=d["w"].fillna(0.0),
        origin_rank=d["origin"].map(ORIGIN_PRIORITY),
    )
    if d.empty:
        return pd.DataFrame(columns=OUT_COLUMNS)
    gkeys = ["indicator", "wname", "area_code", "year"]
    g = d.groupby(gkeys).agg(
        w_cov=("w_cov", "sum"),
        wsum=("wv", "sum"),
        wxsum=("wx", "sum"),
        origin_rank=("origin_rank", "max"),
        provisional=("provisional", "any"),
    )
    tables = (
        d[[*gkeys, "source_table"]]
        .drop_duplicates()
        .sort_values("source_table")
        .groupby(gkeys)["source_table"]
        .agg("; ".join)
    )
    g = g.join(tables).reset_index().join(denominator, on=["wname", "area_code", "year"], how="inner")
    g = g[(g["w_all"] > 0) & (g["wsum"] > 0)]
    count = g["indicator"].map(kinds).eq("count")
    g["coverage"] = np.minimum(g["w_cov"] / g["w_all"], 1.0)
    g["value"] = np.where(count, g["wxsum"], g["wxsum"] / g["wsum"])
    out = g.rename(columns={"area_code": "region_code"})
    out["level"] = level
    out["unit"] = out["indicator"].map(lambda i: catalog[i].get("unit", ""))
    out["origin"] = out["origin_rank"].map(dict(enumerate(ORIGINS)))
    out["source_table"] = f"aggregatie van {parts_name}: " + out["source_table"]
    out["value"] = out["value"].astype(float)
    out["coverage"] = out["coverage"].astype(float)
    return out[OUT_COLUMNS].reset_index(drop=True)


def coverage_gate(candidates: pd.DataFrame, min_coverage: float = MIN_COVERAGE) -> tuple[pd.DataFrame, int]:
    """Aggregates with coverage >= ``min_coverage`` and the number left out."""
    keep = candidates["coverage"] >= min_coverage - 1e-12
    return candidates[keep].reset_index(drop=True), int((~keep).sum())


def aggregate(
    long: pd.DataFrame,
    membership: pd.DataFrame,
    level: str,
    *,
    part_level: str = "buurt",
    parts_name: str = "buurten",
    min_coverage: float = MIN_COVERAGE,
) -> pd.DataFrame:
    """Aggregates with at least ``min_coverage`` coverage (see the module docstring)."""
    cands = aggregate_candidates(long, membership, level, part_level=part_level, parts_name=parts_name)
    return coverage_gate(cands, min_coverage)[0]
