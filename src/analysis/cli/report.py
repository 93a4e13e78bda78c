"""`veerkracht report`: every stage in order, resilience and goals side by side."""

from __future__ import annotations

import argparse
import sys
import time

from analysis.cli import stages


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


def cmd_report(args: argparse.Namespace) -> int:
    """build, then resilience and goals side by side (both read only the build), then the fact
    sheets; the fact-sheet workers start their kernels during the build when sheets will be made.
    Printed output and results are those of the stages run one after the other. A national or
    provincial scope takes the national data path instead."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

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
    pool = None
    remote = args.scheduler is not None or getattr(args, "scheduler_file", None)
    if not remote and not niveaus and likely_to_render(args.paths, args.force):
        pool = prestart_workers(args.workers, args.force_workers)
    rc = 0
    try:
        t = time.monotonic()
        rc = stages.cmd_build(ns) or rc
        print(f"  [build: {time.monotonic() - t:.1f} s]")
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as side:
            goals = side.submit(_captured, "goals", ns)
            t = time.monotonic()
            rc = stages.cmd_resilience(ns) or rc
            print(f"  [resilience: {time.monotonic() - t:.1f} s]")
            result, out, err, secs = goals.result()
        sys.stdout.write(out)
        sys.stderr.write(err)
        if isinstance(result, BaseException):
            raise result
        rc = result or rc
        print(f"  [goals: {secs:.1f} s, naast resilience]")
        t = time.monotonic()
        ns.pool, pool = pool, None  # run_batch owns the workers from here
        rc = stages.cmd_factsheets(ns) or rc
        print(f"  [factsheets: {time.monotonic() - t:.1f} s]")
    finally:
        if pool is not None:
            _kill_pool(pool)
    print(f"report: klaar in {time.monotonic() - t0:.1f} s")
    return rc
