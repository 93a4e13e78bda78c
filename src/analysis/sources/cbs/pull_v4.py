"""CBS OData v4 (datasets.cbs.nl) behind the same cache, manifest, budget, retries and resume as v3.

Shape (CBS's own examples, github.com/statistiekcbs/CBS-Open-Data-v4): ``<base>/<table>`` lists the
entity sets; ``Observations`` holds one row per cell (``Measure`` code, ``Value``, one column per
dimension, unpadded codes, empty cells left out) and is paged through ``@odata.nextLink``;
``MeasureCodes`` (``Identifier``, ``Title``, ``MeasureGroupId``), ``MeasureGroups`` (``Id``, ``Title``,
``ParentId``), ``Dimensions`` (``Identifier``, ``Kind``) and ``<Dimension>Codes`` (``Identifier``,
``Title``) describe it. The parts are turned into the v3 shape (``DataProperties``, dimension parts,
``TypedDataSet`` with one column per measure code), so :func:`~analysis.sources.cbs.protocol.harmonise`
and the cache are shared. Measures are mapped by code: ``v4_measures: {table: {indicator: code}}``.
"""

from __future__ import annotations

from typing import Any

from analysis.sources.cbs.protocol import DATA_PART, region_dim_of, resolve_select, v4_spec
from analysis.sources.cbs.pull import TablePull
from analysis.sources.cbs.registry import TableResult

V4_META = ("MeasureCodes", "MeasureGroups", "Dimensions")
KINDS = {"GeoDetailDimension": "GeoDetail", "GeoDimension": "GeoDimension", "TimeDimension": "TimeDimension"}
CELL = {"Id", "Measure", "Value", "ValueAttribute", "StringValue"}


def to_v3_meta(parts: dict[str, Any]) -> dict[str, Any]:
    """DataProperties (dimensions, TopicGroups, Topics) and dimension parts in the v3 shape."""
    props: list[dict[str, Any]] = []
    for d in parts.get("Dimensions", []):
        kind = KINDS.get(str(d.get("Kind")), "Dimension")
        props.append(
            {"ID": f"d:{d['Identifier']}", "Key": d["Identifier"], "Type": kind, "Title": d.get("Title")}
        )
    for g in parts.get("MeasureGroups", []):
        parent = f"g:{g['ParentId']}" if g.get("ParentId") is not None else None
        props.append(
            {
                "ID": f"g:{g['Id']}",
                "ParentID": parent,
                "Type": "TopicGroup",
                "Key": "",
                "Title": g.get("Title"),
            }
        )
    for m in parts.get("MeasureCodes", []):
        group = m.get("MeasureGroupId")
        props.append(
            {
                "ID": f"m:{m['Identifier']}",
                "ParentID": f"g:{group}" if group is not None else None,
                "Type": "Topic",
                "Key": m["Identifier"],
                "Title": m.get("Title"),
                "Description": m.get("Description"),
                "Unit": m.get("Unit"),
            }
        )
    raw: dict[str, Any] = {"TableInfos": parts.get("TableInfos", [{}]), "DataProperties": props}
    for d in parts.get("Dimensions", []):
        codes = parts.get(f"{d['Identifier']}Codes")
        if codes is not None:
            raw[d["Identifier"]] = [{"Key": c["Identifier"], "Title": c.get("Title")} for c in codes]
    return raw


def pivot(observations: list[dict[str, Any]], dims: list[str]) -> list[dict[str, Any]]:
    """One row per combination of dimension categories, one column per measure code."""
    rows: dict[tuple, dict[str, Any]] = {}
    for ob in observations:
        key = tuple(ob.get(d) for d in dims)
        row = rows.setdefault(key, dict(zip(dims, key, strict=True)))
        row[str(ob["Measure"])] = ob.get("Value")
    return list(rows.values())


def region_filter_v4(dim: str, sel: Any) -> str:
    """The selection in v4 syntax on unpadded codes: the municipality's GM/WK/BU codes, the national
    row (NL00, NL01) and the comparison municipalities."""
    num = sel.gemeente[2:]
    parts = [f"startswith({dim},'{p}{num}')" for p in ("GM", "WK", "BU")]
    others = [sel.national, "NL01" if sel.national == "NL00" else None, *sel.comparison]
    parts += [f"({dim} eq '{c}')" for c in others if c]
    return " or ".join(parts)


class V4TablePull(TablePull):
    """:class:`TablePull` for a table read through OData v4 (registry ``odata: v4``)."""

    v4 = True
    data_part = "Observations"

    def _run(self, key: str, table_id: str, spec: dict[str, Any], year: int | None) -> TableResult:
        res = TableResult(key, table_id, year, "failed")
        spec = v4_spec(spec, table_id)
        listing = self.c.get(f"{self.base}/{table_id}", None, self.deadline)["value"]
        names = {p["name"] for p in listing}
        parts: dict[str, Any] = {n: self._part(table_id, n) for n in V4_META if n in names}
        dims = [d["Identifier"] for d in parts.get("Dimensions", [])]
        meta = to_v3_meta(parts)
        region_dim = region_dim_of(meta, spec)
        for dim in dims:
            if f"{dim}Codes" in names:
                flt = {"$filter": region_filter_v4("Identifier", self.sel)} if dim == region_dim else {}
                parts[f"{dim}Codes"] = self._part(table_id, f"{dim}Codes", flt)
        raw = to_v3_meta(parts)
        select = resolve_select(raw, table_id, spec)
        select_f = "".join(f" and ({d} eq '{str(k).strip()}')" for d, k in select.items())
        data_f = f"({region_filter_v4(region_dim, self.sel)}){select_f}"
        observations, res.pages, res.resumed_from_page = self._paged(table_id, data_f, raw)
        raw[DATA_PART] = pivot(observations, dims)
        return self._finish(res, key, table_id, spec, year, raw, region_dim, data_f, select, None)
