"""The national buurt level (issue 13) from a live national buurt pull, against the CBS-shaped local
server (tests/fake_cbs.py): buurt regions with the live names (region dimension titles), the pull's
real values first (origin cbs, table id as source), the labelled synthetic fill for the rest, the
grouped resilience pass per municipality, buurt sheets through `veerkracht report --scope nederland
--niveau buurt` on the fork pool; offline, without a buurt pull, one clear `fout:` line.

Test data: the all-NL gemeente/wijk rows are the real KWB 2024 extract; the buurt rows are Zwijndrecht's
five buurten and three constructed ones (``BU0363AA01``/``AA02`` alphanumeric, ``BU0642ZZ01`` in a wijk
that is not in the 2024 list) with constructed values, and the SES-WOA scores are constructed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import PROJ_ROOT, cbs_registry, settings
from analysis.errors import InputError
from analysis.sources import cbs
from analysis.sources import cbs_national as cn
from tests.fake_cbs import ZWIJNDRECHT_BUURTEN, FakeCbs, national_kwb_2024, ses_table

SNAPSHOT = PROJ_ROOT / "data" / "raw" / "snapshot"
EXTRA = {
    "BU0363AA01": {"AantalInwoners_5": 1250, "GemiddeldeWOZWaardeVanWoningen_39": 512},
    "BU0363AA02": {"AantalInwoners_5": None, "GemiddeldeWOZWaardeVanWoningen_39": 300},
    "BU0642ZZ01": {"AantalInwoners_5": 400},  # wijk WK0642ZZ is not in the 2024 list
}
RENAMED = {"WK064201": "Hernoemde wijk (test)"}
ONLY = ["BU06420101", "BU0363AA01"]


def _client(url: str) -> cbs.CbsClient:
    return cbs.CbsClient(cbs.CbsSettings(catalog_url=url, retries=1, backoff_s=0.0))


def _raw(root: Path, snapshot: Path = SNAPSHOT) -> Path:
    raw = root / "raw"
    raw.mkdir()
    (raw / "snapshot").symlink_to(snapshot, target_is_directory=True)
    return raw


def _registry() -> dict:
    return {"kwb": {**cbs_registry()["kwb"], "years": {2024: "85984NED"}}, "sesoa": cbs_registry()["sesoa"]}


@pytest.fixture(scope="module")
def pulled(tmp_path_factory, small_snapshot) -> Path:
    """A raw folder with a national buurt pull of 85984NED and 86296NED (the whole country's gemeente
    and wijk rows, the buurt rows of the module docstring) and the bundled snapshot cut down to five
    municipalities, Zwijndrecht and Amsterdam among them (tests/national_fixtures.py): the buurt list,
    the real-first order and the grouped pass per municipality do not depend on how many municipalities
    are built, and the national build, report and sheets run over five instead of 342."""
    raw = _raw(tmp_path_factory.mktemp("buurt"), small_snapshot)
    tables = {
        "85984NED": national_kwb_2024(extra_buurten=EXTRA, titles=RENAMED),
        "86296NED": ses_table("86296NED"),
    }
    with FakeCbs(tables, page_size=2000) as srv:
        s = cn.fetch_national(
            _client(srv.url), _registry(), raw / "cbs", range(2013, 2026), "buurt", log=print
        )
    assert sorted(s["pulled"]) == ["85984NED", "86296NED"]
    return raw


@pytest.fixture(scope="module")
def reported(pulled, tmp_path_factory):
    """`veerkracht report --scope nederland --niveau buurt --only ...` once, the sheets on the fork pool
    (the Dask runner swapped for the fork-pool runner: no cluster in this test file)."""
    from analysis.cli import main
    from analysis.factsheets import dask_runner, runner

    root = tmp_path_factory.mktemp("report")
    mp = pytest.MonkeyPatch()
    mp.setenv("VEERKRACHT_RAW", str(pulled))
    mp.setenv("VEERKRACHT_PROCESSED", str(root / "processed"))
    mp.setenv("VEERKRACHT_OUTPUTS", str(root / "outputs"))
    used = []

    def fork_pool(views, scheduler=None, scheduler_file=None, niveaus=None, **opts):
        used.append(niveaus)
        return runner.run_batch(views, niveaus=niveaus, progress=False, **opts)

    mp.setattr(dask_runner, "run_batch_dask", fork_pool)
    try:
        rc = main(["report", "--scope", "nederland", "--niveau", "buurt", "--only", *ONLY, "--workers", "1"])
    finally:
        mp.undo()
    return rc, root, used


def test_buurt_pull_gives_buurt_regions_with_live_names_and_real_values_first(pulled):
    from analysis.national.build import build_national, national_regions
    from analysis.sources.snapshot import kwb_national

    regions, ind = build_national(pulled / "snapshot", pulled / "cbs" / "nederland")
    r = regions.set_index("region_code")
    buurten = sorted(r.index[r["level"] == "buurt"])
    # the pull's buurten of a 2024 wijk, alphanumeric codes included; BU0642ZZ01 (wijk not held) left out
    assert buurten == sorted([*ZWIJNDRECHT_BUURTEN, "BU0363AA01", "BU0363AA02"])
    aa = r.loc["BU0363AA01"]
    assert (aa["parent_code"], aa["wijk_code"], aa["gemeente_code"]) == ("WK0363AA", "WK0363AA", "GM0363")
    assert aa["inwoners"] == 1250 and aa["name"] == "Testnaam BU0363AA01"
    assert aa["mapping"].startswith("naam uit CBS 85984NED (landelijke pull van ")
    assert aa["mapping"].endswith("; inwoners uit CBS 85984NED 2024")
    assert r.loc["BU06420102", "wijk_code"] == "WK064201" and r.loc["BU06420201", "parent_code"] == "WK064202"
    # inhabitants not in the pull: said so, not made up
    assert np.isnan(r.loc["BU0363AA02", "inwoners"])
    assert r.loc["BU0363AA02", "mapping"].endswith("inwoners niet in de landelijke CBS-pull")
    # live names (the dimension titles, keys stripped) win over KWB 2016/2017 and over the fallback text
    assert r.loc["BU06420101", "name"] == "Slagveld en Omgeving" and r.loc["GM0642", "name"] == "Zwijndrecht"
    kwb_name = kwb_national(pulled / "snapshot").set_index("region_code")["name"]
    assert kwb_name.loc["WK064201"].iloc[-1] != RENAMED["WK064201"]
    assert r.loc["WK064201", "name"] == RENAMED["WK064201"]
    assert r.loc["WK064201", "mapping"].startswith("naam uit CBS 85984NED")
    assert r.loc["WK0363AA", "name"] == "Testnaam WK0363AA"
    # offline, without a pull: names as before (KWB 2016/2017, else the CBS code, never a made-up name)
    off = national_regions(pulled / "snapshot").set_index("region_code")
    assert off.loc["WK0363AA", "name"] == "WK0363AA"
    assert off.loc["WK0363AA", "mapping"] == "geen naam in de meegeleverde bestanden"
    assert off.loc["WK064201", "mapping"] == "naam uit KWB 2016/2017" and not (off["level"] == "buurt").any()

    key = ind.set_index(["region_code", "indicator", "year"])
    # real values of the pull first: origin cbs, the table id as source, one origin per series
    woz = ind[(ind["region_code"] == "BU0363AA01") & (ind["indicator"] == "woz")]
    assert len(woz) == 1 and woz["value"].item() == 512 and woz["year"].item() == 2024
    assert woz["origin"].item() == "cbs" and woz["source_table"].item() == "85984NED"
    assert key.loc[("BU0363AA01", "inwoners", 2024), "origin"] == "cbs"
    ses = ind[(ind["region_code"] == "BU06420101") & (ind["indicator"] == "ses_woa")]
    fake = {
        int(row["Perioden"][:4]): row["GemiddeldeScore_29"]
        for row in ses_table()["TypedDataSet"]
        if row["WijkenEnBuurten"].strip() == "BU06420101"
    }
    assert dict(zip(ses["year"], ses["value"], strict=True)) == fake
    assert set(ses["origin"]) == {"cbs"} and set(ses["source_table"]) == {"86296NED"}
    assert ses.loc[ses["year"] == 2024, "provisional"].item()
    # the labelled synthetic fill only for series the pull does not hold, over the inhabited buurten
    cfg = settings()["synthetic"]
    syn = ind[(ind["region_code"] == "BU06420101") & (ind["indicator"] == "laag_inkomen_pct")]
    assert set(syn["origin"]) == {"synthetic"}
    assert list(syn["year"]) == list(range(int(cfg["eerste_jaar"]), int(cfg["laatste_jaar"]) + 1))
    assert set(syn["source_table"]) == {
        f"synthetisch (analysis.sources.synthetic, seed {int(cfg['seed']) + 1})"
    }
    no_inw = ind[ind["region_code"] == "BU0363AA02"]
    assert set(no_inw["origin"]) == {"cbs"} and set(no_inw["indicator"]) == {"woz"}
    assert not ind["region_code"].eq("BU0642ZZ01").any()
    real = ind.assign(real=ind["origin"] != "synthetic")
    assert (real.groupby(["region_code", "indicator"])["real"].nunique() == 1).all()
    # the wijk series the pull does not touch are those of the offline build (own seeded stream)
    _, offline = build_national(pulled / "snapshot")
    for code in ("WK064201", "WK036300", "GM0642"):
        a = ind[(ind["region_code"] == code) & (ind["indicator"] == "laag_inkomen_pct")].reset_index(
            drop=True
        )
        b = offline[(offline["region_code"] == code) & (offline["indicator"] == "laag_inkomen_pct")]
        pd.testing.assert_frame_equal(a, b.reset_index(drop=True))


def test_the_pull_keeps_the_region_titles_and_an_edited_title_file_is_one_error(pulled, tmp_path):
    store = pulled / "cbs" / "nederland"
    m = json.loads((store / "85984NED" / "NL-buurt" / "manifest.json").read_text(encoding="utf-8"))
    assert m["region_titles"]["dimension"] == "WijkenEnBuurten" and m["region_titles"]["regions"] > 3700
    titles = cn.read_titles(store / "85984NED" / "NL-buurt")
    assert titles["BU0363AA01"] == "Testnaam BU0363AA01" and titles["GM0642"] == "Zwijndrecht"
    assert all(k == k.strip() and v == v.strip() for k, v in titles.items())
    # 86296NED's dimension repeats the codes as titles: no names from there
    assert cn.read_titles(store / "86296NED" / "NL-buurt") == {}
    t = cn.store_titles(store).set_index("code")
    assert t.loc["WK064201", "name"] == RENAMED["WK064201"] and t.loc["WK064201", "table_id"] == "85984NED"
    copy = tmp_path / "nederland"
    shutil.copytree(store, copy)
    f = copy / "85984NED" / "NL-buurt" / cn.TITLES_FILE
    f.write_text(f.read_text(encoding="utf-8").replace("Zwijndrecht", "Elders"), encoding="utf-8")
    with pytest.raises(InputError, match=r"region_titles\.json: ontbreekt of sha256 klopt niet") as exc:
        cn.store_titles(copy)
    assert "\n" not in str(exc.value)


def test_buurten_are_scored_per_municipality_in_the_grouped_pass(reported):
    """The grouped pass scores buurten against the buurten of their own municipality (and NL00): for
    Zwijndrecht the same as score_areas over its buurten alone; a buurt alone in its municipality has
    no spread to compare with; wijken are not mixed in."""
    from analysis.io import read_parquet
    from analysis.national.build import read_partitioned
    from analysis.resilience.analysis import score_areas
    from analysis.resilience.config import load_config

    rc, root, _ = reported
    assert rc == 0
    nl = root / "processed" / "nederland"
    scores = read_parquet(nl / "resilience_scores.parquet").set_index("region_code")
    regions = read_parquet(nl / "regions.parquet")
    assert sorted(scores.index[scores["level"] == "buurt"]) == sorted([*ZWIJNDRECHT_BUURTEN, "BU0363AA01"])
    assert scores.loc["BU0363AA01", "signaal"] == "onvoldoende data"
    cfg = load_config()
    ind = read_partitioned(nl / "indicators", ["GM0642", "NL00"])
    b = regions[(regions["gemeente_code"] == "GM0642") & (regions["level"] == "buurt")]
    w = b.set_index("region_code")["inwoners"]
    codes = sorted(w.index)
    year = int(scores["year"].iloc[0])
    own, _ = score_areas(ind, codes, w, cfg, list(range(year - cfg.change_years + 1, year + 1)))
    own = own.set_index("region_code")
    for col in ("A_niveau_gemeente", "B_niveau_gemeente", "A_trend_gemeente", "B_niveau_nederland"):
        np.testing.assert_allclose(
            scores.loc[codes, col].to_numpy(float), own.loc[codes, col].to_numpy(float), atol=1e-9
        )
    assert (scores.loc[codes, "signaal"] == own.loc[codes, "signaal"]).all()
    assert scores.loc[codes, "synthetic_inputs"].all()
    assert scores.loc["GM0642", "samenstelling"].count("wijk") >= 1  # composition over its wijken


def test_report_scope_nederland_niveau_buurt_renders_buurt_sheets_on_the_fork_pool(reported):
    rc, root, used = reported
    assert rc == 0 and used == [["buurt"]]
    out = root / "outputs" / "nederland"
    sheets = sorted(p.relative_to(out).as_posix() for p in out.glob("GM*/factsheets/*.html"))
    sheets = [s for s in sheets if not s.endswith("index.html")]
    assert sheets == [
        "GM0363/factsheets/bu0363aa01-testnaam-bu0363aa01.html",
        "GM0642/factsheets/bu06420101-slagveld-en-omgeving.html",
    ]  # buurten only; BU0363AA02 (no inhabitants in the pull) gets no sheet
    html = (out / sheets[1]).read_text(encoding="utf-8")
    assert "Slagveld en Omgeving" in html and "86296NED" in html and "synthetisch" in html.lower()
    manifest = json.loads((out / "GM0363" / "factsheets" / "manifest.json").read_text(encoding="utf-8"))
    assert [(a["area"], a["status"]) for a in manifest["areas"]] == [("BU0363AA01", "ok")]
    assert {"area": "BU0363AA02", "name": "Testnaam BU0363AA02", "level": "buurt"}.items() <= next(
        a for a in manifest["no_sheet"] if a["area"] == "BU0363AA02"
    ).items()
    assert (out / "index.html").exists()


def test_national_buurt_level_without_a_buurt_pull_is_one_clear_line(tmp_path, monkeypatch, capsys):
    from analysis.cli import main

    raw = _raw(tmp_path)
    monkeypatch.setenv("VEERKRACHT_RAW", str(raw))
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(tmp_path / "processed"))
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(tmp_path / "outputs"))
    fix = "`veerkracht fetch --scope nederland --niveau buurt`"
    for argv in (
        ["report", "--scope", "nederland", "--niveau", "buurt"],
        ["factsheets", "--scope", "provincie", "PV28", "--niveau", "buurt"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("fout: --niveau buurt") and err.count("\n") == 1, err
        assert fix in err and str(raw / "cbs" / "nederland") in err
    assert not (tmp_path / "processed").exists() and not (tmp_path / "outputs").exists()
    # a national pull down to wijken only: still no buurt list
    with FakeCbs({"85984NED": national_kwb_2024(buurten=False)}, page_size=4000) as srv:
        reg = {"kwb": _registry()["kwb"]}
        cn.fetch_national(_client(srv.url), reg, raw / "cbs", range(2024, 2025), "wijk", log=lambda _: None)
    assert main(["report", "--scope", "nederland", "--niveau", "buurt"]) == 2
    assert fix in capsys.readouterr().err
    # the command the line names is the real one: offline it runs and says so in one line
    monkeypatch.setenv(cbs.ENV_CATALOG, "http://127.0.0.1:9")
    assert main(fix.strip("`").split()[1:]) == 0
    out, err = capsys.readouterr()
    assert "fetch nederland (niveau buurt)" in out and "niet bereikbaar" in err


def test_buurt_sheets_asked_after_a_build_without_buurten_rebuild_the_national_set_once(
    reported, pulled, tmp_path, monkeypatch
):
    """`factsheets --niveau buurt` on a national set built before the buurt pull: one rebuild; a pull
    that still yields no buurt of a 2024 wijk is one clear error, never a run without buurten."""
    from analysis.national import run as national
    from analysis.processed.build import load_regions

    _, root, _ = reported
    processed = tmp_path / "processed"
    shutil.copytree(root / "processed", processed)
    regions = processed / "nederland" / "regions.parquet"
    with_buurten = pd.read_parquet(regions)
    with_buurten[with_buurten["level"] != "buurt"].to_parquet(regions)  # as built before the buurt pull
    calls = []

    def rebuild(raw, processed_root, log=print):
        calls.append(raw)
        with_buurten.to_parquet(regions)

    monkeypatch.setattr(national, "build", rebuild)
    views = national.views(
        "nederland", None, pulled, processed, tmp_path / "out", only=["BU06420101"], niveaus=["buurt"]
    )
    assert calls == [pulled] and [v.gemeente for v in views] == ["GM0642"]
    assert "BU06420101" in set(load_regions(views[0])["region_code"])
    # wijk sheets never trigger it
    national.views(
        "nederland", None, pulled, processed, tmp_path / "out", only=["WK064201"], niveaus=["wijk"]
    )
    assert len(calls) == 1
    with_buurten[with_buurten["level"] != "buurt"].to_parquet(regions)
    monkeypatch.setattr(national, "build", lambda raw, processed_root, log=print: calls.append(raw))
    with pytest.raises(
        InputError, match=r"--niveau buurt: de landelijke buurtdownload in .* heeft geen buurt"
    ):
        national.views("nederland", None, pulled, processed, tmp_path / "out", niveaus=["buurt"])
