"""The synthetic banner shows as soon as ANY figure on the page is synthetic (issue 23, item 5).

Tested on the rendered HTML (what a reader sees), not on internals: one page where only some of the
area's indicator rows are synthetic, one where only some of its goal rows are, and one with none.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from analysis.figures import SYNTHETIC_STAMP

AREA = "BU06420305"  # Planetenbuurt, in focus area FG09 (goal rows exist for it)
BANNER = '<div class="banner-synthetic" role="alert">'


@pytest.fixture(scope="module")
def ctx(analysed):
    from analysis.factsheets.context import load_context

    c = load_context(analysed)
    scores = c.scores.assign(synthetic_inputs=False)  # the score never decides in these tests
    return dataclasses.replace(c, scores=scores)


def _kop(ctx, indicators=None, goals=None) -> str:
    from analysis.factsheets.sheet import Sheet

    c = dataclasses.replace(
        ctx,
        indicators=ctx.indicators if indicators is None else indicators,
        goals=ctx.goals if goals is None else goals,
    )
    return Sheet(c, AREA).html("kop")


def _real_goals(ctx) -> pd.DataFrame:
    return ctx.goals.assign(synthetic=False)


def test_banner_when_only_some_indicator_rows_are_synthetic(ctx):
    ind = ctx.indicators
    own = ind["region_code"] == AREA
    assert (ind.loc[own, "origin"] == "synthetic").any() and (ind.loc[own, "origin"] != "synthetic").any()
    html = _kop(ctx, goals=_real_goals(ctx))
    assert BANNER in html and SYNTHETIC_STAMP in html


def test_banner_when_only_some_goal_rows_are_synthetic(ctx):
    ind = ctx.indicators.assign(origin=ctx.indicators["origin"].replace("synthetic", "snapshot"))
    goals = _real_goals(ctx)
    from analysis.factsheets.sheet import Sheet

    regions = Sheet(ctx, AREA).goal_regions
    mine = goals.index[goals["region_code"].isin(regions)]
    assert len(mine) >= 2
    goals.loc[mine[:1], "synthetic"] = True  # one synthetic goal row among real ones
    assert BANNER in _kop(ctx, indicators=ind, goals=goals)


def test_no_banner_when_nothing_is_synthetic(ctx):
    ind = ctx.indicators.assign(origin=ctx.indicators["origin"].replace("synthetic", "snapshot"))
    assert BANNER not in _kop(ctx, indicators=ind, goals=_real_goals(ctx))
