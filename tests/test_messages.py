"""Language policy (issue 24 item 1): every message a user can see is Dutch, and names what is wrong.

Three nets over the same class of text (tests/dutch.py is the check: hunspell nl_NL + a list of
English function words, after file names, keys, codes and values are taken out):

* every message written in src/ (raised InputError/SourceUnavailable and their subclasses, ValueErrors
  of pydantic validators, print/warn/log lines, argparse help), read from the source tree;
* every error path that is cheap to reach: bad keys and values in each file under config/, bad
  option values, missing and malformed files, a malformed partner file, each run and its message
  checked (and the file/key/option named);
* a few real `veerkracht` processes (help, a bad option, a bad configuration), as a user sees them.

The ~90 bad-input cases of tests/test_bad_input.py check their `fout:` line for English words too.
The Dutch wording of the config/doelen.yaml errors is pinned word for word at the end.
"""

from __future__ import annotations

import ast
import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis import cli, config
from analysis.config import CONFIG_DIR, PROJ_ROOT, load_yaml
from analysis.errors import InputError, SourceUnavailable
from tests.dutch import assert_dutch, english_words, not_dutch, unknown_words, words

SRC = PROJ_ROOT / "src" / "analysis"

# --- the check itself --------------------------------------------------------------------------------


def test_the_check_refuses_english_and_passes_dutch_with_names_and_library_text():
    english = [
        "config/resilience.yaml: thresholds.level: Input should be greater than 0",
        "unknown area code(s) for --only: ['BU06429999'] (see data/processed/GM0642/regions.gpkg)",
        "--workers 0: must be 1 or more",
        "focusgebieden.csv: kolom 'buurtcode' is listed twice",  # half Dutch is not Dutch
        "PDOK https://x/y: time budget of 300 s used up",
        "kernel opwarming mislukt: timeout",  # 'timeout' bare: not Dutch
        "x.csv: the file is missing, run build first",  # hunspell-nl knows all these words
    ]
    bad = not_dutch(english)
    assert set(bad) == set(english), bad
    dutch = [
        "config/settings.yaml: sleutel 'min_inwoners': moet minstens 0 zijn (gevonden: -1)",
        "--only BU06429999: onbekende gebiedscode(s) (zie /tmp/x/regions.gpkg)",
        "/a/b.parquet: geen leesbaar Parquet-bestand (technische melding: Parquet magic bytes not found)",
        "CBS-tabel 85984NED: verwachte kolom 'AantalInwoners_5' ontbreekt",
        "fout: veerkracht factsheets: optie --workers: geen geheel getal: 'twee'",
    ]
    assert not not_dutch(dutch)
    assert words("draai `veerkracht fetch --scope nederland` en kies de provincie") == [
        "draai",
        "en",
        "kies",
        "de",
        "provincie",
    ]
    assert english_words("x: not found") == {"not", "found"}
    assert not unknown_words(["x.csv: the file is missing, run build first"])  # why ENGLISH is needed


# --- every message written in the source --------------------------------------------------------------

RAISED = {"InputError", "SourceUnavailable"}
SAID = {"print", "warn", "log", "err", "write", "Problem"}  # progress, warnings, partner report lines
ARGPARSE = {"add_argument", "add_parser", "add_subparsers", "ArgumentParser", "DutchParser"}


def _text(node: ast.AST) -> str | None:
    """The literal text of a message; each interpolated part becomes ``{}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        return None if left is None and right is None else (left or "{}") + (right or "{}")
    if isinstance(node, ast.IfExp):
        return " ".join(t for t in (_text(node.body), _text(node.orelse)) if t) or None
    return None


def _name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def source_messages(root: Path = SRC) -> list[tuple[str, str]]:
    """(file:line, text) of every user-facing message literal under ``root``."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.py"))}
    raised = set(RAISED)  # and every exception class derived from them, anywhere in src/
    for _ in range(3):
        for tree in trees.values():
            for n in ast.walk(tree):
                if isinstance(n, ast.ClassDef) and any(_name(b) in raised for b in n.bases):
                    raised.add(n.name)
    out = []
    for p, tree in trees.items():
        in_validator = set()  # a ValueError in a pydantic validator becomes a `fout:` line
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and any(
                _name(d.func if isinstance(d, ast.Call) else d) in ("field_validator", "model_validator")
                for d in fn.decorator_list
            ):
                in_validator |= {id(n) for n in ast.walk(fn)}
        for n in ast.walk(tree):
            if not isinstance(n, ast.Call):
                continue
            name = _name(n.func)
            texts = []
            if name in raised or name in SAID or (name == "ValueError" and id(n) in in_validator):
                texts += [_text(a) for a in n.args]
            if name in ARGPARSE:
                texts += [_text(k.value) for k in n.keywords if k.arg in ("help", "description", "title")]
            out += [(f"{p.relative_to(root)}:{n.lineno}", t) for t in texts if t and t.strip("{} ")]
    return out


def test_every_message_in_the_source_is_dutch():
    found = source_messages()
    assert len(found) > 300  # the scan sees the messages (about 370 at the time of writing)
    bad = not_dutch([t for _, t in found])
    listed = [f"{where} {bad[t]}: {t}" for where, t in found if t in bad]
    assert not listed, "niet in het Nederlands:\n" + "\n".join(listed)


def test_the_source_scan_finds_a_planted_english_message(tmp_path):
    (tmp_path / "m.py").write_text(
        "from analysis.errors import InputError\n"
        "class Stale(InputError):\n    pass\n"
        "def f(p):\n"
        "    raise Stale(f'{p}: file missing, run build first')\n"
        "def g(log):\n"
        "    log('klaar: 3 bladen gemaakt')\n",
        encoding="utf-8",
    )
    found = dict((t, w) for w, t in source_messages(tmp_path))
    assert set(found) == {"{}: file missing, run build first", "klaar: 3 bladen gemaakt"}
    assert list(not_dutch(list(found))) == ["{}: file missing, run build first"]


# --- error paths provoked one by one --------------------------------------------------------------------


def _yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _raises(fn, *args, **kwargs) -> str:
    try:
        fn(*args, **kwargs)
    except (InputError, SourceUnavailable) as exc:
        return str(exc)
    raise AssertionError(f"{fn.__name__}{args}: no error")


def _validated_case(name: str, validator: str):
    """A case on the data of config/<name>: ``change`` edits it, analysis.config_models.<validator>
    checks it as if read from a file <name> in the case's folder."""

    def case(change):
        def run(tmp: Path) -> str:
            from analysis import config_models

            data = copy.deepcopy(load_yaml(name))
            change(data)
            return _raises(getattr(config_models, validator), data, tmp / name)

        return run

    return case


_settings_case = _validated_case("settings.yaml", "validate_settings")
_indicators_case = _validated_case("indicators.yaml", "validate_indicators")


def _cbs_tables_case(change, gebieden: bool = False):
    def run(tmp: Path) -> str:
        from analysis.config_models import validate_cbs_groups, validate_gebieden

        data = copy.deepcopy(load_yaml("cbs_tables.yaml"))
        change(data)
        if gebieden:
            return _raises(validate_gebieden, data.get("gebieden"), tmp / "cbs_tables.yaml")
        groups = {k: v for k, v in data.items() if k not in config.CBS_NOT_GROUPS}
        return _raises(validate_cbs_groups, groups, tmp / "cbs_tables.yaml")

    return run


def _load_resilience(path: Path):
    from analysis.resilience.config import load_config

    return load_config(path)


def _load_uitleg(path: Path):
    from analysis.factsheets.explain import uitleg_catalog

    return uitleg_catalog(str(path))


def _load_doelen(path: Path):
    from analysis.goals.catalog import load_catalog

    return load_catalog(path)


def _file_case(name: str, load):
    """A case on a copy of config/<name>: ``change`` edits its data, ``load`` reads the copy."""

    def case(change):
        def run(tmp: Path) -> str:
            data = load_yaml(name)
            change(data)
            return _raises(load, _yaml(tmp / name, data))

        return run

    return case


_resilience_case = _file_case("resilience.yaml", _load_resilience)
_uitleg_case = _file_case("indicators_uitleg.yaml", _load_uitleg)
_doelen_case = _file_case("doelen.yaml", _load_doelen)


def _forecast_case(change):
    def run(tmp: Path) -> str:
        from analysis.goals.panel import check_forecast_config

        data = copy.deepcopy(load_yaml("doelen.yaml")["forecast"])
        change(data)
        return _raises(check_forecast_config, data)

    return run


def _text_file(name: str, body: str | bytes, reader):
    def run(tmp: Path) -> str:
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.write_bytes if isinstance(body, bytes) else p.write_text)(body)
        return _raises(reader, p)

    return run


def _first_goal(data: dict) -> dict:
    return data["doelen"][0]


def _set(d: dict, key: str, value) -> None:
    d[key] = value


def _read_parquet(p):
    from analysis.io import read_parquet

    return read_parquet(p)


def _read_json_cached(p):
    from analysis.io import _read_json

    return _read_json(p)


def _partner(p):
    from analysis.sources.partner_read import read_table

    return read_table(p)


def _focus(p):
    from analysis.sources.local import read_focusgebieden

    return read_focusgebieden(p.parent, {"BU06420101"})


def _pdok_meta(p):
    from analysis.sources import pdok

    (p.parent / pdok.BUURTEN_FILE).write_text("{}")
    return pdok.cached_buurten(p.parent)


def _cbs_settings(cfg):
    def run(tmp: Path) -> str:
        from analysis.sources.cbs import CbsSettings

        return _raises(CbsSettings.from_settings, cfg, env={})

    return run


def _cbs_offline(tmp: Path) -> str:
    from analysis.sources.cbs import CbsClient, CbsSettings, Deadline

    client = CbsClient(CbsSettings(retries=1, backoff_s=0, connect_timeout_s=0.5), sleep=lambda s: None)
    return _raises(client.get, "http://127.0.0.1:9/ODataFeed/odata/85984NED/", None, Deadline(5))


def _cbs_answer(tmp: Path) -> str:
    from analysis.config import cbs_registry
    from analysis.sources.cbs import harmonise

    return _raises(harmonise, {"TypedDataSet": []}, "85984NED", cbs_registry()["kwb"], year=2024)


# (id, provoke(tmp) -> message, words the message must contain: the file, key, option or value)
CASES = [
    # config/settings.yaml
    (
        "settings_unknown_key",
        _settings_case(lambda d: _set(d, "min_inwonres", 1)),
        ["settings.yaml", "min_inwonres"],
    ),
    ("settings_negative", _settings_case(lambda d: _set(d, "min_inwoners", -1)), ["min_inwoners", "-1"]),
    ("settings_text", _settings_case(lambda d: _set(d, "min_inwoners", "veel")), ["min_inwoners", "veel"]),
    ("settings_code", _settings_case(lambda d: d["gemeente"].update(code="Zwijndrecht")), ["gemeente.code"]),
    ("settings_years", _settings_case(lambda d: d["jaren"].update(eerste=2030)), ["jaren", "2030"]),
    (
        "settings_drecht",
        _settings_case(lambda d: _set(d["vergelijking"], "drechtsteden", ["Dordrecht"])),
        ["Dordrecht"],
    ),
    (
        "settings_colofon",
        _settings_case(lambda d: _set(d, "colofon", {"ingevuld": True})),
        ["colofon", "ingevuld"],
    ),
    ("settings_bool", _settings_case(lambda d: d["cbs"].update(use_https="ja")), ["cbs.use_https", "ja"]),
    (
        "settings_pdok_url",
        _settings_case(lambda d: d["pdok"].update(buurten_url="ftp:x")),
        ["pdok.buurten_url"],
    ),
    (
        "settings_timeout",
        _settings_case(lambda d: _set(d, "factsheets", {"timeout_s": 0})),
        ["factsheets.timeout_s"],
    ),
    ("settings_retries", _settings_case(lambda d: d["cbs"].update(retries=11)), ["cbs.retries", "11"]),
    ("settings_section", _settings_case(lambda d: _set(d, "jaren", [2013])), ["jaren"]),
    ("settings_missing", _settings_case(lambda d: d.pop("jaren")), ["jaren", "ontbreekt"]),
    # config/indicators.yaml
    (
        "indicators_kind",
        _indicators_case(lambda d: d["inwoners"].update(kind="telling")),
        ["inwoners.kind", "telling"],
    ),
    (
        "indicators_unknown_key",
        _indicators_case(lambda d: d["inwoners"].update(gewicht=1)),
        ["inwoners.gewicht"],
    ),
    (
        "indicators_weight",
        _indicators_case(lambda d: d["laag_inkomen_pct"].update(weight="x")),
        ["laag_inkomen_pct.weight"],
    ),
    (
        "indicators_range",
        _indicators_case(lambda d: d["lbm_score"].update(range=[10, 0])),
        ["lbm_score", "range"],
    ),
    ("indicators_entry", _indicators_case(lambda d: _set(d, "inwoners", 5)), ["inwoners"]),
    (
        "indicators_partner_file",
        _indicators_case(
            lambda d: _set(
                d,
                "x_pct",
                {
                    "label": "x",
                    "unit": "%",
                    "kind": "count",
                    "source": {
                        "file": "../elders.csv",
                        "columns": {"area": "a", "year": "j", "value": "v"},
                        "supplier": "p",
                    },
                },
            )
        ),
        ["x_pct.source.file"],
    ),
    # config/cbs_tables.yaml
    ("cbs_tables_unknown_key", _cbs_tables_case(lambda d: _set(d["kwb"], "requierd", [])), ["kwb.requierd"]),
    (
        "cbs_tables_plan",
        _cbs_tables_case(lambda d: d["kwb"].pop("years", None) or d["kwb"].pop("editions", None)),
        ["kwb"],
    ),
    ("cbs_tables_odata", _cbs_tables_case(lambda d: _set(d["kwb"], "odata", "v5")), ["kwb.odata", "v5"]),
    (
        "cbs_tables_gebieden",
        _cbs_tables_case(lambda d: _set(d["gebieden"], "editions", ["8575"]), True),
        ["gebieden.editions"],
    ),
    # config/resilience.yaml
    (
        "resilience_level",
        _resilience_case(lambda d: d["thresholds"].update(level=-1)),
        ["resilience.yaml", "thresholds.level"],
    ),
    ("resilience_step", _resilience_case(lambda d: d["thresholds"].update(step=9)), ["thresholds"]),
    (
        "resilience_direction",
        _resilience_case(lambda d: d["axes"]["A"]["indicators"]["ses_woa"].update(direction=2)),
        ["ses_woa.direction"],
    ),
    ("resilience_unknown_key", _resilience_case(lambda d: _set(d, "drempels", 1)), ["drempels"]),
    (
        "resilience_indicator",
        _resilience_case(lambda d: d["axes"]["A"]["indicators"].update(geluk={"direction": 1, "weight": 1})),
        ["geluk"],
    ),
    ("resilience_year", _resilience_case(lambda d: _set(d, "year", "vorig jaar")), ["year", "vorig jaar"]),
    ("resilience_coverage", _resilience_case(lambda d: _set(d, "min_coverage", 2)), ["min_coverage", "2"]),
    # config/indicators_uitleg.yaml
    (
        "uitleg_unknown_indicator",
        _uitleg_case(lambda d: _set(d, "geluk", d["inwoners"])),
        ["indicators_uitleg.yaml", "geluk"],
    ),
    ("uitleg_unknown_key", _uitleg_case(lambda d: d["inwoners"].update(bronn="x")), ["inwoners.bronn"]),
    (
        "uitleg_fragment",
        _uitleg_case(lambda d: d["inwoners"]["cbs"]["fragmenten"][0].update(alinea=-1)),
        ["inwoners.cbs.fragmenten.0.alinea"],
    ),
    (
        "uitleg_no_text",
        _uitleg_case(lambda d: _set(d, "inwoners", {"richting": d["inwoners"]["richting"], "bron": "x"})),
        ["inwoners", "cbs", "eigen"],
    ),
    # config/doelen.yaml
    (
        "doelen_unknown_key",
        _doelen_case(lambda d: _first_goal(d).update(indiactor="x")),
        ["doelen.yaml", "P1-01", "indiactor"],
    ),
    (
        "doelen_doeltype",
        _doelen_case(lambda d: _first_goal(d).update(doeltype="procent")),
        ["doeltype", "procent"],
    ),
    ("doelen_pijler", _doelen_case(lambda d: _first_goal(d).update(pijler=9)), ["pijler", "9"]),
    (
        "doelen_partner",
        _doelen_case(lambda d: d["doelen"][1].update(partner=["buurman"])),
        ["partner", "buurman"],
    ),
    ("doelen_status", _doelen_case(lambda d: d["status"].update(op_koers=1.5)), ["status.op_koers", "1.5"]),
    ("forecast_missing", _forecast_case(lambda d: d.pop("paneel")), ["doelen.yaml", "forecast.paneel"]),
    (
        "forecast_candidates",
        _forecast_case(lambda d: _set(d, "candidates", ["drift"])),
        ["forecast.candidates"],
    ),
    ("forecast_min_train", _forecast_case(lambda d: _set(d, "min_train", 2)), ["forecast.min_train", "2"]),
    # any configuration file: syntax, shape, absence
    ("yaml_syntax", _text_file("x.yaml", "a: [1\n", load_yaml), ["x.yaml", "regel"]),
    ("yaml_list", _text_file("x.yaml", "- a\n", load_yaml), ["x.yaml"]),
    ("yaml_missing", lambda tmp: _raises(load_yaml, tmp / "weg.yaml"), ["weg.yaml"]),
    # intermediate and cached files
    (
        "parquet_missing",
        lambda tmp: _raises(_read_parquet, tmp / "indicators.parquet"),
        ["indicators.parquet"],
    ),
    ("parquet_truncated", _text_file("scores.parquet", b"PAR1\x00\x01", _read_parquet), ["scores.parquet"]),
    ("json_broken", _text_file("manifest.json", "{oops", _read_json_cached), ["manifest.json", "regel 1"]),
    ("json_binary", _text_file("manifest.json", b"\xff\xfe\x00", _read_json_cached), ["manifest.json"]),
    ("pdok_meta", _text_file("pdok/bron.json", "{kapot", _pdok_meta), ["bron.json"]),
    # the programme's focus areas and a partner's delivery
    ("focus_missing", lambda tmp: _raises(_focus, tmp / "focusgebieden.csv"), ["focusgebieden.csv"]),
    (
        "focus_columns",
        _text_file("focusgebieden.csv", "a,b\n1,2\n", _focus),
        ["focusgebieden.csv", "focusgebied_code"],
    ),
    (
        "partner_binary",
        _text_file("overlast_2023.csv", b"\x00\xff\xfe\x00\x81", _partner),
        ["overlast_2023.csv"],
    ),
    (
        "partner_separator",
        _text_file("overlast_2023.csv", "codejaarwaarde\nBU1\n", _partner),
        ["overlast_2023.csv", "regel 1"],
    ),
    (
        "partner_short_line",
        _text_file("overlast_2023.csv", "code;jaar;waarde\nBU06420101;2022\n", _partner),
        ["regel 2"],
    ),
    ("partner_type", _text_file("overlast_2023.pdf", "x", _partner), ["overlast_2023.pdf"]),
    # CBS settings and answers
    ("cbs_settings_key", _cbs_settings({"timeout": 3}), ["cbs.timeout"]),
    ("cbs_settings_value", _cbs_settings({"retries": "2"}), ["cbs.retries", "'2'"]),
    ("cbs_offline", _cbs_offline, ["2 pogingen"]),
    ("cbs_empty_answer", _cbs_answer, ["85984NED"]),
]


@pytest.fixture(scope="module")
def provoked(tmp_path_factory) -> dict[str, str]:
    """Every case run once: id -> the message it gives."""
    out = {}
    for case_id, provoke, _ in CASES:
        tmp = tmp_path_factory.mktemp(case_id)
        out[case_id] = provoke(tmp)
    return out


@pytest.fixture(scope="module")
def not_dutch_provoked(provoked) -> dict[str, list[str]]:
    return not_dutch(list(provoked.values()))  # one hunspell run for all of them


@pytest.mark.parametrize("case_id, needles", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_each_error_path_says_in_dutch_what_is_wrong_and_where(
    provoked, not_dutch_provoked, case_id, needles
):
    msg = provoked[case_id]
    assert "\n" not in msg, msg
    for needle in needles:
        assert needle in msg, msg
    assert msg not in not_dutch_provoked, f"{not_dutch_provoked.get(msg)}: {msg}"


# --- options on the command line ------------------------------------------------------------------------

BAD_OPTIONS = [
    (["bestaat-niet"], ["bestaat-niet"]),
    ([], ["COMMANDO"]),
    (["factsheets", "--bogus"], ["--bogus"]),
    (["factsheets", "--workers", "twee"], ["--workers", "twee"]),
    (["factsheets", "--workers", "0"], ["--workers 0"]),
    (["factsheets", "--timeout", "nan"], ["--timeout nan", "factsheets.timeout_s"]),
    (["factsheets", "--scope", "provincie"], ["--scope provincie"]),
    (["factsheets", "--scope", "wereld"], ["--scope wereld"]),
    (["factsheets", "--scope", "nederland", "extra"], ["--scope nederland", "extra"]),
    (["factsheets", "--niveau", "straat"], ["--niveau straat"]),
    (["fetch", "--table", "bestaat-niet"], ["--table bestaat-niet"]),
    (["fetch", "--niveau", "wijk"], ["--niveau"]),
    (["fetch", "--scope", "provincie", "PV28"], ["--scope provincie"]),
    (["fetch", "--budget", "inf"], ["--budget inf"]),
    (["resilience", "--n-sim", "5"], ["--n-sim 5", "sensitivity.n_sim"]),
    (["bench-national", "--repeat", "0"], ["--repeat 0"]),
    (["report", "--scope"], ["--scope"]),
    (["--gemeente", "GM12", "goals"], ["GM12"]),
    (["--gemeente", "GM9999", "goals"], ["GM9999"]),
    (["--gemeente", " ", "goals"], ["--gemeente"]),
    (["sjabloon"], ["ID"]),
    (["sjabloon", "geluk"], ["geluk"]),
]


def test_every_bad_option_is_one_dutch_fout_line_naming_the_option(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(tmp_path / "processed"))  # nothing of the project's
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(tmp_path / "outputs"))
    lines = {}
    for argv, needles in BAD_OPTIONS:
        capsys.readouterr()
        rc = cli.main(list(argv))
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert rc == 2 and len(err) == 1 and err[0].startswith("fout: "), (argv, rc, err)
        for needle in needles:
            assert needle in err[0], (argv, err[0])
        lines[" ".join(argv)] = err[0]
    bad = not_dutch(list(lines.values()))
    assert not bad, {k: v for k, v in lines.items() if v in bad}


def test_every_help_page_is_dutch():
    from analysis.cli.parser import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    pages = {"veerkracht": parser.format_help()}
    pages |= {name: p.format_help() for name, p in sub.choices.items()}
    assert len(pages) >= 12 and all(p.startswith("gebruik: ") for p in pages.values())
    for page in pages.values():
        assert "show this help" not in page and "options:" not in page
    bad = not_dutch(list(pages.values()))
    assert not bad, {k: bad[v] for k, v in pages.items() if v in bad}


# --- as a user sees it: real processes ----------------------------------------------------------------


def _veerkracht(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_a_user_sees_dutch_help_and_dutch_errors(tmp_path):
    """Real `veerkracht` processes: the help page, a bad option, a misspelt key in
    config/resilience.yaml (VEERKRACHT_ROOT: a copy of config/ with one key changed), a missing build."""
    helped = _veerkracht("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("gebruik: veerkracht"), helped.stderr
    option = _veerkracht("factsheets", "--workers", "nul")
    assert option.returncode == 2, option.stderr
    assert option.stderr.startswith("fout: veerkracht factsheets: optie --workers"), option.stderr
    root = tmp_path / "project"
    (root / "config").mkdir(parents=True)
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    for f in CONFIG_DIR.glob("*.yaml"):
        (root / "config" / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    res = load_yaml("resilience.yaml")
    res["thresholds"]["levl"] = res["thresholds"].pop("level")
    _yaml(root / "config" / "resilience.yaml", res)
    dirs = {
        "VEERKRACHT_RAW": str(PROJ_ROOT / "data" / "raw"),
        "VEERKRACHT_PROCESSED": str(tmp_path / "processed"),
        "VEERKRACHT_OUTPUTS": str(tmp_path / "outputs"),
    }
    key = _veerkracht("resilience", env={"VEERKRACHT_ROOT": str(root), **dirs})
    assert key.returncode == 2, key.stderr
    assert key.stderr.startswith("fout: ") and "resilience.yaml: sleutel 'thresholds.levl'" in key.stderr
    missing = _veerkracht("resilience", env=dirs)  # the real config/, no build in processed/ yet
    assert missing.returncode == 2 and "indicators.parquet" in missing.stderr, missing.stderr
    for out in (option.stderr, key.stderr, missing.stderr):
        assert out.count("\n") == 1, out
    assert_dutch(helped.stdout, option.stderr, key.stderr, missing.stderr)


# --- config/doelen.yaml: the wording, pinned word for word ---------------------------------------------

DOEL = "{p}: doel P1-01: sleutel"
PINNED = [
    ("indiactor", "x", f"{DOEL} 'indiactor': onbekende sleutel (bedoelt u 'indicator'?)"),
    ("pijler", "twee", f"{DOEL} 'pijler': moet een geheel getal zijn (gevonden: 'twee')"),
    ("meetbaar", "ja", f"{DOEL} 'meetbaar': moet true of false zijn (gevonden: 'ja')"),
    (
        "doeltype",
        "procent",
        f"{DOEL} 'doeltype': moet een van deze zijn: 'relatief', 'pariteit', 'richting' of 'absoluut' "
        "(gevonden: 'procent')",
    ),
    ("geografie", [], f"{DOEL} 'geografie': te weinig elementen (minstens 1)"),
    ("doelwaarde", "veel", f"{DOEL} 'doelwaarde': moet een getal zijn (gevonden: 'veel')"),
    ("tekst", "", f"{DOEL} 'tekst': mag niet leeg zijn (gevonden: '')"),
    ("basisjaar", "2015", f"{DOEL} 'basisjaar': moet een geheel getal zijn (gevonden: '2015')"),
    ("indicator", "geluk", f"{DOEL} 'indicator': onbekende indicator 'geluk' (config/indicators.yaml)"),
    (
        "doeljaar",
        2010,
        "{p}: doel P1-01: onmogelijk basisjaar 2020 / doeljaar 2010 (2000 <= basis < doel <= 2100)",
    ),
    ("status.op_koers", 1.5, "{p}: sleutel 'status.op_koers': mag hoogstens 1 zijn (gevonden: 1.5)"),
    ("status.min_punten", 1, "{p}: sleutel 'status.min_punten': moet minstens 2 zijn (gevonden: 1)"),
    ("pijlerz", {}, "{p}: sleutel 'pijlerz': onbekende sleutel (bedoelt u 'pijlers'?)"),
    ("doelen", [], "{p}: sleutel 'doelen': te weinig elementen (minstens 1)"),
]


@pytest.mark.parametrize("key, value, expected", PINNED, ids=[k for k, _, _ in PINNED])
def test_doelen_yaml_errors_keep_their_dutch_wording(tmp_path, key, value, expected):
    from analysis.goals.catalog import load_catalog

    data = load_yaml("doelen.yaml")  # the real catalogue, one key of its first goal or top level changed
    *parents, last = key.split(".")
    target = data if parents or key in data or key == "pijlerz" else data["doelen"][0]
    for part in parents:
        target = target[part]
    target[last] = value
    p = _yaml(tmp_path / "doelen.yaml", data)
    with pytest.raises(InputError) as exc:
        load_catalog(p)
    assert str(exc.value) == expected.format(p=p)
