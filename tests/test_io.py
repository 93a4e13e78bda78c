from __future__ import annotations

import pytest

from analysis.io import atomic_path, write_text


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path):
    target = tmp_path / "sheet.html"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.html"]


def test_writer_leftovers_beside_the_temp_file_are_removed(tmp_path):
    """GDAL writes ``<tmp>.gpkg`` (and journals) beside the temp name: all go on failure."""
    target = tmp_path / "regions.gpkg"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            (tmp.parent / (tmp.name + ".gpkg")).write_bytes(b"half")
            (tmp.parent / (tmp.name + ".gpkg-journal")).write_bytes(b"j")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_is_an_input_error_naming_the_file(tmp_path):
    import errno

    from analysis.errors import InputError
    from analysis.io import write_with

    def full(p):
        p.write_bytes(b"ha")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(
        InputError, match=r"sheet\.html: niet te schrijven, de vorige versie blijft staan \(schijf vol\)"
    ):
        write_with(tmp_path / "sheet.html", full)
    assert list(tmp_path.iterdir()) == []


def test_stale_temps_are_cleaned_and_real_files_kept(tmp_path):
    from analysis.io import clean_stale_temps

    (tmp_path / "sub").mkdir()
    keep = [tmp_path / "index.html", tmp_path / "sub" / "scores.parquet", tmp_path / "notes.tmp.txt"]
    stale = [tmp_path / ".index.html.abc.tmp", tmp_path / "sub" / ".regions.gpkg.x.tmp.gpkg"]
    for f in keep + stale:
        f.write_text("x")
    clean_stale_temps(tmp_path)
    assert all(f.exists() for f in keep) and not any(f.exists() for f in stale)


def test_corrupt_parquet_is_one_clear_error(tmp_path):
    import pandas as pd

    from analysis.errors import InputError
    from analysis.io import read_parquet

    p = tmp_path / "t.parquet"
    pd.DataFrame({"a": range(100)}).to_parquet(p)
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(InputError, match=r"t\.parquet: geen leesbaar Parquet-bestand"):
        read_parquet(p)
