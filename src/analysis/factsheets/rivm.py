"""RIVM health estimates (CBS 50150NED, RIVM via CBS dataderden) on a sheet: which of them the data
hold for an area, and how each compares with the gemeente. Modelled estimates carry a 95% interval;
an area is "hoger"/"lager" than the gemeente only where the two intervals are apart
(:func:`analysis.sources.cbs.margins.compare`), otherwise "niet te onderscheiden"."""

from __future__ import annotations

import pandas as pd

from analysis.factsheets import sections as S
from analysis.factsheets.fmt import fmt_value
from analysis.sources.cbs import margins

RIVM_INDICATORS = (
    "rivm_eenzaam_pct",
    "rivm_lage_veerkracht_pct",
    "rivm_regie_pct",
    "rivm_moeite_rondkomen_pct",
)
SUPPLIER = "RIVM via CBS dataderden"


def _own(ind: pd.DataFrame, code: str) -> pd.DataFrame:
    d = ind[(ind["region_code"] == code) & ind["indicator"].isin(RIVM_INDICATORS)]
    return d[d["value"].notna() & (d["origin"] != "synthetic")]


def rivm_key_indicators(ind: pd.DataFrame, code: str, catalog: dict) -> list[str]:
    """The RIVM estimates the data hold (real figures) for ``code``, in a fixed order."""
    have = set(_own(ind, code)["indicator"])
    return [i for i in RIVM_INDICATORS if i in have and i in catalog]


def _vergelijking(word: str | None, gemeente: str) -> str:
    if word in (margins.HIGHER, margins.LOWER_THAN):
        return f"{word} dan de gemeente {gemeente} (de 95%-intervallen overlappen niet)"
    if word == margins.SAME:
        return f"niet te onderscheiden van de gemeente {gemeente} (de 95%-intervallen overlappen)"
    return f"geen vergelijking met de gemeente {gemeente} mogelijk (geen 95%-interval voor beide)"


def rivm_rows(area) -> tuple[S.RivmRij, ...]:
    """One line per RIVM estimate of the area (its newest year), compared with its gemeente."""
    if area.level == "gemeente":
        return ()
    ind = area.ctx.indicators
    own = _own(ind, area.code)
    out = []
    for i in area.rivm_indicators:
        rows = own[own["indicator"] == i].sort_values("year")
        r = rows.iloc[-1]
        year = int(r["year"])
        unit = area.catalog[i]["unit"]
        iv = margins.interval(ind, area.code, i, year)
        word = margins.compare(ind, area.code, area.gemeente, i, year)
        out.append(
            S.RivmRij(
                label=area.catalog[i]["label"],
                jaar=year,
                waarde=fmt_value(r["value"], unit),
                interval=None if iv is None else f"{fmt_value(iv[1], unit)} tot {fmt_value(iv[2], unit)}",
                vergelijking=_vergelijking(word, area.gemeente_naam),
                bron=f"{r['source_table']} ({SUPPLIER}), {year}",
            )
        )
    return tuple(out)
