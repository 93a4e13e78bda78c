"""What every fact-sheet kernel and every `veerkracht` process pays before it works: the chart theme
without seaborn (analysis.theme) and a sheet path that never imports seaborn or scipy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import matplotlib as mpl

from analysis.config import Paths
from analysis.factsheets.execution import IMPORT_WARM, paths_to_params

CODES = "bgrmyck"
# packages a fact-sheet kernel does not need (~1.2 CPU-s of imports together at df1cdd7)
HEAVY = {"seaborn", "scipy", "statsmodels", "sklearn", "pandera", "requests", "tenacity"}


def _theme_state() -> tuple[dict, dict]:
    rc = {k: v for k, v in mpl.rcParams.items()}
    codes = {c: mpl.colors.to_rgb(c) for c in CODES}
    return rc, codes


def test_theme_is_seaborns_whitegrid_notebook_theme():
    """analysis.theme.apply_theme sets what seaborn.set_theme(style="whitegrid", context="notebook")
    sets (all rcParams and the colour codes b, g, r, ...), except seaborn's own default colormap.
    Fails when a value in analysis.theme is changed or seaborn's theme changes (a seaborn upgrade)."""
    import seaborn as sns

    from analysis.theme import apply_theme

    saved_codes = {c: mpl.colors.colorConverter.colors[c] for c in CODES}
    try:
        with mpl.rc_context():
            mpl.rcdefaults()
            apply_theme()
            ours, our_codes = _theme_state()
        with mpl.rc_context():
            mpl.rcdefaults()
            sns.set_theme(style="whitegrid", context="notebook")
            theirs, their_codes = _theme_state()
    finally:
        for c, v in saved_codes.items():
            mpl.colors.colorConverter.colors[c] = v
    assert theirs.pop("image.cmap") == "rocket" and ours.pop("image.cmap") == "viridis"  # documented
    assert ours == theirs
    assert our_codes == their_codes


def test_sheet_path_imports_neither_seaborn_nor_scipy(analysed, tmp_path):
    """A fresh process does the kernel's warm import (execution.IMPORT_WARM), warm_up and one whole
    sheet (every section, charts drawn): seaborn and scipy (~0.8 CPU-s of imports per kernel) stay
    out. Fails when a module on the sheet path imports them at module level again (e.g. seaborn in
    analysis.figures, goals.forecast via goals.figures/progress/sectie_doelen)."""
    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path)
    for sub in ("resilience", "goals"):  # the sheet's chart store goes to this copy, not to `analysed`
        shutil.copytree(analysed.outputs / sub, p.outputs / sub)
    paden = paths_to_params(p)
    code = (
        f"{IMPORT_WARM}\n"
        "import sys, json\n"
        "from analysis.factsheets.sheet import Sheet, warm_up\n"
        f"warm_up({paden!r})\n"
        f"html = Sheet.load('BU06420305', paden={paden!r}).render_all()\n"
        "print(json.dumps({'len': len(html), 'mods': sorted(m for m in sys.modules if '.' not in m)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["len"] > 10_000  # a whole sheet was made
    assert HEAVY & set(res["mods"]) == set()


def test_config_yaml_reads_as_the_pure_python_parser_does(tmp_path):
    """load_yaml parses with libyaml (analysis.config._parse_yaml): every config file gives exactly
    what yaml.safe_load gives (types included), and a malformed file the same `fout:` text as the
    pure-Python parser (line, column, problem). Fails when the fast path changes a value or when
    its own error text replaces the pure parser's (fallback removed)."""
    import pickle

    import pytest
    import yaml

    from analysis.config import CONFIG_DIR, _yaml_reason, load_yaml
    from analysis.errors import InputError

    assert getattr(yaml, "CSafeLoader", None) is not None  # the fast path is what runs here
    files = sorted(CONFIG_DIR.glob("*.yaml"))
    assert len(files) >= 6
    for f in files:
        assert pickle.dumps(load_yaml(f)) == pickle.dumps(yaml.safe_load(f.read_text(encoding="utf-8"))), f
    bad = tmp_path / "kapot.yaml"
    bad.write_text("a: [1, 2\nb: 3\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as pure:
        with open(bad, encoding="utf-8") as fh:
            yaml.safe_load(fh)
    with pytest.raises(InputError) as ours:
        load_yaml(bad)
    assert str(ours.value) == f"{bad}: geen geldige YAML ({_yaml_reason(pure.value)})"


def test_a_batch_worker_wraps_pages_without_pandas_or_matplotlib():
    """The process that runs the kernel and wraps each executed notebook into a page (a fork-pool or
    Dask worker: execution.export_html -> factsheets.page) imports neither pandas nor matplotlib for
    that (~0.7 CPU-s per worker when its parent had not loaded them). Fails when page.py imports
    fmt (pandas, matplotlib) again, e.g. for `esc`."""
    code = (
        "import sys, json\n"
        "from analysis.factsheets import execution, page\n"
        "html = page.page('Factsheet <test>', '<p>x</p>')\n"
        "print(json.dumps({'esc': '&lt;test&gt;' in html, 'mods': sorted(sys.modules)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["esc"]
    assert {"pandas", "matplotlib", "numpy"} & set(res["mods"]) == set()
