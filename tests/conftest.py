from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis.config import PROJ_ROOT, Paths

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture
def tmp_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """A private copy of data/raw with empty processed/outputs folders, wired via env vars."""
    raw = tmp_path / "raw"
    shutil.copytree(PROJ_ROOT / "data" / "raw", raw, ignore=shutil.ignore_patterns("cbs"))
    paths = Paths(raw=raw, processed=tmp_path / "processed", outputs=tmp_path / "outputs")
    monkeypatch.setenv("VEERKRACHT_RAW", str(paths.raw))
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(paths.processed))
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(paths.outputs))
    return paths


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory):
    """One processed build (offline, bundled data) shared by the analysis tests."""
    from analysis.processed.build import build, write

    root = tmp_path_factory.mktemp("built")
    raw = root / "raw"
    shutil.copytree(PROJ_ROOT / "data" / "raw", raw, ignore=shutil.ignore_patterns("cbs"))
    paths = Paths(raw=raw, processed=root / "processed", outputs=root / "outputs")
    result = build(paths, use_cache=False)
    write(result, paths)
    return paths, result


def kwb_meta() -> dict[str, list]:
    folder = TEST_DATA / "cbs_85984NED"
    return {
        n: json.loads((folder / f"{n}.json").read_text())
        for n in ("TableInfos", "DataProperties", "CategoryGroups")
    }
