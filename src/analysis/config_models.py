"""Typed models of config/settings.yaml and config/indicators.yaml (pydantic).

:func:`analysis.config.settings` and :func:`analysis.config.indicator_catalog` validate through
these models when they load the file, and the CLI loads both before any command writes anything,
so a bad value is one ``fout:`` line naming the file and the key, never a run on bad settings.
The loaders still return plain dicts (validated, with defaults filled in), so callers do not change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis.errors import InputError

GEMEENTE_CODE = r"^GM\d{4}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    # sections other parts of the project may extend: unknown keys are kept, known ones typed
    model_config = ConfigDict(extra="allow")


class Gemeente(_Open):
    code: str = Field(pattern=GEMEENTE_CODE)
    naam: str | None = Field(default=None, min_length=1)  # unused: the name comes from the polygons


class Vergelijking(_Open):
    nederland: str = Field(default="NL00", pattern=r"^NL00$")
    drechtsteden: list[str] = Field(default_factory=list)
    gemeenten: list[str] | None = None  # explicit comparison municipalities (None: other Drechtsteden)

    @field_validator("drechtsteden", "gemeenten")
    @classmethod
    def _codes(cls, v: list[str] | None) -> list[str] | None:
        import re

        if v is None:
            return v
        bad = [c for c in v if not re.match(GEMEENTE_CODE, str(c))]
        if bad:
            raise ValueError(f"not a municipality code (GMnnnn): {bad}")
        return v


class Jaren(_Strict):
    eerste: int = Field(ge=1990, le=2100)
    laatste: int = Field(ge=1990, le=2100)

    @model_validator(mode="after")
    def _order(self) -> Jaren:
        if self.eerste > self.laatste:
            raise ValueError(f"eerste ({self.eerste}) is after laatste ({self.laatste})")
        return self


class Synthetic(_Strict):
    seed: int = Field(ge=0)
    n_planted: int = Field(ge=0)
    eerste_jaar: int = Field(ge=1990, le=2100)
    laatste_jaar: int = Field(ge=1990, le=2100)

    @model_validator(mode="after")
    def _order(self) -> Synthetic:
        if self.eerste_jaar > self.laatste_jaar:
            raise ValueError(f"eerste_jaar ({self.eerste_jaar}) is after laatste_jaar ({self.laatste_jaar})")
        return self


class Factsheets(_Strict):
    timeout_s: float = Field(default=300, gt=0, le=3600)


class Colofon(_Strict):
    """Who publishes the fact sheets and whom a reader can ask (shown in every sheet's colophon).

    The bundled values are a placeholder: ``ingevuld: false`` makes the sheets say that the contact
    is still to be filled in by the municipality; no invented person or address is ever shown."""

    organisatie: str | None = Field(default=None, min_length=1)  # None: "Gemeente <name from the data>"
    afdeling: str | None = Field(default=None, min_length=1)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    telefoon: str | None = Field(default=None, pattern=r"^[0-9 +()-]{6,20}$")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    ingevuld: bool = False  # false: placeholder, the sheets say the contact is still to be filled in

    @model_validator(mode="after")
    def _reachable(self) -> Colofon:
        if self.ingevuld and not (self.email or self.telefoon or self.url):
            raise ValueError("ingevuld: true needs at least one of email, telefoon or url")
        return self


class Partnerdata(_Strict):
    """Partner deliveries (issue 21): publication threshold for counts of persons."""

    min_count: int = Field(default=10, ge=1, le=10_000)


class Settings(BaseModel):
    # other sections (e.g. `cbs:`, owned by the CBS client) are validated where they are used
    model_config = ConfigDict(extra="allow")

    gemeente: Gemeente
    vergelijking: Vergelijking = Field(default_factory=Vergelijking)
    jaren: Jaren
    min_inwoners: int = Field(ge=0, le=100_000)
    cbs: dict[str, Any] = Field(default_factory=dict)
    synthetic: Synthetic
    factsheets: Factsheets = Field(default_factory=Factsheets)
    colofon: Colofon = Field(default_factory=Colofon)
    partnerdata: Partnerdata = Field(default_factory=Partnerdata)

    @field_validator("min_inwoners", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError("must be a whole number")
        return v


class PartnerColumns(_Strict):
    area: str = Field(min_length=1)
    year: str = Field(min_length=1)
    value: str = Field(min_length=1)


class PartnerSource(_Strict):
    """``source:`` of an indicator read from a partner's file (analysis.sources.partner; issue 21)."""

    file: str = Field(min_length=1)  # glob under data/raw/local/
    columns: PartnerColumns
    supplier: str = Field(min_length=1)
    per: str | None = None  # value is a count; the rate is count / per * factor
    factor: float | None = Field(default=None, gt=0, le=1_000_000)
    sheet: str | int | None = None
    min_count: int | None = Field(default=None, ge=1, le=10_000)

    @field_validator("file")
    @classmethod
    def _inside(cls, v: str) -> str:
        if v.startswith(("/", "\\")) or ".." in Path(v).parts or ":" in v:
            raise ValueError("must be a file name or glob inside data/raw/local/ (no absolute path, no '..')")
        if not v.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".parquet", "*")):
            raise ValueError("must name a .csv, .txt, .xlsx or .parquet file")
        return v

    @model_validator(mode="after")
    def _factor(self) -> PartnerSource:
        if self.factor is not None and self.per is None:
            raise ValueError("factor needs per (the count indicator the value is divided by)")
        return self


class Indicator(_Open):
    label: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    # bound: a published reliability bound (SES-WOA), never aggregated
    kind: Literal["count", "rate", "score", "mean", "level", "bound"]
    weight: str | None = None
    source: PartnerSource | None = None  # read from a partner's file (issue 21)

    @model_validator(mode="after")
    def _weight(self) -> Indicator:
        if self.source is not None and self.source.per is not None:
            if self.kind != "rate":
                raise ValueError("source.per makes the value a rate: kind must be rate")
            self.weight = self.weight or self.source.per
        if self.kind in ("rate", "score", "mean") and not self.weight:
            raise ValueError(f"kind {self.kind!r} needs a weight (a count indicator)")
        return self


def _where(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "(top level)"


def _message(path: Path, exc: ValidationError) -> str:
    errs = exc.errors()
    first = errs[0]
    value = first.get("input")
    shown = "" if isinstance(value, dict | list) else f" (found {value!r})"
    more = f"; {len(errs) - 1} more problem(s)" if len(errs) > 1 else ""
    return f"{path}: key '{_where(first)}': {first['msg']}{shown}{more}"


def validate_settings(data: dict[str, Any], path: Path) -> dict[str, Any]:
    try:
        model = Settings.model_validate(data)
    except ValidationError as exc:
        raise InputError(_message(path, exc)) from exc
    return model.model_dump()


def _validated(model_cls, spec: Any, path: Path, key: str):
    """``model_cls`` validated from ``spec``; else one InputError naming the file and the key path."""
    try:
        return model_cls.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InputError(f"{path}: key '{key}{'.' + loc if loc else ''}': {err['msg']}") from exc


def validate_indicators(data: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in data.items():
        if not isinstance(spec, dict):
            raise InputError(f"{path}: key '{name}': expected a mapping with label, unit, kind")
        out[str(name)] = _validated(Indicator, spec, path, str(name)).model_dump(exclude_none=True)
    for name, spec in out.items():
        w = spec.get("weight")
        if w is not None and (w not in out or out[w]["kind"] != "count"):
            raise InputError(f"{path}: key '{name}.weight': {w!r} is not a count indicator in this file")
        per = (spec.get("source") or {}).get("per")
        if per is not None and (per not in out or out[per]["kind"] != "count"):
            raise InputError(
                f"{path}: key '{name}.source.per': {per!r} is not a count indicator in this file"
            )
    if not out:
        raise InputError(f"{path}: no indicators")
    return out


# --- config/cbs_tables.yaml: the `gebieden` entry (not a table group) ------------------------------

TABLE_ID = r"^\d{5}(NED|ENG)$"


class GebiedenTopic(_Strict):
    keys: list[str] = Field(min_length=1)
    group: str = Field(min_length=1)


class GebiedenTabel(_Strict):
    """``gebieden:`` in config/cbs_tables.yaml: the gemeente -> provincie table ("Gebieden in
    Nederland <jaar>") that `veerkracht fetch --gebieden` pulls. Not a table group: the registry's
    group loop (:func:`analysis.config.cbs_registry`) never sees it."""

    title: str = Field(min_length=1)
    catalog: str = Field(min_length=1)
    region_dim: str = Field(min_length=1)
    editions: list[str] = Field(min_length=1)
    indicators: dict[Literal["PV_CODE", "PV_NAAM"], GebiedenTopic]

    @field_validator("editions")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        import re

        bad = [t for t in v if not re.match(TABLE_ID, str(t))]
        if bad:
            raise ValueError(f"not a CBS table id (e.g. 85755NED): {bad}")
        return v

    @model_validator(mode="after")
    def _code(self) -> GebiedenTabel:
        if "PV_CODE" not in self.indicators:
            raise ValueError("indicators.PV_CODE (the provincie code topic) is required")
        return self


def validate_gebieden(data: Any, path: Path) -> dict[str, Any]:
    """The ``gebieden`` entry, validated; one InputError naming file and key otherwise."""
    if not isinstance(data, dict):
        raise InputError(f"{path}: key 'gebieden': expected a mapping (title, catalog, editions, ...)")
    return _validated(GebiedenTabel, data, path, "gebieden").model_dump()
