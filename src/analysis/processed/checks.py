"""Input checks of the build that look across sources: the programme's focus areas against this
municipality's buurten, and plausible values of every real figure (CBS, snapshot, local, partner).

Each check raises one :class:`InputError` in plain Dutch naming the file or table, the column, the
area and the bad value; the build stops before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import CONFIG_DIR
from analysis.errors import InputError

# Plausible ranges of a real figure, per indicator kind (and unit for rates): a value outside is an
# input error (a wrong column, unit or export), never a figure. `range: [min, max]` in
# config/indicators.yaml overrides the default of one indicator. Missing values stay allowed.
COUNT_MAX = 25_000_000  # more than everyone in the Netherlands: no count of ours can exceed it
KIND_RANGES: dict[str, tuple[float, float]] = {
    "count": (0.0, COUNT_MAX),
    "score": (-3.0, 3.0),  # SES-WOA and Leefbaarometer deviation scores lie well within +-1.5
    "bound": (-3.0, 3.0),
    "mean": (0.0, 1e9),
    "level": (-1e9, 1e9),
}
RATE_RANGES: dict[str, tuple[float, float]] = {"%": (0.0, 100.0), "per 1000": (0.0, 1000.0)}


def plausible_range(spec: dict[str, Any]) -> tuple[float, float]:
    """[min, max] a real value of this indicator must lie in (its `range`, else the kind's default)."""
    if spec.get("range") is not None:
        return tuple(spec["range"])
    if spec["unit"] in RATE_RANGES and spec["kind"] in ("rate", "bound"):  # a % bound is a %
        return RATE_RANGES[spec["unit"]]
    if spec["kind"] == "rate":
        return (-1e9, 1e9)
    return KIND_RANGES[spec["kind"]]


# A focus-area name is a page title, a file name part and a table cell: longer than this is an error
# in the file (a pasted text, a shifted column), not a name.
MAX_FOCUS_NAME = 120


def check_focus(focus: pd.DataFrame, own_buurten: set[str], path: Path, gemeente: str) -> None:
    """Every row of focusgebieden.csv (as read, index = data line - 2) names a buurt of ``gemeente``
    and a focus-area name of at most MAX_FOCUS_NAME characters."""
    names = focus["focusgebied_naam"].astype(str)
    long = names.str.len() > MAX_FOCUS_NAME
    if long.any():
        i = long.idxmax()
        raise InputError(
            f"{path}: kolom 'focusgebied_naam', regel {int(i) + 2}: een naam van {len(names[i])} tekens "
            f"is te lang (hoogstens {MAX_FOCUS_NAME}): {names[i][:40]!r}..."
        )
    other = ~focus["buurtcode"].isin(own_buurten)
    if other.any():
        i = other.idxmax()
        r = focus.loc[i]
        raise InputError(
            f"{path}: kolom 'buurtcode', regel {int(i) + 2}: {r['buurtcode']} ({r['focusgebied_code']}) "
            f"is geen buurt van gemeente {gemeente} (een focusgebied bestaat uit eigen buurten)"
        )


def _number(x: float) -> str:
    return f"{x:.15g}".replace(".", ",")  # 1e12 -> '1000000000000', as written in the file


def check_plausible(rows: pd.DataFrame, catalog: dict[str, dict[str, Any]], where: dict[str, Path]) -> None:
    """Every real value finite and within its indicator's plausible range
    (:func:`plausible_range`); missing values are allowed.

    ``where``: origin -> the folder its files come from (named in the message with the source table)."""
    if rows.empty:
        return
    known = rows["indicator"].map(lambda i: i in catalog)
    r = rows[known]
    bounds = {i: plausible_range(catalog[i]) for i in r["indicator"].unique()}
    lo = r["indicator"].map(lambda i: bounds[i][0]).to_numpy(float)
    hi = r["indicator"].map(lambda i: bounds[i][1]).to_numpy(float)
    v = pd.to_numeric(r["value"], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(v) & (~np.isfinite(v) | (v < lo) | (v > hi))
    if not bad.any():
        return
    k = int(np.argmax(bad))
    row = r.iloc[k]
    spec = catalog[row["indicator"]]
    folder = where.get(str(row["origin"]), "")
    own = "range" in spec
    rule = f"range in {CONFIG_DIR / 'indicators.yaml'}" if own else f"standaard voor soort {spec['kind']}"
    n_bad = int(bad.sum())
    more = f"; nog {n_bad - 1} andere waarde(n) buiten bereik" if n_bad > 1 else ""
    raise InputError(
        f"{folder} ({row['source_table']}): indicator '{row['indicator']}', gebied {row['region_code']}, "
        f"jaar {row['year']}: waarde {_number(v[k])} is niet plausibel (toegestaan {_number(lo[k])} "
        f"tot {_number(hi[k])}, {spec['unit']}; {rule}){more}"
    )
