"""Command line: `veerkracht <command>`; `veerkracht --help` lists the commands."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

os.environ.setdefault("MPLBACKEND", "Agg")

from analysis.config import Paths, default_paths, indicator_catalog, settings  # noqa: E402
from analysis.errors import InputError, SourceUnavailable  # noqa: E402


def _paths(args: argparse.Namespace) -> Paths:
    """The folders of the municipality chosen with `--gemeente` (checked once in main())."""
    return args.paths


def _say_synthetic(indicators: list[str]) -> None:
    if indicators:
        print(
            "LET OP: synthetische invulling (geen echte cijfers) voor: " + ", ".join(indicators),
            file=sys.stderr,
        )


def cmd_build(args: argparse.Namespace) -> int:
    from analysis.processed.build import build, write

    paths = _paths(args)
    result = build(paths, use_cache=not args.no_cache)
    manifest = write(result, paths)
    print(
        f"build {paths.gemeente} {manifest['gemeentenaam']}: {manifest['rows']} indicatorrijen, "
        f"{manifest['regions']} gebieden -> {paths.processed}"
    )
    print(
        f"build: {manifest['aggregaten_onder_dekking']} aggregaten niet geschreven "
        "(dekking onder 95% van het gewicht van de delen)"
    )
    if not manifest["focusgebieden"]:
        print(f"build: geen focusgebieden/programmadoelen voor deze gemeente ({paths.gemeente})")
    _say_synthetic(manifest["synthetic_indicators"])
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Exit 0: everything pulled, or CBS offline (one line, the pipeline uses cache/snapshot);
    1: some tables failed or were not pulled within the budget; 2: bad input (registry/settings)."""
    from analysis.config import cbs_registry, vergelijking
    from analysis.sources.cbs import CbsClient, CbsSettings, fetch_all

    cfg = settings()
    client = CbsClient(CbsSettings.from_settings(cfg["cbs"]))
    years = range(int(cfg["jaren"]["eerste"]), int(cfg["jaren"]["laatste"]) + 1)
    registry = cbs_registry()
    if args.table:
        registry = {k: v for k, v in registry.items() if k in args.table}
        if not registry:
            raise InputError(f"config/cbs_tables.yaml: unknown table group(s) {args.table}")
    if args.budget is not None and args.budget <= 0:
        raise InputError(f"--budget: must be a positive number of seconds, got {args.budget}")
    paths = _paths(args)
    summary = fetch_all(
        client,
        registry,
        paths.gemeente,
        paths.cbs_cache,
        years,
        log=lambda line: print(line, file=sys.stderr),
        others=vergelijking(paths.gemeente),
        national=(cfg.get("vergelijking") or {}).get("nederland", "NL00"),
        budget_s=args.budget,
    )
    print(
        f"fetch: {len(summary['pulled'])} opgehaald, {len(summary['failed'])} mislukt, "
        f"{len(summary['not_pulled'])} niet opgehaald (tijdsbudget), "
        f"{len(summary['offline'])} overgeslagen (offline) in {summary['seconds']} s"
    )
    if summary.get("summary_path"):
        print(f"fetch: per tabel en indicator -> {summary['summary_path']}")
    return 1 if summary["failed"] or summary["not_pulled"] else 0


def cmd_resilience(args: argparse.Namespace) -> int:
    from analysis.resilience.run import run

    out = run(_paths(args), n_sim=args.n_sim)
    print(f"resilience: {out['n_scored']} buurten gescoord, {out['n_excluded']} uitgesloten -> {out['dir']}")
    _say_synthetic(out["synthetic_indicators"])
    return 0


def cmd_goals(args: argparse.Namespace) -> int:
    from analysis.goals.run import run

    out = run(_paths(args))
    if out.get("geen_programma"):
        print(f"goals: geen focusgebieden/programmadoelen voor deze gemeente ({_paths(args).gemeente})")
        return 0
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
        _paths(args),
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
        only=args.only,
        force=args.force,
        workers=args.workers,
        force_workers=args.force_workers,
        paths=args.paths,
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

    res = run_bench(_paths(args), n_areas=args.n_areas)
    print(
        f"bench: papermill {res['papermill_s_per_sheet']:.3f} s/sheet, floor "
        f"{res['floor_s_per_sheet']:.3f} s/sheet, ratio {res['ratio']:.2f} -> {res['path']}"
    )
    return 0


def cmd_kaart(args: argparse.Namespace) -> int:
    from analysis.sources import pdok, snapshot

    paths = _paths(args)
    cfg = pdok.PdokSettings.from_settings(settings().get("pdok", {}))
    try:
        out = pdok.fetch_buurten(paths.gemeente, paths.pdok_cache, cfg)
    except SourceUnavailable as exc:
        bundled = paths.snapshot / snapshot.BUURTEN_2023_FILE
        held = pdok.cached_buurten(paths.pdok_cache) is not None or _in_bundle(bundled, paths.gemeente)
        what = "bestaande polygonen blijven in gebruik" if held else f"geen polygonen voor {paths.gemeente}"
        print(f"kaart: PDOK niet bereikbaar ({exc}); {what}", file=sys.stderr)
        return 0 if held else 3
    print(f"kaart {paths.gemeente}: {out['buurten']} buurten van PDOK -> {out['path']}")
    return 0


def _in_bundle(path, gemeente: str) -> bool:
    import json

    try:
        feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError):
        return False
    return any((f.get("properties") or {}).get("gemeentecode") == gemeente for f in feats)


def _resolve_gemeente(code: str | None) -> Paths:
    """Check `--gemeente` before any stage runs: a valid code, and buurt polygons we hold for it."""
    from analysis.config import CONFIG_DIR
    from analysis.sources import pdok, snapshot

    paths = default_paths(code)
    bundled = paths.snapshot / snapshot.BUURTEN_2023_FILE
    if pdok.cached_buurten(paths.pdok_cache) is None and not _in_bundle(bundled, paths.gemeente):
        where = "--gemeente" if code else f"{CONFIG_DIR / 'settings.yaml'} gemeente.code"
        raise InputError(
            f"{where} {paths.gemeente}: not found in the buurt polygons we hold ({bundled}, column "
            f"gemeentecode) and no PDOK pull in {paths.pdok_cache}; run `veerkracht --gemeente "
            f"{paths.gemeente} kaart` online"
        )
    return paths


def _workers_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers", type=int, default=None, help="parallelle workers (standaard en maximum: aantal cores)"
    )
    p.add_argument(
        "--force-workers", action="store_true", help="meer workers dan cores toestaan (elk ~0,7 GB)"
    )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _clean_temps(paths: Paths) -> None:
    """Temporary files of atomic writes left by a killed run are removed before a new run writes."""
    from analysis.io import clean_stale_temps

    clean_stale_temps(paths.processed)
    clean_stale_temps(paths.outputs)


def _check_build_matches_settings(paths: Paths) -> None:
    """Analysis commands read data/processed/<GM>: it must be built for that municipality."""
    from analysis.processed.build import load_manifest

    built_for = load_manifest(paths).get("gemeente")
    if built_for and built_for != paths.gemeente:
        raise InputError(
            f"gemeente {paths.gemeente} differs from the build in {paths.processed} ({built_for}); "
            f"run `veerkracht --gemeente {paths.gemeente} build` first"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="veerkracht",
        description="Monitor Veerkrachtige Buurten "
        "(CBS-data, veerkrachtindex, doelen, factsheets) voor Zwijndrecht of een andere gemeente.",
    )
    parser.add_argument(
        "--gemeente",
        metavar="GMxxxx",
        default=None,
        help="CBS-gemeentecode (standaard config/settings.yaml, GM0642); uitvoer in "
        "data/processed/<GM>/ en outputs/<GM>/",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="bouw data/processed (regions.gpkg, indicators.parquet)")
    p.add_argument("--no-cache", action="store_true", help="negeer de CBS-cache in data/raw/cbs")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("fetch", help="haal CBS-tabellen live op naar data/raw/cbs (netwerk)")
    p.add_argument("--table", nargs="*", help="alleen deze tabelgroepen uit config/cbs_tables.yaml")
    p.add_argument(
        "--budget", type=float, default=None, metavar="SECONDEN", help="totale tijd (standaard settings.yaml)"
    )
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
    p.add_argument("--only", nargs="+", metavar="CODE", help="factsheets alleen voor deze gebiedscodes")
    _workers_args(p)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("kaart", help="haal buurtpolygonen van PDOK naar data/raw/pdok/<GM>/ (netwerk)")
    p.set_defaults(func=cmd_kaart)
    p = sub.add_parser("bench", help="meet factsheet-batch tegen plain-Python-vloer")
    p.add_argument("--n-areas", type=int, default=0, help="aantal gebieden (0 = alle)")
    p.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    try:
        # all configuration is validated before any command writes anything
        settings()
        indicator_catalog()
        if args.func in (cmd_kaart, cmd_fetch):
            args.paths = default_paths(args.gemeente)  # pulls need a valid code, not polygons
        else:
            args.paths = _resolve_gemeente(args.gemeente)
        _clean_temps(args.paths)
        if getattr(args, "workers", None) is not None and args.workers < 1:
            raise InputError(f"--workers {args.workers}: must be 1 or more")
        if args.command in ("resilience", "goals", "factsheets"):
            _check_build_matches_settings(args.paths)
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
