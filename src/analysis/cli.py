"""Command line: `veerkracht <command>`; `veerkracht --help` lists the commands."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

os.environ.setdefault("MPLBACKEND", "Agg")

from analysis.config import default_paths, indicator_catalog, settings  # noqa: E402
from analysis.errors import InputError, SourceUnavailable  # noqa: E402


def _say_synthetic(indicators: list[str]) -> None:
    if indicators:
        print(
            "LET OP: synthetische invulling (geen echte cijfers) voor: " + ", ".join(indicators),
            file=sys.stderr,
        )


def cmd_build(args: argparse.Namespace) -> int:
    from analysis.processed.build import build, write

    paths = default_paths()
    result = build(paths, use_cache=not args.no_cache)
    manifest = write(result, paths)
    print(f"build: {manifest['rows']} indicatorrijen, {manifest['regions']} gebieden -> {paths.processed}")
    _say_synthetic(manifest["synthetic_indicators"])
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from analysis.config import cbs_registry
    from analysis.sources.cbs import CbsClient, CbsSettings, fetch_all

    cfg = settings()
    client = CbsClient(CbsSettings.from_settings(cfg["cbs"]))
    years = range(int(cfg["jaren"]["eerste"]), int(cfg["jaren"]["laatste"]) + 1)
    registry = cbs_registry()
    if args.table:
        registry = {k: v for k, v in registry.items() if k in args.table}
        if not registry:
            raise InputError(f"config/cbs_tables.yaml: unknown table group(s) {args.table}")
    others = tuple(cfg["vergelijking"].get("drechtsteden", []))
    summary = fetch_all(
        client, registry, cfg["gemeente"]["code"], default_paths().cbs_cache, years, others=others
    )
    print(
        f"fetch: {len(summary['pulled'])} opgehaald, {len(summary['failed'])} mislukt, "
        f"{len(summary['offline'])} overgeslagen (offline) in {summary['seconds']} s"
    )
    return 1 if summary["failed"] else 0


def cmd_resilience(args: argparse.Namespace) -> int:
    from analysis.resilience.run import run

    out = run(default_paths(), n_sim=args.n_sim)
    print(f"resilience: {out['n_scored']} buurten gescoord, {out['n_excluded']} uitgesloten -> {out['dir']}")
    _say_synthetic(out["synthetic_indicators"])
    return 0


def cmd_goals(args: argparse.Namespace) -> int:
    from analysis.goals.run import run

    out = run(default_paths())
    print(f"goals: {out['n_goals']} doelen, {out['n_measurable']} meetbaar -> {out['dir']}")
    for kind in ("echt", "synthetisch"):  # never one total that mixes real and synthetic series
        counts = ", ".join(f"{n} {s}" for s, n in sorted(out["status_counts"][kind].items()))
        print(f"  status op {kind}e reeksen: {counts or 'geen'}")
    print(f"  zonder gegevens: {out['status_counts']['zonder_gegevens']} doel-gebiedcombinaties")
    _say_synthetic(out["synthetic_indicators"])
    return 0


def cmd_factsheets(args: argparse.Namespace) -> int:
    from analysis.factsheets.runner import run_batch

    result = run_batch(
        default_paths(),
        only=args.only,
        force=args.force,
        workers=args.workers,
        force_workers=getattr(args, "force_workers", False),
        fail_area=getattr(args, "fail_area", None),
        timeout=getattr(args, "timeout", None),
    )
    print(
        f"factsheets: {result['ok']} gemaakt, {result['skipped']} ongewijzigd, "
        f"{result['failed']} mislukt -> {result['dir']}"
    )
    return 1 if result["failed"] else 0


def cmd_report(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    steps: list[tuple[str, Callable[[argparse.Namespace], int]]] = [
        ("build", cmd_build),
        ("resilience", cmd_resilience),
        ("goals", cmd_goals),
        ("factsheets", cmd_factsheets),
    ]
    ns = argparse.Namespace(
        no_cache=False,
        n_sim=None,
        only=None,
        force=args.force,
        workers=args.workers,
        force_workers=args.force_workers,
    )
    rc = 0
    for name, fn in steps:
        t = time.monotonic()
        rc = fn(ns) or rc
        print(f"  [{name}: {time.monotonic() - t:.1f} s]")
    print(f"report: klaar in {time.monotonic() - t0:.1f} s")
    return rc


def cmd_bench(args: argparse.Namespace) -> int:
    from analysis.factsheets.bench import run_bench

    res = run_bench(default_paths(), n_areas=args.n_areas)
    print(
        f"bench: papermill {res['papermill_s_per_sheet']:.3f} s/sheet, floor "
        f"{res['floor_s_per_sheet']:.3f} s/sheet, ratio {res['ratio']:.2f} -> {res['path']}"
    )
    return 0


def _workers_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers", type=int, default=None, help="parallelle workers (standaard en maximum: aantal cores)"
    )
    p.add_argument(
        "--force-workers", action="store_true", help="meer workers dan cores toestaan (elk ~0,7 GB)"
    )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _clean_temps() -> None:
    """Temporary files of atomic writes left by a killed run are removed before a new run writes."""
    from analysis.io import clean_stale_temps

    paths = default_paths()
    clean_stale_temps(paths.processed)
    clean_stale_temps(paths.outputs)


def _check_build_matches_settings() -> None:
    """Analysis commands read data/processed: it must be built for the municipality in settings."""
    from analysis.processed.build import load_manifest

    built_for = load_manifest(default_paths()).get("gemeente")
    code = settings()["gemeente"]["code"]
    if built_for and built_for != code:
        raise InputError(
            f"config/settings.yaml: gemeente.code {code} differs from the build in "
            f"{default_paths().processed} ({built_for}); run `veerkracht build` first"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="veerkracht",
        description="Monitor Veerkrachtige Buurten Zwijndrecht "
        "(CBS-data, veerkrachtindex, doelen, factsheets).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="bouw data/processed (regions.gpkg, indicators.parquet)")
    p.add_argument("--no-cache", action="store_true", help="negeer de CBS-cache in data/raw/cbs")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("fetch", help="haal CBS-tabellen live op naar data/raw/cbs (netwerk)")
    p.add_argument("--table", nargs="*", help="alleen deze tabelgroepen uit config/cbs_tables.yaml")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("resilience", help="veerkrachtindex, signaalklassen, validatie, gevoeligheid")
    p.add_argument("--n-sim", type=int, default=None, help="aantal Monte-Carlo-trekkingen")
    p.set_defaults(func=cmd_resilience)
    p = sub.add_parser("goals", help="doelencatalogus, trends en prognoses")
    p.set_defaults(func=cmd_goals)
    p = sub.add_parser("factsheets", help="HTML-factsheets per gebied (papermill)")
    p.add_argument("--only", nargs="+", metavar="CODE", help="alleen deze gebiedscodes")
    p.add_argument("--force", action="store_true", help="ook ongewijzigde gebieden opnieuw maken")
    _workers_args(p)
    p.add_argument(
        "--timeout", type=float, default=None, help="seconden per cel (standaard: factsheets.timeout_s)"
    )
    p.add_argument("--fail-area", default=None, help=argparse.SUPPRESS)  # test hook: one sheet fails
    p.set_defaults(func=cmd_factsheets)
    p = sub.add_parser("report", help="alles: build, resilience, goals, factsheets (offline)")
    p.add_argument("--force", action="store_true")
    _workers_args(p)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("bench", help="meet factsheet-batch tegen plain-Python-vloer")
    p.add_argument("--n-areas", type=int, default=0, help="aantal gebieden (0 = alle)")
    p.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    try:
        # all configuration is validated before any command writes anything
        settings()
        indicator_catalog()
        _clean_temps()
        if getattr(args, "workers", None) is not None and args.workers < 1:
            raise InputError(f"--workers {args.workers}: must be 1 or more")
        if args.command in ("resilience", "goals", "factsheets"):
            _check_build_matches_settings()
        return args.func(args)
    except InputError as exc:
        print(f"fout: {_one_line(exc)}", file=sys.stderr)
        return 2
    except SourceUnavailable as exc:
        print(f"bron niet bereikbaar: {_one_line(exc)}", file=sys.stderr)
        return 3
    except KeyboardInterrupt as exc:
        detail = f": {_one_line(exc)}" if str(exc) else ""
        print(f"afgebroken{detail}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
