"""Typed models of config/settings.yaml and config/indicators.yaml (pydantic).

:func:`analysis.config.settings` and :func:`analysis.config.indicator_catalog` validate through
these models when they load the file, and the CLI loads both before any command writes anything,
so a bad value is one ``fout:`` line naming the file and the key, never a run on bad settings.
The loaders still return plain dicts (validated, with defaults filled in), so callers do not change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from analysis import config_errors
from analysis.errors import InputError

GEMEENTE_CODE = r"^GM\d{4}$"


class _Strict(BaseModel):
    # every configuration key is known: a misspelt key is refused, never silently ignored
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Gemeente(_Strict):
    code: str = Field(pattern=GEMEENTE_CODE)
    naam: str | None = Field(default=None, min_length=1)  # unused: the name comes from the polygons


class Vergelijking(_Strict):
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
            raise ValueError(f"geen gemeentecode (GM en vier cijfers): {bad}")
        return v


class Jaren(_Strict):
    eerste: int = Field(ge=1990, le=2100)
    laatste: int = Field(ge=1990, le=2100)

    @model_validator(mode="after")
    def _order(self) -> Jaren:
        if self.eerste > self.laatste:
            raise ValueError(f"eerste ({self.eerste}) ligt na laatste ({self.laatste})")
        return self


class Synthetic(_Strict):
    seed: int = Field(ge=0)
    n_planted: int = Field(ge=0)
    eerste_jaar: int = Field(ge=1990, le=2100)
    laatste_jaar: int = Field(ge=1990, le=2100)

    @model_validator(mode="after")
    def _order(self) -> Synthetic:
        if self.eerste_jaar > self.laatste_jaar:
            raise ValueError(f"eerste_jaar ({self.eerste_jaar}) ligt na laatste_jaar ({self.laatste_jaar})")
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
            raise ValueError("`ingevuld: true` vraagt minstens een van 'email', 'telefoon' of 'url'")
        return self


class Partnerdata(_Strict):
    """Partner deliveries (issue 21): publication threshold for counts of persons."""

    min_count: int = Field(default=10, ge=1, le=10_000)


class Programma(_Strict):
    gemeente: str = Field(pattern=GEMEENTE_CODE)


class _Section(_Strict):
    """A section read by a source client (analysis.sources.cbs / .pdok) from the plain dict: keys
    and ranges are checked here at start-up, the client keeps its own defaults (unset keys)."""


class CbsSection(_Section):
    # the same ranges as analysis.sources.cbs.CbsSettings.from_settings
    catalog_url: str | None = Field(default=None, min_length=1)
    use_https: StrictBool = True
    connect_timeout_s: float = Field(default=2.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    retries: StrictInt = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(default=0.5, ge=0, le=60)
    probe_timeout_s: float = Field(default=2.0, gt=0)
    budget_s: float = Field(default=900.0, gt=0)
    max_failures: StrictInt = Field(default=3, ge=1, le=100)


class PdokSection(_Section):
    buurten_url: str = Field(pattern=r"^https?://\S+$")
    page_size: StrictInt = Field(default=1000, ge=1, le=10_000)
    max_pages: StrictInt = Field(default=20, ge=1, le=1000)
    connect_timeout_s: float = Field(default=3.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    retries: StrictInt = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(default=0.5, ge=0, le=60)
    budget_s: float = Field(default=300.0, gt=0)


class Settings(_Strict):
    gemeente: Gemeente
    programma: Programma | None = None
    vergelijking: Vergelijking = Field(default_factory=Vergelijking)
    pdok: PdokSection | None = None
    jaren: Jaren
    min_inwoners: int = Field(ge=0, le=100_000)
    cbs: CbsSection = Field(default_factory=CbsSection)
    synthetic: Synthetic
    factsheets: Factsheets = Field(default_factory=Factsheets)
    colofon: Colofon = Field(default_factory=Colofon)
    partnerdata: Partnerdata = Field(default_factory=Partnerdata)

    @field_validator("min_inwoners", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError("moet een geheel getal zijn")
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
            raise ValueError(
                "moet een bestandsnaam of patroon binnen data/raw/local/ zijn (geen absoluut pad, geen '..')"
            )
        if not v.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".parquet", "*")):
            raise ValueError("moet een bestand noemen dat eindigt op .csv, .txt, .xlsx of .parquet")
        return v

    @model_validator(mode="after")
    def _factor(self) -> PartnerSource:
        if self.factor is not None and self.per is None:
            raise ValueError(
                "'factor' vraagt ook 'per' (de indicator van soort 'count' waardoor de waarde gedeeld wordt)"
            )
        return self


class Indicator(_Strict):
    label: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    # bound: a published reliability bound (SES-WOA), never aggregated
    kind: Literal["count", "rate", "score", "mean", "level", "bound"]
    weight: str | None = None
    range: tuple[float, float] | None = None  # plausible [min, max]; default per kind: processed.checks
    source: PartnerSource | None = None  # read from a partner's file (issue 21)

    @model_validator(mode="after")
    def _weight(self) -> Indicator:
        if self.source is not None and self.source.per is not None:
            if self.kind != "rate":
                raise ValueError("'source.per' maakt de waarde een verhouding: 'kind' moet 'rate' zijn")
            self.weight = self.weight or self.source.per
        if self.kind in ("rate", "score", "mean") and not self.weight:
            raise ValueError(f"soort {self.kind!r} vraagt een 'weight' (een indicator van soort 'count')")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range {list(self.range)}: het minimum moet kleiner zijn dan het maximum")
        return self


def _message(path: Path, exc: ValidationError, model=None) -> str:
    return config_errors.message(path, exc, model)


def validate_settings(data: dict[str, Any], path: Path) -> dict[str, Any]:
    try:
        model = Settings.model_validate(data)
    except ValidationError as exc:
        raise InputError(_message(path, exc, Settings)) from exc
    out = model.model_dump()
    # the CBS and PDOK clients read their sections as written (their own defaults for unset keys)
    out["cbs"] = model.cbs.model_dump(exclude_unset=True)
    for section in ("programma", "pdok"):
        if getattr(model, section) is None:
            out.pop(section)
        else:
            out[section] = getattr(model, section).model_dump(exclude_unset=True)
    return out


def _validated(model_cls, spec: Any, path: Path, key: str):
    """``model_cls`` validated from ``spec``; else one InputError naming the file and the key path."""
    try:
        return model_cls.model_validate(spec)
    except ValidationError as exc:
        raise InputError(config_errors.message(path, exc, model_cls, prefix=key)) from exc


def validate_indicators(data: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in data.items():
        if not isinstance(spec, dict):
            raise InputError(f"{path}: sleutel '{name}': verwacht een mapping met 'label', 'unit' en 'kind'")
        out[str(name)] = _validated(Indicator, spec, path, str(name)).model_dump(exclude_none=True)
    for name, spec in out.items():
        w = spec.get("weight")
        if w is not None and (w not in out or out[w]["kind"] != "count"):
            raise InputError(
                f"{path}: sleutel '{name}.weight': {w!r} is geen indicator van soort 'count' in dit bestand"
            )
        per = (spec.get("source") or {}).get("per")
        if per is not None and (per not in out or out[per]["kind"] != "count"):
            raise InputError(
                f"{path}: sleutel '{name}.source.per': {per!r} is geen indicator van soort 'count' in "
                "dit bestand"
            )
    if not out:
        raise InputError(f"{path}: geen indicatoren")
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
            raise ValueError(f"geen CBS-tabelnummer (zoals 85755NED): {bad}")
        return v

    @model_validator(mode="after")
    def _code(self) -> GebiedenTabel:
        if "PV_CODE" not in self.indicators:
            raise ValueError("indicators.PV_CODE (het onderwerp met de provinciecode) is verplicht")
        return self


def validate_gebieden(data: Any, path: Path) -> dict[str, Any]:
    """The ``gebieden`` entry, validated; one InputError naming file and key otherwise."""
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: sleutel 'gebieden': verwacht een mapping ('title', 'catalog', 'editions', ...)"
        )
    return _validated(GebiedenTabel, data, path, "gebieden").model_dump()


# --- config/cbs_tables.yaml: the table groups --------------------------------------------------


class CbsRule(_Strict):
    keys: list[str] = Field(default_factory=list)
    # one TopicGroup title, or several published titles of the same group (any edition)
    group: str | list[str] | None = Field(default=None, min_length=1)
    since: int | None = Field(default=None, ge=1990, le=2100)
    until: int | None = Field(default=None, ge=1990, le=2100)


class CbsSelectTitle(_Strict):
    title: str = Field(min_length=1)


class CbsMarginPick(_Strict):
    key: str | None = Field(default=None, min_length=1)
    title_contains: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> CbsMarginPick:
        if (self.key is None) == (self.title_contains is None):
            raise ValueError("precies een van 'key' of 'title_contains' is nodig")
        return self


class CbsMargins(_Strict):
    """A margins dimension (RIVM 50150NED `Marges`): the central estimate and the 95% bounds."""

    dim: str = Field(min_length=1)
    value: str | CbsMarginPick
    lower: str | CbsMarginPick
    upper: str | CbsMarginPick


class CbsGroup(_Strict):
    """One table group of config/cbs_tables.yaml (the keys its header comment documents)."""

    title: str = Field(min_length=1)
    catalog: str = Field(min_length=1)
    region_dim: str | None = Field(default=None, min_length=1)
    period_dim: str | None = Field(default=None, min_length=1)
    required: list[str] = Field(default_factory=list)
    years: dict[int, str] | None = None
    editions: list[str] | None = Field(default=None, min_length=1)
    select: dict[str, str | int | float | CbsSelectTitle] | None = None
    indicators: dict[str, CbsRule] = Field(min_length=1)
    editions_keys: dict[str, dict[str, str]] | None = None
    margins: CbsMargins | None = None
    # OData v4 (analysis.sources.cbs.pull_v4): the measures mapped by code, per table id
    odata: Literal["v3", "v4"] = "v3"
    v4_measures: dict[str, dict[str, str]] | None = None

    @model_validator(mode="after")
    def _plan(self) -> CbsGroup:
        if (self.years is None) == (self.editions is None):
            raise ValueError("precies een van 'years' of 'editions' is nodig")
        if self.odata == "v4" and not self.v4_measures:
            raise ValueError("`odata: v4` heeft 'v4_measures' nodig ({tabel: {indicator: maatcode}})")
        missing = [i for i in self.required if i not in self.indicators]
        if missing:
            raise ValueError(f"'required' noemt indicator(en) die niet onder 'indicators' staan: {missing}")
        return self


def validate_cbs_groups(groups: dict[str, Any], path: Path) -> dict[str, Any]:
    """Every table group checked (unknown keys refused); returned as written."""
    for key, spec in groups.items():
        if not isinstance(spec, dict):
            raise InputError(
                f"{path}: sleutel '{key}': verwacht een tabelgroep ('title', 'catalog', 'indicators', ...)"
            )
        _validated(CbsGroup, spec, path, str(key))
    return groups
