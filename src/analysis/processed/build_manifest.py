"""The build's manifest (``data/processed/<GM>/build_manifest.json``), read without the build's
libraries: the command line checks which municipality a build is for before a command loads them."""

from __future__ import annotations

import json

from analysis.config import Paths
from analysis.errors import InputError


def load_manifest(paths: Paths) -> dict:
    p = paths.processed / "build_manifest.json"
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: geen geldige JSON; draai `veerkracht build` opnieuw") from exc
