"""Per-indicator explanation for the fact sheets: definition, source, direction, unit, and where the
definition comes from.

Definitions are real CBS text where we hold it: the descriptions in the OData ``DataProperties`` of
Kerncijfers wijken en buurten 2024 (85984NED, ``data/raw/snapshot/kwb_2024_85984NED/``), read at run
time and cut into verbatim fragments (whole sentences) chosen in ``config/indicators_uitleg.yaml``.
Where we hold no CBS text (SES-WOA, misdrijven, Leefbaarometer, Databank Zuid-Holland), the
catalogue's own short definition is used and ``herkomst_tekst`` says it is the project's own
description. Own additions to a CBS definition (e.g. "getoond als percentage") are kept apart from
the CBS text and named as ours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis import config_errors
from analysis.config import CONFIG_DIR, SNAPSHOT_DIR, indicator_catalog, load_yaml
from analysis.errors import InputError, technisch

UITLEG_FILE = CONFIG_DIR / "indicators_uitleg.yaml"
DATAPROPERTIES = SNAPSHOT_DIR / "kwb_2024_85984NED" / "DataProperties.json"
CBS_TABLE = "85984NED"
CBS_TITLE = "Kerncijfers wijken en buurten 2024"
RICHTINGEN = (
    "hoger = kwetsbaarder",
    "hoger = beter",
    "geen richting (context)",
    "geen richting (omvang)",
)


@dataclass(frozen=True)
class Explanation:
    """One indicator explained for a reader.

    ``definitie``: CBS text (verbatim fragments) or the project's own text; ``herkomst_tekst`` says
    which, in plain Dutch, and carries any own addition. ``cbs_fragmenten``: the verbatim CBS
    fragments (empty for an own definition); ``cbs_sleutel``: the DataProperties key they come from.
    """

    indicator: str
    label: str
    definitie: str
    bron: str
    richting: str
    eenheid: str
    herkomst_tekst: str
    cbs_fragmenten: tuple[str, ...] = ()
    cbs_sleutel: str | None = None


class _Fragment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alinea: int = Field(ge=0)
    vanaf: int = Field(default=0, ge=0)
    zinnen: int | None = Field(default=None, ge=1)


class _Cbs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1)
    deel: Literal["onderwerp", "groep"] = "onderwerp"
    fragmenten: list[_Fragment] = Field(min_length=1)


class _Uitleg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    richting: Literal[RICHTINGEN]  # type: ignore[valid-type]
    bron: str = Field(min_length=1)
    cbs: _Cbs | None = None
    eigen: str | None = None
    y_min_span: float | None = Field(default=None, gt=0)


@cache
def uitleg_catalog(path: str | None = None) -> dict[str, dict]:
    """``config/indicators_uitleg.yaml`` validated: every key an indicator of indicators.yaml, a
    direction from :data:`RICHTINGEN`, CBS text or an own definition (or both)."""
    p = Path(path) if path else UITLEG_FILE
    data = load_yaml(p)
    known = indicator_catalog()
    out = {}
    for name, spec in data.items():
        if name not in known:
            raise InputError(f"{p}: sleutel '{name}': geen indicator van config/indicators.yaml")
        try:
            m = _Uitleg.model_validate(spec)
        except ValidationError as exc:
            raise InputError(config_errors.message(p, exc, _Uitleg, prefix=str(name))) from exc
        if m.cbs is None and not m.eigen:
            raise InputError(
                f"{p}: sleutel '{name}': vraagt `cbs` (tekst van het CBS) of `eigen` (eigen definitie)"
            )
        out[str(name)] = m.model_dump()
    return out


@cache
def data_properties(path: str | None = None) -> dict[str, dict]:
    """DataProperties of 85984NED by Key (topics) and by ID (groups, under key '#<ID>')."""
    p = Path(path) if path else DATAPROPERTIES
    try:
        items = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{p}: de DataProperties van het CBS zijn niet te lezen ({technisch(exc)})") from exc
    out = {}
    for it in items:
        if it.get("Key"):
            out[it["Key"]] = it
        out[f"#{it.get('ID')}"] = it
    return out


def normalise(text: str) -> str:
    """Collapse all whitespace (CBS uses \\r\\n inside paragraphs) to single spaces."""
    return re.sub(r"\s+", " ", str(text)).strip()


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9'‘(])")


def paragraphs(description: str) -> list[str]:
    """A CBS description cut into paragraphs at blank lines, whitespace normalised."""
    parts = re.split(r"(?:\r?\n[ \t]*){2,}", str(description))
    return [normalise(p) for p in parts if normalise(p)]


def _fragment(description: str, f: dict, where: str) -> str:
    paras = paragraphs(description)
    if f["alinea"] >= len(paras):
        raise InputError(
            f"{UITLEG_FILE}: {where}: de beschrijving van het CBS heeft maar {len(paras)} alinea('s)"
        )
    sentences = _SENTENCE.split(paras[f["alinea"]])
    n = f["zinnen"] or len(sentences)
    chosen = sentences[f["vanaf"] : f["vanaf"] + n]
    if not chosen:
        raise InputError(f"{UITLEG_FILE}: {where}: geen zin {f['vanaf']} in alinea {f['alinea']}")
    return " ".join(chosen)


def cbs_description(key: str, deel: str = "onderwerp") -> tuple[str, str]:
    """(title, description) of DataProperties ``key``, or of its parent TopicGroup (``deel='groep'``)."""
    props = data_properties()
    if key not in props:
        raise InputError(
            f"{DATAPROPERTIES}: geen onderwerp met 'Key' {key!r} (genoemd in {UITLEG_FILE.name})"
        )
    item = props[key]
    if deel == "groep":
        item = props.get(f"#{item.get('ParentID')}", {})
    desc = item.get("Description")
    if not desc:
        raise InputError(f"{DATAPROPERTIES}: {key} ({deel}) heeft geen beschrijving")
    return str(item.get("Title", key)), str(desc)


def _eenheid(unit: str) -> str:
    from analysis.factsheets.fmt import unit_nl

    return unit_nl(unit)


@cache
def _explain(indicator: str) -> Explanation:
    cat = indicator_catalog()
    if indicator not in cat:
        raise InputError(f"config/indicators.yaml: onbekende indicator {indicator!r}")
    spec = cat[indicator]
    u = uitleg_catalog().get(indicator)
    if u is None:
        raise InputError(f"{UITLEG_FILE}: geen uitleg voor indicator {indicator!r}")
    eigen = (u.get("eigen") or "").strip()
    if u.get("cbs"):
        c = u["cbs"]
        title, desc = cbs_description(c["key"], c["deel"])
        frags = tuple(
            _fragment(desc, f, f"{indicator}.cbs.fragmenten[{i}]") for i, f in enumerate(c["fragmenten"])
        )
        wat = (
            "de toelichting bij het onderwerp" if c["deel"] == "onderwerp" else "de toelichting bij de groep"
        )
        herkomst = (
            f"Definitie: letterlijke tekst van het CBS, uit {wat} ‘{normalise(title)}’ in tabel "
            f"{CBS_TABLE} ({CBS_TITLE})."
        )
        if eigen:
            herkomst += f" Eigen toevoeging van dit project (geen CBS-tekst): {eigen}"
        return Explanation(
            indicator=indicator,
            label=spec["label"],
            definitie=" … ".join(frags),
            bron=u["bron"],
            richting=u["richting"],
            eenheid=_eenheid(spec["unit"]),
            herkomst_tekst=herkomst,
            cbs_fragmenten=frags,
            cbs_sleutel=c["key"],
        )
    return Explanation(
        indicator=indicator,
        label=spec["label"],
        definitie=normalise(eigen),
        bron=u["bron"],
        richting=u["richting"],
        eenheid=_eenheid(spec["unit"]),
        herkomst_tekst=(
            "Definitie: eigen omschrijving van dit project (geen CBS-tekst; de toelichting van de bron "
            "hebben wij niet offline)."
        ),
    )


def explanations(indicators: list[str]) -> list[Explanation]:
    """One :class:`Explanation` per indicator, in the given order (duplicates once).

    Raises :class:`InputError` naming the file and key when an indicator has no entry in
    ``config/indicators_uitleg.yaml`` or its CBS key/paragraph is not in the DataProperties file.
    """
    return [_explain(i) for i in dict.fromkeys(indicators)]
