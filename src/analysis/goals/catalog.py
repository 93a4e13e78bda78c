"""Load and validate config/doelen.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis.config import indicator_catalog, load_yaml
from analysis.errors import InputError

DOELTYPEN = ("relatief", "pariteit", "richting", "absoluut")
GEOGRAFIEEN = ("focusgebieden_samen", "elk_focusgebied", "gemeente")
RICHTINGEN = ("lager_beter", "hoger_beter")


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

    @property
    def lower_is_better(self) -> bool:
        return self.richting == "lager_beter"


def parse_goal(entry: dict, path: str, pijlers: dict) -> Doel:
    gid = entry.get("id", "?")
    where = f"{path}: doel {gid}"
    for key in ("id", "pijler", "tekst", "meetbaar"):
        if key not in entry:
            raise InputError(f"{where}: field '{key}' missing")
    if entry["pijler"] not in pijlers:
        raise InputError(f"{where}: unknown pijler {entry['pijler']}")
    common = {
        "id": str(entry["id"]),
        "pijler": int(entry["pijler"]),
        "tekst": entry["tekst"],
        "doeltype": entry.get("doeltype"),
        "doelwaarde": None if entry.get("doelwaarde") is None else float(entry["doelwaarde"]),
    }
    if not entry["meetbaar"]:
        if not entry.get("reden") or not entry.get("bron"):
            raise InputError(f"{where}: meetbaar: false needs 'reden' and 'bron'")
        return Doel(**common, meetbaar=False, reden=entry["reden"], bron=entry["bron"])
    for key in ("indicator", "geografie", "basisjaar", "doeljaar", "doeltype", "richting"):
        if key not in entry:
            raise InputError(f"{where}: field '{key}' missing")
    if entry["indicator"] not in indicator_catalog():
        raise InputError(f"{where}: unknown indicator '{entry['indicator']}' (config/indicators.yaml)")
    if entry["doeltype"] not in DOELTYPEN:
        raise InputError(f"{where}: doeltype must be one of {DOELTYPEN}")
    if entry["richting"] not in RICHTINGEN:
        raise InputError(f"{where}: richting must be one of {RICHTINGEN}")
    bad_geo = [g for g in entry["geografie"] if g not in GEOGRAFIEEN]
    if bad_geo:
        raise InputError(f"{where}: unknown geografie {bad_geo}")
    base, target = int(entry["basisjaar"]), int(entry["doeljaar"])
    if not 2000 <= base < target <= 2100:
        raise InputError(f"{where}: impossible basisjaar {base} / doeljaar {target}")
    if entry["doeltype"] in ("relatief", "absoluut") and entry.get("doelwaarde") is None:
        raise InputError(f"{where}: doeltype {entry['doeltype']} needs 'doelwaarde'")
    if entry["doeltype"] == "relatief" and not -1 <= float(entry["doelwaarde"]) <= 10:
        raise InputError(f"{where}: relative change {entry['doelwaarde']} out of range")
    return Doel(
        **common,
        meetbaar=True,
        indicator=entry["indicator"],
        geografie=tuple(entry["geografie"]),
        basisjaar=base,
        doeljaar=target,
        richting=entry["richting"],
        toelichting=entry.get("toelichting"),
    )


def load_catalog(path: str | Path = "doelen.yaml") -> tuple[list[Doel], dict]:
    raw = load_yaml(path)
    if "doelen" not in raw or "pijlers" not in raw:
        raise InputError(f"config/{path}: needs 'pijlers' and 'doelen'")
    goals = [parse_goal(e, f"config/{path}", raw["pijlers"]) for e in raw["doelen"]]
    ids = [g.id for g in goals]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"config/{path}: duplicate goal id(s) {dup}")
    return goals, raw
