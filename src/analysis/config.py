"""All paths and settings from one place.

Paths are anchored on the project root (the folder holding ``pyproject.toml``), never on the
working directory, so notebooks, the CLI and tests see the same files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import InputError, technisch


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


GEMEENTE_PATTERN = re.compile(r"^GM\d{4}$")
# Comparison regions in data/processed/<GM>/indicators.parquet that are not in regions.gpkg:
# NL00 (level "land", sums/weighted means over all gemeenten) and DS00 (level "regio", the
# Drechtsteden gemeenten of settings.yaml `vergelijking.drechtsteden`), both with their coverage.
REGIO_NAMEN = {"NL00": "Nederland", "DS00": "Drechtsteden"}


def check_gemeente_code(code: str) -> str:
    """A CBS municipality code (GM + four digits); wijk/buurt codes may be alphanumeric, these are not."""
    code = str(code).strip().upper()
    if not GEMEENTE_PATTERN.match(code):
        raise InputError(f"gemeentecode {code!r}: geen CBS-gemeentecode (GM en vier cijfers)")
    return code


def gemeente_code() -> str:
    """The default municipality (config/settings.yaml `gemeente.code`)."""
    return check_gemeente_code(settings()["gemeente"]["code"])


def _configured_gemeente() -> str:
    """settings.yaml `gemeente.code`, read without the settings cache: a Paths made before the
    configuration is (re)validated must not pin a cached copy of it."""
    try:
        return check_gemeente_code(load_yaml("settings.yaml")["gemeente"]["code"])
    except (KeyError, TypeError) as exc:
        raise InputError(f"{CONFIG_DIR / 'settings.yaml'}: sleutel 'gemeente.code' ontbreekt") from exc


@dataclass(frozen=True)
class Paths:
    """Where a run for one municipality reads and writes. Tests point these at a temporary folder.

    ``processed`` and ``outputs`` are the folders of this municipality (by default
    ``data/processed/<GM>/`` and ``outputs/<GM>/``); ``raw`` is shared by all municipalities.
    """

    raw: Path = RAW_DIR
    processed: Path = None  # type: ignore[assignment]  # default: data/processed/<gemeente>
    outputs: Path = None  # type: ignore[assignment]  # default: outputs/<gemeente>
    gemeente: str = field(default_factory=lambda: _configured_gemeente())

    def __post_init__(self) -> None:
        object.__setattr__(self, "gemeente", check_gemeente_code(self.gemeente))
        if self.processed is None:
            object.__setattr__(self, "processed", PROCESSED_DIR / self.gemeente)
        if self.outputs is None:
            object.__setattr__(self, "outputs", OUTPUTS_DIR / self.gemeente)

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
    def pdok_cache(self) -> Path:
        """Buurt polygons pulled from PDOK for this municipality (``veerkracht kaart``)."""
        return self.raw / "pdok" / self.gemeente

    @property
    def regions(self) -> Path:
        return self.processed / "regions.gpkg"

    @property
    def indicators(self) -> Path:
        return self.processed / "indicators.parquet"


def _per_gemeente(env: str, default: Path, gemeente: str) -> Path:
    """``<default>/<GM>``; an environment override is used as given, with ``{gemeente}`` filled in."""
    value = os.environ.get(env)
    if value is None:
        return default / gemeente
    return Path(value.replace("{gemeente}", gemeente))


def default_paths(gemeente: str | None = None) -> Paths:
    """Folders for one municipality: ``data/processed/<GM>/`` and ``outputs/<GM>/``.

    ``gemeente`` defaults to config/settings.yaml. VEERKRACHT_RAW / VEERKRACHT_PROCESSED /
    VEERKRACHT_OUTPUTS override the folders (tests); ``{gemeente}`` in them is replaced by the code.
    """
    code = check_gemeente_code(gemeente) if gemeente else gemeente_code()
    return Paths(
        raw=Path(os.environ.get("VEERKRACHT_RAW", RAW_DIR)),
        processed=_per_gemeente("VEERKRACHT_PROCESSED", PROCESSED_DIR, code),
        outputs=_per_gemeente("VEERKRACHT_OUTPUTS", OUTPUTS_DIR, code),
        gemeente=code,
    )


def load_yaml(name: str | Path) -> dict[str, Any]:
    """Read a YAML file from config/ (or a given path) with a clear error when it is malformed."""
    path = Path(name) if Path(name).is_absolute() else CONFIG_DIR / name
    try:
        data = _parse_yaml(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: configuratiebestand niet gevonden") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: geen geldige YAML ({_yaml_reason(exc)})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: verwacht een mapping (sleutel: waarde) op het bovenste niveau")
    return data


def _parse_yaml(path: Path) -> Any:
    """``yaml.safe_load`` of ``path``, parsed by libyaml when PyYAML has it (the same safe
    constructor and resolver, ~10x less CPU: every process reads several config files). A file
    libyaml rejects is read again by the pure-Python parser, so an error names line, column and
    problem exactly as before."""
    fast = getattr(yaml, "CSafeLoader", None)
    with open(path, encoding="utf-8") as fh:
        if fast is not None:
            try:
                return yaml.load(fh, Loader=fast)  # noqa: S506 - CSafeLoader is the safe loader
            except yaml.YAMLError:
                fh.seek(0)
        return yaml.safe_load(fh)


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """One line: what is wrong and where (PyYAML's own message spans several lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"regel {mark.line + 1}, kolom {mark.column + 1}; " if mark else ""
    return where + technisch(problem)


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


# top-level keys of config/cbs_tables.yaml that are not table groups (the group loop skips them)
CBS_NOT_GROUPS = ("gebieden",)


@cache
def cbs_registry() -> dict[str, Any]:
    """The table groups of config/cbs_tables.yaml (pulled group by group), validated
    (analysis.config_models.CbsGroup: unknown keys refused); ``gebieden`` is not one."""
    from analysis.config_models import validate_cbs_groups

    groups = {k: v for k, v in load_yaml("cbs_tables.yaml").items() if k not in CBS_NOT_GROUPS}
    return validate_cbs_groups(groups, CONFIG_DIR / "cbs_tables.yaml")


@cache
def cbs_gebieden() -> dict[str, Any]:
    """``gebieden:`` of config/cbs_tables.yaml (the gemeente -> provincie table), validated."""
    from analysis.config_models import validate_gebieden

    path = CONFIG_DIR / "cbs_tables.yaml"
    data = load_yaml("cbs_tables.yaml")
    if "gebieden" not in data:
        raise InputError(f"{path}: sleutel 'gebieden' ontbreekt (de tabel gemeente -> provincie)")
    return validate_gebieden(data["gebieden"], path)


def programma_gemeente() -> str:
    """The municipality whose programme (focus areas, goals) this project carries."""
    return check_gemeente_code(
        settings().get("programma", {}).get("gemeente", settings()["gemeente"]["code"])
    )


def vergelijking(gemeente: str) -> tuple[str, ...]:
    """Comparison municipalities for ``gemeente`` (settings.yaml `vergelijking`).

    ``vergelijking.gemeenten`` (a list) wins when set; otherwise a Drechtsteden municipality gets
    the other Drechtsteden, and any other municipality none.
    """
    cfg = settings().get("vergelijking", {}) or {}
    explicit = cfg.get("gemeenten")
    if explicit:
        codes = [check_gemeente_code(c) for c in explicit]
    else:
        regio = [check_gemeente_code(c) for c in cfg.get("drechtsteden", []) or []]
        codes = regio if gemeente in regio else []
    return tuple(c for c in dict.fromkeys(codes) if c != gemeente)
