"""The research notebooks run top to bottom on the bundled data and are committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from analysis.config import NOTEBOOKS_DIR

NOTEBOOKS = [
    "01_data_verkenning.ipynb",
    "02_veerkracht_analyse.ipynb",
    "03_doelen_prognoses.ipynb",
    "factsheet.ipynb",
]


# each notebook must visibly say what it shows (synthetic input is announced)
EXPECTED = {
    "01_data_verkenning.ipynb": "Synthetische indicatoren in deze build: ",
    "02_veerkracht_analyse.ipynb": "de invoer is (deels) SYNTHETISCH",
    "03_doelen_prognoses.ipynb": "waarvan 9 meetbaar",
}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs_and_paired(name):
    nb = json.loads((NOTEBOOKS_DIR / name).read_text())
    assert all(
        not c.get("outputs") and not c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"
    )
    assert (NOTEBOOKS_DIR / name.replace(".ipynb", ".py")).exists()


# smaller runs through the same cells: notebook 02's sensitivity analysis with 50 draws, not 500
PARAMETERS = {"02_veerkracht_analyse.ipynb": {"TREKKINGEN": 50}}

# Notebook 03 without outputs computes the goals in a temporary folder (`run(tijdelijk)`). In the test
# that call goes through this spy: it records where the notebook asked the real goals stage to write.
GOALS_RUN_SPY = """
import analysis.goals.run as _goals_run
_goals_run_calls = []
_goals_run_real = _goals_run.run

def _goals_run_recorded(paths, *args, **kwargs):
    _goals_run_calls.append(str(paths.outputs))
    return _goals_run_real(paths, *args, **kwargs)

_goals_run.run = _goals_run_recorded
"""


@pytest.mark.parametrize("name", NOTEBOOKS[:3])
def test_notebook_runs_top_to_bottom(name, built, tmp_path, monkeypatch):
    paths, _ = built
    monkeypatch.setenv("VEERKRACHT_RAW", str(paths.raw))
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(paths.processed))
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(tmp_path / "outputs"))
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    if name in PARAMETERS:  # papermill's injected cell after the cell tagged "parameters"
        from papermill.iorw import load_notebook_node
        from papermill.parameterize import parameterize_notebook

        nb = parameterize_notebook(load_notebook_node(str(NOTEBOOKS_DIR / name)), PARAMETERS[name])
        assert [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    goals_spy = name.startswith("03")
    if goals_spy:
        nb.cells.insert(0, nbformat.v4.new_code_cell(GOALS_RUN_SPY))
        nb.cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps(_goals_run_calls))"))
    NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(NOTEBOOKS_DIR)}}
    ).execute()
    text = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    assert EXPECTED[name] in text
    if goals_spy:
        # without outputs the notebook asks for one goals run, in a temporary folder (not outputs/)
        calls = json.loads(nb.cells[-1].outputs[0]["text"])
        assert len(calls) == 1 and not Path(calls[0]).is_relative_to(tmp_path / "outputs"), calls
        assert f"uitvoer gelezen uit: {Path(calls[0]) / 'goals'}" in text
    if name.startswith("03"):
        # issue 24 item 3: notebook 03 writes nothing into outputs/ unless asked (SCHRIJF_UITVOER)
        out = tmp_path / "outputs"
        assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))[:5]
    if name.startswith("01"):
        # the marker must carry this build's list, not just its label
        listed = json.loads((paths.processed / "build_manifest.json").read_text())["synthetic_indicators"]
        assert listed and EXPECTED[name] + ", ".join(listed) in text


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_paired_py_percent_file_is_in_sync(name):
    import jupytext

    ipynb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    py = jupytext.read(NOTEBOOKS_DIR / name.replace(".ipynb", ".py"))
    assert [c.source for c in ipynb.cells] == [c.source for c in py.cells]
