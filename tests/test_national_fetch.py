"""The live national CBS pull (issue 13) against the CBS-shaped local server (tests/fake_cbs.py):
selection by level with OData v3 ``startswith``, paging and resume, the Parquet store partitioned by
year and municipality, the national build taking the fetched real values first, one named error for a
column missing from an answer, the gemeente -> provincie table (Gebieden in Nederland) and
``--scope provincie``, alphanumeric codes. The all-NL rows are real (the bundled KWB 2024 extract)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import PROJ_ROOT, cbs_registry
from analysis.errors import InputError
from analysis.sources import cbs
from analysis.sources import cbs_national as cn
from tests.fake_cbs import (
    FakeCbs,
    gebieden_table,
    kwb_2025_zwijndrecht,
    kwb_table,
    national_kwb_2024,
    pad,
    registry_tables,
)

SNAPSHOT = PROJ_ROOT / "data" / "raw" / "snapshot"
KWB_2024_NL = SNAPSHOT / "national" / "kwb_2024_gemeente_wijk_nl.csv.gz"
DRECHTSTEDEN = ["GM0482", "GM0505", "GM0523", "GM0531", "GM0590", "GM0610", "GM0642"]


def _client(url: str, **kw) -> cbs.CbsClient:
    return cbs.CbsClient(cbs.CbsSettings(catalog_url=url, **{"retries": 1, "backoff_s": 0.0, **kw}))


def _kwb(years: dict) -> dict:
    return {"kwb": {**cbs_registry()["kwb"], "years": years}}


def _real_2024() -> dict[str, float]:
    with gzip.open(KWB_2024_NL, "rt", encoding="utf-8") as fh:
        return {r["code"]: float(r["AantalInwoners_5"]) for r in csv.DictReader(fh)}


def _raw(tmp_path: Path, snapshot: Path = SNAPSHOT) -> Path:
    """A raw folder with ``snapshot`` (linked, read-only use; the bundled one unless given) and an
    empty CBS cache."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "snapshot").symlink_to(snapshot, target_is_directory=True)
    return raw


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_level_filter_is_odata_v3_startswith_with_the_padded_national_row():
    f = cn.level_filter("WijkenEnBuurten", "wijk")
    assert f == (
        "startswith(WijkenEnBuurten,'GM') or startswith(WijkenEnBuurten,'WK') or "
        "(WijkenEnBuurten eq 'NL00      ') or (WijkenEnBuurten eq 'NL01      ')"
    )
    assert "'BU'" in cn.level_filter("RegioS", "buurt") and "'WK'" not in cn.level_filter(
        "RegioS", "gemeente"
    )
    with pytest.raises(InputError, match="--niveau land"):
        cn.NationalSelection("land")


def test_national_pull_pages_resumes_and_leaves_municipal_caches_intact(tmp_path):
    cache = tmp_path / "cbs"
    reg = _kwb({2024: "85984NED"})
    # a municipal pull first: it must survive the national pulls byte for byte
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        assert cbs.fetch_all(_client(srv.url), reg, "GM0642", cache, range(2024, 2025), log=print)["pulled"]
    municipal = _files(cache / "85984NED")
    table = national_kwb_2024()
    table["TypedDataSet"].append(  # an alphanumeric buurt code (constructed row, only for the level filter)
        {
            **table["TypedDataSet"][-1],
            "ID": 99_999,
            "WijkenEnBuurten": pad("BU0363AA01"),
            "AantalInwoners_5": 7,
        }
    )
    with FakeCbs({"85984NED": table}, page_size=1000) as srv:
        fail = {"on": True}
        srv.rule = lambda path, q: (
            "503" if fail["on"] and path.endswith("TypedDataSet") and q.get("$skip") == "2000" else None
        )
        lines: list[str] = []
        first = cn.fetch_national(_client(srv.url), reg, cache, range(2024, 2025), "wijk", log=lines.append)
        assert [f["table_id"] for f in first["failed"]] == ["85984NED"]
        partial = cache / "nederland" / "85984NED" / ".partial-NL-wijk"
        assert json.loads((partial / "state.json").read_text())["pages"] == 2
        fail["on"] = False
        before = len(srv.requests)
        second = cn.fetch_national(_client(srv.url), reg, cache, range(2024, 2025), "wijk", log=lines.append)
        data_q = [q for p, q in srv.requests[before:] if p.endswith("85984NED/TypedDataSet")]
        region_q = [q for p, q in srv.requests[before:] if p.endswith("85984NED/WijkenEnBuurten")]
        buurt = cn.fetch_national(_client(srv.url), reg, cache, range(2024, 2025), "buurt", log=lines.append)
    assert second["pulled"] == ["85984NED"] and second["tables"][0]["resumed_from_page"] == 2
    assert [q.get("$skip") for q in data_q] == ["2000", "3000"]  # pages 0-1 were not fetched again
    assert not partial.exists()
    assert data_q[0]["$filter"] == f"({cn.level_filter('WijkenEnBuurten', 'wijk')})"
    assert region_q[0]["$filter"] == cn.level_filter("Key", "wijk")  # the region dimension filtered too
    # only the dimension and the topics mapped in config/cbs_tables.yaml are asked for
    select = data_q[0]["$select"].split(",")
    assert select[0] == "WijkenEnBuurten" and "AantalInwoners_5" in select and "Mannen_6" not in select
    assert second["missing_regions"] == {"85984NED": ["NL00"]}  # the real extract has no NL row
    # the store: Parquet per year and municipality, real values, alphanumeric codes under their gemeente
    folder = cache / "nederland" / "85984NED" / "NL-wijk"
    assert (folder / "year=2024" / "gemeente=GM0363").is_dir()
    assert (folder / "year=2024" / "gemeente=GM0642").is_dir()
    m, rows = cn.read_store(folder)
    assert m["table_id"] == "85984NED" and m["niveau"] == "wijk" and m["fetched_at"] and m["rows"] == 3735
    assert m["title"].startswith("Kerncijfers wijken en buurten") and m["provisional_years"] == []
    real = _real_2024()
    inw = rows[rows["indicator"] == "inwoners"].set_index("region_code")["value"]
    assert set(inw.index) == set(real) and all(inw[c] == v for c, v in real.items())
    assert set(rows["level"]) == {"gemeente", "wijk"} and (rows["source_table"] == "85984NED").all()
    assert (rows["origin"] == "cbs").all() and not rows["provisional"].any()
    one = pd.read_parquet(folder / "year=2024" / "gemeente=GM0363")
    assert "WK0363AA" in set(one["region_code"]) and set(one["region_code"].str[2:6]) == {"0363"}
    # --niveau buurt: its own store; the wijk pull and the municipal cache stay as they were
    assert buurt["pulled"] == ["85984NED"]
    _, b = cn.read_store(cache / "nederland" / "85984NED" / "NL-buurt")
    bu = b.loc[b["level"] == "buurt", "region_code"]
    assert {"BU0363AA01", "BU06420101"} <= set(bu)
    assert (b.loc[b["region_code"] == "BU0363AA01", "region_code"].str[2:6] == "0363").all()
    assert any(
        p.name == "gemeente=GM0363" for p in (cache / "nederland/85984NED/NL-buurt/year=2024").iterdir()
    )
    assert _files(cache / "85984NED") == municipal
    assert cn.read_store(folder)[1].equals(rows)


def test_national_build_takes_the_fetched_real_values_over_synthetic(tmp_path, small_snapshot):
    """The pull is the whole country's (real KWB 2024 rows of every area, so NL00 is the sum over all
    342 gemeenten of the pull); the bundled snapshot is cut down to five municipalities
    (tests/national_fixtures.py): which values win does not depend on how many areas are built."""
    from analysis.national import run as national
    from analysis.national.build import read_partitioned

    raw = _raw(tmp_path, small_snapshot)
    reg = _kwb({2024: "85984NED", 2025: "86165NED"})
    tables = {"85984NED": national_kwb_2024(buurten=False), "86165NED": kwb_2025_zwijndrecht()}
    with FakeCbs(tables, page_size=2000) as srv:
        s = cn.fetch_national(
            _client(srv.url), reg, raw / "cbs", range(2013, 2026), "wijk", log=lambda _: None
        )
    assert sorted(s["pulled"]) == ["85984NED", "86165NED"]
    lines: list[str] = []
    manifest = national.build(raw, tmp_path / "processed", log=lines.append)
    ind = read_partitioned(tmp_path / "processed" / "nederland" / "indicators")
    key = ind.set_index(["region_code", "indicator", "year"])
    wijkwarm = json.loads((SNAPSHOT / "kwb_2025_wijkwarm" / "zwijndrecht.json").read_text(encoding="utf-8"))
    wk = next(w for w in wijkwarm["wijken"] if w["code"] == "WK064206")
    # woz has no real national source offline: the fetched real figure replaces the synthetic series
    woz = ind[(ind["region_code"] == "WK064206") & (ind["indicator"] == "woz")]
    assert len(woz) == 1 and woz["year"].item() == 2025 and woz["value"].item() == wk["woz"]
    assert woz["origin"].item() == "cbs" and woz["source_table"].item() == "86165NED"
    gm = key.loc[("GM0642", "woz", 2025)]
    assert gm["value"] == wijkwarm["gemeente"]["woz"] and gm["origin"] == "cbs"
    # a wijk without a fetched value keeps its labelled synthetic series
    other = ind[(ind["region_code"] == "WK050501") & (ind["indicator"] == "woz")]
    assert len(other) > 1 and set(other["origin"]) == {"synthetic"}
    # inwoners 2024 of every area from the pull (real, table id named), alphanumeric codes included
    real = _real_2024()
    row = key.loc[("WK0363AA", "inwoners", 2024)]
    assert row["origin"] == "cbs" and row["source_table"] == "85984NED" and row["value"] == real["WK0363AA"]
    nl = key.loc[("NL00", "inwoners", 2024)]
    assert nl["origin"] == "cbs" and nl["value"] == sum(v for c, v in real.items() if c.startswith("GM"))
    assert "85984NED" in nl["source_table"] and nl["coverage"] == 1.0
    # NL00 is not made from 1 of 342 gemeenten: woz 2025 has no national row, the NL00 series stays synthetic
    assert ("NL00", "woz", 2025) not in key.index
    assert set(ind.loc[(ind["region_code"] == "NL00") & (ind["indicator"] == "woz"), "origin"]) == {
        "synthetic"
    }
    # the bundled KWB 2017 figures are still there; no series mixes real and synthetic
    assert key.loc[("WK064206", "huishoudens", 2017)]["origin"] == "snapshot"
    real_flag = ind.assign(real=ind["origin"] != "synthetic")
    assert (real_flag.groupby(["region_code", "indicator"])["real"].nunique() == 1).all()
    assert [f["table_id"] for f in manifest["live_cbs"]] == ["85984NED", "86165NED"]
    assert {"85984NED", "86165NED"} <= set(manifest["bronnen"])
    assert any("landelijke CBS-pull" in line and "86165NED" in line for line in lines)


def test_no_fetched_data_leaves_the_national_build_as_it_was(tmp_path, small_snapshot):
    """Offline (no national pull, or an empty store) the build is the one from the bundled data alone
    (on the bundled snapshot cut down to five municipalities, tests/national_fixtures.py)."""
    from analysis.national.build import build_national, fetched_indicators, national_regions, write_national

    regions = national_regions(small_snapshot)
    assert fetched_indicators(tmp_path / "nothing", regions).empty
    (tmp_path / "empty").mkdir()
    r0, i0 = build_national(small_snapshot)
    r1, i1 = build_national(small_snapshot, tmp_path / "empty")
    pd.testing.assert_frame_equal(r0, r1)
    pd.testing.assert_frame_equal(i0, i1)
    assert set(i1["origin"]) == {"snapshot", "synthetic"}
    m = write_national(tmp_path / "out", r1, i1, [])
    assert "live_cbs" not in m and m["bronnen"] == ["85984NED", "83487NED", "83765NED"]


def test_a_response_missing_an_expected_column_is_one_error_naming_table_and_column(tmp_path):
    table = national_kwb_2024(buurten=False)
    for r in table["TypedDataSet"]:
        r.pop("GemiddeldeWOZWaardeVanWoningen_39")
    lines: list[str] = []
    with FakeCbs({"85984NED": table}, page_size=2000) as srv:
        s = cn.fetch_national(
            _client(srv.url), _kwb({2024: "85984NED"}), tmp_path, range(2024, 2025), log=lines.append
        )
    assert s["pulled"] == [] and len(s["failed"]) == 1
    (line,) = [ln for ln in lines if "85984NED" in ln and "ontbreekt" in ln]
    assert "CBS-tabel 85984NED: verwachte kolom 'GemiddeldeWOZWaardeVanWoningen_39' ontbreekt" in line
    assert "(indicator woz)" in line and "\n" not in line
    assert not (tmp_path / "nederland" / "85984NED" / "NL-wijk").exists()
    assert not (tmp_path / "nederland" / "85984NED" / ".partial-NL-wijk").exists()


def test_an_edited_national_store_is_one_error_for_the_build(tmp_path):
    from analysis.national.build import fetched_indicators, national_regions

    with FakeCbs({"85984NED": national_kwb_2024(buurten=False)}, page_size=2000) as srv:
        cn.fetch_national(_client(srv.url), _kwb({2024: "85984NED"}), tmp_path, range(2024, 2025), log=print)
    root = tmp_path / "nederland"
    part = next((root / "85984NED" / "NL-wijk" / "year=2024" / "gemeente=GM0642").glob("*.parquet"))
    df = pd.read_parquet(part).drop(columns="unit")
    df.to_parquet(part)
    with pytest.raises(InputError, match=r"gemeente=GM0642.*sha256 klopt niet"):
        fetched_indicators(root, national_regions(SNAPSHOT))
    m = json.loads((root / "85984NED" / "NL-wijk" / "manifest.json").read_text())
    m["files"] = {k: cn.sha256_file(root / "85984NED" / "NL-wijk" / k) for k in m["files"]}
    (root / "85984NED" / "NL-wijk" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(
        InputError, match=r"verwachte kolom 'unit' ontbreekt in de opgeslagen CBS-download 85984NED"
    ):
        fetched_indicators(root, national_regions(SNAPSHOT))


def test_gebieden_gives_the_provincie_scope_and_without_it_one_clear_error(tmp_path):
    from analysis.national.build import national_regions
    from analysis.national.run import gemeenten_in_scope

    raw = _raw(tmp_path)
    regions = national_regions(SNAPSHOT)
    with pytest.raises(InputError) as exc:
        gemeenten_in_scope(regions, "provincie", "PV28", raw)
    msg = str(exc.value)
    assert "\n" not in msg and str(raw / "cbs" / "nederland" / "gemeente_provincie.csv") in msg
    assert "veerkracht fetch --gebieden" in msg and "85755NED" in msg
    # 85755NED not served: the 2025 edition is the fallback (same keys Code_28 / Naam_29)
    lines: list[str] = []
    with FakeCbs({"86059NED": gebieden_table("86059NED")}) as srv:
        g = cn.fetch_gebieden(_client(srv.url), raw, log=lines.append)
        data_q = [q for p, q in srv.requests if p.endswith("86059NED/TypedDataSet")]
    assert g["status"] == "pulled" and g["table_id"] == "86059NED" and g["gemeenten"] == 7
    assert lines == ["CBS 85755NED: niet gevonden; volgende editie 86059NED"]
    assert (
        data_q[0]["$filter"] == "startswith(RegioS,'GM')" and data_q[0]["$select"] == "RegioS,Code_28,Naam_29"
    )
    path = raw / "cbs" / "nederland" / "gemeente_provincie.csv"
    table = pd.read_csv(path, dtype=str)
    assert list(table.columns) == ["GM_CODE", "PV_CODE", "PV_NAAM"]
    assert list(table["GM_CODE"]) == DRECHTSTEDEN and set(table["PV_CODE"]) == {"PV28"}
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["table_id"] == "86059NED" and meta["columns"]["PV_CODE"] == "Code_28" and meta["fetched_at"]
    assert gemeenten_in_scope(regions, "provincie", "PV28", raw) == DRECHTSTEDEN
    with pytest.raises(InputError, match="--scope provincie PV27: geen gemeente"):
        gemeenten_in_scope(regions, "provincie", "PV27", raw)
    # a Gebieden table without the Provincies group: one error naming table and column, file kept
    before = path.read_bytes()
    broken = gebieden_table()
    broken["DataProperties"] = [p for p in broken["DataProperties"] if p.get("Title") != "Provincies"]
    for p in broken["DataProperties"]:
        if p.get("Key") in ("Code_28", "Naam_29"):
            p["ParentID"] = None
    lines.clear()
    with FakeCbs({"85755NED": broken}) as srv:
        g = cn.fetch_gebieden(_client(srv.url), raw, log=lines.append)
    assert g["status"] == "failed" and path.read_bytes() == before
    assert lines == [
        "CBS 85755NED: CBS-tabel 85755NED: verwachte kolom 'Code_*' onder TopicGroup 'Provincies' ontbreekt"
    ]


def test_cli_fetch_scope_nederland_then_provincie_scope_and_municipal_build(tmp_paths, monkeypatch, capsys):
    from analysis.cli import main
    from analysis.national.build import national_regions
    from analysis.national.run import gemeenten_in_scope

    tables = registry_tables(cbs_registry())
    tables["85984NED"] = national_kwb_2024()
    tables["85755NED"] = gebieden_table()
    monkeypatch.setenv(cbs.ENV_CATALOG, "http://127.0.0.1:9")  # nothing listens: offline, one line
    assert main(["fetch", "--scope", "nederland"]) == 0
    out, err = capsys.readouterr()
    assert (
        len(err.strip().splitlines()) == 1 and "niet bereikbaar" in err and "16 overgeslagen (offline)" in out
    )
    with FakeCbs(tables, page_size=2000) as srv:
        monkeypatch.setenv(cbs.ENV_CATALOG, srv.url)
        rc = main(["fetch", "--scope", "nederland", "--niveau", "wijk", "--budget", "60"])
        out, err = capsys.readouterr()
        assert rc == 0, err
        assert "fetch nederland (niveau wijk): 16 opgehaald, 0 mislukt" in out
        assert "gemeente->provincie (CBS 85755NED): 7 gemeenten" in out
        assert main(["fetch", "--scope", "provincie", "PV28"]) == 2
        assert capsys.readouterr().err.startswith("fout: fetch --scope provincie")
        assert main(["fetch", "--scope", "nederland", "--niveau", "straat"]) == 2
        assert capsys.readouterr().err.startswith("fout: --niveau straat")
    nl = tmp_paths.raw / "cbs" / "nederland"
    assert (nl / "fetch_summary.NL-wijk.json").exists() and (
        nl / "85984NED" / "NL-wijk" / "manifest.json"
    ).exists()
    assert gemeenten_in_scope(national_regions(SNAPSHOT), "provincie", "PV28", tmp_paths.raw) == DRECHTSTEDEN
    # a RegioS table: NL01 asked for and stored as NL00; 47018NED: only the total category, by its padded key
    _, inc = cn.read_store(nl / "85678NED" / "NL-wijk")
    assert {"NL00", "GM0642", "GM0505"} == set(inc["region_code"])
    m, crime = cn.read_store(nl / "47018NED" / "NL-wijk")
    assert "(SoortMisdrijf eq '0.0.0 ')" in m["filter"] and "SoortMisdrijf" in m["columns"].split(",")
    assert crime.set_index(["region_code", "year"]).loc[("GM0642", 2023), "value"] == 100 + 5 * 1 + 2
    # the municipal build reads its own caches only and is not disturbed by the national store
    assert main(["build"]) == 0
    capsys.readouterr()


def test_provincie_scope_without_the_table_stops_before_building_the_country(tmp_path, monkeypatch, capsys):
    from analysis.cli import main

    raw = _raw(tmp_path)
    monkeypatch.setenv("VEERKRACHT_RAW", str(raw))
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(tmp_path / "processed"))
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(tmp_path / "outputs"))
    assert main(["factsheets", "--scope", "provincie", "PV28"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("fout: --scope provincie PV28: tabel gemeente->provincie ontbreekt")
        and err.count("\n") == 1
    )
    assert "veerkracht fetch --gebieden" in err
    assert not (tmp_path / "processed").exists()  # nothing built or written


def test_gebieden_table_id_lives_in_cbs_tables_yaml_outside_the_group_loop(tmp_path):
    """`gebieden` in config/cbs_tables.yaml: validated, read by the Gebieden pull, never a table group
    that `veerkracht fetch` would pull per municipality."""
    import yaml

    from analysis.config import CONFIG_DIR
    from analysis.config_models import validate_gebieden

    raw_yaml = yaml.safe_load((CONFIG_DIR / "cbs_tables.yaml").read_text(encoding="utf-8"))
    assert raw_yaml["gebieden"]["editions"] == ["85755NED", "86059NED"]
    assert "gebieden" not in cbs_registry() and set(cbs_registry()) == set(raw_yaml) - {"gebieden"}
    plan = [tid for _, tids, _ in cbs.table_plan(cbs_registry(), range(2013, 2026)) for tid in tids]
    assert "85755NED" not in plan and "86059NED" not in plan and "85984NED" in plan
    spec = cn.gebieden_spec()
    assert (
        spec["editions"] == ["85755NED", "86059NED"]
        and spec["indicators"]["PV_CODE"]["group"] == "Provincies"
    )
    for bad, key in (
        ({**raw_yaml["gebieden"], "editions": ["85755"]}, "gebieden.editions"),
        (
            {**raw_yaml["gebieden"], "indicators": {"PV_NAAM": {"keys": ["Naam"], "group": "Provincies"}}},
            "gebieden",
        ),
        ({**raw_yaml["gebieden"], "extra": 1}, "gebieden.extra"),
    ):
        with pytest.raises(InputError, match=rf"cbs_tables\.yaml: sleutel '{key}'"):
            validate_gebieden(bad, CONFIG_DIR / "cbs_tables.yaml")
    # the pull asks the configured editions in order
    with FakeCbs({"86059NED": gebieden_table("86059NED")}) as srv:
        g = cn.fetch_gebieden(_client(srv.url), _raw(tmp_path), log=lambda _: None)
        asked = [p for p, _ in srv.requests if p.endswith("NED")]
    assert g["table_id"] == "86059NED" and asked[:2] == [
        "/ODataFeed/odata/85755NED",
        "/ODataFeed/odata/86059NED",
    ]
