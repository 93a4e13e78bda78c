"""Leefbaarometer 2.0 for every wijk and gemeente of the national run: the real figures a national sheet
leads with (issue 25 item 2).

The class (1-9, higher = better) of 2002, 2008, 2012, 2014 and 2016 and its national percentile among
all areas of the same level in that year (share with a lower class, ties counted half: the rule of
:func:`analysis.resilience.national.percentile`, computed here in one ranked pass for the whole
country). Written per municipality in the shape the sheet reads
(``outputs/<GM>/resilience/nationaal_lbm2_niveau.parquet``, maat ``klasse (1-9)``). The LBM 2.0 meting
2016 uses the area codes of 2016: a 2024 code that did not exist then has no row (the sheet says so).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.national.store import gemeente_of
from analysis.resilience.national import LABEL, ORIGIN
from analysis.sources import snapshot

FILE = "lbm2_klassen.parquet"
SHEET_FILE = "nationaal_lbm2_niveau"  # outputs/<GM>/resilience/<SHEET_FILE>.parquet, read by the sheet
MAAT = "klasse (1-9)"


def lbm2_classes(snap: Path) -> pd.DataFrame:
    """Every wijk's and gemeente's LBM 2.0 class per year with its national percentile."""
    c = snapshot.lbm2_national_classes(Path(snap)).rename(columns={"klasse": "value"})
    c = c.dropna(subset=["value", "level"]).reset_index(drop=True)
    grp = c.groupby(["level", "year"])["value"]
    # share below + half the ties = (average rank - 1/2) / n
    c["percentiel_nl"] = 100 * (grp.rank(method="average") - 0.5) / grp.transform("size")
    c["mediaan_nl"] = grp.transform("median")
    c["n_nl"] = grp.transform("size").astype(int)
    c = c.assign(
        maat=MAAT,
        dimensie="totaal",
        bron=snapshot.LBM2_SOURCE,
        origin=ORIGIN,
        synthetic=False,
        label=LABEL,
    )
    c["gemeente"] = gemeente_of(c["region_code"])
    cols = ["region_code", "level", "year", "maat", "dimensie", "value", "percentiel_nl", "mediaan_nl"]
    cols += ["n_nl", "bron", "origin", "synthetic", "label", "gemeente"]
    return c[cols].sort_values(["level", "region_code", "year"]).reset_index(drop=True)


def of_gemeente(classes: pd.DataFrame, gemeente: str) -> pd.DataFrame:
    """The rows of one municipality and its wijken (the sheet's table), without the key column."""
    rows = classes[classes["gemeente"] == gemeente].drop(columns="gemeente")
    return rows.reset_index(drop=True)
