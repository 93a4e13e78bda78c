"""The areas of a municipality's build (regions.gpkg): buurten, wijken, focus areas, the gemeente.

Moved out of :mod:`analysis.processed.build` unchanged (module size); see :func:`build_regions`.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

# the columns of regions.gpkg besides the geometry (the national set has gemeente_code instead)
REGION_ATTRIBUTES = [
    "region_code",
    "level",
    "name",
    "parent_code",
    "wijk_code",
    "focusgebied",
    "inwoners",
    "mapping",
]


def build_regions(
    buurten: gpd.GeoDataFrame,
    focus: pd.DataFrame,
    gemeente: gpd.GeoDataFrame,
    code: str,
    wijk_names: dict[str, str],
) -> gpd.GeoDataFrame:
    fg_of = dict(zip(focus["buurtcode"], focus["focusgebied_code"], strict=True))
    b = gpd.GeoDataFrame(
        {
            "region_code": buurten["buurtcode"],
            "level": "buurt",
            "name": buurten["buurtnaam"],
            "parent_code": buurten["wijkcode"],
            "wijk_code": buurten["wijkcode"],
            "focusgebied": buurten["buurtcode"].map(fg_of),
            "inwoners": buurten["aantalInwoners"].astype(float),
            "mapping": None,
        },
        geometry=buurten.geometry,
        crs=buurten.crs,
    )
    w = b.dissolve(by="wijk_code", aggfunc={"inwoners": "sum"}).reset_index()
    w = w.assign(
        region_code=w["wijk_code"],
        level="wijk",
        name=w["wijk_code"].map(wijk_names).fillna(w["wijk_code"]),
        parent_code=code,
        focusgebied=None,
        mapping=None,
    )
    fb = b[b["focusgebied"].notna()]
    f = _focus_regions(b, fb, focus, code) if len(fb) else None
    g_geom = gemeente.loc[gemeente["gemeentecode"] == code, "geometry"]
    g = gpd.GeoDataFrame(
        {
            "region_code": [code],
            "level": ["gemeente"],
            "name": [str(buurten["gemeentenaam"].iloc[0])],
            "parent_code": ["NL00"],
            "wijk_code": [None],
            "focusgebied": [None],
            "inwoners": [float(b["inwoners"].sum())],
            "mapping": [None],
        },
        geometry=[g_geom.iloc[0] if len(g_geom) else b.union_all()],
        crs=b.crs,
    )
    cols = [*REGION_ATTRIBUTES, "geometry"]
    parts = [g[cols], w[cols]] + ([f[cols]] if f is not None else []) + [b[cols]]
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=b.crs)


def _focus_regions(
    b: gpd.GeoDataFrame, fb: gpd.GeoDataFrame, focus: pd.DataFrame, code: str
) -> gpd.GeoDataFrame:
    fmeta = focus.groupby("focusgebied_code").agg(
        name=("focusgebied_naam", "first"),
        mapping=("mapping", lambda s: "approximate" if (s == "approximate").any() else "exact"),
    )
    f = fb.dissolve(by="focusgebied", aggfunc={"inwoners": "sum"}).reset_index()
    # FG00: all focus buurten together (the programme's goals are mostly set for them jointly)
    f_all = gpd.GeoDataFrame(
        {"focusgebied": ["FG00"], "inwoners": [fb["inwoners"].sum()]},
        geometry=[fb.union_all()],
        crs=b.crs,
    )
    f = pd.concat([f_all, f], ignore_index=True)
    fmeta.loc["FG00"] = [
        "Alle focusbuurten samen",
        "approximate" if (fmeta["mapping"] == "approximate").any() else "exact",
    ]
    f = f.assign(
        region_code=f["focusgebied"],
        level="focusgebied",
        name=f["focusgebied"].map(fmeta["name"]),
        parent_code=code,
        wijk_code=None,
        mapping=f["focusgebied"].map(fmeta["mapping"]),
        focusgebied=f["focusgebied"],
    )
    return f
