"""Selection of the figures a sheet and the overview show (pure pandas, no HTML).

* :func:`bevolking`: the population of an area: the newest real inhabitants figure and the newest
  real households figure, each with its own year, used by the sheet's front page, its key-figure rows
  and the overview, so every page gives the same number.
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
    jaar: int  # year of the inhabitants figure
    inwoners: float
    huishoudens: float | None
    bron: str
    dekking: float | None  # coverage of an aggregated count (< 1: not every buurt counted)
    huishoudens_jaar: int | None = None  # households have their own (newest real) year

    def jaar_van(self, indicator: str) -> int | None:
        return self.huishoudens_jaar if indicator == "huishoudens" else self.jaar


BEVOLKING_COLUMNS = ["jaar", "inwoners", "huishoudens", "huishoudens_jaar", "bron", "dekking"]


def bevolking_tabel(ind: pd.DataFrame) -> pd.DataFrame:
    """Per area: the newest real inhabitants figure and, separately, the newest real households
    figure, each with its own year (a real 2024 inhabitants count is never traded for an older
    year only because households of 2024 are missing). Index: region_code."""
    d = ind[ind["indicator"].isin(POPULATION) & is_real(ind)]
    d = d[d["value"].notna()]
    if d.empty or not (d["indicator"] == "inwoners").any():
        return pd.DataFrame(columns=BEVOLKING_COLUMNS)
    d = d.sort_values(["region_code", "year"], kind="stable")
    newest = d.groupby(["region_code", "indicator"]).tail(1).set_index(["region_code", "indicator"])
    inw = newest.xs("inwoners", level="indicator")
    best = pd.DataFrame(
        {
            "jaar": inw["year"].astype(int),
            "inwoners": inw["value"].astype(float),
            "bron": inw["source_table"].astype(str),
            "dekking": inw["coverage"] if "coverage" in inw else float("nan"),
        }
    )
    hh = newest.xs("huishoudens", level="indicator") if (d["indicator"] == "huishoudens").any() else None
    best["huishoudens"] = hh["value"].reindex(best.index) if hh is not None else float("nan")
    best["huishoudens_jaar"] = hh["year"].reindex(best.index) if hh is not None else float("nan")
    return best[BEVOLKING_COLUMNS]


def bevolking(ind: pd.DataFrame, code: str) -> Bevolking | None:
    t = bevolking_tabel(ind[ind["region_code"] == code])
    if code not in t.index:
        return None
    r = t.loc[code]
    no_hh = pd.isna(r["huishoudens"])
    return Bevolking(
        jaar=int(r["jaar"]),
        inwoners=float(r["inwoners"]),
        huishoudens=None if no_hh else float(r["huishoudens"]),
        bron=str(r["bron"]),
        dekking=None if pd.isna(r["dekking"]) else float(r["dekking"]),
        huishoudens_jaar=None if no_hh else int(r["huishoudens_jaar"]),
    )


def row_year(
    rows: pd.DataFrame, indicator: str, code: str, compare: list[str], peiljaar: int, pop_year: int | None
) -> int | None:
    """The one year a key-figure row shows for every area.

    * inhabitants and households: the year of that figure on the front page (``pop_year`` is the
      year for this indicator);
    * otherwise the area's own latest REAL figure (any year: a real 2025 WOZ beats a synthetic 2024),
      else its latest synthetic figure up to the reference year;
    * an area without any figure: the latest year (up to the reference year) some comparator has."""
    if indicator in POPULATION and pop_year is not None:
        return pop_year
    region = rows["region_code"].to_numpy()
    years = rows["year"].to_numpy()
    real = is_real(rows).to_numpy()
    own = region == code
    if (own & real).any():
        return int(years[own & real].max())
    if (synth := own & (years <= peiljaar)).any():
        return int(years[synth].max())
    other = rows["region_code"].isin(compare).to_numpy() & (years <= peiljaar)
    if other.any():
        real_other = other & real
        return int(years[real_other if real_other.any() else other].max())
    return None


def kern_rij(
    rows: pd.DataFrame, indicator: str, code: str, compare: list[str], peiljaar: int, pop_year: int | None
) -> tuple[int | None, dict[str, pd.Series | None]]:
    """(year, {area: its row for that indicator and year, real before synthetic, or None}).

    The rows are chosen on plain arrays (a sheet asks this for every key figure and comparison
    area); each cell is the frame's own row, as :func:`nearest_real` and ``.iloc`` give it."""
    rows = rows[rows["indicator"] == indicator]
    year = row_year(rows, indicator, code, compare, peiljaar, pop_year)
    out: dict[str, pd.Series | None] = {c: None for c in compare}
    if year is None:
        return None, out
    region = rows["region_code"].to_numpy()
    years = rows["year"].to_numpy()
    real = is_real(rows).to_numpy()
    for c in compare:
        own = (region == c).nonzero()[0]
        at = own[years[own] == year]
        at_real = at[real[at]]
        if len(at_real):
            out[c] = rows.iloc[at_real[-1]]
        elif (near := _nearest_real_pos(own[real[own]], years, year)) is not None:
            out[c] = rows.iloc[near]  # shown with its own year: "17.942.942 (2024)"
        elif len(at):
            out[c] = rows.iloc[at[-1]]
    return year, out


def _nearest_real_pos(positions, years, year: int) -> int | None:
    """:func:`nearest_real` on positions: the closest year, the later one on a tie, the first row
    of that year (the stable sort of :func:`nearest_real`)."""
    if not len(positions):
        return None
    return min(positions, key=lambda k: (abs(years[k] - year), -years[k]))


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
