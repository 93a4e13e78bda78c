"""Disclosure control for partner data (statistical confidentiality), applied in the processed layer.

Partner figures describe persons. The build applies these rules before anything is written, so no
page, chart, CSV download, trend or forecast can show a small number; the value itself is never
stored (docs/gegevens_aanleveren.md, "Geheimhouding", says why these rules):

1. **Primary suppression (threshold rule).** A cell of a count indicator, or of a rate computed from
   a delivered count (``source.per``), whose count is below the threshold (settings.yaml
   ``partnerdata.min_count``, default 10; per indicator ``source.min_count``) is removed. Zero
   counts too: "nobody in this buurt" is as identifying as "three people". For an aggregate (wijk,
   focus area, gemeente) the count is the sum of its buurten's delivered counts.
2. **Secondary suppression.** Where an area (wijk, focus area, FG00, gemeente) is published and
   exactly one of its parts (buurten; for the gemeente also its wijken) is hidden, the published
   part with the smallest count (or value) is hidden as well, so the hidden cell cannot be worked
   out as "area minus the other parts". Repeated until nothing changes. A part the partner already
   delivered as suppressed counts as hidden when the partner also delivered the area's own figure.
3. Every removed cell is listed with its reason in ``suppressed.parquet`` beside indicators.parquet
   (region, year, indicator, reason, what a page shows: "< 10", "geheim", "n.v.t."), never its value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.sources.partner import PartnerSpec

SUPPRESSED_COLUMNS = ["region_code", "level", "year", "indicator", "reason", "display", "source_table"]
SECONDARY = "secundaire geheimhouding"


def display_of(reason: str) -> str:
    """What a page or CSV shows instead of a value."""
    r = reason.strip().lower()
    if r.startswith("<"):
        return "< " + r[1:].strip()
    if r in ("n.v.t.",):
        return "n.v.t."
    if r in ("leeg", "na"):
        return "geen gegeven"
    return "geheim"


def relations(membership: pd.DataFrame, regions: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """(area, parts) pairs: every aggregate area with its buurten, and the gemeente with its wijken."""
    rel = [(a, sorted(g["part_code"])) for a, g in membership.groupby("area_code", sort=True)]
    wijken = regions.loc[regions["level"] == "wijk", ["region_code", "parent_code"]]
    for g, w in wijken.groupby("parent_code", sort=True):
        rel.append((g, sorted(w["region_code"])))
    return rel


def _cell_counts(
    ind: pd.DataFrame, counts: pd.DataFrame, membership: pd.DataFrame, indicator: str
) -> pd.Series:
    """Count behind every published cell of one indicator: delivered, else the sum of its buurten."""
    c = counts[counts["indicator"] == indicator].set_index(["region_code", "year"])["count"]
    direct = c.groupby(level=[0, 1]).first()
    parts = membership[["area_code", "part_code"]].drop_duplicates()
    summed = (
        c.rename_axis(["part_code", "year"])
        .reset_index()
        .merge(parts, on="part_code")
        .groupby(["area_code", "year"])["count"]
        .sum()
    )
    summed.index = summed.index.set_names(["region_code", "year"])
    keys = pd.MultiIndex.from_frame(ind[["region_code", "year"]])
    out = direct.reindex(keys)
    return out.fillna(summed.reindex(keys)).set_axis(ind.index)


def suppress(
    indicators: pd.DataFrame,
    counts: pd.DataFrame,
    delivered_missing: pd.DataFrame,
    membership: pd.DataFrame,
    regions: pd.DataFrame,
    specs: list[PartnerSpec],
    default_min_count: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(indicators without the hidden cells, the table of hidden and delivered-missing cells)."""
    rel = relations(membership, regions)
    level_of = dict(zip(regions["region_code"], regions["level"], strict=False))
    hidden_rows = []
    drop = pd.Series(False, index=indicators.index)
    for spec in specs:
        sel = indicators["indicator"] == spec.indicator
        ind = indicators[sel]
        if ind.empty:
            continue
        count = _cell_counts(ind, counts, membership, spec.indicator) if spec.counts else None
        t = spec.threshold(default_min_count)
        primary = count.lt(t) & count.notna() if count is not None else pd.Series(False, index=ind.index)
        reason = pd.Series(np.where(primary, f"<{t}", ""), index=ind.index)
        size = count if count is not None else ind["value"]
        marked = delivered_missing[delivered_missing["indicator"] == spec.indicator]
        marked_keys = set(zip(marked["region_code"], marked["year"], strict=True))
        direct = set(
            zip(
                ind.loc[ind["coverage"].isna(), "region_code"],
                ind.loc[ind["coverage"].isna(), "year"],
                strict=True,
            )
        )
        for year, cells in ind.groupby("year"):
            key = dict(zip(cells["region_code"], cells.index, strict=True))
            changed = True
            while changed:
                changed = False
                for area, parts in rel:
                    if area not in key or reason[key[area]]:
                        continue
                    hidden = [
                        p
                        for p in parts
                        if (p in key and reason[key[p]])
                        or ((p, year) in marked_keys and (area, year) in direct)
                    ]
                    shown = [p for p in parts if p in key and not reason[key[p]]]
                    if len(hidden) == 1 and shown:
                        victim = min(shown, key=lambda p: (size[key[p]], p))
                        reason[key[victim]] = SECONDARY
                        changed = True
        hide = reason != ""
        drop |= pd.Series(hide, index=ind.index).reindex(indicators.index, fill_value=False)
        h = ind[hide]
        hidden_rows.append(
            pd.DataFrame(
                {
                    "region_code": h["region_code"],
                    "level": h["level"],
                    "year": h["year"].astype(int),
                    "indicator": spec.indicator,
                    "reason": reason[hide],
                    "source_table": h["source_table"],
                }
            )
        )
    m = delivered_missing.assign(
        level=delivered_missing["region_code"].map(level_of).fillna(delivered_missing["level"])
    )
    parts = [*hidden_rows, m[["region_code", "level", "year", "indicator", "reason", "source_table"]]]
    table = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    if table is None:
        table = pd.DataFrame(columns=SUPPRESSED_COLUMNS)
    else:
        # a delivered marker for a cell the aggregation filled in: the published cell wins
        shown = indicators.loc[~drop, ["region_code", "year", "indicator"]]
        table = table.merge(shown.assign(_shown=True), on=["region_code", "year", "indicator"], how="left")
        table = table[table["_shown"].isna()].drop(columns="_shown")
        table = table.drop_duplicates(["region_code", "year", "indicator"])
        table["display"] = table["reason"].map(lambda r: "geheim" if r == SECONDARY else display_of(r))
        table["year"] = table["year"].astype(int)
        table = (
            table[SUPPRESSED_COLUMNS].sort_values(["indicator", "region_code", "year"]).reset_index(drop=True)
        )
    return indicators[~drop].reset_index(drop=True), table


def partner_key_indicators(
    catalog: dict, indicators: pd.DataFrame, suppressed: pd.DataFrame | None
) -> list[str]:
    """Declared partner indicators (``source:``) with any published or hidden cell: a fact sheet
    shows them as key figures after the fixed ones."""
    held = set(indicators["indicator"]) | (set(suppressed["indicator"]) if suppressed is not None else set())
    return [i for i, spec in catalog.items() if spec.get("source") and i in held]


def hidden_year(suppressed: pd.DataFrame | None, indicator: str, code: str, year: int | None) -> int | None:
    """A later year in which the area's cell is hidden than the ``year`` picked from the published
    rows (the sheet then says "< 10" for that year instead of showing an older figure), else None."""
    if suppressed is None or suppressed.empty:
        return None
    h = suppressed[(suppressed["indicator"] == indicator) & (suppressed["region_code"] == code)]
    if h.empty:
        return None
    latest = int(h["year"].max())
    return latest if year is None or latest > year else None


def shown_instead(suppressed: pd.DataFrame | None, indicator: str, code: str, year: int | None) -> str | None:
    """What a page shows for a hidden cell ("< 10", "geheim", "n.v.t.", ...), or None."""
    if suppressed is None or suppressed.empty or year is None:
        return None
    h = suppressed[
        (suppressed["indicator"] == indicator)
        & (suppressed["region_code"] == code)
        & (suppressed["year"] == year)
    ]
    return None if h.empty else str(h["display"].iloc[0])
