"""Read the processed tables (``indicators.parquet``, ``regions.gpkg``, ``build_manifest.json``).

Kept apart from :mod:`analysis.processed.build` so that readers (a fact-sheet kernel, the
resilience and goals stages) do not import the build's sources, schemas and validators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.config import Paths
from analysis.errors import InputError
from analysis.io import read_gpkg, read_parquet
from analysis.processed.build_manifest import load_manifest  # noqa: F401 (one reader, light for the CLI)

if TYPE_CHECKING:
    import pandas as pd


def require(table) -> None:
    """One `fout:` line when a table of the build is missing (light: the CLI checks before loading)."""
    if not table.exists():
        raise InputError(f"{table}: ontbreekt; draai eerst `veerkracht build`")


def load_indicators(paths: Paths) -> pd.DataFrame:
    require(paths.indicators)
    return read_parquet(paths.indicators)


def load_regions(paths: Paths):
    """The regions GeoPackage as a GeoDataFrame."""
    require(paths.regions)
    return read_gpkg(paths.regions, "regions")
