"""`make bench-national`: national wijk sheets on Dask with 1 and 2 local workers, and the fork-pool
runner on the same sheets in the same run.

Sample: whole municipalities (seeded shuffle) until at least ``n_sheets`` wijk sheets, so each
municipality is rendered the way a national run renders it. Written to outputs/bench_national.json:
sheets per second (wall, incl. starting workers and kernels), mean seconds per sheet (from the
manifests, excl. start-up), peak memory per worker (worker process + its kernel, RSS, sampled),
scaling efficiency 1 -> 2 workers, Dask vs fork-pool per-sheet cost, and the projection for the
country (18,300 sheets) on 16 and 64 cores — a projection from this machine, not a measurement.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import threading
import time
from pathlib import Path

import psutil

from analysis.config import settings
from analysis.io import write_json

NATIONAL_SHEETS = 18_300  # 342 gemeenten + 3,393 wijken + 14,574 buurten (issue 13)


class PeakMemory:
    """Peak RSS per direct child process of this one, its descendants (kernels) included."""

    def __init__(self, every: float = 0.5):
        self.every, self.peak, self._stop = every, {}, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children():
                try:
                    rss = child.memory_info().rss + sum(
                        c.memory_info().rss for c in child.children(recursive=True)
                    )
                except psutil.Error:
                    continue
                self.peak[child.pid] = max(self.peak.get(child.pid, 0), rss)
            self._stop.wait(self.every)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    def top(self, n: int) -> list[float]:
        """The ``n`` largest peaks in GB (the workers; short-lived helpers are smaller)."""
        return [round(v / 1e9, 3) for v in sorted(self.peak.values(), reverse=True)[:n]]


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


def run_bench_national(n_sheets: int = 500, seed: int = 13, out_path: Path | None = None, log=print) -> dict:
    from analysis.factsheets.dask_runner import run_batch_dask, start_client
    from analysis.factsheets.runner import run_batch
    from analysis.national import run as national
    from analysis.national.build import load_regions, national_root

    raw, processed_root, outputs_root = national.roots()
    root = national_root(processed_root)
    if not (root / "indicators").exists():
        national.build(raw, processed_root, log=log)
    regions = load_regions(root)
    gms, wijken = sample_gemeenten(regions, n_sheets, seed)
    bench_dir = outputs_root / "nederland_bench"
    shutil.rmtree(bench_dir, ignore_errors=True)

    def views_into(name: str):  # same processed views, own output folder (with its resilience scores)
        return national.views("nederland", None, raw, processed_root, bench_dir / name, only=gms)

    log(f"bench-national: {len(wijken)} wijkbladen uit {len(gms)} gemeenten")
    load = {"start": os.getloadavg()}
    results = {}
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
        secs = _manifest_seconds(views)
        results[f"dask_{n}"] = {
            "workers": n,
            "sheets": r["ok"],
            "failed": r["failed"],
            "wall_s": round(wall, 2),
            "sheets_per_s": round(r["ok"] / wall, 3),
            "mean_sheet_s": round(sum(secs) / len(secs), 4),
            "peak_gb_per_worker": mem.top(n),
        }
        log(f"  dask {n} worker(s): {results[f'dask_{n}']}")
    # the fork-pool runner on the same sheets: ONE pool of 2 workers over all sampled municipalities
    views = views_into("forkpool_2")
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        r = run_batch(views, niveaus=["wijk"], force=True, workers=2, force_workers=True, progress=False)
        wall = time.perf_counter() - t0
    ok, failed = r["ok"], r["failed"]
    secs = _manifest_seconds(views)
    results["forkpool_2"] = {
        "workers": 2,
        "sheets": ok,
        "failed": failed,
        "wall_s": round(wall, 2),
        "sheets_per_s": round(ok / wall, 3),
        "mean_sheet_s": round(sum(secs) / len(secs), 4),
        "peak_gb_per_worker": mem.top(2),
    }
    log(f"  fork pool 2 workers: {results['forkpool_2']}")
    load["end"] = os.getloadavg()
    d1, d2, fp = results["dask_1"], results["dask_2"], results["forkpool_2"]
    efficiency = d2["sheets_per_s"] / (2 * d1["sheets_per_s"])
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
        "scaling_efficiency_1_to_2": round(efficiency, 3),
        "dask_vs_forkpool_mean_sheet_s": round(d2["mean_sheet_s"] / fp["mean_sheet_s"], 3),
        "dask_vs_forkpool_wall": round(d2["wall_s"] / fp["wall_s"], 3),
        "peak_gb_per_worker_max": max(d1["peak_gb_per_worker"] + d2["peak_gb_per_worker"]),
        "projection_18300_sheets": {
            **projection,
            "assumes": "sheets/s per worker of the 2-worker Dask run holds on every core (linear scaling "
            "from this machine; cluster start-up and the national build not included)",
        },
        "targets": {
            "scaling_efficiency_ge_0_8": efficiency >= 0.8,
            "dask_le_1_2x_forkpool": d2["mean_sheet_s"] / fp["mean_sheet_s"] <= 1.2,
            "memory_le_1_5_gb_per_worker": max(d1["peak_gb_per_worker"] + d2["peak_gb_per_worker"]) <= 1.5,
            "projected_le_30_min_on_16_cores": projection["16_cores_min"] <= 30,
        },
    }
    out_path = out_path or outputs_root / "bench_national.json"
    write_json(out_path, summary)
    summary["path"] = out_path
    return summary
