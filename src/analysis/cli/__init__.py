"""Command line: `veerkracht <command>`; `veerkracht --help` lists the commands.

Layout: parser.py (options per command), stages.py (build, resilience, goals, factsheets), report.py
(all stages), fetch.py (CBS and PDOK pulls), bench.py (measurements), common.py (shared checks)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

from analysis.cli.bench import cmd_bench, cmd_bench_national  # noqa: E402
from analysis.cli.common import (  # noqa: E402
    _check_build_matches_settings,
    _clean_temps,
    _one_line,
    _resolve_gemeente,
)
from analysis.cli.fetch import cmd_fetch, cmd_kaart  # noqa: E402
from analysis.cli.parser import build_parser  # noqa: E402
from analysis.cli.report import cmd_report  # noqa: E402
from analysis.cli.stages import (  # noqa: E402
    cmd_build,
    cmd_build_national,
    cmd_factsheets,
    cmd_goals,
    cmd_resilience,
)
from analysis.config import default_paths, indicator_catalog, settings  # noqa: E402
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
