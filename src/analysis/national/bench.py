"""`make bench-national`: national wijk sheets on Dask with 1 and 2 local workers, and the fork-pool
runner on the same sheets in the same run.

Sample: whole municipalities (seeded shuffle) until at least ``n_sheets`` wijk sheets, so each
municipality is rendered the way a national run renders it. ``repeats`` (``--repeat``): Dask
with 1 and 2 workers and the fork pool run back to back that many times; each ratio compares runs
of the same repeat (a slow or fast spell of a shared machine hits both sides), and the median ratio
counts. Written to outputs/bench_national.json: sheets per second (wall, incl. warming the
kernels and writing the overview pages), mean seconds per sheet (from the manifests), CPU seconds
of all processes (client, scheduler, workers, kernels) and the share of the cores they kept busy,
peak memory per worker (worker process + its kernel, RSS, sampled), scaling
efficiency 1 -> 2 workers and its ceiling on this machine (from the CPU really used per sheet),
fork pool vs Dask wall throughput (sheets/s, the same sheets), and the projection for the country
(18,300 sheets) on 16 and 64 cores — a projection from this machine, not a measurement.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import statistics
import threading
import time
from pathlib import Path

import psutil

from analysis.config import settings
from analysis.errors import InputError
from analysis.io import write_json

NATIONAL_SHEETS = 18_300  # 342 gemeenten + 3,393 wijken + 14,574 buurten (issue 13)


class PeakMemory:
    """Peak RSS per direct child process of this one, its descendants (kernels) included; and the
    CPU seconds of this process and of every descendant (a process that ends inside the block counts
    up to its last sample, every ``every`` seconds; the bench's workers end after it)."""

    def __init__(self, every: float = 0.5):
        self.every, self.peak, self._stop = every, {}, threading.Event()
        self._cpu: dict[int, float] = {}
        self._me = psutil.Process()
        self._own0 = sum(self._me.cpu_times()[:2])
        self._t = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for child in self._me.children():
            try:
                tree = [child, *child.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree)
                for p in tree:
                    self._cpu[p.pid] = sum(p.cpu_times()[:2])
            except psutil.Error:
                continue
            self.peak[child.pid] = max(self.peak.get(child.pid, 0), rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.every)

    def __enter__(self):
        self._cpu0 = dict(self._cpu)
        self._sample()  # processes that already run (a cluster started before): CPU counted from here
        self._cpu0 = dict(self._cpu)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._sample()
        self._stop.set()
        self._t.join()
        self.own_cpu = sum(self._me.cpu_times()[:2]) - self._own0

    def cpu_seconds(self) -> float:
        """CPU seconds used by this process and its descendants during the block."""
        return self.own_cpu + sum(v - self._cpu0.get(pid, 0.0) for pid, v in self._cpu.items())

    def top(self, n: int) -> list[float]:
        """The ``n`` largest peaks in GB (the workers; short-lived helpers are smaller)."""
        return [round(v / 1e9, 3) for v in sorted(self.peak.values(), reverse=True)[:n]]


def run_record(workers: int, r: dict, wall: float, secs: list[float], mem: PeakMemory) -> dict:
    """One timed run: throughput, per-sheet time from the manifests, memory and CPU use.

    ``cpu_utilisation`` = CPU seconds of all processes / (wall x cores): below 1 the cores idled
    (serial phases, a long last task); at 1 adding workers on this machine cannot help."""
    cpu = mem.cpu_seconds()
    return {
        "workers": workers,
        "sheets": r["ok"],
        "failed": r["failed"],
        "wall_s": round(wall, 2),
        "sheets_per_s": round(r["ok"] / wall, 3),
        "mean_sheet_s": round(sum(secs) / len(secs), 4),
        "cpu_s": round(cpu, 1),
        "cpu_s_per_sheet": round(cpu / max(1, r["ok"]), 4),
        "cpu_utilisation": round(cpu / (wall * (os.cpu_count() or 1)), 3),
        "peak_gb_per_worker": mem.top(workers),
    }


def median_run(runs: list[dict]) -> dict:
    """The run of median throughput (the slower middle one of an even number: the projection
    from the 2-worker run stays on the safe side), with every repeat's throughput beside it."""
    ordered = sorted(runs, key=lambda r: r["sheets_per_s"])
    mid = ordered[(len(ordered) - 1) // 2]
    return {**mid, "repeats_sheets_per_s": [r["sheets_per_s"] for r in runs]}


def _manifest_seconds(views) -> list[float]:
    out = []
    for p in views:
        m = json.loads((p.outputs / "factsheets" / "manifest.json").read_text(encoding="utf-8"))
        out += [e["seconds"] for e in m["areas"] if not e.get("skipped") and e.get("seconds") is not None]
    return out


def sample_gemeenten(regions, n_sheets: int, seed: int) -> tuple[list[str], list[str]]:
    """Whole municipalities in seeded random order until ``n_sheets`` wijk sheets: (gemeenten, wijken)."""
    min_inw = int(settings()["min_inwoners"])
    w = regions[(regions["level"] == "wijk") & (regions["inwoners"].fillna(0) >= min_inw)]
    by_gm = w.groupby("gemeente_code")["region_code"].apply(sorted).to_dict()
    order = sorted(by_gm)
    random.Random(seed).shuffle(order)
    gms, wijken = [], []
    for gm in order:
        if len(wijken) >= n_sheets:
            break
        gms.append(gm)
        wijken += by_gm[gm]
    return sorted(gms), wijken


def run_bench_national(
    n_sheets: int = 500, seed: int = 13, out_path: Path | None = None, log=print, repeats: int = 1
) -> dict:
    from analysis.factsheets.dask_runner import run_batch_dask, start_client
    from analysis.factsheets.runner import run_batch
    from analysis.national import run as national
    from analysis.national.store import has_store, load_regions, national_root

    if repeats < 1:
        raise InputError(f"--repeat {repeats}: moet 1 of meer zijn")
    raw, processed_root, outputs_root = national.roots()
    root = national_root(processed_root)
    if not has_store(root):
        national.build(raw, processed_root, log=log)
    regions = load_regions(root)
    gms, wijken = sample_gemeenten(regions, n_sheets, seed)
    bench_dir = outputs_root / "nederland_bench"
    shutil.rmtree(bench_dir, ignore_errors=True)

    def views_into(name: str):  # same processed views, own output folder (with its resilience scores)
        return national.views("nederland", None, raw, processed_root, bench_dir / name, only=gms)

    log(f"bench-national: {len(wijken)} wijkbladen uit {len(gms)} gemeenten, {repeats}x herhaald")
    load = {"start": os.getloadavg()}
    runs: dict[str, list[dict]] = {"dask_1": [], "dask_2": [], "forkpool_2": []}
    ratios: dict[str, list[float]] = {"efficiency": [], "dask_vs_forkpool": [], "ceiling": []}
    cores = min(os.cpu_count() or 1, 2)
    # each repeat: Dask with 1 and 2 workers and the fork pool, back to back; every ratio compares
    # runs of the same repeat, so a slow or fast spell of a shared machine hits both sides
    for rep in range(repeats):
        for n in (1, 2):
            views = views_into(f"dask_{n}")
            client, cluster = start_client(None, n, log=log)
            try:
                with PeakMemory() as mem:
                    t0 = time.perf_counter()
                    r = run_batch_dask(views, niveaus=["wijk"], force=True, client=client, progress=False)
                    wall = time.perf_counter() - t0
            finally:
                client.close()
                cluster.close()
            runs[f"dask_{n}"].append(run_record(n, r, wall, _manifest_seconds(views), mem))
            log(f"  [{rep + 1}/{repeats}] dask {n} worker(s): {runs[f'dask_{n}'][-1]}")
        # the fork-pool runner on the same sheets: ONE pool of 2 workers over all sampled municipalities
        views = views_into("forkpool_2")
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            r = run_batch(views, niveaus=["wijk"], force=True, workers=2, force_workers=True, progress=False)
            wall = time.perf_counter() - t0
        runs["forkpool_2"].append(run_record(2, r, wall, _manifest_seconds(views), mem))
        log(f"  [{rep + 1}/{repeats}] fork pool 2 workers: {runs['forkpool_2'][-1]}")
        d1, d2, fp = (runs[k][-1] for k in ("dask_1", "dask_2", "forkpool_2"))
        ratios["efficiency"].append(d2["sheets_per_s"] / (2 * d1["sheets_per_s"]))
        # wall throughput, the same sheets: Dask's overhead (scheduler, shipping inputs and pages,
        # warm-up) shows here; the time inside a sheet is the same code in both runners
        ratios["dask_vs_forkpool"].append(fp["sheets_per_s"] / d2["sheets_per_s"])
        # the most 2 workers could reach if they kept min(cores, 2) cores busy all the time with
        # the CPU per sheet they really used (Dask, client and kernels included)
        ratios["ceiling"].append(min(1.0, cores / d2["cpu_s_per_sheet"] / (2 * d1["sheets_per_s"])))
    load["end"] = os.getloadavg()
    results = {k: median_run(v) for k, v in runs.items()}
    d1, d2, fp = results["dask_1"], results["dask_2"], results["forkpool_2"]
    efficiency, dask_fork = (
        statistics.median(ratios["efficiency"]),
        statistics.median(ratios["dask_vs_forkpool"]),
    )
    per_worker = d2["sheets_per_s"] / 2  # sheets/s of one worker in the 2-worker run
    projection = {
        f"{cores}_cores_min": round(NATIONAL_SHEETS / (per_worker * cores) / 60, 1) for cores in (16, 64)
    }
    summary = {
        "n_wijk_sheets": len(wijken),
        "gemeenten": gms,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "loadavg": {k: [round(x, 2) for x in v] for k, v in load.items()},
        "runs": results,
        "repeats": repeats,
        "scaling_efficiency_1_to_2": round(efficiency, 3),
        "scaling_efficiency_per_repeat": [round(e, 3) for e in ratios["efficiency"]],
        "scaling_efficiency_cpu_bound": round(statistics.median(ratios["ceiling"]), 3),
        "forkpool_vs_dask_wall_throughput": round(dask_fork, 3),
        "dask_vs_forkpool_per_repeat": [round(e, 3) for e in ratios["dask_vs_forkpool"]],
        "peak_gb_per_worker_max": max(d1["peak_gb_per_worker"] + d2["peak_gb_per_worker"]),
        "peak_gb_per_worker_measured": {k: results[k]["peak_gb_per_worker"] for k in results},
        "projection_18300_sheets": {
            **projection,
            "assumes": "sheets/s per worker of the 2-worker Dask run holds on every core (linear scaling "
            "from this machine; cluster start-up and the national build not included)",
        },
        "targets": {
            "scaling_efficiency_ge_0_8": efficiency >= 0.8,
            "dask_wall_throughput_ge_forkpool_div_1_2": dask_fork <= 1.2,
            "memory_le_1_5_gb_per_worker": max(d1["peak_gb_per_worker"] + d2["peak_gb_per_worker"]) <= 1.5,
            "projected_le_30_min_on_16_cores": projection["16_cores_min"] <= 30,
        },
    }
    out_path = out_path or outputs_root / "bench_national.json"
    write_json(out_path, summary)
    summary["path"] = out_path
    return summary
