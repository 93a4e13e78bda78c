"""The command line as a user meets it: `python -m analysis`, `veerkracht --version`, `--help`."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import analysis
from analysis import cli

COMMANDS = ("build", "fetch", "resilience", "goals", "factsheets", "report", "kaart", "bench")


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *argv], capture_output=True, text=True, timeout=120, check=False
    )


def test_python_dash_m_analysis_is_the_veerkracht_command():
    proc = _run("analysis", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("gebruik: veerkracht")
    for command in COMMANDS:
        assert command in proc.stdout


def test_version_is_the_installed_distribution_version(capsys):
    proc = _run("analysis", "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"veerkracht {version('veerkracht')}"
    assert version("veerkracht") == analysis.__version__  # one source: pyproject reads analysis.__version__
    assert cli.main(["--version"]) == 0  # main() turns argparse's exit into its return code
    assert capsys.readouterr().out.strip() == f"veerkracht {analysis.__version__}"


def _leaves(d: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        out += _leaves(v, key + ".") if isinstance(v, dict) else [key]
    return out


def test_readme_settings_table_names_every_settings_key():
    """The README's configuration table lists every key of config/settings.yaml and every key the
    settings model fills in with a default when it is absent (factsheets.timeout_s)."""
    from analysis.config import PROJ_ROOT, load_yaml

    readme = (PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Instellingen") :].split("\n## ")[0]
    keys = _leaves(load_yaml("settings.yaml")) + ["factsheets.timeout_s", "partnerdata.min_count"]
    missing = [k for k in keys if f"`{k}`" not in table]
    assert not missing, f"README settings table misses {missing}"


def test_a_stage_before_the_build_names_the_missing_table_and_the_command(tmp_paths, capsys):
    """resilience and goals on an empty processed folder: one `fout:` line naming the table and
    `veerkracht build`, exit 2, nothing written (processed.tables.require)."""

    for stage in ("resilience", "goals"):
        capsys.readouterr()
        assert cli.main([stage]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("fout:"), err
        assert "indicators.parquet: ontbreekt; draai eerst `veerkracht build`" in err[0], err
    assert not tmp_paths.outputs.exists() or not any(tmp_paths.outputs.rglob("*"))
