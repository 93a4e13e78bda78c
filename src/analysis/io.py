"""Atomic writes: a reader never sees a half-written file, and a failed run leaves old outputs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; outputs are shared (web server, network drive): 0644 like a normal file
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_with(target: Path, writer: Callable[[Path], Any]) -> Path:
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_text(target: Path, text: str) -> Path:
    return write_with(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(target: Path, obj: Any) -> Path:
    return write_text(target, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def write_parquet(target: Path, df: pd.DataFrame) -> Path:
    return write_with(target, lambda p: df.to_parquet(p, index=False))


def write_csv(target: Path, df: pd.DataFrame) -> Path:
    return write_with(target, lambda p: df.to_csv(p, index=False))


def write_table(base: Path, df: pd.DataFrame) -> list[Path]:
    """Write ``base.parquet`` and ``base.csv`` (the CSV for spreadsheet users)."""
    base = Path(base)
    return [write_parquet(base.with_suffix(".parquet"), df), write_csv(base.with_suffix(".csv"), df)]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()
