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


def classification(*frames: pd.DataFrame) -> dict[int, pd.Series]:
    """Inhabitants per gemeente code per year, from every ``inwoners`` gemeente row in ``frames`` (a
    source lists every gemeente of its year with its inhabitants): that year's classification. A year
    whose gemeenten hold under 90% of the median year's inhabitants is left out (a partial list)."""
    parts = []
    for f in frames:
        g = f[(f["level"] == "gemeente") & (f["indicator"] == "inwoners") & f["value"].notna()]
        parts.append(g[["year", "region_code", "value"]])
    d = pd.concat(parts, ignore_index=True).drop_duplicates(["year", "region_code"])
    years = {int(y): g.set_index("region_code")["value"].astype(float) for y, g in d.groupby("year")}
    if not years:
        return years
    # a year whose list holds far fewer inhabitants than the others (one gemeente's pull) is no
    # classification of the country
    typical = float(pd.Series({y: v.sum() for y, v in years.items()}).median())
    return {y: v for y, v in years.items() if v.sum() >= 0.9 * typical}


def nederland_rows(
    gemeente_rows: pd.DataFrame, gemeenten: dict[int, pd.Series] | None = None
) -> pd.DataFrame:
    """``NL00`` per year from the gemeente rows of that year, with coverage; aggregates under the
    coverage gate are left out.

    ``gemeenten`` (:func:`classification`): the gemeenten of each year with their inhabitants. The
    coverage is then also scaled by the share of that year's inhabitants (of the nearest year held)
    in the gemeenten the rows hold, so rows of only some gemeenten (one gemeente's 2025 pull) make no
    Nederland row. Without it, the gemeenten in the rows are that year's."""
    g = gemeente_rows[gemeente_rows["level"] == "gemeente"]
    frames = []
    for year, rows in g.groupby("year"):
        members = pd.DataFrame({"area_code": NL, "part_code": sorted(rows["region_code"].unique())})
        agg = aggregate_candidates(rows, members, "land", part_level="gemeente", parts_name="gemeenten")
        if gemeenten and len(agg):
            nearest = min(gemeenten, key=lambda y: (abs(y - int(year)), y))
            inw = gemeenten[nearest]
            held = float(inw.reindex(sorted(set(rows["region_code"]))).sum() / inw.sum())
            agg["coverage"] = agg["coverage"] * min(1.0, held)  # rows of only some gemeenten
        frames.append(agg)
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
