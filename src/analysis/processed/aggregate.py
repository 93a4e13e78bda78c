"""Aggregate buurt values to wijk, focus area and municipality.

Counts are summed; rates, scores and means are weighted means with the indicator's weight
(inwoners or huishoudens). Plain means of percentages are never taken. Buurt weights are taken
from the same year where real, otherwise from the nearest year that has them (only 2023 has
real buurt counts offline); the method docs say so.
"""

from __future__ import annotations

import pandas as pd

from analysis.config import indicator_catalog
from analysis.records import COLUMNS, ORIGIN_PRIORITY, ORIGINS


def buurt_weights(long: pd.DataFrame, weight: str, years: list[int]) -> pd.DataFrame:
    """Weight per buurt and year: same-year value, else the nearest year with a value."""
    w = long[(long["level"] == "buurt") & (long["indicator"] == weight)]
    w = w.pivot_table(index="year", columns="region_code", values="value")
    if w.empty:
        return pd.DataFrame(columns=["region_code", "year", "w"])
    full = w.reindex(sorted(set(years) | set(w.index)))
    # nearest available year: interpolate by nearest in both directions, no extrapolated values
    filled = full.interpolate(method="nearest", limit_area="inside").ffill().bfill()
    out = filled.loc[years].stack().rename("w").reset_index()
    out.columns = ["year", "region_code", "w"]
    return out


def aggregate(long: pd.DataFrame, membership: pd.DataFrame, level: str) -> pd.DataFrame:
    """Aggregate buurt rows of ``long`` to the areas in ``membership`` (columns area_code, buurtcode).

    An area gets a value for an indicator and year only if every inhabited member buurt has one,
    so a sum is never an undercount and a mean never silently drops a buurt.
    """
    catalog = indicator_catalog()
    b = long[long["level"] == "buurt"]
    if b.empty:
        return pd.DataFrame(columns=COLUMNS)
    years = sorted(b["year"].unique().tolist())
    inhabited = set(b.loc[(b["indicator"] == "inwoners") & (b["value"] > 0), "region_code"])
    members = membership[membership["buurtcode"].isin(inhabited)]
    n_members = members.groupby("area_code")["buurtcode"].nunique().rename("n_members")
    frames = []
    weights = {}
    for indicator, rows in b.groupby("indicator"):
        spec = catalog.get(indicator, {})
        kind = spec.get("kind")
        if kind not in ("count", "rate", "score", "mean"):
            continue
        d = rows.merge(members, left_on="region_code", right_on="buurtcode")
        if kind == "count":
            d = d.assign(w=1.0, wx=d["value"])
        else:
            wname = spec["weight"]
            if wname not in weights:
                weights[wname] = buurt_weights(long, wname, years)
            d = d.merge(weights[wname], on=["region_code", "year"], how="left")
            d = d[d["w"].notna()]
            d = d.assign(wx=d["w"] * d["value"])
        d = d.assign(origin_rank=d["origin"].map(ORIGIN_PRIORITY))
        g = (
            d.groupby(["area_code", "year"])
            .agg(
                n=("buurtcode", "nunique"),
                wsum=("w", "sum"),
                wxsum=("wx", "sum"),
                origin_rank=("origin_rank", "max"),
                provisional=("provisional", "any"),
                source_table=("source_table", lambda s: "; ".join(sorted(set(s)))),
            )
            .reset_index()
        )
        g = g.merge(n_members, left_on="area_code", right_index=True)
        g = g[g["n"] == g["n_members"]]
        if kind == "count":
            g["value"] = g["wxsum"]
        else:
            g = g[g["wsum"] > 0]
            g["value"] = g["wxsum"] / g["wsum"]
        g["indicator"] = indicator
        frames.append(g)
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out.rename(columns={"area_code": "region_code"})
    out["level"] = level
    out["unit"] = out["indicator"].map(lambda i: catalog[i].get("unit", ""))
    out["origin"] = out["origin_rank"].map(dict(enumerate(ORIGINS)))
    out["source_table"] = "aggregatie van buurten: " + out["source_table"]
    out["value"] = out["value"].astype(float)
    return out[COLUMNS]
