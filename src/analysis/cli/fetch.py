"""The network commands: `veerkracht fetch` (CBS tables) and `veerkracht kaart` (PDOK polygons)."""

from __future__ import annotations

import argparse
import math
import sys

from analysis.cli.common import _paths
from analysis.config import settings
from analysis.errors import InputError, SourceUnavailable


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
            raise InputError(
                f"--table {' '.join(args.table)}: onbekende tabelgroep(en) (niet in config/cbs_tables.yaml)"
            )
    if args.budget is not None and not (math.isfinite(args.budget) and args.budget > 0):
        raise InputError(f"--budget: moet een positief aantal seconden zijn, niet {args.budget}")
    scope = "gemeente"
    if args.scope:  # imported only when asked: a plain `fetch` offline stays well under a second
        from analysis.national.run import parse_scope

        scope, _ = parse_scope(args.scope)
    if scope == "provincie":
        raise InputError(
            "fetch --scope provincie: CBS-tabellen worden voor heel Nederland opgehaald; gebruik "
            "`veerkracht fetch --scope nederland` en kies de provincie bij report/factsheets"
        )
    if args.niveau is not None and args.niveau not in ("gemeente", "wijk", "buurt"):
        raise InputError(f"--niveau {args.niveau}: verwacht een van gemeente, wijk, buurt")
    if args.niveau is not None and scope == "gemeente" and not args.gebieden:
        raise InputError(
            "fetch --niveau: alleen met --scope nederland (een gemeentelijke download haalt elk niveau op)"
        )
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


def cmd_kaart(args: argparse.Namespace) -> int:
    from analysis.sources import pdok
    from analysis.sources.buurt_polygons import BUURTEN_2023_FILE, in_bundle

    paths = _paths(args)
    cfg = pdok.PdokSettings.from_settings(settings().get("pdok", {}))
    try:
        out = pdok.fetch_buurten(paths.gemeente, paths.pdok_cache, cfg)
    except SourceUnavailable as exc:
        bundled = paths.snapshot / BUURTEN_2023_FILE
        held = pdok.cached_buurten(paths.pdok_cache) is not None or in_bundle(bundled, paths.gemeente)
        what = "bestaande polygonen blijven in gebruik" if held else f"geen polygonen voor {paths.gemeente}"
        print(f"kaart: PDOK niet bereikbaar ({exc}); {what}", file=sys.stderr)
        return 0 if held else 3
    print(f"kaart {paths.gemeente}: {out['buurten']} buurten van PDOK -> {out['path']}")
    return 0
