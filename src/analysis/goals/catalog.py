"""Load and validate config/doelen.yaml (pydantic: every key typed, unknown keys refused).

A goal is either measurable (an indicator of config/indicators.yaml, CBS or a partner's file
declared there with a ``source:`` block, plus the target definition) or not yet measurable; then it
names why (``reden``), the source that would measure it (``bron``) and who holds that source
(``partner``: keys of the ``partners:`` list at the top of the file). Any error is one
:class:`~analysis.errors.InputError` naming the file, the goal and the key, in Dutch.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from analysis.config import indicator_catalog, load_yaml
from analysis.config_errors import dutch
from analysis.errors import InputError

DOELTYPEN = ("relatief", "pariteit", "richting", "absoluut")
GEOGRAFIEEN = ("focusgebieden_samen", "elk_focusgebied", "gemeente")
RICHTINGEN = ("lager_beter", "hoger_beter")
MEASURED_KEYS = ("indicator", "geografie", "basisjaar", "doeljaar", "doeltype", "richting")


@dataclass(frozen=True)
class Doel:
    id: str
    pijler: int
    tekst: str
    meetbaar: bool
    indicator: str | None = None
    geografie: tuple[str, ...] = ()
    basisjaar: int | None = None
    doeljaar: int | None = None
    doeltype: str | None = None
    doelwaarde: float | None = None
    richting: str | None = None
    reden: str | None = None
    bron: str | None = None
    toelichting: str | None = None
    partner: tuple[str, ...] = ()

    @property
    def lower_is_better(self) -> bool:
        return self.richting == "lager_beter"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Jaar = Field(default=None, strict=True)


class Partner(_Strict):
    naam: str = Field(min_length=1)
    coalitie: bool  # one of the programme's coalition partners (page 1 of the programme text)


class DoelModel(_Strict):
    id: str = Field(min_length=1)
    pijler: int = Field(strict=True)
    tekst: str = Field(min_length=1)
    meetbaar: bool = Field(strict=True)
    indicator: str | None = None
    geografie: list[Literal["focusgebieden_samen", "elk_focusgebied", "gemeente"]] | None = Field(
        default=None, min_length=1
    )
    basisjaar: int | None = Jaar
    doeljaar: int | None = Jaar
    doeltype: Literal["relatief", "pariteit", "richting", "absoluut"] | None = None
    doelwaarde: float | None = None
    richting: Literal["lager_beter", "hoger_beter"] | None = None
    reden: str | None = Field(default=None, min_length=1)
    bron: str | None = Field(default=None, min_length=1)
    partner: list[str] | None = Field(default=None, min_length=1)
    toelichting: str | None = None

    @field_validator("partner", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("doelwaarde", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or isinstance(v, str):
            raise ValueError("moet een getal zijn")
        return v


class Status(_Strict):
    op_koers: float = Field(gt=0, le=1)
    risico: float = Field(ge=0, lt=1)
    min_punten: int = Field(strict=True, ge=2)


class CatalogModel(_Strict):
    pijlers: dict[int, str]
    partners: dict[str, Partner] = Field(default_factory=dict)
    doelen: list[dict[str, Any]] = Field(min_length=1)
    status: Status | None = None
    forecast: dict[str, Any] | None = None  # validated by analysis.goals.calibration


_FIELDS = {
    "top": tuple(CatalogModel.model_fields),
    "doel": tuple(DoelModel.model_fields),
    "partner": tuple(Partner.model_fields),
    "status": tuple(Status.model_fields),
}


def _dutch(err: dict, fields: tuple[str, ...]) -> str:
    """The shared Dutch wording (analysis.config_errors.dutch) plus, for an unknown key, the closest
    known key of this level of doelen.yaml."""
    text = dutch(err)
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(err["loc"][-1]), fields, n=1)
        if close:
            text += f" (bedoelt u '{close[0]}'?)"
    return text


def _error(where: str, exc: ValidationError, fields: tuple[str, ...]) -> InputError:
    # an unknown key first: a misspelt key also makes its correct name 'missing'
    errs = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    err = errs[0]
    key = ".".join(str(p) for p in err["loc"]) or "(bovenste niveau)"
    value = err.get("input")
    shown = (
        ""
        if err["type"] in ("missing", "extra_forbidden") or isinstance(value, dict | list)
        else (f" (gevonden: {value!r})")
    )
    more = f"; en nog {len(errs) - 1} probleem/problemen" if len(errs) > 1 else ""
    return InputError(f"{where}: sleutel '{key}': {_dutch(err, fields)}{shown}{more}")


def parse_goal(entry: Any, path: str, pijlers: dict, partners: dict) -> Doel:
    if not isinstance(entry, dict):
        raise InputError(f"{path}: elk doel moet een lijst met sleutels zijn (gevonden: {entry!r})")
    gid = entry.get("id", "?")
    where = f"{path}: doel {gid}"
    try:
        m = DoelModel.model_validate(entry)
    except ValidationError as exc:
        raise _error(where, exc, _FIELDS["doel"]) from exc
    if m.pijler not in pijlers:
        raise InputError(
            f"{where}: sleutel 'pijler': onbekende pijler {m.pijler} (bekend: {sorted(pijlers)})"
        )
    if m.partner:
        bad = [p for p in m.partner if p not in partners]
        if bad:
            raise InputError(
                f"{where}: sleutel 'partner': onbekende partner {bad} "
                f"(zet hem onder 'partners:' bovenin {path}; bekend: {', '.join(sorted(partners))})"
            )
    common = {
        "id": m.id,
        "pijler": m.pijler,
        "tekst": m.tekst,
        "doeltype": m.doeltype,
        "doelwaarde": m.doelwaarde,
        "reden": m.reden,
        "bron": m.bron,
        "toelichting": m.toelichting,
        "partner": tuple(m.partner or ()),
    }
    if not m.meetbaar:
        for key in ("reden", "bron", "partner"):
            if getattr(m, key) is None:
                raise InputError(
                    f"{where}: sleutel '{key}' ontbreekt: een niet meetbaar doel noemt waarom (reden), "
                    "welke bron het meetbaar maakt (bron) en wie die bron heeft (partner)"
                )
        if m.indicator is not None:
            raise InputError(
                f"{where}: sleutel 'indicator' bij `meetbaar: false`; zet `meetbaar: true` als het doel met "
                f"'{m.indicator}' gemeten wordt"
            )
        return Doel(**common, meetbaar=False)
    for key in MEASURED_KEYS:
        if getattr(m, key) is None:
            raise InputError(f"{where}: sleutel '{key}' ontbreekt (nodig bij `meetbaar: true`)")
    if m.indicator not in indicator_catalog():
        raise InputError(
            f"{where}: sleutel 'indicator': onbekende indicator '{m.indicator}' (config/indicators.yaml)"
        )
    base, target = m.basisjaar, m.doeljaar
    if not 2000 <= base < target <= 2100:
        raise InputError(
            f"{where}: onmogelijk basisjaar {base} / doeljaar {target} (2000 <= basis < doel <= 2100)"
        )
    if m.doeltype in ("relatief", "absoluut") and m.doelwaarde is None:
        raise InputError(f"{where}: sleutel 'doelwaarde' ontbreekt (nodig bij doeltype {m.doeltype})")
    if m.doeltype == "relatief" and not -1 <= m.doelwaarde <= 10:
        raise InputError(f"{where}: sleutel 'doelwaarde': relatieve verandering {m.doelwaarde} buiten -1..10")
    return Doel(
        **common,
        meetbaar=True,
        indicator=m.indicator,
        geografie=tuple(m.geografie),
        basisjaar=base,
        doeljaar=target,
        richting=m.richting,
    )


def load_catalog(path: str | Path = "doelen.yaml") -> tuple[list[Doel], dict]:
    raw = load_yaml(path)
    shown = str(path) if Path(path).is_absolute() else f"config/{path}"
    try:
        top = CatalogModel.model_validate(raw)
    except ValidationError as exc:
        raise _error(shown, exc, _FIELDS["top"]) from exc
    partners = {k: v.model_dump() for k, v in top.partners.items()}
    goals = [parse_goal(e, shown, top.pijlers, partners) for e in top.doelen]
    ids = [g.id for g in goals]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"{shown}: dubbele doel-id(s) {dup}")
    raw = {**raw, "partners": partners}
    if top.status is not None:
        raw["status"] = top.status.model_dump()
    return goals, raw


def partner_names(goal: Doel, partners: dict) -> list[str]:
    """Display names of the goal's partners (the key itself when the list has no entry for it)."""
    return [partners.get(p, {}).get("naam", p) for p in goal.partner]
