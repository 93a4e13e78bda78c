"""Kaart: the locator map (a base map rasterised once per process, the area drawn on top)."""

from __future__ import annotations

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
from markupsafe import Markup

from analysis.factsheets import sections as S
from analysis.factsheets.context import Context, _signature
from analysis.factsheets.fmt import figure_html
from analysis.factsheets.gebied import Gebied

MAP_SIZE, MAP_DPI = (6, 4.2), 96
_BASEMAP: dict[tuple, tuple] = {}


def has_geometry(regions: gpd.GeoDataFrame, code: str | None = None) -> bool:
    """Whether the regions table has polygons (for ``code``; national runs may have none)."""
    if "geometry" not in regions or regions.geometry is None:
        return False
    g = regions.geometry if code is None else regions.loc[regions["region_code"] == code].geometry
    return bool(len(g)) and bool((g.notna() & ~g.is_empty).any())


def _locator_axes(ctx: Context):
    """A figure whose background is the pre-rendered municipal base map (drawn once per process).

    The base layers (all buurten, wijk borders, focus outlines) are identical on every sheet, so
    they are rasterised once and placed pixel-exact with ``figimage``; only the highlighted area is
    drawn per sheet, on axes with the same position and limits.
    """
    key = _signature(ctx.paths)
    if key not in _BASEMAP:
        reg = ctx.regions
        fig, ax = plt.subplots(figsize=MAP_SIZE, dpi=MAP_DPI)
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
        reg[reg["level"] == "buurt"].plot(ax=ax, color="#e5e5e5", edgecolor="white", linewidth=0.4)
        reg[reg["level"] == "wijk"].boundary.plot(ax=ax, color="#969696", linewidth=0.6)
        reg[(reg["level"] == "focusgebied") & (reg["region_code"] != "FG00")].boundary.plot(
            ax=ax, color="black", linewidth=0.8, linestyle="--"
        )
        ax.set_axis_off()
        fig.canvas.draw()
        _BASEMAP.clear()
        _BASEMAP[key] = (
            np.asarray(fig.canvas.buffer_rgba()).copy(),
            ax.get_xlim(),
            ax.get_ylim(),
            ax.get_position().bounds,
        )
        plt.close(fig)
    raster, xlim, ylim, pos = _BASEMAP[key]
    fig = plt.figure(figsize=MAP_SIZE, dpi=MAP_DPI)
    fig.figimage(raster, 0, 0, zorder=-1)
    ax = fig.add_axes(pos)
    ax.set_axis_off()

    def pin() -> None:  # geopandas sets an equal aspect and autoscales: restore the base map's frame
        ax.set_aspect("auto")
        ax.set_position(pos)
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)

    return fig, ax, pin


def build(area: Gebied) -> S.Kaart:
    reg = area.ctx.regions
    if not has_geometry(reg[reg["level"] == "buurt"]) or not has_geometry(reg, area.code):
        return S.Kaart(
            figuur=None,
            melding=(
                "Voor dit gebied is geen kaart beschikbaar: de gegevens bevatten geen gebiedsgrenzen "
                "voor dit gebied."
            ),
        )
    alt = (
        f"Kaart van de gemeente {area.gemeente_naam} met {area.name} in donkerblauw gemarkeerd; "
        "wijkgrenzen in grijs" + (", focusgebieden met een zwarte stippellijn." if area.programme else ".")
    )
    cap = "Bron: CBS/Kadaster Wijk- en buurtkaart 2023 (PDOK), CC BY 4.0" + (
        "; focusgebieden: afbakening van het programma door de gemeente" if area.programme else ""
    )
    from analysis.factsheets.chart_base import chart_store, rc_state

    def draw() -> str:
        fig, ax, pin = _locator_axes(area.ctx)
        me = reg[reg["region_code"] == area.code]
        if area.level != "gemeente":
            me.plot(ax=ax, color="#08519c", alpha=0.85)
        else:
            me.boundary.plot(ax=ax, color="#08519c", linewidth=2)
        pin()
        return figure_html(fig, alt, cap, fmt="png")

    # reused between runs: the map depends only on the regions, the area and the texts
    parts = (_regions_key(reg), area.code, area.level, alt, cap, MAP_SIZE, MAP_DPI, rc_state())
    return S.Kaart(figuur=Markup(chart_store().get_or_make("kaart", parts, draw)), melding=None)


_REGIONS_KEY: list = []  # (regions table, its digest): hashed once per loaded table


def _regions_key(reg: gpd.GeoDataFrame) -> str:
    from analysis.reuse import digest

    if not _REGIONS_KEY or _REGIONS_KEY[0][0] is not reg:
        _REGIONS_KEY[:] = [(reg, digest(reg))]
    return _REGIONS_KEY[0][1]
