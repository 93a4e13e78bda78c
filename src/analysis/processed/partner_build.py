"""The build's side of partner deliveries and the Leefbaarometer 3.0 files (issue 21).

:mod:`analysis.processed.build` calls these in order: :func:`declared_files` (which files belong to a
declared indicator), :func:`lbm_rows_of` (Leefbaarometer rows joined to our buurten by code, with a
count of codes that do not match), :func:`load` (every declared delivery checked), :func:`add_to_base`
(rates computed, the partner series replacing any other origin of that indicator) and
:func:`disclose` (disclosure control, :mod:`analysis.processed.disclosure`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import indicator_catalog, settings
from analysis.processed.disclosure import SUPPRESSED_COLUMNS, suppress
from analysis.records import COLUMNS
from analysis.sources import partner

SUPPRESSED_FILE = "suppressed.parquet"


def say(notices) -> None:
    """The build's notices on stderr, once each (after a successful write)."""
    for msg in dict.fromkeys(notices or ()):
        print(msg, file=sys.stderr)


def declared_files(local: Path) -> frozenset[Path]:
    files: set[Path] = set()
    for spec in partner.declared(indicator_catalog()):
        files |= set(partner.matching_files(local, spec.file))
    return frozenset(files)


def lbm_rows_of(local_raw: pd.DataFrame, known: set[str], code: str, notices: list[str]) -> pd.DataFrame:
    """Leefbaarometer rows of our areas; codes of this municipality that are not among its areas
    (another year's classification, e.g. the 2024 buurten against our 2023 polygons) are left out
    and counted in one line."""
    if local_raw.empty:
        return local_raw
    ours = local_raw["region_code"].isin(known)
    unmatched = sorted(set(local_raw.loc[~ours, "region_code"]))
    if unmatched:
        n_b = sum(c.startswith("BU") for c in unmatched)
        notices.append(
            f"let op: Leefbaarometer 3.0: {len(unmatched)} gebiedscode(s) van {code} passen niet op de "
            f"gebieden van de build ({n_b} buurten; indeling 2023), bijvoorbeeld {', '.join(unmatched[:3])}; "
            "die rijen zijn niet gebruikt"
        )
    return local_raw[ours].reset_index(drop=True)


def without_series(rows: pd.DataFrame, series: list[tuple[str, str]]) -> pd.DataFrame:
    """``rows`` without the (region_code, indicator) series a real file says are missing."""
    if not series:
        return rows
    drop = pd.MultiIndex.from_tuples(sorted(set(series)))
    key = pd.MultiIndex.from_frame(rows[["region_code", "indicator"]])
    return rows[~key.isin(drop)]


def areas_of(regions: pd.DataFrame, code: str, all_codes: set[str]) -> partner.Areas:
    own = regions[regions["level"].isin(["buurt", "wijk", "gemeente"])]
    names = dict(zip(own["region_code"], own["name"], strict=True))
    return partner.Areas(code, names, frozenset(set(all_codes) - set(names)))


def load(
    paths, regions: pd.DataFrame, all_codes: set[str], lbm_files: list[Path], notices: list[str]
) -> partner.PartnerData:
    """Every declared delivery (first problem -> InputError); notices (absent / undeclared files)
    go to ``notices``, said by :func:`say` after the build has been written."""
    areas = areas_of(regions, paths.gemeente, all_codes)
    return partner.load_partner(paths.local, indicator_catalog(), areas, lbm_files, say=notices.append)


def add_to_base(base: pd.DataFrame, data: partner.PartnerData) -> pd.DataFrame:
    """Partner rows (rates computed from counts where ``per`` is set) in place of every other row of
    their indicators: one origin per series, and no synthetic filler for suppressed cells."""
    ids = [s.indicator for s in data.specs]
    if not ids:
        return base
    rows = apply_per(data.rows, base, data.specs)
    rest = base[~base["indicator"].isin(ids)]
    if rows.empty:
        return rest.reset_index(drop=True)
    return pd.concat([rest, rows.assign(coverage=np.nan)], ignore_index=True)


def apply_per(rows: pd.DataFrame, base: pd.DataFrame, specs: list[partner.PartnerSpec]) -> pd.DataFrame:
    """Counts of indicators with ``per`` turned into rates: count / per(area, year) * factor, with
    ``per`` of the same year, else of the nearest year held for that area (the earlier on a tie).
    A cell whose area has no ``per`` value in any year is dropped (cannot be computed)."""
    out = []
    for spec in specs:
        r = rows[rows["indicator"] == spec.indicator]
        if spec.per is None or r.empty:
            out.append(r)
            continue
        w = base[(base["indicator"] == spec.per) & base["region_code"].isin(set(r["region_code"]))]
        w = w[["region_code", "year", "value"]].rename(columns={"year": "wyear", "value": "w"})
        m = r.reset_index().merge(w, on="region_code", how="left")
        m["dist"] = (m["year"] - m["wyear"]).abs() + (m["wyear"] > m["year"]) * 0.5
        m = m.dropna(subset=["w"])
        m = m[m["w"] > 0].sort_values(["index", "dist"]).drop_duplicates("index")
        factor = float(spec.factor if spec.factor is not None else 1.0)
        m["value"] = m["value"] / m["w"] * factor
        out.append(m.set_index("index")[COLUMNS])
    rest = rows[~rows["indicator"].isin([s.indicator for s in specs])]
    return pd.concat([rest, *out]).sort_index() if out else rows


def min_count() -> int:
    return int((settings().get("partnerdata") or {}).get("min_count", partner.DEFAULT_MIN_COUNT))


def disclose(
    indicators: pd.DataFrame, data: partner.PartnerData, membership: pd.DataFrame, regions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not data.specs:
        return indicators, pd.DataFrame(columns=SUPPRESSED_COLUMNS)
    return suppress(indicators, data.counts, data.missing, membership, regions, data.specs, min_count())


def suppressed_or_empty(table: pd.DataFrame | None) -> pd.DataFrame:
    if table is None or table.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c == "year" else "object") for c in SUPPRESSED_COLUMNS}
        )
    return table


def load_suppressed(processed: Path) -> pd.DataFrame:
    """The cells a page shows as "< 10" / "geheim" / "n.v.t." instead of a value (never the value)."""
    path = processed / SUPPRESSED_FILE
    if not path.exists():
        return suppressed_or_empty(None)
    from analysis.io import read_parquet

    return read_parquet(path)
