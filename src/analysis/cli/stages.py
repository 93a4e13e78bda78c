"""The pipeline stages as commands: build, resilience, goals, factsheets (and the national build)."""

from __future__ import annotations

import argparse

from analysis.cli.common import _paths, _say_synthetic


def build_options(args: argparse.Namespace) -> dict:
    """The options of the build that change its result (recorded by analysis.incremental)."""
    return {"use_cache": not args.no_cache}


def resilience_options(args: argparse.Namespace) -> dict:
    return {"n_sim": args.n_sim}


def cmd_build(args: argparse.Namespace) -> int:
    paths = _paths(args)
    if not args.no_cache:  # build()'s first check, made before the build's libraries load
        from analysis.config import cbs_registry
        from analysis.io import verify_cbs_cache

        verify_cbs_cache(paths.cbs_cache, set(cbs_registry()))
    from analysis import incremental
    from analysis.processed.build import build, write

    result = build(paths, use_cache=not args.no_cache)
    manifest = write(result, paths)
    incremental.record("build", paths, build_options(args))
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


def _resilience_inputs(paths) -> None:
    """What the resilience stage checks first (config/resilience.yaml, then the build's tables, in
    the order of analysis.resilience.run.run), checked before its libraries load (scipy, matplotlib,
    geopandas: ~2 CPU-s): a refused run answers at once. The messages are those of the stage."""
    from analysis.processed.tables import require
    from analysis.resilience.config import load_config

    load_config()
    for table in (paths.indicators, paths.regions):  # the order of load_indicators, load_regions
        require(table)


def cmd_resilience(args: argparse.Namespace) -> int:
    _resilience_inputs(_paths(args))
    from analysis import incremental
    from analysis.resilience.run import run

    out = run(_paths(args), n_sim=args.n_sim)
    incremental.record("resilience", _paths(args), resilience_options(args))
    print(f"resilience: {out['n_scored']} buurten gescoord, {out['n_excluded']} uitgesloten -> {out['dir']}")
    _say_synthetic(out["synthetic_indicators"])
    return 0


def cmd_goals(args: argparse.Namespace) -> int:
    from analysis import incremental
    from analysis.goals.run import run

    out = run(_paths(args))
    incremental.record("goals", _paths(args))
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
        scheduler_file=getattr(args, "scheduler_file", None),
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
    elif getattr(args, "scheduler", None) is not None or getattr(args, "scheduler_file", None) or niveaus:
        from analysis.factsheets.dask_runner import run_batch_dask

        result = run_batch_dask(
            _paths(args),
            scheduler=args.scheduler,
            scheduler_file=getattr(args, "scheduler_file", None),
            niveaus=niveaus,
            **_batch_options(args),
        )
    else:
        result = run_batch(_paths(args), pool=getattr(args, "pool", None), **_batch_options(args))
    if not (scope == "gemeente" and args.only and _say_only(args.only, result)):
        print(
            f"factsheets: {result['ok']} gemaakt, {result['skipped']} ongewijzigd, "
            f"{result['failed']} mislukt -> {result['dir']}"
        )
        for reason, n in sorted((result.get("why") or {}).items(), key=lambda kv: -kv[1]):
            print(f"  {n} {'blad' if n == 1 else 'bladen'} opnieuw: {reason}")
    if scope == "gemeente" and not args.only and not niveaus and not result["failed"]:
        from analysis import incremental

        incremental.record("factsheets", _paths(args))
    return 1 if result["failed"] else 0


def _say_only(only: list[str], result: dict) -> bool:
    """With --only: per asked area whether its sheet was made now or kept, and where it is; then
    the counts over the asked areas only. False when the manifest cannot be read."""
    import json

    try:
        manifest = json.loads((result["dir"] / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    by_area = {e["area"]: e for e in manifest.get("areas", [])}
    counts = {"gemaakt": 0, "ongewijzigd": 0, "mislukt": 0}
    for code in only:
        e = by_area.get(code, {})
        if e.get("status") != "ok":
            what = "mislukt"
        elif e.get("skipped"):
            what = "ongewijzigd"
        else:
            what = "gemaakt"
        counts[what] += 1
        hint = " (invoer gelijk aan de vorige keer; --force maakt het opnieuw)" * (what == "ongewijzigd")
        where = f" -> {result['dir'] / e['file']}" if e.get("file") else ""
        print(f"factsheet {code} {e.get('name', '')}: {what}{hint}{where}")
    print(
        f"factsheets: {len(only)} gevraagd: {counts['gemaakt']} gemaakt, "
        f"{counts['ongewijzigd']} ongewijzigd, {counts['mislukt']} mislukt; "
        f"de andere bladen niet aangeraakt -> {result['dir']}"
    )
    return True


def cmd_build_national(args: argparse.Namespace) -> int:
    from analysis.national import run as national

    national.build()
    return 0
