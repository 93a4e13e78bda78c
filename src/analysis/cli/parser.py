"""The argument parser of `veerkracht`: global options and one subparser per command.

A new command registers here: ``p = sub.add_parser(...)`` and
``p.set_defaults(func=command("analysis.cli.stages", "cmd_x"))``. The command's module is imported
only when the command runs: `--help`, `--version` and a bad option answer without loading pandas,
geopandas or papermill."""

from __future__ import annotations

import argparse
import importlib

from analysis import __version__
from analysis.cli.common import area_code
from analysis.cli.options import DutchParser


class command:  # noqa: N801 - used like a function reference in set_defaults(func=...)
    """A command function named by module and attribute, imported when it is called (looked up at
    each call, so a test that replaces ``analysis.cli.stages.cmd_goals`` is obeyed)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.__name__ = module, name

    def __call__(self, args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(self.module), self.__name__)(args)

    def __repr__(self) -> str:
        return f"{self.module}.{self.__name__}"


STAGES = "analysis.cli.stages"


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
    p.add_argument(
        "--scheduler-file",
        default=None,
        metavar="PAD",
        help="Dask-schedulerbestand (JSON met 'address', van `dask scheduler --scheduler-file` of Slurm)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = DutchParser(  # argparse errors as one Dutch `fout:` line, exit 2
        prog="veerkracht",
        description="Monitor Veerkrachtige Buurten "
        "(CBS-data, veerkrachtindex, doelen, factsheets) voor Zwijndrecht of een andere gemeente.",
    )
    parser.add_argument(
        "--version", action="version", version=f"veerkracht {__version__}", help="toon de versie en stop"
    )
    parser.add_argument(
        "--gemeente",
        metavar="GMxxxx",
        default=None,
        help="CBS-gemeentecode (standaard config/settings.yaml, GM0642); uitvoer in "
        "data/processed/<GM>/ en outputs/<GM>/",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMANDO", required=True, title="commando's")
    p = sub.add_parser("build", help="bouw data/processed (regions.gpkg, indicators.parquet)")
    p.add_argument("--no-cache", action="store_true", help="negeer de CBS-cache in data/raw/cbs")
    p.set_defaults(func=command(STAGES, "cmd_build"))
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
    p.set_defaults(func=command("analysis.cli.fetch", "cmd_fetch"))
    p = sub.add_parser("resilience", help="veerkrachtindex, signaalklassen, validatie, gevoeligheid")
    p.add_argument("--n-sim", type=int, default=None, help="aantal Monte-Carlo-trekkingen")
    p.set_defaults(func=command(STAGES, "cmd_resilience"))
    p = sub.add_parser("goals", help="doelencatalogus, trends en prognoses")
    p.set_defaults(func=command(STAGES, "cmd_goals"))
    p = sub.add_parser("factsheets", help="HTML-factsheets per gebied (papermill)")
    p.add_argument(
        "--only", nargs="+", metavar="CODE", type=area_code, help="alleen deze gebieden (code of bladnaam)"
    )
    p.add_argument("--force", action="store_true", help="ook ongewijzigde gebieden opnieuw maken")
    _workers_args(p)
    p.add_argument(
        "--timeout", type=float, default=None, help="seconden per cel (standaard: factsheets.timeout_s)"
    )
    p.add_argument("--fail-area", default=None, help=argparse.SUPPRESS)  # test hook: one sheet fails
    _scope_args(p)
    p.set_defaults(func=command(STAGES, "cmd_factsheets"))
    p = sub.add_parser(
        "report", help="alles: build, resilience, goals, factsheets (offline); draait alleen wat veranderde"
    )
    p.add_argument(
        "--force", action="store_true", help="alle stappen en bladen opnieuw, ook als niets veranderde"
    )
    p.add_argument(
        "--only",
        nargs="+",
        metavar="CODE",
        type=area_code,
        help="factsheets alleen voor deze gebieden (code in elke schrijfwijze of bestandsnaam van het blad)",
    )
    _workers_args(p)
    _scope_args(p)
    p.set_defaults(func=command("analysis.cli.report", "cmd_report"))
    p = sub.add_parser("kaart", help="haal buurtpolygonen van PDOK naar data/raw/pdok/<GM>/ (netwerk)")
    p.set_defaults(func=command("analysis.cli.fetch", "cmd_kaart"))
    p = sub.add_parser("bench", help="meet de factsheet-batch tegen een vloer in puur Python")
    p.add_argument("--n-areas", type=int, default=0, help="aantal gebieden (0 = alle)")
    p.set_defaults(func=command("analysis.cli.bench", "cmd_bench"))
    p = sub.add_parser(
        "bench-national", help="landelijke wijkbladen op Dask (1 en 2 workers) tegenover een fork-pool"
    )
    p.add_argument("--n", type=int, default=500, help="minimaal aantal wijkbladen in de steekproef")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="1 en 2 workers zo vaak afwisselend; de mediaan telt (standaard 1)",
    )
    p.set_defaults(func=command("analysis.cli.bench", "cmd_bench_national"))
    _partner_commands(sub)
    return parser


def _partner_commands(sub) -> None:
    """`sjabloon` and `controleer`: what a partner delivers (issue 21; analysis.sources.partner_cli)."""
    cli = "analysis.sources.partner_cli"
    p = sub.add_parser("sjabloon", help="schrijf een invulsjabloon (CSV en XLSX) voor een partnerindicator")
    p.add_argument("indicator", metavar="ID", help="indicator met een source:-blok in config/indicators.yaml")
    p.add_argument(
        "--jaren", type=int, nargs="+", metavar="JAAR", help="gevraagde jaren (standaard jaren.laatste)"
    )
    p.add_argument("--uit", metavar="MAP", help="uitvoermap (standaard outputs/<GM>/sjablonen)")
    p.set_defaults(func=command(cli, "cmd_sjabloon"))
    p = sub.add_parser("controleer", help="controleer een levering van een partner zonder te bouwen")
    p.add_argument("files", nargs="+", metavar="BESTAND")
    p.add_argument(
        "--indicator", metavar="ID", help="de partnerindicator (standaard: op bestandsnaam/kolommen)"
    )
    p.add_argument("--uit", metavar="MAP", help="map voor het rapport (standaard outputs/<GM>/controle)")
    p.set_defaults(func=command(cli, "cmd_controleer"))
