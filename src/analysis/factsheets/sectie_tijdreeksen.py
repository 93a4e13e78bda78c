"""Tijdreeksen: the "Ontwikkeling" chart of the series indicators."""

from __future__ import annotations

from markupsafe import Markup

from analysis.factsheets import sections as S
from analysis.factsheets.fmt import fmt_value
from analysis.factsheets.gebied import SERIES_INDICATORS, Gebied


def build(area: Gebied) -> S.Tijdreeksen:
    return S.Tijdreeksen(figuur=_series_figure(area))


def _series_figure(area: Gebied) -> Markup | None:
    """The "Ontwikkeling" chart (analysis.factsheets.charts.series_chart) with its table."""
    from analysis.factsheets.charts import series_chart

    if area.series[area.series["region_code"] == area.code].empty:
        return None
    areas = {
        "gebied": area.code,
        "wijk": area.wijk,
        "gemeente": area.gemeente if area.gemeente != area.code else None,
        "regio": "DS00" if "DS00" in area.compare else None,
        "nederland": "NL00" if "NL00" in area.compare else None,
    }
    codes = [c for c in areas.values() if c]
    chart = series_chart(
        area.series[area.series["region_code"].isin(codes)],
        areas,
        {c: area.name_of(c) for c in codes},
        SERIES_INDICATORS,
        area.catalog,
    )
    return Markup(chart.html)


def _trend_phrase(area: Gebied, ind: str) -> str:
    s = area.series[(area.series["region_code"] == area.code) & (area.series["indicator"] == ind)]
    s = s.sort_values("year")
    if len(s) < 2:
        return f"{area.catalog[ind]['label']}: geen reeks"
    unit = area.catalog[ind]["unit"]
    return (
        f"{area.catalog[ind]['label']} van {fmt_value(s['value'].iloc[0], unit)} "
        f"naar {fmt_value(s['value'].iloc[-1], unit)}"
    )
