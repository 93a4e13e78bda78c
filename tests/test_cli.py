"""The command line as a user meets it: `python -m analysis`, `veerkracht --version`, `--help`."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

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
    assert proc.stdout.startswith("usage: veerkracht")
    for command in COMMANDS:
        assert command in proc.stdout


def test_version_is_the_installed_distribution_version(capsys):
    proc = _run("analysis", "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"veerkracht {version('veerkracht')}"
    assert version("veerkracht") == analysis.__version__  # one source: pyproject reads analysis.__version__
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"veerkracht {analysis.__version__}"
