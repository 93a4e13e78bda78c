"""The long indicator format shared by every source.

One row per region, year and indicator, carrying its unit, the source table, its origin and
whether the figure is provisional.
"""

from __future__ import annotations

import pandas as pd

from analysis.config import indicator_catalog

COLUMNS = [
    "region_code",
    "level",
    "year",
    "indicator",
    "value",
    "unit",
    "source_table",
    "origin",
    "provisional",
]
ORIGINS = ("cbs", "snapshot", "local", "synthetic")
# When two sources give the same region, year and indicator, the first origin here wins.
ORIGIN_PRIORITY = {o: i for i, o in enumerate(ORIGINS)}
LEVELS = ("land", "regio", "gemeente", "wijk", "buurt", "focusgebied")


def level_of(code: str) -> str:
    """Region level from a CBS-style code (NL00, DS00 Drechtsteden, GM…, WK…, BU…, FG…)."""
    prefix = code[:2]
    return {
        "NL": "land",
        "DS": "regio",
        "GM": "gemeente",
        "WK": "wijk",
        "BU": "buurt",
        "FG": "focusgebied",
    }.get(prefix, "onbekend")


def to_long(
    wide: pd.DataFrame,
    *,
    region_col: str,
    year: int | str | None,
    columns: dict[str, str],
    source_table: str,
    origin: str,
    provisional: bool = False,
    year_col: str | None = None,
) -> pd.DataFrame:
    """Melt a wide frame (``columns`` maps source column -> indicator) into the long format."""
    catalog = indicator_catalog()
    keep = [region_col] + ([year_col] if year_col else []) + list(columns)
    df = wide[keep].rename(columns=columns)
    id_vars = [region_col] + ([year_col] if year_col else [])
    long = df.melt(id_vars=id_vars, var_name="indicator", value_name="value")
    long = long.rename(columns={region_col: "region_code"})
    if year_col:
        long = long.rename(columns={year_col: "year"})
    else:
        long["year"] = year
    long["region_code"] = long["region_code"].astype(str).str.strip()
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    long = long.dropna(subset=["value"])
    long["level"] = long["region_code"].map(level_of)
    long["unit"] = long["indicator"].map(lambda i: catalog.get(i, {}).get("unit", ""))
    long["source_table"] = source_table
    long["origin"] = origin
    long["provisional"] = bool(provisional)
    long["year"] = long["year"].astype(int)
    return long[COLUMNS].reset_index(drop=True)
