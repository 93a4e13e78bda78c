"""Region selections (the cache key of a pull), the per-year/edition pull plan of the registry
(config/cbs_tables.yaml), per-table results and indicator availability."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from analysis.sources.cbs.protocol import NATIONAL_ALIASES

# --- region selection --------------------------------------------------------------------------


def region_filter(
    region_dim: str, gemeente: str, national: str = "NL00", others: tuple[str, ...] = ()
) -> str:
    """OData filter: the municipality, its wijken and buurten, the national row and the
    comparison municipalities (municipal rows only). CBS pads region keys to 10 characters."""
    num = gemeente[2:]
    aliases = [a for a, code in NATIONAL_ALIASES.items() if code == national]
    parts = [f"substringof('{p}{num}',{region_dim})" for p in ("GM", "WK", "BU")]
    parts += [f"({region_dim} eq '{code.ljust(10)}')" for code in (national, *aliases, *others) if code]
    return " or ".join(parts)


@dataclass(frozen=True)
class Selection:
    """Which regions a pull asks for; the cache is keyed by it."""

    gemeente: str
    national: str = "NL00"
    comparison: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "comparison", tuple(sorted(set(self.comparison) - {self.gemeente})))

    @property
    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return f"{self.gemeente}_{hashlib.sha256(blob).hexdigest()[:8]}"

    def filter(self, region_dim: str) -> str:
        return region_filter(region_dim, self.gemeente, self.national, self.comparison)

    @property
    def expected(self) -> list[str]:
        """Rows that must come back (municipal or national level): their absence is reported."""
        return [c for c in (self.gemeente, self.national, *self.comparison) if c]

    @classmethod
    def from_settings(cls, cfg: dict[str, Any], gemeente: str | None = None) -> Selection:
        """The selection the CLI and the build use: comparison municipalities from
        ``analysis.config.vergelijking`` (settings.yaml `vergelijking`)."""
        from analysis.config import vergelijking

        code = gemeente or cfg["gemeente"]["code"]
        verg = cfg.get("vergelijking") or {}
        return cls(gemeente=code, national=verg.get("nederland", "NL00"), comparison=vergelijking(code))


# --- pull ----------------------------------------------------------------------------------------


def table_plan(registry: dict[str, Any], years: range) -> list[tuple[str, list[str], int | None]]:
    """(registry key, candidate table ids in order of preference, year or None) per pull."""
    plan: list[tuple[str, list[str], int | None]] = []
    for key, spec in registry.items():
        if "years" in spec:
            plan += [(key, [tid], int(y)) for y, tid in spec["years"].items() if int(y) in years]
        else:
            plan.append((key, list(spec["editions"]), None))
    return plan


@dataclass
class TableResult:
    group: str
    table_id: str
    year: int | None
    status: str  # pulled | failed | offline | budget | not_found | skipped (circuit breaker)
    error: str | None = None
    rows: int = 0
    pages: int = 0
    resumed_from_page: int | None = None
    missing_regions: list[str] = field(default_factory=list)
    availability: list[dict[str, Any]] = field(default_factory=list)
    # editions-type groups only: topics not mapped, as "Key (TopicGroup > … : Title)", so keys such as
    # the SES-WOA reliability bounds can be added to the registry after the first online run
    unmapped_topics: list[str] = field(default_factory=list)


def availability(
    spec: dict[str, Any],
    table_id: str,
    year: int | None,
    found: dict[str, str],
    absent: list[str],
    long: pd.DataFrame,
) -> list[dict[str, Any]]:
    """Which indicator exists in which table/year: present (with the key), absent as expected
    (outside ``since``/``until`` in the registry: "n.v.t."), or absent although expected ("ontbreekt")."""
    out = []
    years = sorted(long["year"].unique().tolist()) if year is None else [year]
    for ind, rule in spec["indicators"].items():
        rule = rule if isinstance(rule, dict) else {}
        row = {"indicator": ind, "table_id": table_id, "key": found.get(ind), "years": years}
        if ind in found:
            has = sorted(long.loc[long["indicator"] == ind, "year"].unique().tolist())
            out.append({**row, "status": "aanwezig", "years": has})
            continue
        since, until = rule.get("since"), rule.get("until")
        if year is not None and since is not None and year < int(since):
            status = f"n.v.t. (pas vanaf {since})"
        elif year is not None and until is not None and year > int(until):
            status = f"n.v.t. (tot en met {until})"
        else:
            status = "ontbreekt"
        out.append({**row, "status": status})
    return out
