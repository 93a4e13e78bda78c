"""The goal fan chart of a fact sheet: observations, forecast with 80%/95% bands and scenarios
(moved out of :mod:`analysis.factsheets.charts` unchanged)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.factsheets.chart_base import (  # noqa: E402
    Chart,
    _figure_html,
    _nl,
    chart_store,
    rc_state,
)
from analysis.factsheets.fmt import plain, unit_nl  # noqa: E402

# --- fan chart ------------------------------------------------------------------------------------

FAN_COLUMNS = [
    "reeks",
    "jaar",
    "waarde",
    "ondergrens_80",
    "bovengrens_80",
    "ondergrens_95",
    "bovengrens_95",
    "interval",
    "voorlopig",
    "eenheid",
]


def fan_table(goal, row: Mapping, fc: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The numbers a fan chart draws: observations, forecast with 80%/95% bands, scenarios, the
    linear goal path (relative goals with a base value) and the target."""
    recs = []

    def add(reeks, jaar, waarde, lo80=np.nan, hi80=np.nan, lo95=np.nan, hi95=np.nan, kind="", prov=False):
        recs.append(
            {
                "reeks": reeks,
                "jaar": int(jaar),
                "waarde": float(waarde),
                "ondergrens_80": float(lo80),
                "bovengrens_80": float(hi80),
                "ondergrens_95": float(lo95),
                "bovengrens_95": float(hi95),
                "interval": kind if isinstance(kind, str) else "",
                "voorlopig": bool(prov),
                "eenheid": unit,
            }
        )

    for r in fc[fc["soort"] == "waarneming"].sort_values("year").itertuples():
        add("waarneming", r.year, r.waarde, prov=bool(r.provisional) if pd.notna(r.provisional) else False)
    for r in fc[fc["soort"] == "prognose"].sort_values("year").itertuples():
        kind = getattr(r, "interval_soort", "gekalibreerd")
        add("prognose", r.year, r.waarde, r.lo80, r.hi80, r.lo95, r.hi95, kind if pd.notna(kind) else "")
    for r in fc[fc["soort"] == "vergelijking"].sort_values("year").itertuples():
        add("ter vergelijking: drift", r.year, r.waarde)
    if "scenario" in fc:
        from analysis.goals.figures import SCENARIO_STYLE

        for name, g in fc[fc["soort"] == "scenario"].groupby("scenario", sort=True):
            label = SCENARIO_STYLE.get(name, (name,))[0]
            for r in g.sort_values("year").itertuples():
                add(label, r.year, r.waarde)
    target = row.get("doelwaarde_berekend")
    base = row.get("basiswaarde")
    if goal.doeltype == "relatief" and base is not None and pd.notna(base) and pd.notna(target):
        add("doelpad (lineair)", goal.basisjaar, base)
        add("doelpad (lineair)", goal.doeljaar, target)
    if target is not None and pd.notna(target):
        add("doel", goal.doeljaar, target)
    return pd.DataFrame(recs, columns=FAN_COLUMNS)


def fan_chart_html(
    goal,
    region: str,
    name: str,
    row: Mapping,
    fc: pd.DataFrame,
    catalog: Mapping[str, Mapping] | None = None,
    headline: bool = False,
) -> Chart:
    """:func:`draw_fan_chart`, reused from the chart store when drawn before with the same inputs."""
    from analysis.config import indicator_catalog

    catalog = catalog if catalog is not None else indicator_catalog()
    parts = (goal, region, name, dict(row), fc, catalog, headline, rc_state())
    return chart_store().get_or_make(
        "waaier", parts, lambda: draw_fan_chart(goal, region, name, row, fc, catalog, headline)
    )


def draw_fan_chart(
    goal,
    region: str,
    name: str,
    row: Mapping,
    fc: pd.DataFrame,
    catalog: Mapping[str, Mapping] | None = None,
    headline: bool = False,
) -> Chart:
    """A goal's fan chart as a :class:`Chart`.

    ``goal``: the :class:`analysis.goals.catalog.Doel`; ``region``/``name``: area code and name;
    ``row``: the goal's row of ``outputs/<GM>/goals/status.parquet`` as a dict; ``fc``: its rows of
    ``prognoses.parquet`` (one goal, one region); ``catalog``: indicator catalogue (default
    ``indicator_catalog()``) for the unit; ``headline``: the municipal poverty headline title.
    The source goes in the caption (not in the image), so no label can overlap it.
    ``Chart.table`` columns: reeks, jaar, waarde, ondergrens/bovengrens 80 and 95, interval
    (gekalibreerd/extrapolatie), voorlopig, eenheid.
    """
    from analysis.config import indicator_catalog
    from analysis.goals.figures import fan_chart

    catalog = catalog if catalog is not None else indicator_catalog()
    unit = catalog.get(goal.indicator, {}).get("unit", "")
    if goal.doeltype == "pariteit":
        unit_txt = f"verschil met gemeente ({unit_nl(unit)})"
    else:
        unit_txt = unit_nl(unit)
    table = fan_table(goal, row, fc, unit)
    fig = fan_chart(goal, region, name, dict(row), fc, headline=headline, source=False)
    obs = table[table["reeks"] == "waarneming"]
    pr = table[table["reeks"] == "prognose"]
    alt = f"Waaiergrafiek voor doel {goal.id} in {name}"
    if len(obs):
        alt += (
            f": waarnemingen {obs['jaar'].min()}-{obs['jaar'].max()}, laatste "
            f"{_nl(obs['waarde'].iloc[-1], unit)} in {obs['jaar'].iloc[-1]}"
        )
    if len(pr):
        last = pr.iloc[-1]
        alt += (
            f"; prognose {last['jaar']}: {_nl(last['waarde'], unit)} (80%-interval "
            f"{_nl(last['ondergrens_80'], unit)} tot {_nl(last['bovengrens_80'], unit)}, "
            f"{last['interval'] or 'gekalibreerd'})"
        )
    doel = table[table["reeks"] == "doel"]
    if len(doel):
        alt += f"; doel {_nl(doel['waarde'].iloc[0], unit)} in {doel['jaar'].iloc[0]}"
    alt += f"; status {row.get('status', 'n.b.')}"
    band = row.get("kans_band")
    if isinstance(band, str) and band:
        alt += f", kans gehaald {band} ({row.get('kans_betekenis', '')})"
    alt += "."
    bron = plain(row.get("bron", "") or "onbekend")
    extra = []
    if not row.get("synthetic") and "voorlopig" not in bron:
        extra.append("definitieve cijfers")
    if "herkomst" not in bron:
        extra.append(
            "herkomst: "
            + ("synthetische invulling" if row.get("synthetic") else "meegeleverde echte publicatie")
        )
    caption = f"Bron: {bron}" + (f"; {'; '.join(extra)}" if extra else "") + f". Eenheid: {unit_txt}."
    return Chart(html=_figure_html(fig, alt, caption, table), table=table)
