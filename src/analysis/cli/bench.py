"""The measurement commands: `veerkracht bench` and `veerkracht bench-national`."""

from __future__ import annotations

import argparse

from analysis.cli.common import _paths


def cmd_bench(args: argparse.Namespace) -> int:
    from analysis.factsheets.bench import run_bench

    res = run_bench(_paths(args), n_areas=args.n_areas)
    print(
        f"bench: papermill {res['papermill_s_per_sheet']:.3f} s/blad, vloer "
        f"{res['floor_s_per_sheet']:.3f} s/blad, verhouding {res['ratio']:.2f} -> {res['path']}"
    )
    return 0


def cmd_bench_national(args: argparse.Namespace) -> int:
    from analysis.national.bench import run_bench_national

    res = run_bench_national(n_sheets=args.n, repeats=args.repeat)
    d2, fp = res["runs"]["dask_2"], res["runs"]["forkpool_2"]
    print(
        f"bench-national: {res['n_wijk_sheets']} wijkbladen; dask 2 workers {d2['sheets_per_s']} bladen/s, "
        f"efficiëntie 1->2 {res['scaling_efficiency_1_to_2']} (per herhaling "
        f"{res['scaling_efficiency_per_repeat']}; plafond op deze machine "
        f"{res['scaling_efficiency_cpu_bound']}), fork-pool/dask doorvoer (bladen/s, wand) "
        f"{res['forkpool_vs_dask_wall_throughput']} (fork-pool {fp['sheets_per_s']} bladen/s), piek "
        f"{res['peak_gb_per_worker_max']} GB/worker, 18.300 bladen op 16 cores "
        f"~{res['projection_18300_sheets']['16_cores_min']} min -> {res['path']}"
    )
    return 0
