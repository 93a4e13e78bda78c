"""All paths and settings from one place.

Paths are anchored on the project root (the folder holding ``pyproject.toml``), never on the
working directory, so notebooks, the CLI and tests see the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import InputError


def _find_root() -> Path:
    env = os.environ.get("VEERKRACHT_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "config").is_dir():
            return parent
    return Path.cwd().resolve()


PROJ_ROOT = _find_root()
CONFIG_DIR = PROJ_ROOT / "config"
DATA_DIR = PROJ_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
SNAPSHOT_DIR = RAW_DIR / "snapshot"
LOCAL_DIR = RAW_DIR / "local"
CBS_CACHE_DIR = RAW_DIR / "cbs"
PROCESSED_DIR = DATA_DIR / "processed"
OUTPUTS_DIR = PROJ_ROOT / "outputs"
DOCS_DIR = PROJ_ROOT / "docs"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"


@dataclass(frozen=True)
class Paths:
    """Where a run reads and writes. Tests point these at a temporary folder."""

    raw: Path = RAW_DIR
    processed: Path = PROCESSED_DIR
    outputs: Path = OUTPUTS_DIR

    @property
    def snapshot(self) -> Path:
        return self.raw / "snapshot"

    @property
    def local(self) -> Path:
        return self.raw / "local"

    @property
    def cbs_cache(self) -> Path:
        return self.raw / "cbs"

    @property
    def regions(self) -> Path:
        return self.processed / "regions.gpkg"

    @property
    def indicators(self) -> Path:
        return self.processed / "indicators.parquet"


def default_paths() -> Paths:
    return Paths(
        raw=Path(os.environ.get("VEERKRACHT_RAW", RAW_DIR)),
        processed=Path(os.environ.get("VEERKRACHT_PROCESSED", PROCESSED_DIR)),
        outputs=Path(os.environ.get("VEERKRACHT_OUTPUTS", OUTPUTS_DIR)),
    )


def load_yaml(name: str | Path) -> dict[str, Any]:
    """Read a YAML file from config/ (or a given path) with a clear error when it is malformed."""
    path = Path(name) if Path(name).is_absolute() else CONFIG_DIR / name
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: configuration file not found") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({_yaml_reason(exc)})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping at the top level")
    return data


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """One line: what is wrong and where (PyYAML's own message spans several lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


@cache
def settings() -> dict[str, Any]:
    """config/settings.yaml, validated (analysis.config_models.Settings)."""
    from analysis.config_models import validate_settings

    return validate_settings(load_yaml("settings.yaml"), CONFIG_DIR / "settings.yaml")


@cache
def indicator_catalog() -> dict[str, dict[str, Any]]:
    """config/indicators.yaml, validated (analysis.config_models.Indicator per entry)."""
    from analysis.config_models import validate_indicators

    return validate_indicators(load_yaml("indicators.yaml"), CONFIG_DIR / "indicators.yaml")


@cache
def cbs_registry() -> dict[str, Any]:
    return load_yaml("cbs_tables.yaml")


def gemeente_code() -> str:
    return str(settings()["gemeente"]["code"])
