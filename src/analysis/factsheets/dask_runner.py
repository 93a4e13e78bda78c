"""`veerkracht factsheets --scheduler ADDRESS`: render the sheets on a Dask cluster.

The same sheets as the fork-pool runner (:mod:`analysis.factsheets.runner`), byte for byte: each Dask
task calls the fork pool's own :func:`~analysis.factsheets.execution.execute_area` in a Dask worker.

* **one warmed kernel per worker**: :class:`KernelPlugin` (a Dask ``WorkerPlugin``) registers the
  reusing papermill engine and starts and warms the worker's kernel before its first task; all
  kernel work of a worker process (start, warm-up, sheets, shutdown) runs in one thread of its own
  (:func:`kernel_thread`), so sheets run one at a time, also when a worker has several threads;
* **sharded by municipality**: a task is a short run of sheets of ONE municipality, so the worker
  reads that municipality's tables once and keeps them hot for the run;
* **finished work is released at once**: the client takes each result off its worker as it
  arrives and drops it, while a thread of its own writes the pages, manifests and overviews
  (:mod:`analysis.factsheets.dask_results`), so a worker lost mid-batch loses only its in-flight
  shard; the scheduler hands that shard to another worker (Dask's own rescheduling, plus
  ``retries`` for errors raised by the task);
* **no shared file system, no project folder**: the inputs of each municipality, the template and
  the config/snapshot files a sheet reads travel through the scheduler
  (:mod:`analysis.factsheets.worker_inputs`; the kernel runs with ``VEERKRACHT_ROOT`` on the
  unpacked copy), the worker returns the finished HTML and the client writes it (atomically); a
  worker on other code fails the run with one error; planning, fingerprints and the manifest stay
  in the client;
* **several clients may share one cluster**: each run registers its kernel plugin under a name of
  its own; the worker's kernel is shared, started once (idempotent), shut down in the kernel thread
  only when the last run's plugin is gone; a failed warm-up is retried and its error cleared after
  a good one.

Without an address a ``LocalCluster`` is started (worker processes, one thread each, as many as
the runner's worker cap allows). With ``--scheduler`` / ``--scheduler-file``
(:mod:`analysis.factsheets.dask_client`) the workers need this package installed, nothing else;
docs/dask_cluster.md has a Slurm (dask-jobqueue) and a Kubernetes/cloud set-up.
"""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from pathlib import Path

from analysis.config import Paths, settings
from analysis.errors import InputError
from analysis.factsheets import execution, manifest, planning, runner
from analysis.factsheets.dask_client import start_client
from analysis.factsheets.dask_results import ResultWriter

__all__ = ["KernelPlugin", "render_shard", "run_batch_dask", "shards", "start_client"]

# --- worker side ---------------------------------------------------------------------------------

_RUNS: set[str] = set()  # the runs (plugin names) registered on this worker; only the kernel thread
_KERNEL_THREAD: list = []  # this worker process's one kernel thread (a single-thread executor)
_KERNEL_THREAD_LOCK = threading.Lock()


def kernel_thread():
    """The one thread of this worker process that talks to its kernel: every start, warm-up, sheet
    and shutdown runs here, one at a time (it replaces a lock around the kernel).

    One thread, hence one asyncio event loop for the kernel's ZMQ channels for the life of the
    process. Dask runs each task in a copy of the worker's context, where jupyter_core's
    ``run_sync`` (papermill, nbclient and :mod:`~analysis.factsheets.engine` use it) makes a new
    event loop per task; the channels of a kernel started under one loop and closed under another
    left a stale entry for their file descriptor in the first loop's selector, so when the next run's
    plugin started a kernel on that loop and the descriptor number came back, its replies were never
    seen and the warm-up waited out its whole start timeout (60 s) before it read them."""
    with _KERNEL_THREAD_LOCK:
        if not _KERNEL_THREAD:
            from concurrent.futures import ThreadPoolExecutor

            _KERNEL_THREAD.append(ThreadPoolExecutor(1, thread_name_prefix="veerkracht-kernel"))
        return _KERNEL_THREAD[0]


def _start_kernel() -> None:
    """Start this worker's kernel if it is not running (idempotent; kernel thread only) and clear an
    earlier warm-up error once a kernel is up; a failure is remembered per sheet."""
    from analysis.factsheets import engine

    try:
        engine.worker_kernel(execution.KERNEL_NAME, warm=execution.IMPORT_WARM)
        execution._WORKER.pop("warm_error", None)
    except Exception as exc:  # noqa: BLE001 - reported as the failure of every sheet of this worker
        execution._WORKER["warm_error"] = execution._one_line(f"{type(exc).__name__}: {exc}")


def _warm(run: str, root: str | None = None) -> None:
    from analysis.factsheets import engine

    execution._preload()
    engine.register()
    engine.set_root(root)
    _RUNS.add(run)
    _start_kernel()


def _leave(run: str) -> None:
    from analysis.factsheets import engine

    _RUNS.discard(run)
    if not _RUNS:
        engine.shutdown_worker_kernel()


def _dask_plugin_base():
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class KernelPlugin(_dask_plugin_base()):
    """Start this worker's kernel (imports only; the tables load with the first sheet) in its kernel
    thread. ``name`` is per run, so a second client does not replace (and tear down) the first
    one's plugin; the kernel is shut down only when the last run's plugin leaves, in the kernel
    thread, so never while a sheet of another run uses it."""

    def __init__(self, run: str, project: dict | None = None):
        self.name = f"veerkracht-kernel-{run}"
        self.project = project  # worker_inputs.pack_project(): the kernel starts on these files

    async def setup(self, worker) -> None:
        import asyncio

        from analysis.factsheets.worker_inputs import unpack_project

        root = unpack_project(self.project) if self.project else None
        await asyncio.get_running_loop().run_in_executor(kernel_thread(), _warm, self.name, root)

    async def teardown(self, worker) -> None:
        import asyncio

        await asyncio.get_running_loop().run_in_executor(kernel_thread(), _leave, self.name)


def render_shard(
    items: list[tuple[str, str, str]],
    inputs: dict,
    template: dict,
    timeout: float | None,
    fail_area: str | None = None,
    kill_area: str | None = None,
    kill_marker: str | None = None,
) -> list[tuple[str, dict]]:
    """Render a shard (``(code, slug, name)`` of one municipality) in this worker's kernel from the
    shipped ``inputs``/``template`` (:mod:`analysis.factsheets.worker_inputs`); each result carries
    its page as ``html``.

    ``kill_area``/``kill_marker`` are a test hook: the first worker that reaches ``kill_area`` kills
    its own process (``SIGKILL``, as the out-of-memory killer would); the marker file makes the
    retried shard pass, and ``<kill_marker>.renders`` gets a line per sheet rendered."""
    from distributed import get_worker

    from analysis.factsheets import engine
    from analysis.factsheets.worker_inputs import differing, unpack_inputs, unpack_project, unpack_template

    worker = get_worker()  # only in the task's own thread
    # the code this worker runs must be the client's: else no sheet at all
    problem = differing(template.get("lokaal") or {}, worker.address)
    if problem:
        return [(None, {"status": "afwijkend", "error": problem})]
    engine.register()  # a worker that joined without the plugin still gets the reusing engine
    paden, tpl = unpack_inputs(inputs), unpack_template(template)
    root = unpack_project(template["project"])  # config and snapshot files: the client's

    def run() -> list[tuple[str, dict]]:
        out = []
        engine.set_root(root)  # a kernel on other files (another run's, the worker's) is replaced
        if execution._WORKER.get("warm_error"):  # try again: the cause may be gone
            _start_kernel()
        for code, slug, name in items:
            if kill_area and code == kill_area and kill_marker and not os.path.exists(kill_marker):
                _kill_when_results_are_collected(worker, kill_marker)
            res = execution.execute_area(code, slug, name, None, tpl, code == fail_area, paden, timeout)
            if kill_marker:
                with open(f"{kill_marker}.renders", "a", encoding="utf-8") as fh:
                    fh.write(f"{os.getpid()} {items[0][0]} {code}\n")
            out.append((code, res))
        return out

    return kernel_thread().submit(run).result()


def _kill_when_results_are_collected(worker, marker: str, wait: float = 30.0) -> None:
    """Test hook: SIGKILL this worker once the client has collected (and released) the results of its
    earlier shards, i.e. when no shard result is left in its memory (at most ``wait`` seconds): what
    is then recomputed elsewhere is the in-flight shard only, unless released results are kept."""
    import signal

    deadline = time.monotonic() + wait

    def held() -> bool:
        return any(
            str(k).startswith("factsheets-")
            and not str(k).startswith(("factsheets-inputs-", "factsheets-template-"))
            for k in list(worker.data.keys())
        )

    while held() and time.monotonic() < deadline:
        time.sleep(0.1)
    Path(marker).write_text(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)


# --- client side ---------------------------------------------------------------------------------


def _bundle(data: dict) -> dict:
    """A task that yields its argument: inputs travel in the task spec, and can be made again."""
    return data


def shard_size(n_sheets: int, n_workers: int, cap: int = 8) -> int:
    """Sheets per task for ``n_sheets`` still to hand out: small enough that a lost worker loses
    little and the load balances (about four tasks per worker of what is left, so the last tasks
    are single sheets), large enough that a task reads its municipality once."""
    if n_sheets <= 0:
        return 1
    return max(1, min(cap, math.ceil(n_sheets / (4 * max(1, n_workers)))))


def shards(plans: list, n_workers: int) -> list[tuple]:
    """(plan, sheets, offset) per task, in municipality order; a task never mixes municipalities.

    Guided sizes: :func:`shard_size` of what is still to hand out, so the shards shrink towards the
    end of the batch and no worker idles while another finishes a long last shard (Dask runs the
    tasks in submission order)."""
    out, left = [], sum(len(p.todo) for p in plans)
    for p in plans:
        i = 0
        while i < len(p.todo):
            chunk = p.todo[i : i + shard_size(left, n_workers)]
            out.append((p, chunk, i))
            i += len(chunk)
            left -= len(chunk)
    return out


def run_batch_dask(
    paths_list: list[Paths] | Paths,
    *,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    only=None,
    force: bool = False,
    workers: int | None = None,
    force_workers: bool = False,
    fail_area: str | None = None,
    timeout: float | None = None,
    template: Path = planning.TEMPLATE,
    niveaus=None,
    retries: int = 2,
    kill_area: str | None = None,
    kill_marker: str | None = None,
    progress: bool = True,
    client=None,
) -> dict:
    """Render the sheets of one or more processed sets (one per municipality) on Dask.

    Returns the runner's summary (ok/skipped/failed/pruned/wall_seconds/workers) summed over the
    municipalities, plus ``per_gemeente`` when there are several."""
    from tqdm import tqdm

    if isinstance(paths_list, Paths):
        paths_list = [paths_list]
    cfg = settings()
    if timeout is None:
        timeout = float((cfg.get("factsheets") or {}).get("timeout_s", 300))
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: moet 1 of meer zijn")
    plans = [
        planning.plan(
            p,
            only=planning.only_for(p, only, len(paths_list)),
            force=force,
            template=template,
            niveaus=niveaus,
        )
        for p in paths_list
    ]
    n_todo = sum(len(p.todo) for p in plans)
    remote = bool(scheduler or scheduler_file)
    n_workers = runner.resolve_workers(workers, force_workers, n_todo) if not remote else 0
    t0 = time.perf_counter()
    interrupted = False
    if n_todo:
        own_client = client is None
        cluster = None
        if own_client:
            client, cluster = start_client(scheduler, n_workers, scheduler_file=scheduler_file)
        from analysis.factsheets.worker_inputs import pack_project

        project = pack_project()
        plugin = KernelPlugin(uuid.uuid4().hex[:12], project)
        bar = tqdm(total=n_todo, desc="factsheets (dask)", unit="blad", disable=None if progress else True)
        try:
            n_workers = len(client.scheduler_info()["workers"]) or n_workers
            client.register_plugin(plugin)
            interrupted = _render(
                client,
                plans,
                n_workers,
                t0,
                template,
                bar,
                timeout,
                retries,
                fail_area,
                kill_area,
                kill_marker,
                project,
            )
        finally:
            bar.close()
            try:
                client.unregister_worker_plugin(plugin.name)
            except Exception:  # noqa: BLE001 - a cluster that went away has no plugin to remove
                pass
            if own_client:
                client.close()
                if cluster is not None:
                    cluster.close()
        if interrupted:
            manifest.keep_unreached(plans)
    return manifest.summarise(plans, n_workers, time.perf_counter() - t0, interrupted, template)


def _render(
    client, plans, n_workers, t0, template, bar, timeout, retries, fail_area, kill_area, kill_marker, project
) -> bool:
    """Submit the shards, take each result as it arrives (and let it go); True if interrupted."""
    from distributed import as_completed

    from analysis.factsheets.worker_inputs import local_digests, pack_inputs, pack_template

    run = uuid.uuid4().hex[:8]
    # inputs as tasks (not scattered data): the scheduler keeps their spec, so the copy on a lost
    # worker is made again instead of failing every shard that needs it; with the template go the
    # digests of what a worker reads from its own folder (checked there before any sheet)
    tpl_bundle = {**pack_template(template), "lokaal": local_digests(), "project": project}
    tpl = client.submit(_bundle, tpl_bundle, key=f"factsheets-template-{run}", pure=False)
    futs, inputs = {}, {}
    for p, chunk, i in shards(plans, n_workers):
        gm = p.paths.gemeente
        if gm not in inputs:  # once per municipality
            inputs[gm] = client.submit(
                _bundle, pack_inputs(p.paths), key=f"factsheets-inputs-{gm}-{run}", pure=False
            )
        items = [(a.region_code, a.slug, a.name) for a in chunk]
        f = client.submit(
            render_shard,
            items,
            inputs[gm],
            tpl,
            timeout,
            fail_area,
            kill_area,
            kill_marker,
            key=f"factsheets-{gm}-{chunk[0].region_code}-{i}-{run}",
            retries=retries,
            pure=False,
        )
        futs[f] = (p, chunk)
    del inputs  # the shard tasks hold them; released with the last shard that needs them
    del tpl
    writer = ResultWriter(n_workers, t0, template, bar)
    for p in plans:  # sets with nothing to render: written while the workers render
        writer.put(p, [], {})
    pending = as_completed(list(futs))
    try:
        for fut in pending:
            p, chunk = futs.pop(fut)
            try:
                results = dict(fut.result())
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after the retries
                err = execution._one_line(f"worker gestopt: {type(exc).__name__}: {exc}")
                results = {a.region_code: {"status": "failed", "seconds": None, "error": err} for a in chunk}
            fut.release()  # at the client now: a later worker loss must not recompute it
            del fut
            if None in results:  # a worker whose own config/snapshot/code differs: stop the run
                client.cancel(list(futs))
                writer.close()
                raise InputError(results[None]["error"])
            writer.put(p, chunk, results)
    except KeyboardInterrupt:
        client.cancel(list(futs))
        writer.close()
        return True
    writer.close()
    return False
