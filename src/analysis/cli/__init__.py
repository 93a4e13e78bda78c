"""Command line: `veerkracht <command>`; `veerkracht --help` lists the commands.

Layout: parser.py (options per command), stages.py (build, resilience, goals, factsheets), report.py
(all stages), fetch.py (CBS and PDOK pulls), bench.py (measurements), common.py (shared checks)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

# only light modules here (argparse, yaml, the configuration): each command's module is imported when
# the command runs (analysis.cli.parser.command), so `--help` and a refused option stay quick
from analysis.cli.common import (  # noqa: E402
    _check_build_matches_settings,
    _clean_temps,
    _one_line,
    _resolve_gemeente,
)
from analysis.cli.options import check_numbers  # noqa: E402
from analysis.cli.parser import build_parser  # noqa: E402
from analysis.config import cbs_registry, default_paths, indicator_catalog, settings  # noqa: E402
from analysis.errors import InputError, SourceUnavailable  # noqa: E402

__all__ = [
    "cmd_bench",
    "cmd_bench_national",
    "cmd_build",
    "cmd_build_national",
    "cmd_factsheets",
    "cmd_fetch",
    "cmd_goals",
    "cmd_kaart",
    "cmd_report",
    "cmd_resilience",
    "main",
]

# name -> module of the commands and submodules this package offers (imported on first use)
_LAZY = {
    "cmd_bench": "analysis.cli.bench",
    "cmd_bench_national": "analysis.cli.bench",
    "cmd_build": "analysis.cli.stages",
    "cmd_build_national": "analysis.cli.stages",
    "cmd_factsheets": "analysis.cli.stages",
    "cmd_goals": "analysis.cli.stages",
    "cmd_resilience": "analysis.cli.stages",
    "cmd_fetch": "analysis.cli.fetch",
    "cmd_kaart": "analysis.cli.fetch",
    "cmd_report": "analysis.cli.report",
}
_SUBMODULES = ("bench", "fetch", "report", "stages")


def __getattr__(name: str):
    """``cli.cmd_report``, ``cli.stages``: imported when first asked for (PEP 562)."""
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad option, already said in one `fout:` line (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        # all configuration is validated before any command writes anything
        settings()
        indicator_catalog()
        cbs_registry()
        if args.gemeente is not None and not args.gemeente.strip():
            raise InputError("--gemeente: lege gemeentecode; geef een CBS-code zoals GM0642")
        if args.command in ("goals", "report", "factsheets"):
            from analysis.goals.catalog import load_catalog

            load_catalog()  # config/doelen.yaml
        if args.command in ("kaart", "fetch"):
            args.paths = default_paths(args.gemeente)  # pulls need a valid code, not polygons
        else:
            args.paths = _resolve_gemeente(args.gemeente)
        _clean_temps(args.paths)
        check_numbers(parser, args)  # every number in range, like its twin in the configuration
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
