"""`veerkracht factsheets --scheduler ADDRESS`: render the sheets on a Dask cluster.

The same sheets as the fork-pool runner (:mod:`analysis.factsheets.runner`), byte for byte: each Dask
task calls the fork pool's own :func:`~analysis.factsheets.execution.execute_area` in a Dask worker.

* **one warmed kernel per worker**: :class:`KernelPlugin` (a Dask ``WorkerPlugin``) registers the
  reusing papermill engine and starts and warms the worker's kernel before its first task; sheets
  run one at a time per worker process (a lock, also when a worker has several threads);
* **sharded by municipality**: a task is a short run of sheets of ONE municipality, so the worker
  reads that municipality's tables once and keeps them hot for the run;
* **retries**: a worker lost mid-batch loses only its in-flight shard; the scheduler hands that shard
  to another worker (Dask's own rescheduling, plus ``retries`` for errors raised by the task);
* the manifest, skip-unchanged (fingerprints), continue-on-error and the atomic writes are the
  runner's: planning and the manifest are done here in the client, the sheet writes its own HTML
  atomically in the worker.

Without an address a ``LocalCluster`` is started (worker processes, one thread each, as many as
the runner's worker cap allows). With ``--scheduler`` the workers of that cluster must have this
package installed and see the same file system (the paths are handed to them as plain strings).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from pathlib import Path

from analysis.config import Paths, settings
from analysis.errors import InputError
from analysis.factsheets import execution, manifest, planning, runner

# --- worker side ---------------------------------------------------------------------------------

_SHEET_LOCK = threading.Lock()  # one kernel per worker process: its sheets run one at a time


def _warm(paden: dict[str, str]) -> None:
    from analysis.factsheets import engine

    execution._preload()
    engine.register()
    try:
        with _SHEET_LOCK:
            engine.worker_kernel(execution.KERNEL_NAME, warm=execution._warm_code(paden))
    except Exception as exc:  # noqa: BLE001 - reported as the failure of every sheet of this worker
        execution._WORKER["warm_error"] = execution._one_line(f"{type(exc).__name__}: {exc}")


def _dask_plugin_base():
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class KernelPlugin(_dask_plugin_base()):
    """Start and warm this worker's kernel once, in the thread that will run the sheets."""

    name = "veerkracht-kernel"

    def __init__(self, paden: dict[str, str]):
        self.paden = paden

    async def setup(self, worker) -> None:
        import asyncio

        executor = worker.executors.get("default")
        await asyncio.get_running_loop().run_in_executor(executor, _warm, self.paden)

    def teardown(self, worker) -> None:
        from analysis.factsheets import engine

        engine.shutdown_worker_kernel()


def render_shard(
    items: list[tuple[str, str, str]],
    out_dir: str,
    template: str,
    paden: dict[str, str],
    timeout: float | None,
    fail_area: str | None = None,
    kill_area: str | None = None,
    kill_marker: str | None = None,
) -> list[tuple[str, dict]]:
    """Render a shard (``(code, slug, name)`` of one municipality) in this worker's kernel.

    ``kill_area``/``kill_marker`` are a test hook: the first worker that reaches ``kill_area`` kills
    its own process (``SIGKILL``, as the out-of-memory killer would); the marker file makes the
    retried shard pass."""
    from analysis.factsheets import engine

    engine.register()  # a worker that joined without the plugin still gets the reusing engine
    out = []
    with _SHEET_LOCK:
        for code, slug, name in items:
            if kill_area and code == kill_area and kill_marker and not os.path.exists(kill_marker):
                import signal

                Path(kill_marker).write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            res = execution.execute_area(
                code, slug, name, out_dir, template, code == fail_area, paden, timeout
            )
            res["worker_pid"] = os.getpid()
            out.append((code, res))
    return out


# --- client side ---------------------------------------------------------------------------------


def _entry(a, res: dict, fp: str) -> dict:
    """The fork-pool runner's manifest entry, without the Dask worker's pid."""
    return manifest.manifest_entry(a, {k: v for k, v in res.items() if k != "worker_pid"}, fp)


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


def start_client(scheduler: str | None, n_workers: int, log=print):
    """A client on ``scheduler``, or on a new LocalCluster of ``n_workers`` single-thread processes."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            # the connect timeout is Dask's own setting (distributed.comm.timeouts.connect, 30 s;
            # DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s to change it)
            client = Client(scheduler)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: geen Dask-scheduler bereikbaar ({exc})") from exc
        try:  # a scheduler without workers would leave the sheets waiting for ever
            client.wait_for_workers(1, timeout=dask.config.get("distributed.comm.timeouts.connect"))
        except TimeoutError as exc:
            client.close()
            raise InputError(f"--scheduler {scheduler}: de scheduler heeft geen workers") from exc
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=0,  # kernels live outside the worker process; the OS is the limit
        )
        client = Client(cluster)
    log(f"dask: {len(client.scheduler_info()['workers'])} workers, dashboard {client.dashboard_link}")
    return client, cluster


def run_batch_dask(
    paths_list: list[Paths] | Paths,
    *,
    scheduler: str | None = None,
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
    from distributed import as_completed
    from tqdm import tqdm

    if isinstance(paths_list, Paths):
        paths_list = [paths_list]
    cfg = settings()
    if timeout is None:
        timeout = float((cfg.get("factsheets") or {}).get("timeout_s", 300))
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
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
    n_workers = runner.resolve_workers(workers, force_workers, n_todo) if not scheduler else 0
    t0 = time.perf_counter()
    interrupted = False
    own_client = client is None
    if n_todo:
        if own_client:
            client, cluster = start_client(scheduler, n_workers)
        else:
            cluster = None
        try:
            n_workers = len(client.scheduler_info()["workers"]) or n_workers
            client.register_plugin(KernelPlugin(execution.paths_to_params(plans[0].paths)))
            futs = {}
            for p, chunk, i in shards(plans, n_workers):
                items = [(a.region_code, a.slug, a.name) for a in chunk]
                f = client.submit(
                    render_shard,
                    items,
                    str(p.out),
                    str(template),
                    execution.paths_to_params(p.paths),
                    timeout,
                    fail_area,
                    kill_area,
                    kill_marker,
                    key=f"factsheets-{p.paths.gemeente}-{chunk[0].region_code}-{i}-{time.time_ns()}",
                    retries=retries,
                    pure=False,
                )
                futs[f] = (p, chunk)
            for p in plans:  # sets with nothing to render: written while the workers render
                manifest.complete(p, n_workers, t0, template)
            bar = tqdm(
                total=n_todo, desc="factsheets (dask)", unit="blad", disable=None if progress else True
            )
            try:
                for fut in as_completed(list(futs)):
                    p, chunk = futs[fut]
                    try:
                        results = dict(fut.result())
                    except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after the retries
                        err = execution._one_line(f"worker gestopt: {type(exc).__name__}: {exc}")
                        results = {
                            a.region_code: {"status": "failed", "seconds": None, "error": err} for a in chunk
                        }
                    for a in chunk:
                        p.entries[a.region_code] = _entry(a, results[a.region_code], p.fingerprint)
                    manifest.complete(p, n_workers, t0, template)
                    bar.update(len(chunk))
            except KeyboardInterrupt:
                interrupted = True
                client.cancel(list(futs))
            finally:
                bar.close()
        finally:
            if own_client:
                client.close()
                if cluster is not None:
                    cluster.close()
        if interrupted:
            manifest.keep_unreached(plans)
    return manifest.summarise(plans, n_workers, time.perf_counter() - t0, interrupted, template)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
