"""Selection of the figures a sheet and the overview show (pure pandas, no HTML).

* :func:`bevolking`: the population of an area in ONE vintage (inhabitants and households of the same
  year, real figures only), used by the sheet's front page, its key-figure rows and the overview, so
  every page gives the same number.
* :func:`kern_rij`: one key-figure row that compares the same year across the areas; a comparator
  without a real figure in that year shows its nearest real figure with that figure's own year
  (:func:`nearest_real`), then a synthetic figure of the row's year; ``None`` (n.b.) only when it
  has no figure at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

POPULATION = ("inwoners", "huishoudens")
# until analysis.config.REGIO_NAMEN exists (real-first data work): the comparison regions by name
_REGIO_NAMEN = {"NL00": "Nederland", "DS00": "Drechtsteden"}


def regio_namen() -> dict[str, str]:
    try:
        from analysis.config import REGIO_NAMEN  # type: ignore[attr-defined]
    except ImportError:
        return dict(_REGIO_NAMEN)
    return {**_REGIO_NAMEN, **dict(REGIO_NAMEN)}


def is_real(rows: pd.DataFrame) -> pd.Series:
    return rows["origin"] != "synthetic"


def coverage_of(row) -> float | None:
    """Share of the parts an aggregate covers (None: published directly, or no such column yet)."""
    if row is None or "coverage" not in row.index:
        return None
    v = row["coverage"]
    return None if pd.isna(v) else float(v)


@dataclass(frozen=True)
class Bevolking:
    jaar: int
    inwoners: float
    huishoudens: float | None
    bron: str
    dekking: float | None  # coverage of an aggregated count (< 1: not every buurt counted)


def bevolking_tabel(ind: pd.DataFrame) -> pd.DataFrame:
    """Per area: the latest year with real inhabitants AND households (else the latest year with real
    inhabitants), with both figures of that year. Index: region_code."""
    d = ind[ind["indicator"].isin(POPULATION) & is_real(ind)]
    if d.empty:
        return pd.DataFrame(columns=["jaar", "inwoners", "huishoudens", "bron", "dekking"])
    d = d.sort_values(["region_code", "year"]).drop_duplicates(
        ["region_code", "year", "indicator"], keep="last"
    )
    wide = d.pivot(index=["region_code", "year"], columns="indicator", values="value")
    for c in POPULATION:
        if c not in wide:
            wide[c] = float("nan")
    wide = wide[wide["inwoners"].notna()].reset_index()
    wide["_beide"] = wide["huishoudens"].notna()
    # latest year with both; an area that never has households gets its latest inhabitants year
    wide = wide.sort_values(["region_code", "_beide", "year"])
    best = wide.groupby("region_code").tail(1).set_index("region_code")
    src = d[d["indicator"] == "inwoners"].set_index(["region_code", "year"])  # unique: deduplicated above
    at = src.reindex(pd.MultiIndex.from_arrays([best.index, best["year"]]))
    best["bron"] = at["source_table"].astype(str).to_numpy()
    best["dekking"] = at["coverage"].to_numpy() if "coverage" in src else float("nan")
    return best.rename(columns={"year": "jaar"})[["jaar", "inwoners", "huishoudens", "bron", "dekking"]]


def bevolking(ind: pd.DataFrame, code: str) -> Bevolking | None:
    t = bevolking_tabel(ind[ind["region_code"] == code])
    if code not in t.index:
        return None
    r = t.loc[code]
    return Bevolking(
        jaar=int(r["jaar"]),
        inwoners=float(r["inwoners"]),
        huishoudens=None if pd.isna(r["huishoudens"]) else float(r["huishoudens"]),
        bron=str(r["bron"]),
        dekking=None if pd.isna(r["dekking"]) else float(r["dekking"]),
    )


def row_year(
    rows: pd.DataFrame, indicator: str, code: str, compare: list[str], peiljaar: int, pop_year: int | None
) -> int | None:
    """The one year a key-figure row shows for every area.

    * inhabitants and households: the population vintage of the front page;
    * otherwise the area's own latest REAL figure (any year: a real 2025 WOZ beats a synthetic 2024),
      else its latest synthetic figure up to the reference year;
    * an area without any figure: the latest year (up to the reference year) some comparator has."""
    if indicator in POPULATION and pop_year is not None:
        return pop_year
    own = rows[rows["region_code"] == code]
    real = own[is_real(own)]
    if len(real):
        return int(real["year"].max())
    synth = own[own["year"] <= peiljaar]
    if len(synth):
        return int(synth["year"].max())
    other = rows[rows["region_code"].isin(compare) & (rows["year"] <= peiljaar)]
    if len(other):
        real_other = other[is_real(other)]
        return int((real_other if len(real_other) else other)["year"].max())
    return None


def kern_rij(
    rows: pd.DataFrame, indicator: str, code: str, compare: list[str], peiljaar: int, pop_year: int | None
) -> tuple[int | None, dict[str, pd.Series | None]]:
    """(year, {area: its row for that indicator and year, real before synthetic, or None})."""
    rows = rows[rows["indicator"] == indicator]
    year = row_year(rows, indicator, code, compare, peiljaar, pop_year)
    out: dict[str, pd.Series | None] = {c: None for c in compare}
    if year is None:
        return None, out
    at = rows[rows["year"] == year]
    for c in compare:
        r = at[at["region_code"] == c]
        real = r[is_real(r)]
        if len(real):
            out[c] = real.iloc[-1]
        elif (near := nearest_real(rows[rows["region_code"] == c], year)) is not None:
            out[c] = near  # shown with its own year: "17.942.942 (2024)"
        elif len(r):
            out[c] = r.iloc[-1]
    return year, out


def nearest_real(rows: pd.DataFrame, year: int) -> pd.Series | None:
    """The real figure closest in time to ``year`` (the later one on a tie), or None.

    A comparison cell without a real figure in the row's year shows this value with its own year
    rather than "n.b." or a synthetic stand-in: real data we hold beat synthetic data."""
    real = rows[is_real(rows)]
    if real.empty:
        return None
    dist = (real["year"] - year).abs()
    best = real.assign(_d=dist, _later=-real["year"]).sort_values(["_d", "_later"], kind="stable")
    return best.drop(columns=["_d", "_later"]).iloc[0]
