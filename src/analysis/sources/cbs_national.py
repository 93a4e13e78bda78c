"""The national CBS pull: every registered table ONCE for all regions of the chosen levels (issue 13).

``veerkracht fetch --scope nederland [--niveau gemeente|wijk|buurt]`` uses the municipal client of
:mod:`analysis.sources.cbs` unchanged (timeouts, bounded retries, budget, paging through
``odata.nextLink``, pages saved in ``.partial-<selection>/`` so an interrupted pull resumes at the page
that failed, one pull per table and selection at a time, the same :func:`~analysis.sources.cbs.harmonise`).
What differs:

* **Selection by level, not by municipality.** The ``$filter`` is ``startswith(<dim>,'GM') or
  startswith(<dim>,'WK') [or startswith(<dim>,'BU')] or (<dim> eq 'NL00      ')`` (+ ``NL01``, the
  national code of CBS's RegioS tables). ``startswith`` is an OData v3 canonical function; public code
  runs it against CBS's OData v3 service (e.g. ``startswith(WijkenEnBuurten,'GM0344')`` on 85984NED,
  ``startswith(RegioS,'GM')`` on 85755NED). ``substringof`` (used for one municipality) matches
  anywhere in the key; ``startswith`` says exactly "this level" (no 2024 code holds the letters of a
  level prefix after its own, but alphanumeric codes such as ``WK0363AA`` could).
* **Only the columns needed.** ``$select`` (comma-separated, as cbsodata 1.3.5 sends it) names the
  region, period and extra dimensions and the topics mapped for this edition (KWB has ~120 topics, the
  registry maps ~11), so a page of 10,000 rows stays small. A column asked for that is absent from the
  answer is one error naming table and column.
* **Stored as Parquet**, partitioned by year and municipality, in the long format of
  :mod:`analysis.records` plus ``fetched_at``: ``<cache>/nederland/<table>/NL-<niveau>/year=YYYY/
  gemeente=GMxxxx/part-0.parquet`` (``NL00`` under ``gemeente=NL00``) with ``manifest.json`` (table id,
  title, CBS ``Modified``, fetched_at, rows, regions, provisional years, filter, sha256 per file) and
  the table's ``TableInfos``/``DataProperties`` in ``meta/``; swapped in whole, so a failed write keeps
  the previous pull. Municipal caches (``<cache>/<table>/<GMxxxx>_<hash>/``) are never touched.
* **Region names kept.** The region dimension endpoint (``Key`` + ``Title``, already asked for with the
  level filter) is saved as ``meta/region_titles.json`` (keys stripped, sha256 in the manifest); the
  national build names its areas from it (:func:`store_titles`).

Size (expectations from the published area counts, not measurements): ~18,300 areas a year (342
gemeenten, 3,393 wijken, 14,574 buurten). ``--niveau wijk`` asks ~3,740 regions: one page per KWB year
and about 5 pages for SES-WOA (11 years) or 47018NED; ``--niveau buurt`` ~18,300 regions: 2 pages per
KWB year, ~20 for SES-WOA and ~25-30 for 47018NED. At CBS's usual pace of a few seconds per page that
is minutes for the wijk level and some tens of minutes for the buurt level; raise ``--budget`` for the
latter (a pull cut off by the budget resumes where it stopped).

The gemeente -> provincie table ("Gebieden in Nederland <jaar>") is pulled by :func:`fetch_gebieden`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import InputError
from analysis.io import sha256_file  # noqa: F401  (re-exported for callers of this module)
from analysis.sources.cbs import (
    NATIONAL_ALIASES,
    NATIONAL_CACHE,
    CbsClient,
    TablePull,
    _dataset,
    fetch_selection,
    period_dim_of,
    resolve_topics,
)
from analysis.sources.cbs_gebieden import (  # noqa: F401  (re-exported: one import place)
    PROVINCIE_FILE,
    fetch_gebieden,
    gebieden_spec,
    gebieden_table,
    provincie_path,
)
from analysis.sources.cbs_national_store import (  # noqa: F401
    _PARTITIONING,
    LEVEL_PREFIX,
    NIVEAUS,
    STORE_COLUMNS,
    TITLES_FILE,
    _manifest,
    _pick,
    gemeente_partition,
    national_indicators,
    pulled_niveaus,
    read_store,
    read_titles,
    region_titles_of,
    store_sources,
    store_titles,
    write_store,
)


def level_filter(region_dim: str, niveau: str = "wijk", national: str = "NL00") -> str:
    """OData v3 ``$filter``: every region of the levels down to ``niveau`` (gemeente < wijk < buurt)
    and the national row. CBS pads region keys to 10 characters; ``startswith`` does not mind."""
    if niveau not in NIVEAUS:
        raise InputError(f"--niveau {niveau}: verwacht een van {', '.join(NIVEAUS)}")
    prefixes = [LEVEL_PREFIX[n] for n in NIVEAUS[: NIVEAUS.index(niveau) + 1]]
    aliases = [a for a, code in NATIONAL_ALIASES.items() if code == national]
    parts = [f"startswith({region_dim},'{p}')" for p in prefixes]
    parts += [f"({region_dim} eq '{code.ljust(10)}')" for code in (national, *aliases) if code]
    return " or ".join(parts)


@dataclass(frozen=True)
class NationalSelection:
    """All regions of the levels down to ``niveau`` plus the national row; keyed ``NL-<niveau>``."""

    niveau: str = "wijk"
    national: str = "NL00"

    def __post_init__(self):
        if self.niveau not in NIVEAUS:
            raise InputError(f"--niveau {self.niveau}: verwacht een van {', '.join(NIVEAUS)}")

    @property
    def key(self) -> str:
        return f"NL-{self.niveau}" if self.national == "NL00" else f"NL-{self.niveau}-{self.national}"

    def filter(self, region_dim: str) -> str:
        return level_filter(region_dim, self.niveau, self.national)

    @property
    def expected(self) -> list[str]:
        return [self.national] if self.national else []


class NationalTablePull(TablePull):
    """:class:`TablePull` with ``$select`` and a Parquet store partitioned by year and municipality."""

    def _columns(self, raw, table_id, spec, region_dim, select) -> str | None:
        found, _ = resolve_topics(raw, table_id, spec)
        margins = (spec.get("margins") or {}).get("dim")
        cols = [region_dim, period_dim_of(raw, spec), *select, margins, *found.values()]
        return ",".join(dict.fromkeys(c for c in cols if c))

    def _check_columns(self, raw, table_id, spec, columns) -> None:
        rows = _dataset(raw, table_id)
        if not rows or not columns:
            return  # an empty answer is harmonise's error
        present: set[str] = set()
        for r in rows:
            present.update(r)
        found, _ = resolve_topics(raw, table_id, spec)
        indicator = {k: i for i, k in found.items()}
        for col in columns.split(","):
            if col not in present:
                what = f" (indicator {indicator[col]})" if col in indicator else ""
                raise InputError(
                    f"CBS-tabel {table_id}: verwachte kolom '{col}' ontbreekt in het antwoord{what}"
                )

    def _store(self, table_id: str, raw: dict[str, Any], long: pd.DataFrame, meta: dict[str, Any]) -> None:
        write_store(self.cache_dir, table_id, raw, long, meta, self.sel)


def fetch_national(
    client: CbsClient,
    registry: dict[str, Any],
    cache_dir: Path,
    years: range,
    niveau: str = "wijk",
    log=print,
    *,
    national: str = "NL00",
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Pull every registered table once for all regions down to ``niveau`` into
    ``<cache_dir>/nederland/``; summary as :func:`analysis.sources.cbs.fetch_all` (also written to
    ``<cache_dir>/nederland/fetch_summary.NL-<niveau>.json``)."""
    sel = NationalSelection(niveau, national)
    return fetch_selection(
        client,
        registry,
        sel,
        Path(cache_dir) / NATIONAL_CACHE,
        years,
        log,
        budget_s=budget_s,
        pull=NationalTablePull,
    )
