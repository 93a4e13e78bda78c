"""`veerkracht bench` / `make bench`: the papermill batch against a plain-Python floor, same run.

Both paths render the same sheets with the same number of worker processes:

* papermill: the real batch (template executed per area, one reused kernel per worker, nbconvert
  export);
* floor: the same :class:`~analysis.factsheets.sheet.Sheet` sections called directly in the worker
  and wrapped in the same page shell (no kernel, no papermill, no nbconvert).

A small sample with a *new kernel per sheet* (papermill's default engine) is timed too, to show
what kernel reuse buys. Results go to outputs/<GM>/bench.json as seconds per sheet and ratios.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from analysis.config import Paths, settings
from analysis.io import write_json, write_text

_PARAMS: dict = {}


def _plain(code: str, slug: str, name: str, out_dir: str) -> float:
    from analysis.factsheets.page import page
    from analysis.factsheets.sheet import Sheet

    t0 = time.perf_counter()
    body = Sheet.load(code, paden=_PARAMS).render_all()
    write_text(Path(out_dir) / f"{slug}.html", page(f"Factsheet {name} ({code})", body))
    return time.perf_counter() - t0


def _warm_plain(params: dict) -> None:
    """Same warm-up as a batch kernel gets: tables and base map before the first sheet."""
    from analysis.factsheets.sheet import warm_up

    _PARAMS.update(params)
    warm_up(params)


def _fresh_kernel(code: str, out_dir: str, template: str, params: dict) -> float:
    import papermill as pm

    from analysis.factsheets.execution import KERNEL_NAME, export_html

    t0 = time.perf_counter()
    nb = pm.execute_notebook(
        template,
        None,
        parameters={"gebied": code, "paden": params},
        kernel_name=KERNEL_NAME,
        progress_bar=False,
    )
    write_text(Path(out_dir) / f"{code}.html", export_html(nb, code))
    return time.perf_counter() - t0


def run_bench(paths: Paths, n_areas: int = 0, fresh_sample: int = 4) -> dict:
    from analysis.factsheets.execution import paths_to_params
    from analysis.factsheets.planning import TEMPLATE, list_areas
    from analysis.factsheets.runner import run_batch
    from analysis.processed.build import load_regions

    areas = list_areas(load_regions(paths), int(settings()["min_inwoners"]))
    areas = areas[areas["sheet"]]
    if n_areas and n_areas > 0:
        areas = areas.head(n_areas)
    codes = areas["region_code"].tolist()
    workers = os.cpu_count() or 1
    bench_dir = paths.outputs / "bench"
    shutil.rmtree(bench_dir, ignore_errors=True)

    # papermill path: the real runner, forced, into a scratch output folder
    pm_paths = Paths(
        raw=paths.raw, processed=paths.processed, outputs=bench_dir / "papermill", gemeente=paths.gemeente
    )
    for sub in ("resilience", "goals"):
        src = paths.outputs / sub
        if src.exists():
            shutil.copytree(src, pm_paths.outputs / sub)
    t0 = time.perf_counter()
    res = run_batch(pm_paths, only=codes, force=True, workers=workers, progress=False)
    batch_total = time.perf_counter() - t0
    pm_wall = res["wall_seconds"]  # the worker pool: kernels started, all sheets rendered and written

    # floor: same sheets, same pool shape, no papermill/kernel/nbconvert. The parent imports the
    # sheet module before forking, as the batch parent imports papermill (both inherit imports).
    import analysis.factsheets.sheet  # noqa: F401

    floor_dir = bench_dir / "floor"
    floor_dir.mkdir(parents=True, exist_ok=True)
    params = paths_to_params(pm_paths)  # same analysis outputs as the papermill run
    t0 = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("fork"), initializer=_warm_plain, initargs=(params,)
    ) as ex:
        per_sheet = list(ex.map(_plain, codes, areas["slug"], areas["name"], [str(floor_dir)] * len(codes)))
    floor_wall = time.perf_counter() - t0

    fresh = []
    if fresh_sample:
        fresh_dir = bench_dir / "fresh_kernel"
        fresh_dir.mkdir(parents=True, exist_ok=True)
        for code in codes[:fresh_sample]:
            fresh.append(_fresh_kernel(code, str(fresh_dir), str(TEMPLATE), params))

    import json

    manifest = json.loads((pm_paths.outputs / "factsheets" / "manifest.json").read_text())
    n = len(codes)
    result = {
        "n_sheets": n,
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "papermill_wall_s": round(pm_wall, 3),
        "floor_wall_s": round(floor_wall, 3),
        "papermill_batch_total_s": round(batch_total, 3),
        "papermill_s_per_sheet": pm_wall / n,
        "floor_s_per_sheet": floor_wall / n,
        "ratio": pm_wall / floor_wall,
        "target_ratio": 1.3,  # issue 11 item 13
        "papermill_failed": res["failed"],
        "papermill_per_sheet_s": {e["area"]: e["seconds"] for e in manifest["areas"]},
        "floor_per_sheet_s": dict(zip(codes, [round(x, 3) for x in per_sheet], strict=True)),
        "fresh_kernel_sample_s_per_sheet": (sum(fresh) / len(fresh)) if fresh else None,
        "fresh_kernel_sample_n": len(fresh),
        "note": "per sheet = wall time of the worker pool (start-up included) / sheets, same worker "
        "count for both; batch_total adds the fingerprint, manifest and index page; the "
        "fresh-kernel sample runs sequentially on one core",
    }
    path = paths.outputs / "bench.json"
    write_json(path, result)
    result["path"] = path
    return result
