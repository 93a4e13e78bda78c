"""Resolving the long rows of all sources into one row per region, year and indicator (moved out
of processed/build.py; ``analysis.processed.build`` re-exports these names)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.processed.aggregate import OUT_COLUMNS
from analysis.records import COLUMNS, ORIGIN_PRIORITY


def derived_counts(long: pd.DataFrame) -> pd.DataFrame:
    """Households at or around the social minimum per buurt: share x households.

    Households are the real 2023 count carried to other years (the only real buurt count
    offline); the result inherits the origin of the share (synthetic when the share is).
    """
    b = long[long["level"] == "buurt"]
    share = b[b["indicator"] == "sociaal_minimum_pct"]
    hh = b[(b["indicator"] == "huishoudens")].sort_values("year").groupby("region_code")["value"].last()
    out = share.assign(
        value=share["value"] / 100 * share["region_code"].map(hh),
        indicator="hh_sociaal_minimum",
        unit="aantal",
        source_table=share["source_table"] + " x huishoudens 2023 (85618NED)",
    ).dropna(subset=["value"])
    return out[COLUMNS]


def one_origin_per_series(rows: pd.DataFrame) -> pd.DataFrame:
    """Drop every synthetic row of a (region, indicator) series that has any real row.

    A real series (CBS pull, snapshot, local file) replaces the synthetic one for *all* years;
    years the real source does not cover stay missing instead of being filled synthetically.
    """
    real = rows.loc[rows["origin"] != "synthetic", ["region_code", "indicator"]].drop_duplicates()
    key = pd.MultiIndex.from_frame(rows[["region_code", "indicator"]])
    has_real = key.isin(pd.MultiIndex.from_frame(real))
    return rows[~(has_real & (rows["origin"] == "synthetic").to_numpy())]


def resolve(long: pd.DataFrame, aggregated: pd.DataFrame) -> pd.DataFrame:
    """One row per region, year and indicator, by origin precedence; direct before aggregated.
    A series never mixes real and synthetic years (see :func:`one_origin_per_series`).
    Rows of ``long`` without a coverage are figures published for the area itself (coverage NaN)."""
    parts = [f if "coverage" in f.columns else f.assign(coverage=np.nan) for f in (long, aggregated)]
    both = pd.concat(
        [parts[0][OUT_COLUMNS].assign(_agg=0), parts[1][OUT_COLUMNS].assign(_agg=1)], ignore_index=True
    )
    both["coverage"] = both["coverage"].astype(float)
    both = one_origin_per_series(both)
    both["_rank"] = both["origin"].map(ORIGIN_PRIORITY)
    both = both.sort_values(["region_code", "year", "indicator", "_rank", "_agg"])
    out = both.drop_duplicates(["region_code", "year", "indicator"], keep="first")
    return out[OUT_COLUMNS].reset_index(drop=True)
