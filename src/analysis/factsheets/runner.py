"""`veerkracht factsheets`: execute the template with papermill for every area, in parallel.

* one kernel per worker process, reused between sheets (see :mod:`analysis.factsheets.engine`);
* a failing area is recorded and the batch goes on; the exit code is non-zero if any failed;
* an area whose template and inputs are unchanged is skipped unless ``force``;
* every HTML file is written to a temporary file and renamed, so a killed batch leaves none half-written.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from analysis.config import Paths, settings
from analysis.errors import InputError
from analysis.factsheets import manifest
from analysis.factsheets.execution import (
    _init_worker,
    _one_line,
    _preload,
    execute_area,
    paths_from_params,
    paths_to_params,
)
from analysis.factsheets.planning import TEMPLATE, only_for, plan, slugify

# imported from here by the sheet (the runner before its split into planning/execution/manifest)
__all__ = ["paths_from_params", "slugify"]


def resolve_workers(workers: int | None, force_workers: bool = False, todo: int | None = None) -> int:
    """Worker count: default and cap = the number of cores (each worker holds a ~0.7 GB kernel).

    ``force_workers`` lifts the cap; 0 or a negative number is refused."""
    cores = os.cpu_count() or 1
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: moet 1 of meer zijn")
    n = workers or cores
    if n > cores and not force_workers:
        print(
            f"let op: --workers {n} begrensd tot {cores} (aantal cores); "
            "--force-workers om toch meer te starten",
            file=sys.stderr,
        )
        n = cores
    return max(1, min(n, todo or 1)) if todo is not None else n


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
        raise InputError(f"--workers {workers}: moet 1 of meer zijn")
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
                manifest.complete(p, n_workers, t0, template)
            for fut in as_completed(futs):
                p, a = futs[fut]
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:  # a worker was killed (e.g. out of memory)
                    res = {"status": "failed", "seconds": None, "error": _one_line(f"worker gestopt: {exc}")}
                p.entries[a.region_code] = manifest.manifest_entry(a, res, p.fingerprint)
                manifest.complete(p, n_workers, t0, template)
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
            manifest.keep_unreached(plans)
    return manifest.summarise(plans, n_workers, time.perf_counter() - t0, interrupted, template)
