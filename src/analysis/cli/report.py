"""`veerkracht report`: every stage in order, resilience and goals side by side."""

from __future__ import annotations

import argparse
import os
import sys
import time

import analysis.cli.stages as stages
from analysis import incremental
from analysis.children import die_with_parent


def _captured(stage: str, ns: argparse.Namespace) -> tuple:
    """Run the stage ``cmd_<stage>`` with its printed output captured (a stage run beside another
    keeps its lines together): (exit code or exception, stdout, stderr, seconds)."""
    import contextlib
    import io

    out, err, t = io.StringIO(), io.StringIO(), time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = getattr(stages, f"cmd_{stage}")(ns)
        except Exception as exc:  # noqa: BLE001 - re-raised in the report process
            result = exc
    return result, out.getvalue(), err.getvalue(), time.monotonic() - t


def _report_national(args: argparse.Namespace, ns: argparse.Namespace, t0: float) -> int:
    """National data path: one build with one grouped resilience pass, then the sheets on Dask."""
    rc = 0
    for name, fn in (
        ("build nederland + veerkracht", stages.cmd_build_national),
        ("factsheets", stages.cmd_factsheets),
    ):
        t = time.monotonic()
        rc = fn(ns) or rc
        print(f"  [{name}: {time.monotonic() - t:.1f} s]")
    print(f"report: klaar in {time.monotonic() - t0:.1f} s")
    return rc


def _why(stage: str, paths, force: bool, options: dict | None = None) -> list[str]:
    return ["--force"] if force else incremental.changes(stage, paths, options)


def _sheets_stale(paths) -> bool:
    """Whether a configuration file or code the sheets read changed since the last batch (only to
    decide whether to start the sheet workers ahead; which sheets are re-rendered, and why, the
    runner's fingerprint decides: factsheets.planning)."""
    return incremental.load("factsheets", paths) is not None and bool(
        incremental.changes("factsheets", paths)
    )


def _run_stage(stage: str, why: list[str], ns: argparse.Namespace, run) -> int:
    """Run one stage when ``why`` says it is stale, and say what it changed; else "ongewijzigd"."""
    if not why:
        print(f"{stage}: ongewijzigd")
        return 0
    print(f"{stage}: opnieuw ({'; '.join(why)})")
    before, t = incremental.key_table(stage, ns.paths), time.monotonic()
    rc = run()
    print(f"{stage}: {incremental.describe(stage, before, incremental.key_table(stage, ns.paths))}")
    print(f"  [{stage}: {time.monotonic() - t:.1f} s]")
    return rc


def _resilience_beside_goals(ns: argparse.Namespace, why: dict) -> int:
    """Both stale: goals in a forked process beside resilience (both read only the build); the
    output is printed as if they ran one after the other."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    print(f"goals: opnieuw ({'; '.join(why['goals'])})")
    goals_before = incremental.key_table("goals", ns.paths)
    # the side process dies with this one (kill -9 included): no process of a run outlives it
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=get_context("fork"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    ) as side:
        goals = side.submit(_captured, "goals", ns)
        rc = _run_stage("resilience", why["resilience"], ns, lambda: stages.cmd_resilience(ns))
        result, out, err, secs = goals.result()
    sys.stdout.write(out)
    sys.stderr.write(err)
    if isinstance(result, BaseException):
        raise result
    print(f"goals: {incremental.describe('goals', goals_before, incremental.key_table('goals', ns.paths))}")
    print(f"  [goals: {secs:.1f} s, naast resilience]")
    return result or rc


def cmd_report(args: argparse.Namespace) -> int:
    """build, then resilience and goals side by side (both read only the build), then the fact
    sheets; the fact-sheet workers start their kernels during the build when sheets will be made.
    A stage whose inputs, configuration and outputs are as it recorded them is not rerun
    (analysis.incremental): it says "ongewijzigd"; a rerun stage says why and what it changed.
    Printed output and results are those of the stages run one after the other. A national or
    provincial scope takes the national data path instead."""
    from analysis.factsheets.runner import _kill_pool, likely_to_render, prestart_workers
    from analysis.national.run import check_niveau, parse_scope

    t0 = time.monotonic()
    scope, _ = parse_scope(args.scope)
    niveaus = check_niveau(args.niveau, scope)
    ns = argparse.Namespace(
        no_cache=False,
        n_sim=None,
        only=args.only,
        force=args.force,
        workers=args.workers,
        force_workers=args.force_workers,
        paths=args.paths,
        scope=args.scope,
        niveau=args.niveau,
        scheduler=args.scheduler,
        scheduler_file=getattr(args, "scheduler_file", None),
    )
    if scope != "gemeente":
        return _report_national(args, ns, t0)
    paths, force = args.paths, args.force
    why = {}  # stage -> reasons to rerun ([]: unchanged)
    why["build"] = _why("build", paths, force, stages.build_options(ns))
    sheets_forced = force or _sheets_stale(paths)
    # sheets will be made when a stage before them reruns (resilience and goals are known up front
    # only when the build stays as it is; a rebuild makes them stale anyway)
    upstream_stale = bool(why["build"]) or bool(
        _why("resilience", paths, force, stages.resilience_options(ns)) or _why("goals", paths, force)
    )
    pool = None
    remote = args.scheduler is not None or getattr(args, "scheduler_file", None)
    if not remote and not niveaus and likely_to_render(paths, sheets_forced or upstream_stale):
        pool = prestart_workers(args.workers, args.force_workers)
    rc = 0
    try:
        rc = _run_stage("build", why["build"], ns, lambda: stages.cmd_build(ns)) or rc
        why["resilience"] = _why("resilience", paths, force, stages.resilience_options(ns))
        why["goals"] = _why("goals", paths, force)
        if why["resilience"] and why["goals"]:
            rc = _resilience_beside_goals(ns, why) or rc
        else:
            for stage in ("resilience", "goals"):
                rc = _run_stage(stage, why[stage], ns, lambda s=stage: getattr(stages, f"cmd_{s}")(ns)) or rc
        t = time.monotonic()
        ns.pool, pool = pool, None  # run_batch owns the workers from here
        rc = stages.cmd_factsheets(ns) or rc
        print(f"  [factsheets: {time.monotonic() - t:.1f} s]")
    finally:
        if pool is not None:
            _kill_pool(pool)
    print(f"report: klaar in {time.monotonic() - t0:.1f} s")
    return rc
