"""Nederland (``NL00``) from the gemeenten of each year's own classification.

A year's Nederland row is the aggregate of the gemeenten that year's source lists (KWB 2016: 390,
KWB 2017: 389 land records, KWB 2024: 342; a live CBS pull: every gemeente code with a row that
year), never of the gemeenten of another year: summing 2016 figures over the 2024 codes misses every
municipality merged since. Counts are summed, rates/shares weighted, exactly as the municipal build
does (:func:`analysis.processed.aggregate.aggregate_candidates`), so both scopes give the same
Nederland; the coverage is computed (share of the year's inhabitants/households in gemeenten with a
value) and the usual coverage gate applies.

Where the source publishes a Nederland figure itself (a live CBS pull's ``NL01`` row, stored as
``NL00``), the published figure is used and the sum over the gemeenten is checked against it
(:func:`check_against_published`).
"""

from __future__ import annotations

import pandas as pd

from analysis.processed.aggregate import aggregate_candidates, coverage_gate

NL = "NL00"
# a sum over the gemeenten that differs more than this from the published national figure is reported
CHECK_TOLERANCE = 0.005


def nederland_rows(gemeente_rows: pd.DataFrame) -> pd.DataFrame:
    """``NL00`` per year from the gemeente rows of that year (the year's own classification), with
    coverage; aggregates under the coverage gate are left out."""
    g = gemeente_rows[gemeente_rows["level"] == "gemeente"]
    frames = []
    for _year, rows in g.groupby("year"):
        members = pd.DataFrame({"area_code": NL, "part_code": sorted(rows["region_code"].unique())})
        frames.append(
            aggregate_candidates(rows, members, "land", part_level="gemeente", parts_name="gemeenten")
        )
    frames = [f for f in frames if len(f)]
    if not frames:
        return aggregate_candidates(g.iloc[0:0], pd.DataFrame(columns=["area_code", "part_code"]), "land")
    return coverage_gate(pd.concat(frames, ignore_index=True))[0]


def check_against_published(summed: pd.DataFrame, published: pd.DataFrame) -> list[dict]:
    """Per (indicator, year) with both a published ``NL00`` and a sum over the gemeenten: the two
    figures, the coverage and whether they agree within ``CHECK_TOLERANCE`` (relative)."""
    s = summed.set_index(["indicator", "year"])
    out = []
    for r in published[published["region_code"] == NL].itertuples():
        key = (r.indicator, r.year)
        if key not in s.index or pd.isna(r.value):
            continue
        mine = float(s.loc[key, "value"])
        rel = abs(mine - float(r.value)) / abs(float(r.value)) if r.value else abs(mine)
        out.append(
            {
                "indicator": r.indicator,
                "year": int(r.year),
                "gepubliceerd": float(r.value),
                "som_gemeenten": mine,
                "dekking": round(float(s.loc[key, "coverage"]), 6),
                "verschil_relatief": round(rel, 6),
                "klopt": bool(rel <= CHECK_TOLERANCE),
                "bron": r.source_table,
            }
        )
    return out
