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

import numpy as np
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
    return _row_year(_Cols(rows), indicator, code, compare, peiljaar, pop_year)


class _Cols:
    """The columns a key-figure row looks at, as numpy arrays (a sheet selects ~60 cells: plain
    array masks instead of ~50 small pandas selections per row; the rows returned are the same)."""

    def __init__(self, rows: pd.DataFrame):
        self.region = rows["region_code"].to_numpy()
        self.year = rows["year"].to_numpy()
        self.real = is_real(rows).to_numpy(dtype=bool)


def _row_year(
    cols: _Cols, indicator: str, code: str, compare: list[str], peiljaar: int, pop_year: int | None
) -> int | None:
    if indicator in POPULATION and pop_year is not None:
        return pop_year
    own = cols.region == code
    if (real := own & cols.real).any():
        return int(cols.year[real].max())
    if (synth := own & (cols.year <= peiljaar)).any():
        return int(cols.year[synth].max())
    other = np.zeros(len(cols.region), dtype=bool)
    for c in compare:  # (not np.isin: it sorts object arrays, which fails on a missing code)
        other |= cols.region == c
    other &= cols.year <= peiljaar
    if other.any():
        real_other = other & cols.real
        return int(cols.year[real_other if real_other.any() else other].max())
    return None


def kern_rij(
    rows: pd.DataFrame, indicator: str, code: str, compare: list[str], peiljaar: int, pop_year: int | None
) -> tuple[int | None, dict[str, pd.Series | None]]:
    """(year, {area: its row for that indicator and year, real before synthetic, or None})."""
    rows = rows[rows["indicator"] == indicator]
    cols = _Cols(rows)
    year = _row_year(cols, indicator, code, compare, peiljaar, pop_year)
    out: dict[str, pd.Series | None] = {c: None for c in compare}
    if year is None:
        return None, out
    at = cols.year == year
    for c in compare:
        mine = cols.region == c
        if len(pos := np.flatnonzero(mine & at & cols.real)):
            out[c] = rows.iloc[pos[-1]]
        elif (near := _nearest_real_pos(cols.year, mine & cols.real, year)) is not None:
            out[c] = rows.iloc[near]  # shown with its own year: "17.942.942 (2024)"
        elif len(pos := np.flatnonzero(mine & at)):
            out[c] = rows.iloc[pos[-1]]
    return year, out


def nearest_real(rows: pd.DataFrame, year: int) -> pd.Series | None:
    """The real figure closest in time to ``year`` (the later one on a tie), or None.

    A comparison cell without a real figure in the row's year shows this value with its own year
    rather than "n.b." or a synthetic stand-in: real data we hold beat synthetic data."""
    cols = _Cols(rows)
    pos = _nearest_real_pos(cols.year, cols.real, year)
    return None if pos is None else rows.iloc[pos]


def _nearest_real_pos(years: np.ndarray, real: np.ndarray, year: int) -> int | None:
    """Position of the real row closest to ``year``: smallest distance, then the later year, then
    the first in table order."""
    cand = np.flatnonzero(real)
    if not len(cand):
        return None
    return int(min(cand, key=lambda k: (abs(int(years[k]) - year), -int(years[k]), k)))
