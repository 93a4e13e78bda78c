"""Command line: `veerkracht <command>`; `veerkracht --help` lists the commands."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

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
    1: some tables failed or were not pulled within the budget; 2: bad input (registry/settings).

    ``--scope nederland``: every table once for all regions down to ``--niveau`` (default wijk) into
    ``data/raw/cbs/nederland/`` plus the gemeente -> provincie table; ``--gebieden``: only the latter."""
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
    if args.budget is not None and not (math.isfinite(args.budget) and args.budget > 0):
        raise InputError(f"--budget: moet een positief aantal seconden zijn, niet {args.budget}")
    scope = "gemeente"
    if args.scope:  # imported only when asked: a plain `fetch` offline stays well under a second
        from analysis.national.run import parse_scope

        scope, _ = parse_scope(args.scope)
    if scope == "provincie":
        raise InputError(
            "fetch --scope provincie: CBS tables are pulled for the whole country; use "
            "`veerkracht fetch --scope nederland` and choose the provincie in report/factsheets"
        )
    if args.niveau is not None and args.niveau not in ("gemeente", "wijk", "buurt"):
        raise InputError(f"--niveau {args.niveau}: expected one of gemeente, wijk, buurt")
    if args.niveau is not None and scope == "gemeente" and not args.gebieden:
        raise InputError("fetch --niveau: only with --scope nederland (a municipal pull takes every level)")
    if scope == "nederland" or args.gebieden:
        return _fetch_national(args, client, registry, years, cfg, scope == "nederland")
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
    return _say_fetch("fetch", summary)


def _say_fetch(label: str, summary: dict) -> int:
    """The summary line(s) of a pull; exit code 1 when a table failed or was cut off by the budget."""
    print(
        f"{label}: {len(summary['pulled'])} opgehaald, {len(summary['failed'])} mislukt, "
        f"{len(summary['not_pulled'])} niet opgehaald (tijdsbudget), "
        f"{len(summary['offline'])} overgeslagen (offline), "
        f"{len(summary.get('skipped', []))} niet geprobeerd (verbindingsfouten) in {summary['seconds']} s"
    )
    if summary.get("summary_path"):
        print(f"fetch: per tabel en indicator -> {summary['summary_path']}")
    return 1 if summary["failed"] or summary["not_pulled"] or summary.get("skipped") else 0


def _fetch_national(
    args: argparse.Namespace, client, registry: dict, years: range, cfg: dict, tables: bool
) -> int:
    """`fetch --scope nederland` (the registry tables, unless only --gebieden) and the gemeente ->
    provincie table (with --gebieden, or with --scope nederland without --table)."""
    from analysis.sources.cbs_national import fetch_gebieden, fetch_national

    paths = _paths(args)
    err = lambda line: print(line, file=sys.stderr)  # noqa: E731
    rc = 0
    if tables:
        niveau = args.niveau or "wijk"
        summary = fetch_national(
            client,
            registry,
            paths.cbs_cache,
            years,
            niveau,
            log=err,
            national=(cfg.get("vergelijking") or {}).get("nederland", "NL00"),
            budget_s=args.budget,
        )
        rc = _say_fetch(f"fetch nederland (niveau {niveau})", summary)
    offline = tables and summary["catalogs"].get("opendata.cbs.nl") is False  # already said in one line
    if args.gebieden or (tables and not args.table and not offline):
        g = fetch_gebieden(client, paths.raw, log=err, budget_s=args.budget)
        if g["status"] == "pulled":
            print(
                f"fetch: gemeente->provincie (CBS {g['table_id']}): {g['gemeenten']} gemeenten, "
                f"{g['provincies']} provincies -> {g['path']}"
            )
        elif g["status"] != "offline":
            rc = 1
    return rc


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


def _national_factsheets(args: argparse.Namespace, scope: str, provincie: str | None, niveaus) -> dict:
    """Sheets of a national or provincial scope: per-municipality views of the national set, on Dask."""
    from analysis.factsheets.dask_runner import run_batch_dask
    from analysis.national import run as national
    from analysis.national.build import NATIONAL, load_regions, national_root
    from analysis.national.overview import write_national_index

    views = national.views(scope, provincie, only=args.only, niveaus=niveaus)
    result = run_batch_dask(
        views,
        scheduler=getattr(args, "scheduler", None),
        niveaus=niveaus,
        **_batch_options(args),
    )
    _, processed_root, outputs_root = national.roots()
    root = national_root(processed_root)
    from analysis.io import read_parquet

    index = write_national_index(
        outputs_root / NATIONAL, load_regions(root), read_parquet(root / "resilience_scores.parquet")
    )
    print(f"factsheets: landelijk overzicht -> {index}")
    return result


def _batch_options(args: argparse.Namespace) -> dict:
    """The options every fact-sheet runner (fork pool or Dask) takes from the command line."""
    return {
        "only": args.only,
        "force": args.force,
        "workers": args.workers,
        "force_workers": getattr(args, "force_workers", False),
        "fail_area": getattr(args, "fail_area", None),
        "timeout": getattr(args, "timeout", None),
    }


def cmd_factsheets(args: argparse.Namespace) -> int:
    from analysis.factsheets.runner import run_batch
    from analysis.national.run import check_niveau, parse_scope

    scope, provincie = parse_scope(getattr(args, "scope", None))
    niveaus = check_niveau(getattr(args, "niveau", None), scope)
    if scope != "gemeente":
        result = _national_factsheets(args, scope, provincie, niveaus)
    elif getattr(args, "scheduler", None) is not None or niveaus:
        from analysis.factsheets.dask_runner import run_batch_dask

        result = run_batch_dask(
            _paths(args),
            scheduler=args.scheduler,
            niveaus=niveaus,
            **_batch_options(args),
        )
    else:
        result = run_batch(_paths(args), pool=getattr(args, "pool", None), **_batch_options(args))
    print(
        f"factsheets: {result['ok']} gemaakt, {result['skipped']} ongewijzigd, "
        f"{result['failed']} mislukt -> {result['dir']}"
    )
    return 1 if result["failed"] else 0


def _captured(stage: str, ns: argparse.Namespace) -> tuple:
    """Run the stage ``cmd_<stage>`` with its printed output captured (a stage run beside another
    keeps its lines together): (exit code or exception, stdout, stderr, seconds)."""
    import contextlib
    import io

    out, err, t = io.StringIO(), io.StringIO(), time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = globals()[f"cmd_{stage}"](ns)
        except Exception as exc:  # noqa: BLE001 - re-raised in the report process
            result = exc
    return result, out.getvalue(), err.getvalue(), time.monotonic() - t


def cmd_build_national(args: argparse.Namespace) -> int:
    from analysis.national import run as national

    national.build()
    return 0


def _report_national(args: argparse.Namespace, ns: argparse.Namespace, t0: float) -> int:
    """National data path: one build with one grouped resilience pass, then the sheets on Dask."""
    rc = 0
    for name, fn in (("build nederland + veerkracht", cmd_build_national), ("factsheets", cmd_factsheets)):
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
    )
    if scope != "gemeente":
        return _report_national(args, ns, t0)
    pool = None
    if args.scheduler is None and not niveaus and likely_to_render(args.paths, args.force):
        pool = prestart_workers(args.workers, args.force_workers)
    rc = 0
    try:
        t = time.monotonic()
        rc = cmd_build(ns) or rc
        print(f"  [build: {time.monotonic() - t:.1f} s]")
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as side:
            goals = side.submit(_captured, "goals", ns)
            t = time.monotonic()
            rc = cmd_resilience(ns) or rc
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
        rc = cmd_factsheets(ns) or rc
        print(f"  [factsheets: {time.monotonic() - t:.1f} s]")
    finally:
        if pool is not None:
            _kill_pool(pool)
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


def cmd_bench_national(args: argparse.Namespace) -> int:
    from analysis.national.bench import run_bench_national

    res = run_bench_national(n_sheets=args.n, repeats=args.repeat)
    d2, fp = res["runs"]["dask_2"], res["runs"]["forkpool_2"]
    print(
        f"bench-national: {res['n_wijk_sheets']} wijkbladen; dask 2 workers {d2['sheets_per_s']} bladen/s, "
        f"efficientie 1->2 {res['scaling_efficiency_1_to_2']} (per herhaling "
        f"{res['scaling_efficiency_per_repeat']}; plafond op deze machine "
        f"{res['scaling_efficiency_cpu_bound']}), dask/fork-pool per blad "
        f"{res['dask_vs_forkpool_mean_sheet_s']} (fork-pool {fp['sheets_per_s']} bladen/s), piek "
        f"{res['peak_gb_per_worker_max']} GB/worker, 18.300 bladen op 16 cores "
        f"~{res['projection_18300_sheets']['16_cores_min']} min -> {res['path']}"
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


def _scope_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scope",
        nargs="+",
        metavar="SCOPE",
        default=None,
        help="gemeente (standaard) | provincie PVxx | nederland: landelijke gegevens, bladen via Dask",
    )
    p.add_argument(
        "--niveau",
        default=None,
        metavar="NIVEAU",
        help="alleen bladen van dit niveau: gemeente | wijk | buurt",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADRES",
        help="Dask-scheduler (bijv. tcp://host:8786); zonder adres een LocalCluster bij --scope nederland",
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
    p.add_argument(
        "--scope",
        nargs="+",
        metavar="SCOPE",
        default=None,
        help="gemeente (standaard: --gemeente en vergelijking) | nederland: elke tabel één keer voor heel "
        "Nederland naar data/raw/cbs/nederland/ (Parquet per jaar en gemeente) + gemeente->provincie",
    )
    p.add_argument(
        "--niveau",
        default=None,
        metavar="NIVEAU",
        help="met --scope nederland: gemeente | wijk (standaard: gemeenten, wijken, NL00) | buurt",
    )
    p.add_argument(
        "--gebieden",
        action="store_true",
        help="alleen de tabel gemeente->provincie (CBS Gebieden in Nederland) voor --scope provincie",
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
    _scope_args(p)
    p.set_defaults(func=cmd_factsheets)
    p = sub.add_parser("report", help="alles: build, resilience, goals, factsheets (offline)")
    p.add_argument("--force", action="store_true")
    p.add_argument("--only", nargs="+", metavar="CODE", help="factsheets alleen voor deze gebiedscodes")
    _workers_args(p)
    _scope_args(p)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("kaart", help="haal buurtpolygonen van PDOK naar data/raw/pdok/<GM>/ (netwerk)")
    p.set_defaults(func=cmd_kaart)
    p = sub.add_parser("bench", help="meet factsheet-batch tegen plain-Python-vloer")
    p.add_argument("--n-areas", type=int, default=0, help="aantal gebieden (0 = alle)")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("bench-national", help="landelijke wijkbladen op Dask (1 en 2 workers) vs fork-pool")
    p.add_argument("--n", type=int, default=500, help="minimaal aantal wijkbladen in de steekproef")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="1 en 2 workers zo vaak afwisselend; de mediaan telt (standaard 1)",
    )
    p.set_defaults(func=cmd_bench_national)
    args = parser.parse_args(argv)
    try:
        # all configuration is validated before any command writes anything
        settings()
        indicator_catalog()
        if args.gemeente is not None and not args.gemeente.strip():
            raise InputError("--gemeente: lege gemeentecode; geef een CBS-code zoals GM0642")
        if args.func in (cmd_kaart, cmd_fetch):
            args.paths = default_paths(args.gemeente)  # pulls need a valid code, not polygons
        else:
            args.paths = _resolve_gemeente(args.gemeente)
        _clean_temps(args.paths)
        if getattr(args, "workers", None) is not None and args.workers < 1:
            raise InputError(f"--workers {args.workers}: must be 1 or more")
        national = (getattr(args, "scope", None) or ["gemeente"])[0].lower() != "gemeente"
        if args.command in ("resilience", "goals", "factsheets") and not national:
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
