"""Read the processed tables (``indicators.parquet``, ``regions.gpkg``, ``build_manifest.json``).

Kept apart from :mod:`analysis.processed.build` so that readers (a fact-sheet kernel, the
resilience and goals stages) do not import the build's sources, schemas and validators.
"""

from __future__ import annotations

import pandas as pd

from analysis.config import Paths
from analysis.errors import InputError
from analysis.io import read_gpkg, read_parquet
from analysis.processed.build_manifest import load_manifest  # noqa: F401 (one reader, light for the CLI)


def load_indicators(paths: Paths) -> pd.DataFrame:
    if not paths.indicators.exists():
        raise InputError(f"{paths.indicators}: ontbreekt; draai eerst `veerkracht build`")
    return read_parquet(paths.indicators)


def load_regions(paths: Paths):
    """The regions GeoPackage as a GeoDataFrame."""
    if not paths.regions.exists():
        raise InputError(f"{paths.regions}: ontbreekt; draai eerst `veerkracht build`")
    return read_gpkg(paths.regions, "regions")
