"""RIVM 50150NED health estimates on the buurt sheet (issue 22 / 26): shown when the data hold them,
"hoger/lager dan de gemeente" only where the 95% intervals are apart, else "niet te onderscheiden";
source 50150NED (RIVM via CBS dataderden) with its year. No network: rows are planted in the
processed indicator table of the offline build."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from tests.test_factsheets import visible_text

BUURT, GM = "BU06420101", "GM0642"
# (estimate, lower, upper) per region and indicator, year 2022
PLANTED = {
    (BUURT, "rivm_eenzaam_pct"): (61.0, 56.0, 66.0),  # apart from the gemeente: hoger
    (GM, "rivm_eenzaam_pct"): (45.0, 43.0, 47.0),
    (BUURT, "rivm_lage_veerkracht_pct"): (30.0, 25.0, 35.0),  # overlaps: niet te onderscheiden
    (GM, "rivm_lage_veerkracht_pct"): (31.0, 29.0, 33.0),
    (BUURT, "rivm_regie_pct"): (60.0, 55.0, 64.0),  # apart, below: lager
    (GM, "rivm_regie_pct"): (70.0, 68.0, 72.0),
}


def _planted(ind: pd.DataFrame) -> pd.DataFrame:
    proto = ind[(ind["region_code"] == BUURT) & (ind["origin"] != "synthetic")].iloc[0]
    rows = []
    for (code, i), vals in PLANTED.items():
        for suffix, v in zip(("", "_ondergrens", "_bovengrens"), vals, strict=True):
            r = proto.copy()
            r["region_code"], r["indicator"], r["year"], r["value"] = code, i + suffix, 2022, v
            r["origin"], r["source_table"], r["provisional"] = "cbs", "50150NED", False
            if "level" in r.index:
                r["level"] = "buurt" if code == BUURT else "gemeente"
            if "coverage" in r.index:
                r["coverage"] = float("nan")
            rows.append(r)
    return pd.concat([ind, pd.DataFrame(rows)], ignore_index=True)


@pytest.fixture(scope="module")
def ctx(analysed):
    from analysis.factsheets.sheet import load_context

    return load_context(analysed)


def test_rivm_estimates_appear_with_interval_comparison_and_source(ctx):
    from analysis.factsheets.sheet import Sheet

    planted = dataclasses.replace(ctx, indicators=_planted(ctx.indicators))
    text = visible_text(Sheet(planted, BUURT).kerncijfers())
    assert "Gezondheid: schattingen van het RIVM" in text
    eenzaam = "Eenzaam (18+, RIVM-schatting): 61,0% (95%-interval 56,0% tot 66,0%) in 2022"
    assert f"{eenzaam}; hoger dan de gemeente" in text
    assert "Lage veerkracht (18+, RIVM-schatting): 30,0%" in text
    assert "in 2022; niet te onderscheiden van de gemeente" in text
    assert "Matig of veel regie over het eigen leven (18+, RIVM-schatting): 60,0%" in text
    assert "in 2022; lager dan de gemeente" in text
    assert text.count("Bron: 50150NED (RIVM via CBS dataderden), 2022.") == 3
    # no bounds as rows; the 4th indicator (not planted) is absent
    assert "ondergrens" not in text and "Moeite met rondkomen" not in text
    # without RIVM data: no RIVM block (the offline build has none)
    assert "RIVM" not in visible_text(Sheet(ctx, BUURT).kerncijfers())
