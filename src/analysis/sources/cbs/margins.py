"""Comparing modelled estimates that carry a 95% interval (RIVM 50150NED): an area is "hoger" or
"lager" than another only where the intervals do not overlap; otherwise the difference is not
distinguishable. Bounds are the indicators ``<indicator>_ondergrens`` / ``<indicator>_bovengrens``."""

from __future__ import annotations

import math

import pandas as pd

LOWER, UPPER = "_ondergrens", "_bovengrens"
HIGHER, LOWER_THAN, SAME = "hoger", "lager", "niet te onderscheiden"


def interval(long: pd.DataFrame, region: str, indicator: str, year: int) -> tuple[float, float, float] | None:
    """(estimate, lower bound, upper bound) of one region, indicator and year; None when any is absent."""
    sel = long[(long["region_code"] == region) & (long["year"] == year)].set_index("indicator")["value"]
    vals = [sel.get(indicator), sel.get(indicator + LOWER), sel.get(indicator + UPPER)]
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in vals):
        return None
    return float(vals[0]), float(vals[1]), float(vals[2])


def compare(long: pd.DataFrame, region: str, reference: str, indicator: str, year: int) -> str | None:
    """ "hoger" / "lager" when the 95% intervals of ``region`` and ``reference`` are apart, else
    "niet te onderscheiden"; None when either has no estimate with both bounds."""
    a, b = interval(long, region, indicator, year), interval(long, reference, indicator, year)
    if a is None or b is None:
        return None
    if a[1] > b[2]:
        return HIGHER
    if a[2] < b[1]:
        return LOWER_THAN
    return SAME
