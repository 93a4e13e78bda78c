"""`veerkracht factsheets`: execute the template with papermill for every area, in parallel.

* one kernel per worker process, reused between sheets (see :mod:`analysis.factsheets.engine`);
* a failing area is recorded and the batch goes on; the exit code is non-zero if any failed;
* an area whose template and inputs are unchanged is skipped unless ``force``;
* every HTML file is written to a temporary file and renamed, so a killed batch leaves none half-written.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from analysis.config import CONFIG_DIR, NOTEBOOKS_DIR, Paths, settings
from analysis.errors import InputError
from analysis.io import clean_stale_temps, read_parquet, write_json, write_text

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
    code_files = (
        sorted((pkg / "factsheets").glob("*.py"))
        + sorted((pkg / "factsheets" / "templates").glob("*.j2"))
        + [
            pkg / "figures.py",
            *sorted((pkg / "goals").glob("*.py")),
            # the colophon (settings.yaml `colofon:`) and the thresholds on the front page
            CONFIG_DIR / "settings.yaml",
            CONFIG_DIR / "resilience.yaml",
        ]
    )
    tables = [
        paths.indicators,
        paths.outputs / "resilience" / "scores.parquet",
        paths.outputs / "resilience" / "gevoeligheid.parquet",
        paths.outputs / "resilience" / "bijdragen.parquet",
        paths.outputs / "goals" / "status.parquet",
        paths.outputs / "goals" / "prognoses.parquet",
    ]
    regions = load_regions(paths)
    h = hashlib.sha256(_hash_files([template, *code_files, *tables]).encode())
    h.update(pd.util.hash_pandas_object(regions.drop(columns="geometry"), index=False).values.tobytes())
    h.update(b"".join(regions.geometry.to_wkb()))
    return h.hexdigest()


# --- worker side ---------------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def paths_to_params(paths: Paths) -> dict[str, str]:
    """The run's paths as plain notebook parameters: the kernel gets them explicitly, not via env."""
    return {f.name: str(getattr(paths, f.name)) for f in dataclasses.fields(paths)}


def paths_from_params(params: dict[str, str]) -> Paths:
    """Inverse of :func:`paths_to_params`: folders become Paths again, the municipality code stays a str."""
    kinds = {f.name: f.type for f in dataclasses.fields(Paths)}
    return Paths(**{k: Path(v) if kinds.get(k) in (Path, "Path") else v for k, v in params.items()})


def _warm_code(paden: dict[str, str]) -> str:
    return f"from analysis.factsheets.sheet import warm_up; warm_up({paden!r})"


# A worker started before the tables exist (``prestart_workers``) only imports the sheet's modules in
# its kernel; :func:`execute_area` loads the tables before the worker's first sheet.
IMPORT_WARM = "import analysis.factsheets.sheet, analysis.goals.figures  # noqa: F401"


def _init_worker(parent_pid: int, paden: dict[str, str] | None) -> None:
    """Die with the batch process; start this worker's kernel and warm it before the first sheet
    (``paden`` None: started ahead of the data, imports only).

    A warm-up failure is remembered and reported per sheet (the pool itself must not break)."""
    import signal
    from multiprocessing import util

    from analysis.factsheets import engine

    engine.die_with_parent(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the batch process
    engine.register()
    util.Finalize(None, engine.shutdown_worker_kernel, exitpriority=10)
    try:
        engine.worker_kernel(KERNEL_NAME, warm=IMPORT_WARM if paden is None else _warm_code(paden))
    except Exception as exc:  # noqa: BLE001 - reported as the failure of every sheet of this worker
        _WORKER["warm_error"] = _one_line(f"{type(exc).__name__}: {exc}")
    _warm_exporter()


def _one_line(text: str, limit: int = 300) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    first = lines[0] if lines else str(text)
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _preload() -> None:
    """Import the heavy modules once in the parent: forked workers inherit them (papermill's import
    alone costs ~1.5 s through jsonschema)."""
    import papermill  # noqa: F401
    from papermill.exceptions import PapermillExecutionError  # noqa: F401

    from analysis.factsheets import engine  # noqa: F401

    _exporter()


_EXPORTER: list = []


def _exporter():
    """One HTMLExporter per process: building it compiles the Jinja templates (~0.1 s).

    nbconvert validates the whole notebook against the nbformat schema after each of its 12
    preprocessors (all disabled for this export, so none changes the notebook); the executed
    notebook comes straight from nbclient, so those 12 validations per sheet are skipped (the
    output does not change)."""
    if not _EXPORTER:
        from nbconvert import HTMLExporter
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        class SheetExporter(HTMLExporter):
            def _validate_preprocessor(self, nbc, preprocessor):
                return None

            def from_notebook_node(self, nb, resources=None, **kw):
                """HTMLExporter's own steps minus its closing BeautifulSoup round trip, which only
                adds alt text to images without one (every sheet image has alt text: tested) and
                tabindex to the input/output wrappers; parsing and re-serialising a sheet's ~3,000
                tags cost more CPU per sheet than the rest of the export."""
                lang = nb.metadata.get("language_info", {})
                lexer = lang.get("pygments_lexer", lang.get("name", None))
                resources = self._init_resources(resources)
                self.register_filter(
                    "highlight_code",
                    self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)),
                )
                self.register_filter(
                    "filter_data_type",
                    WidgetsDataTypeFilter(
                        notebook_metadata=self._nb_metadata, parent=self, resources=resources
                    ),
                )
                return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        _EXPORTER.append(
            SheetExporter(
                template_name="basic",
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
                anchor_link_text="",
            )
        )
    return _EXPORTER[0]


def _warm_exporter() -> None:
    """Build the exporter and convert one tiny notebook: the first conversion loads and compiles
    the templates (~0.1 s), which then does not land on the worker's first sheet."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<p>warm</p>"})]
    _exporter().from_notebook_node(nb)


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
    """The template, read, validated and prepared by papermill's loader once per worker (it adds the
    papermill metadata and an empty tag list per cell); every sheet works on a copy."""
    if path not in _TEMPLATES:
        from papermill.iorw import load_notebook_node

        _TEMPLATES[path] = load_notebook_node(path)
    return copy.deepcopy(_TEMPLATES[path])


def execute_template(nb, parameters: dict, timeout: float | None):
    """Papermill's ``execute_notebook`` for an in-memory notebook and no output file: the same steps
    (inject parameters, metadata, execute with the reused-kernel engine, raise on a cell error) in
    the same order, without the two steps that only cost time here: papermill serialises an
    in-memory input notebook to JSON and parses it back, and serialises the executed notebook
    (validation included) for an output path of None, which writes nothing."""
    from papermill.engines import papermill_engines
    from papermill.execute import prepare_notebook_metadata, raise_for_execution_errors, remove_error_markers
    from papermill.parameterize import parameterize_notebook

    from analysis.factsheets import engine

    nb = parameterize_notebook(nb, parameters, False, kernel_name=KERNEL_NAME, engine_name=engine.ENGINE_NAME)
    nb = prepare_notebook_metadata(nb, "NotebookNode object", None, False)
    nb = remove_error_markers(nb)
    kernel_name = papermill_engines.nb_kernel_name(engine_name=engine.ENGINE_NAME, nb=nb, name=KERNEL_NAME)
    nb = papermill_engines.execute_notebook_with_engine(
        engine.ENGINE_NAME,
        nb,
        input_path="NotebookNode object",
        output_path=None,
        kernel_name=kernel_name,
        progress_bar=False,
        log_output=False,
        start_timeout=60,
        stdout_file=None,
        stderr_file=None,
        execution_timeout=timeout,
    )
    raise_for_execution_errors(nb, None)
    return nb


def execute_area(
    code: str,
    slug: str,
    name: str,
    out_dir: str,
    template: str,
    fail: bool,
    paden: dict[str, str] | None = None,
    timeout: float | None = None,
) -> dict:
    """Run one sheet in this worker's kernel and write its HTML atomically.

    An error in the sheet fails this sheet; a timeout or a dead kernel also discards the kernel, so
    the next sheet gets a fresh (warmed) one and the batch goes on."""
    from papermill.exceptions import PapermillExecutionError

    from analysis.factsheets import engine

    t0 = time.perf_counter()

    def failed(error: str) -> dict:
        return {"status": "failed", "seconds": round(time.perf_counter() - t0, 3), "error": error}

    if _WORKER.get("warm_error"):
        return failed(f"kernel warm-up: {_WORKER['warm_error']}")
    if paden is not None:  # a worker started ahead of the data loads the tables now (once)
        try:
            engine.ensure_warm(KERNEL_NAME, _warm_code(paden))
        except Exception as exc:  # noqa: BLE001 - as a warm-up failure at worker start
            engine.discard_worker_kernel()
            _WORKER["warm_error"] = _one_line(f"{type(exc).__name__}: {exc}")
            return failed(f"kernel warm-up: {_WORKER['warm_error']}")
        t0 = time.perf_counter()  # the sheet's own time, as for a worker warmed at its start
    try:
        nb = execute_template(
            _template_node(template),
            {"gebied": code, "forceer_fout": fail, "paden": paden},
            timeout,
        )
        html = export_html(nb, f"Factsheet {name} ({code})")
        write_text(Path(out_dir) / f"{slug}.html", html)
        return {"status": "ok", "seconds": round(time.perf_counter() - t0, 3), "error": None}
    except PapermillExecutionError as exc:
        return failed(_one_line(f"{exc.ename}: {exc.evalue}"))
    except Exception as exc:  # kernel death, timeout: record, restart the kernel, go on
        engine.discard_worker_kernel()
        return failed(_one_line(f"{type(exc).__name__}: {exc}"))


# --- batch ---------------------------------------------------------------------------------------


SLUG_FILE = re.compile(r"^(gm|wk|bu|fg)\d+-[a-z0-9-]*\.html$")


def resolve_workers(workers: int | None, force_workers: bool = False, todo: int | None = None) -> int:
    """Worker count: default and cap = the number of cores (each worker holds a ~0.7 GB kernel).

    ``force_workers`` lifts the cap; 0 or a negative number is refused."""
    cores = os.cpu_count() or 1
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
    n = workers or cores
    if n > cores and not force_workers:
        print(
            f"let op: --workers {n} begrensd tot {cores} (aantal cores); "
            "--force-workers om toch meer te starten",
            file=sys.stderr,
        )
        n = cores
    return max(1, min(n, todo or 1)) if todo is not None else n


def check_inputs(paths: Paths) -> None:
    """Read every table a sheet reads, once, in the batch process: a corrupt file is one clear
    error here instead of a failure in every worker's warm-up."""
    for p in (
        paths.indicators,
        paths.outputs / "resilience" / "scores.parquet",
        paths.outputs / "resilience" / "gevoeligheid.parquet",
        paths.outputs / "goals" / "status.parquet",
        paths.outputs / "goals" / "prognoses.parquet",
    ):
        if p.exists() or p == paths.indicators:
            read_parquet(p)


def _read_previous(manifest_path: Path, out: Path, areas: pd.DataFrame) -> dict[str, dict]:
    """Entries of the last manifest. An unreadable manifest is rebuilt from the sheets on disk (they
    stay listed and are re-rendered on the next run), so ``--only`` cannot shrink the overview."""
    if not manifest_path.exists():
        return {}
    try:
        entries = json.loads(manifest_path.read_text(encoding="utf-8"))["areas"]
        return {e["area"]: e for e in entries}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        recovered = {}
        for a in areas[areas["sheet"]].itertuples():
            if (out / f"{a.slug}.html").exists():
                recovered[a.region_code] = {
                    "area": a.region_code,
                    "name": a.name,
                    "level": a.level,
                    "slug": a.slug,
                    "file": f"{a.slug}.html",
                    "fingerprint": None,
                    "status": "ok",
                    "seconds": None,
                    "error": None,
                }
        print(
            f"let op: {manifest_path} onleesbaar ({type(exc).__name__}); "
            f"{len(recovered)} bestaande bladen uit de map overgenomen",
            file=sys.stderr,
        )
        return recovered


def prune_stale(out: Path, keep_slugs: set[str]) -> list[str]:
    """Delete sheets of areas that no longer get one (e.g. under a raised population threshold):
    a sheet of a too-small area must not stay published."""
    removed = []
    for f in out.glob("*.html"):
        if SLUG_FILE.match(f.name) and f.stem not in keep_slugs:
            f.unlink()
            removed.append(f.name)
    return sorted(removed)


def _kill_pool(ex: ProcessPoolExecutor) -> None:
    """Stop the workers now (their kernels die with them: PR_SET_PDEATHSIG)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.kill()
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.join(5)


def prestart_workers(workers: int | None = None, force_workers: bool = False) -> ProcessPoolExecutor:
    """Fork the batch's workers now and let each start its kernel and import the sheet's modules
    (~4 s of CPU per kernel) while the caller still builds the tables: ``veerkracht report`` does this
    during the build and the analyses, then hands the pool to :func:`run_batch` (which owns it from
    then on). The workers load the tables before their first sheet; the sheets are the same."""
    ex = ProcessPoolExecutor(
        max_workers=resolve_workers(workers, force_workers),
        mp_context=get_context("fork"),
        initializer=_init_worker,
        initargs=(os.getpid(), None),
    )
    ex.submit(int)  # with fork, the first task starts every worker at once
    return ex


def likely_to_render(paths: Paths, force: bool = False) -> bool:
    """Whether a batch after a fresh build will probably render sheets: forced, or no readable
    manifest whose every sheet succeeded (a rerun on unchanged inputs skips every sheet, so starting
    kernels ahead would only cost CPU; if the inputs did change, the batch starts its own workers)."""
    if force:
        return True
    try:
        entries = json.loads((paths.outputs / "factsheets" / "manifest.json").read_text(encoding="utf-8"))[
            "areas"
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    return not entries or any(e.get("status") != "ok" for e in entries)


def manifest_entry(a, res: dict, fp: str) -> dict:
    """The manifest entry of a sheet rendered in this run (``a``: its row of the area list)."""
    ok = res["status"] == "ok"
    return {
        "area": a.region_code,
        "name": a.name,
        "level": a.level,
        "slug": a.slug,
        "file": f"{a.slug}.html" if ok else None,
        "fingerprint": fp if ok else None,
        "skipped": False,
        **res,
    }


def select_areas(paths: Paths, min_inw: int, only=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(regions, areas with their sheet decision) of one processed set; an unknown or too small
    area in ``only`` is an InputError naming it."""
    from analysis.processed.build import load_regions

    regions = load_regions(paths)
    check_inputs(paths)
    areas = list_areas(regions, min_inw)
    by_code = areas.set_index("region_code")
    if only:
        unknown = sorted(set(only) - set(by_code.index))
        if unknown:
            raise InputError(f"unknown area code(s) for --only: {unknown} (see {paths.regions})")
        small = [c for c in only if not by_code.loc[c, "sheet"]]
        if small:
            raise InputError(f"no fact sheet for {small}: {by_code.loc[small[0], 'reden']}")
    return regions, areas


def plan_sheets(
    qualifying: pd.DataFrame, previous: dict, out: Path, fp: str, *, only=None, force=False, niveaus=None
) -> tuple[list, dict]:
    """(areas to render, manifest entries of the areas kept as they are). A sheet is rendered when
    selected (``only``, ``niveaus``) and new, failed before, missing, of other inputs, or forced."""
    todo, entries = [], {}
    for a in qualifying.itertuples():
        selected = (not only or a.region_code in only) and (not niveaus or a.level in niveaus)
        prev = previous.get(a.region_code)
        html = out / f"{a.slug}.html"
        unchanged = (
            prev is not None
            and prev.get("fingerprint") == fp
            and prev.get("status") == "ok"
            and html.exists()
        )
        if not selected or (unchanged and not force):
            if prev is not None and (prev.get("status") != "ok" or html.exists()):
                entries[a.region_code] = {**prev, "status": prev.get("status"), "skipped": True}
            continue
        todo.append(a)
    if only:  # --only also sets the order in which sheets are handed to the workers
        rank = {c: i for i, c in enumerate(only)}
        todo.sort(key=lambda a: rank[a.region_code])
    return todo, entries


@dataclasses.dataclass
class Plan:
    """What one processed set's run has to do (one municipality): its areas, what to render and
    the manifest entries of the sheets kept as they are."""

    paths: Paths
    areas: pd.DataFrame
    regions: object
    out: Path
    previous: dict
    pruned: list[str]
    fingerprint: str
    todo: list
    entries: dict
    manifest: dict | None = None  # written by complete() as soon as every sheet of the set is in


def plan(paths: Paths, *, only=None, force=False, template: Path = TEMPLATE, niveaus=None) -> Plan:
    """Areas to render for one processed set. ``niveaus``: only areas of these levels get a sheet
    in this run (``--niveau``)."""
    regions, areas = select_areas(paths, int(settings()["min_inwoners"]), only)
    out = paths.outputs / "factsheets"
    out.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(out)
    previous = _read_previous(out / "manifest.json", out, areas)
    qualifying = areas[areas["sheet"]]
    pruned = prune_stale(out, set(qualifying["slug"]))
    fp = inputs_fingerprint(paths, template)
    todo, entries = plan_sheets(qualifying, previous, out, fp, only=only, force=force, niveaus=niveaus)
    return Plan(paths, areas, regions, out, previous, pruned, fp, todo, entries)


def only_for(paths: Paths, only, n_sets: int):
    """``--only`` for one municipality of a multi-municipality run: the codes inside it."""
    if not only or n_sets == 1:
        return only
    mine = [
        c for c in only if c == paths.gemeente or (c[:2] in ("WK", "BU") and "GM" + c[2:6] == paths.gemeente)
    ]
    return mine or None


def keep_unreached(plans: list[Plan]) -> None:
    """After an interruption, areas not reached keep their previous entry (if the sheet is still there)."""
    for p in plans:
        for a in p.todo:
            prev = p.previous.get(a.region_code)
            if a.region_code not in p.entries and prev is not None and (p.out / f"{a.slug}.html").exists():
                p.entries[a.region_code] = {**prev, "skipped": True}


def complete(p: Plan, n_workers: int, t0: float, template: Path) -> None:
    """Write this set's manifest and overview page as soon as all its sheets are in.

    A run over many municipalities shows each finished municipality while the others still render,
    and the batch does not end with a serial pass over all overview pages (:func:`summarise` skips
    the sets written here). ``wall_seconds`` of such a manifest: from the batch start to this set's
    last sheet."""
    if p.manifest is None and all(a.region_code in p.entries for a in p.todo):
        p.manifest = finish(p, n_workers, time.perf_counter() - t0, False, template)


def finish(p: Plan, n_workers: int, wall: float, interrupted: bool, template: Path) -> dict:
    """Write the manifest and the overview page of one processed set; returns the manifest."""
    from analysis.factsheets.overview import write_index

    ordered = [p.entries[c] for c in p.areas["region_code"] if c in p.entries]
    manifest = {
        "template": str(template.name),
        "workers": n_workers,
        "wall_seconds": round(wall, 2),
        "interrupted": interrupted,
        "pruned": p.pruned,
        "areas": ordered,
        "no_sheet": p.areas.loc[~p.areas["sheet"], ["region_code", "name", "level", "reden"]]
        .rename(columns={"region_code": "area"})
        .to_dict("records"),
    }
    write_json(p.out / "manifest.json", manifest)
    write_index(p.paths, p.areas, manifest, p.regions)
    return manifest


def summarise(plans: list[Plan], n_workers: int, wall: float, interrupted: bool, template: Path) -> dict:
    """Manifests and overview pages of every set; the summary (ok/skipped/failed/pruned, summed over
    the sets, and ``per_gemeente`` when there are several). Re-raises an interruption after writing."""
    per, total = {}, {"ok": 0, "skipped": 0, "failed": 0, "pruned": []}
    failed_all = []
    for p in plans:  # a set completed during the run keeps the manifest written then
        ordered = (p.manifest or finish(p, n_workers, wall, interrupted, template))["areas"]
        failed = [e for e in ordered if e["status"] == "failed" and not e.get("skipped")]
        failed_all += failed
        s = {
            "dir": p.out,
            "ok": sum(1 for e in ordered if e["status"] == "ok" and not e.get("skipped")),
            "skipped": sum(1 for e in ordered if e.get("skipped")),
            "failed": len(failed),
            "pruned": p.pruned,
        }
        per[p.paths.gemeente] = s
        for k in ("ok", "skipped", "failed"):
            total[k] += s[k]
        total["pruned"] += p.pruned
    if interrupted:
        n = sum(len(p.entries) for p in plans)
        raise KeyboardInterrupt(f"factsheets afgebroken; manifest met {n} bladen geschreven")
    for e in failed_all:
        print(f"factsheet {e['area']} mislukt: {e['error']}")
    out_dir = plans[0].out if len(plans) == 1 else plans[0].paths.outputs.parent
    res = {**total, "dir": out_dir, "wall_seconds": wall, "workers": n_workers}
    return res if len(plans) == 1 else {**res, "per_gemeente": per}


def run_batch(
    paths: Paths | list[Paths],
    *,
    only=None,
    force=False,
    workers=None,
    force_workers: bool = False,
    fail_area=None,
    progress: bool = True,
    template: Path = TEMPLATE,
    timeout: float | None = None,
    pool: ProcessPoolExecutor | None = None,
    niveaus=None,
) -> dict:
    """Render the sheets of one processed set, or of several (one per municipality, e.g. the
    national scope) in ONE pool of workers. ``paths`` is passed to every kernel explicitly (as
    notebook parameters).

    ``timeout``: seconds per cell (default ``factsheets.timeout_s`` in settings.yaml). A Ctrl-C or
    SIGTERM stops the workers and kernels at once, writes the manifest and index of what is done,
    and re-raises KeyboardInterrupt.

    ``pool``: workers from :func:`prestart_workers`; the batch uses them instead of starting its own
    and shuts them down when it ends (also when it fails before rendering)."""
    try:
        return _run_batch(
            [paths] if isinstance(paths, Paths) else list(paths),
            only,
            force,
            workers,
            force_workers,
            fail_area,
            progress,
            template,
            timeout,
            pool,
            niveaus,
        )
    finally:
        if pool is not None:
            _kill_pool(pool)


def _run_batch(  # noqa: PLR0913 - the arguments of run_batch
    paths_list, only, force, workers, force_workers, fail_area, progress, template, timeout, pool, niveaus
) -> dict:
    import signal
    import threading

    from tqdm import tqdm

    cfg = settings()
    if timeout is None:
        timeout = float((cfg.get("factsheets") or {}).get("timeout_s", 300))
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
    n_sets = len(paths_list)
    plans = [
        plan(p, only=only_for(p, only, n_sets), force=force, template=template, niveaus=niveaus)
        for p in paths_list
    ]
    n_todo = sum(len(p.todo) for p in plans)
    n_workers = resolve_workers(workers, force_workers, n_todo)
    t0 = time.perf_counter()
    interrupted = False
    if n_todo:
        if pool is not None:  # started ahead by prestart_workers
            ex, n_workers = pool, pool._max_workers
        else:
            _preload()
            ex = ProcessPoolExecutor(
                max_workers=n_workers,
                mp_context=get_context("fork"),
                initializer=_init_worker,
                initargs=(os.getpid(), paths_to_params(plans[0].paths)),
            )

        def _on_term(signum, frame):  # SIGTERM behaves as Ctrl-C: stop now, keep what is done
            raise KeyboardInterrupt

        in_main = threading.current_thread() is threading.main_thread()
        old_term = signal.signal(signal.SIGTERM, _on_term) if in_main else None
        bar = tqdm(total=n_todo, desc="factsheets", unit="blad", disable=None if progress else True)
        try:
            futs = {}
            for p in plans:  # in municipality order: a worker's kernel keeps one set's tables hot
                paden = paths_to_params(p.paths)
                for a in p.todo:
                    f = ex.submit(
                        execute_area,
                        a.region_code,
                        a.slug,
                        a.name,
                        str(p.out),
                        str(template),
                        a.region_code == fail_area,
                        paden,
                        timeout,
                    )
                    futs[f] = (p, a)
            for p in plans:  # sets with nothing to render: written while the workers render
                complete(p, n_workers, t0, template)
            for fut in as_completed(futs):
                p, a = futs[fut]
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:  # a worker was killed (e.g. out of memory)
                    res = {"status": "failed", "seconds": None, "error": _one_line(f"worker gestopt: {exc}")}
                p.entries[a.region_code] = manifest_entry(a, res, p.fingerprint)
                complete(p, n_workers, t0, template)
                bar.update(1)
        except KeyboardInterrupt:
            interrupted = True
            _kill_pool(ex)
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, old_term)
            bar.close()
            if not interrupted:
                ex.shutdown(wait=True)
        if interrupted:
            keep_unreached(plans)
    return summarise(plans, n_workers, time.perf_counter() - t0, interrupted, template)
