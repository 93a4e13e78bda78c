"""Worker side of the sheet batch: one reused kernel per worker process runs the template with
papermill for one area and writes its HTML atomically (:func:`execute_area`).

Used by both runners: the fork pool (:mod:`analysis.factsheets.runner`) and Dask
(:mod:`analysis.factsheets.dask_runner`).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from pathlib import Path

from analysis.config import Paths
from analysis.io import write_text

KERNEL_NAME = "python3"  # the ipykernel of this same environment

_WORKER: dict[str, object] = {}


def paths_to_params(paths: Paths) -> dict[str, str]:
    """The run's paths as plain notebook parameters: the kernel gets them explicitly, not via env."""
    return {f.name: str(getattr(paths, f.name)) for f in dataclasses.fields(paths)}


def paths_from_params(params: dict[str, str]) -> Paths:
    """Inverse of :func:`paths_to_params`: folders become Paths again, the municipality code stays a str."""
    kinds = {f.name: f.type for f in dataclasses.fields(Paths)}
    return Paths(**{k: Path(v) if kinds.get(k) in (Path, "Path") else v for k, v in params.items()})


def _gc_paused(code: str) -> str:
    """Kernel code run with the garbage collector paused, then one collection (the warm-up's garbage,
    e.g. closed figures, is freed, not frozen), after which everything left is frozen
    (``gc.freeze``): modules and tables live as long as the kernel, so the later collections of
    every sheet do not walk them again."""
    return (
        f"import gc\ngc.disable()\ntry:\n    {code}\nfinally:\n    gc.enable()\n    gc.collect()\n"
        "    gc.freeze()\n"
    )


def _warm_code(paden: dict[str, str]) -> str:
    return _gc_paused(f"from analysis.factsheets.sheet import warm_up; warm_up({paden!r})")


# A worker started before the tables exist (``prestart_workers``) only imports the sheet's modules in
# its kernel; :func:`execute_area` loads the tables before the worker's first sheet.
IMPORT_WARM = _gc_paused("import analysis.factsheets.sheet, analysis.goals.figures  # noqa: F401")


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
    """Import the heavy modules once in the parent: forked workers inherit them (the engine first:
    it imports jsonschema without the format checker a batch never uses, lean_imports)."""
    from analysis.factsheets import engine  # noqa: F401, I001

    import papermill  # noqa: F401
    from papermill.exceptions import PapermillExecutionError  # noqa: F401

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
    out_dir: str | None,
    template: str,
    fail: bool,
    paden: dict[str, str] | None = None,
    timeout: float | None = None,
) -> dict:
    """Run one sheet in this worker's kernel and write its HTML atomically (``out_dir`` None: return
    it as ``html`` in the result instead).

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
        html = export_html(nb, f"Factsheet {code}" if name == code else f"Factsheet {name} ({code})")
        ok = {"status": "ok", "seconds": round(time.perf_counter() - t0, 3), "error": None}
        if out_dir is None:  # a worker without the client's file system: the page goes back
            return {**ok, "html": html}
        write_text(Path(out_dir) / f"{slug}.html", html)
        return ok
    except PapermillExecutionError as exc:
        return failed(_one_line(f"{exc.ename}: {exc.evalue}"))
    except Exception as exc:  # kernel death, timeout: record, restart the kernel, go on
        engine.discard_worker_kernel()
        return failed(_one_line(f"{type(exc).__name__}: {exc}"))
