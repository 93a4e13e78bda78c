"""Real first on a national sheet (issue 25 item 2): the lines a sheet of the national run leads its
verdict with, and the rule that no signal computed from synthetic inputs alone is shown.

* :func:`lbm2_zin`: the Leefbaarometer 2.0 class and national percentile of 2016 and of 2002 (real,
  BZK meting 2016); on a national sheet an area whose code the 2016 meting does not know says so.
* :func:`echte_cijfers_zin`: the area's own real key figures, each with its year and table.
* :func:`alleen_synthetisch`: the score row's flag (national scores only, ``analysis.national.index``);
  such a sheet shows :data:`analysis.national.index.NEEDS_REAL_DATA_SENTENCE` instead of a signal.

The municipal run has no ``alleen_synthetisch`` column and no national scope, so its sheets are as before.
"""

from __future__ import annotations

import pandas as pd

from analysis.factsheets.fmt import fmt_value, nl_number, plain
from analysis.factsheets.gebied import Gebied

NATIONAL = "nederland"  # analysis.national.store.NATIONAL: the scope in a national view's build manifest
# the "In het kort" cell under "Veerkrachtsignaal": the full sentence stands in the verdict above it
NIET_GETOOND = "Niet getoond: al zijn invoer is synthetisch (zie Oordeel in het kort)."


def is_national(area: Gebied) -> bool:
    return (area.ctx.manifest or {}).get("scope") == NATIONAL


def row_alleen_synthetisch(score) -> bool:
    """A score row's flag "every input of the signal is synthetic" (numpy or Python bool; a missing
    row or value is False). Never test it with ``is True``: a numpy bool is not ``True``."""
    v = None if score is None else score.get("alleen_synthetisch")
    return bool(v) if v is not None and not pd.isna(v) else False


def alleen_synthetisch(area: Gebied) -> bool:
    """Every input of the area's signal is synthetic (a national score row's flag)."""
    return row_alleen_synthetisch(area.score)


def vraagt_echte_cijfers(area: Gebied) -> str | None:
    """The one sentence instead of a signal from synthetic inputs alone; None when there is a finding."""
    if not alleen_synthetisch(area):
        return None
    from analysis.national.index import NEEDS_REAL_DATA_SENTENCE

    return NEEDS_REAL_DATA_SENTENCE


def lbm2_zin(area: Gebied) -> str | None:
    """'Leefbaarometer 2.0 (echte cijfers, ...): klasse 7 in 2016, percentiel 48 onder alle Nederlandse
    wijken (hoger = beter; 2002: klasse 6, percentiel 29)'."""
    nat = area.ctx.national
    if area.level not in ("wijk", "gemeente"):
        return None
    k = None
    if nat is not None:
        k = nat[(nat["region_code"] == area.code) & (nat["maat"] == "klasse (1-9)")].sort_values("year")
    what = "wijken" if area.level == "wijk" else "gemeenten"
    if k is None or not len(k):
        if not is_national(area):
            return None
        return (
            f"Leefbaarometer 2.0 (echte cijfers, Ministerie van BZK, meting 2016): geen cijfer voor "
            f"{area.code}; de meting 2016 kent de {what} met hun indeling van toen, en deze code niet."
        )
    first, last = k.iloc[0], k.iloc[-1]
    return (
        f"Leefbaarometer 2.0 (echte cijfers, Ministerie van BZK, meting 2016): klasse "
        f"{int(last['value'])} in {int(last['year'])}, percentiel "
        f"{nl_number(last['percentiel_nl'], 0)} onder alle Nederlandse {what} (hoger = beter; "
        f"{int(first['year'])}: klasse {int(first['value'])}, percentiel "
        f"{nl_number(first['percentiel_nl'], 0)})"
    )


def echte_cijfers_zin(area: Gebied) -> str | None:
    """'Echte cijfers over Walburg: inwoners 9.715 (2024; 85984NED); huishoudens 4.445 (2017; ...).'"""
    parts = []
    for i in area.key_indicators:
        _year, cells = area.key[i]
        r = cells.get(area.code)
        if r is None or r["origin"] == "synthetic" or pd.isna(r["value"]):
            continue
        spec = area.catalog.get(i, {})
        label = spec.get("label", i)
        label = label[:1].lower() + label[1:] if label[1:2].islower() else label
        value = fmt_value(float(r["value"]), spec.get("unit", ""))
        parts.append(f"{label} {value} ({int(r['year'])}; {plain(str(r['source_table']))})")
    if not parts:
        return None
    return f"Echte cijfers over {area.name}: " + "; ".join(parts) + "."


def echte_regels(area: Gebied) -> tuple[str, ...]:
    """The real lines a national sheet's verdict leads with (empty on a municipal sheet)."""
    if not is_national(area):
        return ()
    return tuple(z for z in (lbm2_zin(area), echte_cijfers_zin(area)) if z)
