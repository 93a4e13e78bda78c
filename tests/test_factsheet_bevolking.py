"""Population on the sheets (issue 22 items 2 and 10): the newest real inhabitants figure and the
newest real households figure, each with its own year; never an older inhabitants year only because
the newest year has no households."""

from __future__ import annotations

import pandas as pd

from analysis.factsheets.fmt import nl_number
from tests.test_factsheets import visible_text


def _rows(code, recs):
    return pd.DataFrame(
        [
            {"region_code": code, "indicator": i, "year": y, "value": v, "origin": o, "source_table": t}
            for i, y, v, o, t in recs
        ]
    )


def test_newest_inhabitants_and_households_each_with_their_own_year():
    from analysis.factsheets.cijfers import bevolking

    ind = _rows(
        "GM0001",
        [
            ("inwoners", 2017, 1000.0, "snapshot", "83765NED"),
            ("huishoudens", 2017, 400.0, "snapshot", "83765NED"),
            ("inwoners", 2023, 1100.0, "snapshot", "85618NED"),
            ("huishoudens", 2023, 450.0, "snapshot", "85618NED"),
            ("inwoners", 2024, 1200.0, "snapshot", "85984NED"),  # no households in 2024
            ("inwoners", 2025, 9999.0, "synthetic", "synthetisch"),  # synthetic never counts here
        ],
    )
    pop = bevolking(ind, "GM0001")
    assert (pop.jaar, pop.inwoners, pop.bron) == (2024, 1200.0, "85984NED")
    assert (pop.huishoudens_jaar, pop.huishoudens) == (2023, 450.0)
    assert pop.jaar_van("inwoners") == 2024 and pop.jaar_van("huishoudens") == 2023
    only = bevolking(ind[ind["indicator"] == "inwoners"], "GM0001")
    assert only.huishoudens is None and only.huishoudens_jaar is None and only.jaar == 2024


def test_gemeente_sheet_front_page_shows_the_newest_real_inhabitants(analysed):
    from analysis.factsheets.sheet import Sheet, load_context

    ctx = load_context(analysed)
    ind = ctx.indicators
    gm = "GM0642"
    real = ind[(ind.region_code == gm) & (ind.origin != "synthetic")]
    inw = real[real.indicator == "inwoners"].sort_values("year").iloc[-1]
    hh = real[real.indicator == "huishoudens"].sort_values("year").iloc[-1]
    assert inw.year > hh.year  # the bundled data: 2024 inhabitants (KWB 2024), households up to 2023
    text = visible_text(Sheet(ctx, gm).samenvatting())
    assert f"woonden in {inw.year} {nl_number(inw.value)} mensen." in text
    assert f"Het aantal huishoudens was {nl_number(hh.value)} in {hh.year}." in text
