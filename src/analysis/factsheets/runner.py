"""`veerkracht factsheets`: execute the template with papermill for every area, in parallel.

* one kernel per worker process, reused between sheets (see :mod:`analysis.factsheets.engine`);
* a failing area is recorded and the batch goes on; the exit code is non-zero if any failed;
* an area whose template and inputs are unchanged is skipped unless ``force``;
* every HTML file is written to a temporary file and renamed, so a killed batch leaves none half-written.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from analysis.config import NOTEBOOKS_DIR, Paths, settings
from analysis.errors import InputError
from analysis.io import write_json, write_text

TEMPLATE = NOTEBOOKS_DIR / "factsheet.ipynb"
KERNEL_NAME = "python3"  # the ipykernel of this same environment
LEVEL_ORDER = {"gemeente": 0, "focusgebied": 1, "wijk": 2, "buurt": 3}


def slugify(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def list_areas(regions: pd.DataFrame, min_inwoners: int) -> pd.DataFrame:
    """All areas with a deterministic slug; those under the threshold get no sheet, with the reason."""
    r = pd.DataFrame(regions.drop(columns="geometry", errors="ignore"))
    r = r[r["level"].isin(LEVEL_ORDER)].copy()
    r["slug"] = [f"{c.lower()}-{slugify(n)}" for c, n in zip(r["region_code"], r["name"], strict=True)]
    r["sheet"] = r["inwoners"].fillna(0) >= min_inwoners
    r["reden"] = r["sheet"].map({True: "", False: f"minder dan {min_inwoners} inwoners"})
    r["_o"] = r["level"].map(LEVEL_ORDER)
    return r.sort_values(["_o", "region_code"]).drop(columns="_o").reset_index(drop=True)


def _hash_files(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.name).encode())
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()


def inputs_fingerprint(paths: Paths, template: Path) -> str:
    """Template + package code of the sheet + every table a sheet reads."""
    from analysis.processed.build import load_regions

    pkg = Path(__file__).resolve().parents[1]
    code_files = sorted((pkg / "factsheets").glob("*.py")) + [pkg / "figures.py", pkg / "goals" / "run.py"]
    tables = [
        paths.indicators,
        paths.outputs / "resilience" / "scores.parquet",
        paths.outputs / "resilience" / "gevoeligheid.parquet",
        paths.outputs / "goals" / "status.parquet",
        paths.outputs / "goals" / "prognoses.parquet",
    ]
    regions = load_regions(paths)
    h = hashlib.sha256(_hash_files([template, *code_files, *tables]).encode())
    h.update(pd.util.hash_pandas_object(regions.drop(columns="geometry"), index=False).values.tobytes())
    h.update(b"".join(regions.geometry.to_wkb()))
    return h.hexdigest()


# --- worker side ---------------------------------------------------------------------------------


def sheet_parameters(paths: Paths) -> dict[str, str]:
    """Municipality and folders for the template (papermill parameters; no environment variables)."""
    return {"gemeente": paths.gemeente, "processed": str(paths.processed), "outputs": str(paths.outputs)}


def _init_worker(params: dict[str, str] | None = None) -> None:
    """Start this worker's kernel and warm it (imports, tables, base map) before the first sheet."""
    from multiprocessing import util

    from analysis.factsheets import engine

    engine.register()
    util.Finalize(None, engine.shutdown_worker_kernel, exitpriority=10)
    args = ", ".join(f"{k}={v!r}" for k, v in (params or {}).items())
    engine.worker_kernel(KERNEL_NAME, warm=f"from analysis.factsheets.sheet import warm_up; warm_up({args})")
    _exporter()


def _preload() -> None:
    """Import the heavy modules once in the parent: forked workers inherit them (papermill's import
    alone costs ~1.5 s through jsonschema)."""
    import papermill  # noqa: F401
    from papermill.exceptions import PapermillExecutionError  # noqa: F401

    from analysis.factsheets import engine  # noqa: F401

    _exporter()


_EXPORTER: list = []


def _exporter():
    """One HTMLExporter per process: building it compiles the Jinja templates (~0.1 s)."""
    if not _EXPORTER:
        from nbconvert import HTMLExporter

        _EXPORTER.append(
            HTMLExporter(
                template_name="basic",
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
                anchor_link_text="",
            )
        )
    return _EXPORTER[0]


def export_html(nb, title: str) -> str:
    """Notebook -> self-contained page: outputs only, no input code, no external resources."""
    from analysis.factsheets.page import page

    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cel-{i}"  # papermill gives the injected cell a random id: keep pages reproducible
        # warnings on stderr are not for policy advisers
        if cell.get("outputs"):
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    body, _ = _exporter().from_notebook_node(nb)
    nav = '<nav class="top"><a href="index.html">&larr; Overzicht alle gebieden</a></nav>'
    return page(title, body, nav=nav)


_TEMPLATES: dict = {}


def _template_node(path: str):
    """The template, read and validated once per worker; papermill works on a copy."""
    if path not in _TEMPLATES:
        import nbformat

        _TEMPLATES[path] = nbformat.read(path, as_version=4)
    return copy.deepcopy(_TEMPLATES[path])


def execute_area(
    code: str, slug: str, name: str, out_dir: str, template: str, fail: bool, params: dict | None = None
) -> dict:
    """Run one sheet in this worker's kernel and write its HTML atomically."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from analysis.factsheets.engine import ENGINE_NAME

    t0 = time.perf_counter()
    try:
        nb = pm.execute_notebook(
            _template_node(template),
            None,
            parameters={"gebied": code, "forceer_fout": fail, **(params or {})},
            engine_name=ENGINE_NAME,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            execution_timeout=300,
            cwd=None,
        )
        html = export_html(nb, f"Factsheet {name} ({code})")
        write_text(Path(out_dir) / f"{slug}.html", html)
        return {"status": "ok", "seconds": round(time.perf_counter() - t0, 3), "error": None}
    except PapermillExecutionError as exc:
        return {
            "status": "failed",
            "seconds": round(time.perf_counter() - t0, 3),
            "error": f"{exc.ename}: {exc.evalue}",
        }
    except Exception as exc:  # kernel death, timeouts: record and go on with the next area
        return {
            "status": "failed",
            "seconds": round(time.perf_counter() - t0, 3),
            "error": f"{type(exc).__name__}: {exc}",
        }


# --- batch ---------------------------------------------------------------------------------------


def run_batch(
    paths: Paths,
    *,
    only=None,
    force=False,
    workers=None,
    fail_area=None,
    progress: bool = True,
    template: Path = TEMPLATE,
) -> dict:
    from tqdm import tqdm

    from analysis.factsheets.overview import write_index
    from analysis.processed.build import load_regions

    min_inw = int(settings()["min_inwoners"])
    regions = load_regions(paths)
    areas = list_areas(regions, min_inw)
    by_code = areas.set_index("region_code")
    if only:
        unknown = sorted(set(only) - set(by_code.index))
        if unknown:
            raise InputError(f"unknown area code(s) for --only: {unknown} (see {paths.regions})")
        small = [c for c in only if not by_code.loc[c, "sheet"]]
        if small:
            raise InputError(f"no fact sheet for {small}: {by_code.loc[small[0], 'reden']}")
    out = paths.outputs / "factsheets"
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    previous = {}
    if manifest_path.exists():
        try:
            previous = {e["area"]: e for e in json.loads(manifest_path.read_text())["areas"]}
        except (json.JSONDecodeError, KeyError):
            previous = {}
    fp = inputs_fingerprint(paths, template)
    todo, entries = [], {}
    for a in areas[areas["sheet"]].itertuples():
        selected = not only or a.region_code in only
        prev = previous.get(a.region_code)
        html = out / f"{a.slug}.html"
        unchanged = (
            prev is not None
            and prev.get("fingerprint") == fp
            and prev.get("status") == "ok"
            and html.exists()
        )
        if not selected or (unchanged and not force):
            if prev is not None:
                entries[a.region_code] = {**prev, "status": prev.get("status"), "skipped": True}
            continue
        todo.append(a)
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    t0 = time.perf_counter()
    if todo:
        _preload()
        ctx = get_context("fork")
        params = sheet_parameters(paths)
        with ProcessPoolExecutor(
            max_workers=n_workers, mp_context=ctx, initializer=_init_worker, initargs=(params,)
        ) as ex:
            futs = {
                ex.submit(
                    execute_area,
                    a.region_code,
                    a.slug,
                    a.name,
                    str(out),
                    str(template),
                    a.region_code == fail_area,
                    params,
                ): a
                for a in todo
            }
            bar = tqdm(
                total=len(futs), desc="factsheets", unit="blad", disable=None if progress else True
            )  # None: only on a terminal
            for fut in as_completed(futs):
                a = futs[fut]
                res = fut.result()
                entries[a.region_code] = {
                    "area": a.region_code,
                    "name": a.name,
                    "level": a.level,
                    "slug": a.slug,
                    "file": f"{a.slug}.html" if res["status"] == "ok" else None,
                    "fingerprint": fp if res["status"] == "ok" else None,
                    "skipped": False,
                    **res,
                }
                bar.update(1)
            bar.close()
    wall = time.perf_counter() - t0
    ordered = [entries[c] for c in areas["region_code"] if c in entries]
    manifest = {
        "template": str(template.name),
        "workers": n_workers,
        "wall_seconds": round(wall, 2),
        "areas": ordered,
        "no_sheet": areas.loc[~areas["sheet"], ["region_code", "name", "level", "reden"]]
        .rename(columns={"region_code": "area"})
        .to_dict("records"),
    }
    write_json(manifest_path, manifest)
    write_index(paths, areas, manifest, regions)
    failed = [e for e in ordered if e["status"] == "failed" and not e.get("skipped")]
    for e in failed:
        print(f"factsheet {e['area']} mislukt: {e['error']}")
    return {
        "dir": out,
        "ok": sum(1 for e in ordered if e["status"] == "ok" and not e.get("skipped")),
        "skipped": sum(1 for e in ordered if e.get("skipped")),
        "failed": len(failed),
        "wall_seconds": wall,
        "workers": n_workers,
    }
