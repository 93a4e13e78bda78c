"""The processed tables and analysis outputs a fact sheet reads, loaded once per process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analysis.config import Paths, default_paths


@dataclass(frozen=True)
class Context:
    """Processed tables and analysis outputs, read once per process (read-only)."""

    indicators: pd.DataFrame
    regions: gpd.GeoDataFrame
    scores: pd.DataFrame | None
    sensitivity: pd.DataFrame | None
    goals: pd.DataFrame | None
    forecasts: pd.DataFrame | None
    manifest: dict
    paths: Paths
    national: pd.DataFrame | None = None  # Leefbaarometer 2.0 placement among all NL areas (real)
    contributions: pd.DataFrame | None = None  # resilience/bijdragen.parquet (buurten)
    suppressed: pd.DataFrame | None = None  # partner cells not published (processed/disclosure.py)


_CACHE: dict[tuple, Context] = {}


def _signature(paths: Paths) -> tuple:
    files = [
        paths.indicators,
        paths.processed / "suppressed.parquet",
        paths.regions,
        paths.outputs / "resilience" / "scores.parquet",
        paths.outputs / "resilience" / "bijdragen.parquet",
        paths.outputs / "goals" / "status.parquet",
    ]
    return tuple((str(f), f.stat().st_mtime_ns if f.exists() else None) for f in files)


def _numpy_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain Python objects: a sheet makes some thousand small row selections, and
    taking rows from Arrow-backed strings costs ~5x more than from an object array (same values)."""
    cols = [c for c in df.columns if c != "geometry" and pd.api.types.is_string_dtype(df[c].dtype)]
    return df.astype(dict.fromkeys(cols, object)) if cols else df


def load_context(paths: Paths | None = None) -> Context:
    """Read the inputs; cached by file path and modification time so a reused kernel stays correct."""
    paths = paths or default_paths()
    key = _signature(paths)
    if key in _CACHE:
        return _CACHE[key]
    from analysis.processed.tables import load_indicators, load_manifest, load_regions

    def opt(p: Path) -> pd.DataFrame | None:
        return _numpy_strings(pd.read_parquet(p)) if p.exists() else None

    res, goals = paths.outputs / "resilience", paths.outputs / "goals"
    ctx = Context(
        indicators=_numpy_strings(load_indicators(paths)),
        regions=load_regions(paths),
        scores=opt(res / "scores.parquet"),
        sensitivity=opt(res / "gevoeligheid.parquet"),
        goals=opt(goals / "status.parquet"),
        forecasts=opt(goals / "prognoses.parquet"),
        manifest=load_manifest(paths),
        paths=paths,
        national=opt(res / "nationaal_lbm2_niveau.parquet"),
        contributions=opt(res / "bijdragen.parquet"),
        suppressed=opt(paths.processed / "suppressed.parquet"),
    )
    _CACHE.clear()
    _CACHE[key] = ctx
    return ctx
