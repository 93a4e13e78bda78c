"""Helpers shared by the `veerkracht` commands: the chosen municipality's folders, checks run before
any stage writes, and the one-line messages."""

from __future__ import annotations

import argparse
import sys

from analysis.config import Paths, default_paths
from analysis.errors import InputError


def _paths(args: argparse.Namespace) -> Paths:
    """The folders of the municipality chosen with `--gemeente` (checked once in main())."""
    return args.paths


def _say_synthetic(indicators: list[str]) -> None:
    if indicators:
        print(
            "LET OP: synthetische invulling (geen echte cijfers) voor: " + ", ".join(indicators),
            file=sys.stderr,
        )


def _resolve_gemeente(code: str | None) -> Paths:
    """Check `--gemeente` before any stage runs: a valid code, and buurt polygons we hold for it."""
    from analysis.config import CONFIG_DIR
    from analysis.sources.buurt_polygons import BUURTEN_2023_FILE, cached_buurten, in_bundle

    paths = default_paths(code)
    bundled = paths.snapshot / BUURTEN_2023_FILE
    if cached_buurten(paths.pdok_cache) is None and not in_bundle(bundled, paths.gemeente):
        where = "--gemeente" if code else f"{CONFIG_DIR / 'settings.yaml'} gemeente.code"
        raise InputError(
            f"{where} {paths.gemeente}: niet gevonden in de buurtpolygonen die we hebben ({bundled}, kolom "
            f"gemeentecode) en geen PDOK-download in {paths.pdok_cache}; draai `veerkracht --gemeente "
            f"{paths.gemeente} kaart` met netwerk"
        )
    return paths


def area_code(text: str) -> str:
    """An area for ``--only``: its code in any case, or the sheet's file name
    (``bu06420101``, ``BU06420101``, ``bu06420101-slagveld-en-omgeving.html`` -> ``BU06420101``)."""
    return text.strip().removesuffix(".html").split("-", 1)[0].upper()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _clean_temps(paths: Paths) -> None:
    """Temporary files of atomic writes left by a killed run are removed before a new run writes."""
    from analysis.io import clean_stale_temps

    clean_stale_temps(paths.processed)
    clean_stale_temps(paths.outputs)


def _check_build_matches_settings(paths: Paths) -> None:
    """Analysis commands read data/processed/<GM>: it must be built for that municipality."""
    from analysis.processed.build_manifest import load_manifest

    built_for = load_manifest(paths).get("gemeente")
    if built_for and built_for != paths.gemeente:
        raise InputError(
            f"gemeente {paths.gemeente} verschilt van de build in {paths.processed} ({built_for}); "
            f"draai eerst `veerkracht --gemeente {paths.gemeente} build`"
        )
