"""README.md stays true to the code (issue 24: "the README is the only page a newcomer needs").

Four kinds of drift, each checked against the code itself and without a run:

* every key the settings model accepts (``analysis.config_models.Settings``) is in the README's
  configuration table with the value a run really uses (config/settings.yaml, else the model's
  default), and the table names no key the model refuses;
* every ``make`` target the README names is a target of the Makefile;
* every ``veerkracht ...`` command line in the README parses with the real CLI parser, and each option
  it spells is an exact option of that (sub)command (argparse would accept an abbreviation);
* every output path the README names (``outputs/...``, ``data/processed/...``, the CBS/PDOK caches)
  is one the code writes: a ``Paths`` property, a stage folder of ``analysis.incremental``, a file a
  sheet reads (``worker_inputs.SHEET_INPUTS``), the progress report's file names, or a literal
  ``paths.outputs / "..."`` chain in src/analysis.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from analysis import config, config_models, incremental, reuse
from analysis.cli.parser import build_parser
from analysis.factsheets.worker_inputs import SHEET_INPUTS
from analysis.goals import progress

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GM = "GM0642"


# --- reading the README --------------------------------------------------------------------------


def _fenced(text: str) -> list[str]:
    """The bodies of the fenced code blocks."""
    return re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)


def _prose(text: str) -> str:
    return re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)


def _spans(text: str) -> list[str]:
    """Inline code spans of the prose (a span may wrap to the next line), whitespace collapsed."""
    return [" ".join(s.split()) for s in re.findall(r"`([^`]+)`", _prose(text))]


def _code_lines(text: str) -> list[str]:
    """Inline spans plus each line of the fenced blocks, without shell comments."""
    lines = [ln.split("#", 1)[0].strip() for block in _fenced(text) for ln in block.splitlines()]
    return _spans(text) + [ln for ln in lines if ln]


def _section(text: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert m, f"README.md has no section '## {title}'"
    return m.group(1)


# --- settings --------------------------------------------------------------------------------------


def _submodel(annotation) -> type[BaseModel] | None:
    for a in (annotation, *typing.get_args(annotation)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def model_keys(model: type[BaseModel] = config_models.Settings, prefix: str = "") -> dict[str, typing.Any]:
    """Every leaf key the settings model accepts ('cbs.budget_s'), with its field."""
    out: dict[str, typing.Any] = {}
    for name, field in model.model_fields.items():
        sub = _submodel(field.annotation)
        if sub is not None:
            out.update(model_keys(sub, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = field
    return out


_MISSING = object()


def _shipped(key: str, data: dict) -> typing.Any:
    node: typing.Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def code_defaults() -> dict[str, tuple[typing.Any, typing.Any]]:
    """key -> (value a run uses: config/settings.yaml, else the model default; the model default)."""
    shipped = yaml.safe_load((config.CONFIG_DIR / "settings.yaml").read_text(encoding="utf-8"))
    out = {}
    for key, field in model_keys().items():
        default = field.get_default(call_default_factory=True)
        default = _MISSING if default is PydanticUndefined else default
        value = _shipped(key, shipped)
        value = default if value is _MISSING else value
        assert value is not _MISSING, f"{key}: neither in config/settings.yaml nor a model default"
        out[key] = (value, default)
    return out


def readme_settings(text: str) -> dict[str, tuple[typing.Any, str]]:
    """key -> (default as written in the README table, parsed as YAML; the meaning cell)."""
    rows = [ln for ln in _section(text, "Instellingen").splitlines() if ln.startswith("|")]
    out: dict[str, tuple[typing.Any, str]] = {}
    for row in rows[2:]:  # header and |---| line
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 3, f"README settings row has not 3 cells: {row}"
        keys = re.findall(r"`([^`]+)`", cells[0])
        defaults = re.findall(r"`([^`]+)`", cells[1])
        assert keys, f"README settings row names no key: {row}"
        assert len(defaults) in (1, len(keys)), f"README settings row: {len(keys)} keys, defaults {defaults}"
        for i, key in enumerate(keys):
            assert key not in out, f"README names settings key {key} twice"
            raw = defaults[0] if len(defaults) == 1 else defaults[i]
            out[key] = (yaml.safe_load(raw), cells[2])
    return out


def _same(readme: typing.Any, code: typing.Any) -> bool:
    if isinstance(code, bool) or isinstance(readme, bool):
        return readme is code
    return readme == code


def test_readme_settings_table_lists_every_key_with_the_default_the_code_uses():
    table = readme_settings(README.read_text(encoding="utf-8"))
    code = code_defaults()
    missing = sorted(set(code) - set(table))
    unknown = sorted(set(table) - set(code))
    assert not missing, f"settings keys the code accepts but README.md's table leaves out: {missing}"
    assert not unknown, f"README.md's settings table names keys the code refuses: {unknown}"
    wrong = {k: (table[k][0], code[k][0]) for k in code if not _same(table[k][0], code[k][0])}
    assert not wrong, f"README.md default differs from the one a run uses (README, code): {wrong}"


def _show(value: typing.Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    if isinstance(value, list | tuple | dict) and not value:
        return "geen"
    return str(value)


def test_readme_says_the_fallback_where_settings_yaml_overrides_the_model_default():
    """Delete a line from settings.yaml and the model default applies: where the two differ, the
    README's meaning cell says so ("zonder deze regel <default>")."""
    table = readme_settings(README.read_text(encoding="utf-8"))
    for key, (value, default) in code_defaults().items():
        if default is _MISSING or default is None or _same(value, default):
            continue
        say = f"zonder deze regel {_show(default)}"
        assert say in table[key][1], (
            f"README.md: {key} ships as {value} but is {default!r} without the line; write '{say}' in its row"
        )


def test_source_clients_default_to_the_model_default():
    """The CBS and PDOK clients read their section with unset keys left out and use their own
    defaults then: those must be the defaults the model (and thus the README) states."""
    from analysis.sources.cbs.transport import CbsSettings
    from analysis.sources.pdok import PdokSettings

    for section, client in (("cbs", CbsSettings), ("pdok", PdokSettings)):
        keys = model_keys(getattr(config_models, f"{section.capitalize()}Section"))
        # a key the client accepts but the settings model refuses cannot be set at all
        refused = set(client.__dataclass_fields__) - set(keys)
        assert not refused, f"{section}: the client reads {sorted(refused)}, settings.yaml refuses them"
        for key, field in keys.items():
            default = field.get_default(call_default_factory=True)
            if default is PydanticUndefined:
                continue
            assert key in client.__dataclass_fields__, f"{section}.{key}: model has it, client not"
            assert client.__dataclass_fields__[key].default == default, (
                f"{section}.{key}: client default {client.__dataclass_fields__[key].default}, model {default}"
            )


# --- make targets ----------------------------------------------------------------------------------


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9][\w-]*)\s*:(?!=)", text, flags=re.M))


def readme_make_targets(text: str) -> set[str]:
    """Targets in every `make ...` of the README; `make a | b | c` names a, b and c."""
    targets: set[str] = set()
    for line in _code_lines(text):
        m = re.search(r"(?:^|\s)make\s+(.+)$", line)
        if not m:
            continue
        for token in re.split(r"[\s|]+", m.group(1)):
            if token and "=" not in token and re.fullmatch(r"[\w-]+", token):
                targets.add(token)
    return targets


def test_every_make_target_in_the_readme_exists():
    named = readme_make_targets(README.read_text(encoding="utf-8"))
    assert {"report", "test", "help"} <= named, f"README.md no longer names the everyday targets: {named}"
    missing = sorted(named - makefile_targets())
    assert not missing, f"README.md names make targets the Makefile does not have: {missing}"


def make_help_targets() -> set[str]:
    """Targets `make help` names (its echo lines; `make a | b | c` names a, b and c)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^help:.*?\n((?:\t.*\n)+)", text, flags=re.M)
    assert recipe, "Makefile has no help target"
    named: set[str] = set()
    for m in re.finditer(r"@echo \"make ((?:[\w-]+(?: \| )?)+)", recipe.group(1)):
        named |= {t for t in m.group(1).split(" | ") if t}
    return named


def test_make_help_names_every_target_the_readme_names():
    """The README sends a newcomer to `make help` for the list: it holds what the README names."""
    named = readme_make_targets(README.read_text(encoding="utf-8")) - {"help"}
    missing = sorted(named - make_help_targets())
    assert not missing, f"make help leaves out targets README.md names: {missing}"


# --- veerkracht command lines ----------------------------------------------------------------------

# README placeholders -> a value the parser accepts in their place
PLACEHOLDERS = {"<bestand>": "levering.csv", "<indicator>": "overlast_per_1000", "GMxxxx": "GM0505"}


def readme_commands(text: str) -> tuple[list[list[str]], list[str]]:
    """(argv of every `veerkracht ...` line with arguments, also `.venv/bin/veerkracht ...`; the
    command names of a list `veerkracht a | b | c`). `…` after an option stands for an area code."""
    commands, names = [], []
    for line in _code_lines(text):
        m = re.search(r"(?:^|\s)(?:\.venv/bin/)?veerkracht\s+(.+)$", line)
        if not m:
            continue
        if "|" in m.group(1):
            names += [alt.strip() for alt in m.group(1).split("|")]
            continue
        for alt in [m.group(1)]:
            argv: list[str] = []
            for tok in alt.split():
                if tok in ("…", "..."):
                    if argv and argv[-1].startswith("--"):
                        argv.append("BU06420101")
                    continue
                argv.append(PLACEHOLDERS.get(tok, tok))
            if argv:
                commands.append(argv)
    return commands, names


def _parse(argv: list[str]) -> str | None:
    """None when the real parser takes argv with only exact option names; else why not."""
    parser = build_parser()
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code == 0:  # --help, --version
            return None
        return f"exit {exc.code}: {err.getvalue().strip()}"
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    known = set(parser._option_string_actions) | set(sub.choices[args.command]._option_string_actions)
    inexact = [t for t in argv if t.startswith("-") and t.split("=", 1)[0] not in known]
    return f"not an exact option: {inexact}" if inexact else None


def test_every_veerkracht_command_line_in_the_readme_parses():
    commands, names = readme_commands(README.read_text(encoding="utf-8"))
    assert any(c[:2] == ["factsheets", "--only"] for c in commands), "README.md lost the one-sheet how-to"
    bad = {" ".join(c): why for c in commands if (why := _parse(c))}
    assert not bad, f"README.md command lines the CLI refuses: {bad}"
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    unknown = [n for n in names if n not in sub.choices]
    assert not unknown, f"README.md lists veerkracht commands that do not exist: {unknown}"


# --- output paths ----------------------------------------------------------------------------------


def _rel(p: Path) -> str:
    return p.relative_to(config.PROJ_ROOT).as_posix().replace(GM, "<GM>")


# `paths.outputs / "a" / "b"` (also p.outputs, args.paths.processed, ...) anywhere in the package
_CHAIN = re.compile(r"\b\w*paths?\.(outputs|processed)((?:\s*/\s*\"[\w.\-]+\")+)")


def code_outputs() -> set[str]:
    """Relative paths (municipality as <GM>) the code writes, from its own constants and literals."""
    p = config.Paths(
        raw=config.RAW_DIR,
        processed=config.PROCESSED_DIR / GM,
        outputs=config.OUTPUTS_DIR / GM,
        gemeente=GM,
    )
    found = {p.processed, p.outputs, p.regions, p.indicators, p.cbs_cache, p.pdok_cache}
    found |= {incremental.output_dir(stage, p) for stage in incremental.STAGES}
    found |= {getattr(p, root) / rel for root, rel in SHEET_INPUTS}
    found.add(reuse.cache_root(p.outputs))
    outside = incremental.OUTSIDE_OUTPUTS.get("goals", ())
    for name in (progress.HTML, progress.CSV, progress.META):
        if any(fnmatch.fnmatch(name, g) for g in outside):
            found.add(p.outputs / name)
    for src in (ROOT / "src" / "analysis").rglob("*.py"):
        for root, chain in _CHAIN.findall(src.read_text(encoding="utf-8")):
            found.add(getattr(p, root).joinpath(*re.findall(r"\"([\w.\-]+)\"", chain)))
    return {_rel(f) for f in found}


_OUTPUT_PREFIX = re.compile(r"^(outputs|data/processed|data/raw/cbs|data/raw/pdok)(/|$)")


def readme_outputs(text: str) -> set[str]:
    """Output paths named in the README: code spans under outputs/, data/processed/ and the CBS/PDOK
    caches, plus the files listed after data/processed/<GM>/ and outputs/<GM>/ in the layout block."""
    found = set()
    for span in _spans(text):
        for tok in span.split():
            if _OUTPUT_PREFIX.match(tok):
                found.add(tok)
    layout = next(b for b in _fenced(_section(text, "Waar staat wat")))
    entries: list[list[str]] = []
    for line in layout.splitlines():
        if line[:1].strip():
            head, _, rest = line.partition(" ")
            entries.append([head, rest])
        elif entries:
            entries[-1][1] += " " + line
    for head, rest in entries:
        if head not in ("data/processed/<GM>/", "outputs/<GM>/"):
            continue
        found.add(head)
        for item in re.sub(r"\([^)]*\)", "", rest).split(","):
            first = item.split()[0] if item.split() else ""
            if "." in first or first.endswith("/"):
                found.add(head + first)
    return {re.sub(r"GM\d{4}", "<GM>", f).rstrip("/") for f in found}


def test_every_output_path_in_the_readme_is_one_the_code_writes():
    named = readme_outputs(README.read_text(encoding="utf-8"))
    assert "outputs/<GM>/factsheets/index.html" in named, "README.md no longer says where the overview is"
    written = code_outputs()
    unknown = sorted(n for n in named if n not in written and not any(w.startswith(n + "/") for w in written))
    assert not unknown, f"README.md names outputs the code does not write: {unknown}"


def test_readme_stays_short():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= 200, f"README.md has {n} lines; issue 24 allows 200 (details go to docs/*.md)"


# --- what the docs promise about the pages ---------------------------------------------------------


def test_every_origin_is_named_in_dutch_on_the_pages():
    """docs/reference.md: sources on the pages are in plain Dutch. A partner's file (origin `local`)
    showed as "2025 (local)" in a sheet's Technische verantwoording."""
    from analysis.factsheets.fmt import origin_nl
    from analysis.records import ORIGINS

    untranslated = [o for o in ORIGINS if origin_nl(o) == o]
    assert not untranslated, f"origins shown as their code on the pages: {untranslated}"


def test_the_readme_typo_example_is_the_line_the_code_gives(tmp_path):
    """The threshold how-to shows the `fout:` line a misspelt key in config/resilience.yaml gives."""
    from analysis.errors import InputError
    from analysis.resilience.config import load_config

    text = README.read_text(encoding="utf-8")
    example = next(s for s in _spans(text) if s.startswith("fout: config/resilience.yaml"))
    pattern = re.escape(example).replace("<sleutel>", r"[\w.]+").replace("<reden>", ".+")
    bad = tmp_path / "resilience.yaml"
    shipped = (config.CONFIG_DIR / "resilience.yaml").read_text(encoding="utf-8")
    bad.write_text(shipped.replace("\n  level:", "\n  levl:", 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_config(bad)
    line = "fout: " + str(err.value).replace(str(bad), "config/resilience.yaml")
    assert "levl" in line and re.fullmatch(pattern, line), f"README.md example {example!r}, code: {line!r}"


def _resolves(name: str) -> bool:
    import importlib

    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def test_every_module_and_source_file_the_docs_name_exists():
    """README.md and docs/*.md name code that exists: `analysis.x.y` imports, `src/...` and `tests/...`
    files are there. Not benchmarks.md (dated history) and testing.md (its breakage audit describes
    broken names on purpose)."""
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    stale = []
    for page in pages:
        if page.name in ("benchmarks.md", "testing.md"):
            continue
        text = page.read_text(encoding="utf-8")
        for name in sorted(set(re.findall(r"`(analysis(?:\.\w+)+)`", text))):
            if not _resolves(name):
                stale.append(f"{page.name}: {name}")
        for rel in sorted(set(re.findall(r"\b((?:src|tests)/[\w/]+\.py)\b", text))):
            if not (ROOT / rel).exists():
                stale.append(f"{page.name}: {rel}")
    assert not stale, f"documentation names code that does not exist: {stale}"
