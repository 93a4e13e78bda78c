"""Per-municipality views of the national store for the sheet engine: ``<root>/gemeenten/<GM>/`` in
the processed layout a municipal run has (its rows + ``NL00``, regions with empty geometries)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Polygon

from analysis.config import Paths
from analysis.io import write_json
from analysis.national.store import NATIONAL, gemeente_of


def view_paths(root: Path, outputs_root: Path, gemeente: str, raw: Path) -> Paths:
    return Paths(
        raw=raw, processed=root / "gemeenten" / gemeente, outputs=outputs_root / gemeente, gemeente=gemeente
    )


def write_views(
    root: Path,
    outputs_root: Path,
    raw: Path,
    regions: pd.DataFrame,
    indicators: pd.DataFrame,
    scores: pd.DataFrame | None,
    gemeenten: list[str],
    built_at: str,
    lbm2: pd.DataFrame | None = None,
) -> list[Paths]:
    """One processed folder per municipality: its regions (empty geometries), its rows plus NL00,
    and in ``outputs/<GM>/resilience`` its resilience scores as the sheets may show them
    (:func:`analysis.national.index.findings_only`: nothing computed from synthetic inputs alone) and
    its Leefbaarometer 2.0 classes among all NL areas (``lbm2``, :mod:`analysis.national.lbm2`).
    Rewritten only when changed, so an unchanged municipality keeps its files (and its sheets are
    skipped on the next run)."""
    from analysis.io import write_table
    from analysis.national import lbm2 as L
    from analysis.national.index import findings_only
    from analysis.processed.build import BuildResult, write

    if lbm2 is None:
        lbm2 = L.lbm2_classes(Path(raw) / "snapshot")  # one ranked pass, well under a second
    nl = indicators[indicators["region_code"] == "NL00"]
    by_gm = dict(tuple(indicators.groupby(gemeente_of(indicators["region_code"]))))
    reg_gm = dict(tuple(regions.groupby("gemeente_code")))
    sc_gm = dict(tuple(scores.groupby(gemeente_of(scores["region_code"])))) if scores is not None else {}
    out = []
    for gm in gemeenten:
        p = view_paths(root, outputs_root, gm, raw)
        r = reg_gm[gm].drop(columns="gemeente_code").reset_index(drop=True)
        ind = pd.concat([by_gm.get(gm, nl.iloc[0:0]), nl], ignore_index=True)
        ind = ind.sort_values(["level", "region_code", "indicator", "year"]).reset_index(drop=True)
        h = hashlib.sha256(pd.util.hash_pandas_object(ind, index=False).to_numpy().tobytes())
        h.update(pd.util.hash_pandas_object(r, index=False).to_numpy().tobytes())
        digest = h.hexdigest()
        stamp = p.processed / "view.json"
        prev = json.loads(stamp.read_text()) if stamp.exists() else {}
        if prev.get("digest") != str(digest) or not p.indicators.exists():
            geo = gpd.GeoDataFrame(r, geometry=[Polygon() for _ in range(len(r))], crs="EPSG:28992")
            synth = sorted(ind.loc[ind["origin"] == "synthetic", "indicator"].unique())
            write(BuildResult(geo, ind, pd.DataFrame({"buurtcode": []}), synth), p)
            m = json.loads((p.processed / "build_manifest.json").read_text(encoding="utf-8"))
            write_json(p.processed / "build_manifest.json", {**m, "built_at": built_at, "scope": NATIONAL})
            write_json(stamp, {"digest": str(digest)})
        if gm in sc_gm:
            _write_if_changed(p.outputs / "resilience" / "scores", findings_only(sc_gm[gm]), write_table)
        _write_if_changed(p.outputs / "resilience" / L.SHEET_FILE, L.of_gemeente(lbm2, gm), write_table)
        out.append(p)
    return out


def _write_if_changed(base: Path, df: pd.DataFrame, write_table) -> None:
    """``<base>.parquet`` (and its CSV twin) only when the frame differs, so unchanged sheets are skipped."""
    df = df.reset_index(drop=True)
    target = base.with_suffix(".parquet")
    old = pd.read_parquet(target) if target.exists() else None
    if old is None or not old.equals(df):
        write_table(base, df)
