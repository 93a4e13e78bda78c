"""Are the goals stage's outputs byte-identical between a baseline commit and this work tree?

For each municipality: a clean copy of the baseline (``git archive <rev>``) and of the work tree
(tracked and modified files, ``git ls-files``) in a temporary folder; the build runs once in the
baseline copy and its tables are copied to the other, then ``veerkracht goals`` runs in each copy
(``VEERKRACHT_ROOT``, the copy's own ``src`` first on ``PYTHONPATH``). Every file under
``outputs/<GM>/`` is then compared byte for byte, with two exceptions: of the stage record
``.stage_goals.json``, which names the code's hash (different by design), only the ``outputs`` part
(the hash of every output) is compared; ``voortgangsrapportage.json`` carries the time of the run
and of the one before (``datum``, ``vorige_datum``) and is compared without those two fields (the
page shows only the dates).

Also prints the CPU seconds (user + sys) of the goals process: the least of ``--repeat`` runs after
a first one (which compiles the copy's bytecode). Both sides run equally often, so the compared
outputs are those of the same rerun (the progress report compares with the previous run).

Run: ``.venv/bin/python scripts/goals_identical.py [--rev main] [--revert A..B] [GM0642 GM0505 ...]``;
exit 1 on a difference. ``--revert`` (repeatable) undoes a span of commits to ``src/`` in the
baseline: the baseline of a branch that main already merged is main without the branch's own changes.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
RECORD = ".stage_goals.json"
PROGRESS = "voortgangsrapportage.json"  # carries the wall-clock time of the run ("datum")


def _copy_rev(rev: str, dest: Path) -> None:
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def _revert(dest: Path, span: str) -> None:
    """Undo the changes of ``span`` (``A..B``) to ``src/`` in the copy ``dest``."""
    diff = subprocess.run(
        ["git", "-C", str(REPO), "diff", "--binary", span, "--", "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["git", "apply", "-R", "-"], cwd=dest, input=diff, check=True)


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for f in filter(None, files):
        src = REPO / f.decode()
        if src.is_file():
            (dest / f.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f.decode())


def _run(root: Path, *args: str) -> float:
    env = {**os.environ, "VEERKRACHT_ROOT": str(root), "PYTHONPATH": str(root / "src"), "MPLBACKEND": "Agg"}
    for k in ("VEERKRACHT_RAW", "VEERKRACHT_PROCESSED", "VEERKRACHT_OUTPUTS"):
        env.pop(k, None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([str(PYTHON), "-m", "analysis", *args], cwd=root, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _compare(a: Path, b: Path) -> tuple[list[str], int]:
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    bad = [f"alleen in baseline: {p}" for p in sorted(fa - fb)] + [
        f"alleen nieuw: {p}" for p in sorted(fb - fa)
    ]
    for p in sorted(fa & fb):
        if p.name == RECORD:
            ra, rb = (json.loads((x / p).read_text())["outputs"] for x in (a, b))
            for r in (ra, rb):  # that file's hash differs by its time stamp; compared below
                r.pop(f"../{PROGRESS}", None)
            if ra != rb:
                bad.append(f"verschilt (outputs in record): {p}")
        elif p.name == PROGRESS:
            ja, jb = (json.loads((x / p).read_text()) for x in (a, b))
            times = {"datum": None, "vorige_datum": None}
            if {**ja, **times} != {**jb, **times}:
                bad.append(f"verschilt (buiten 'datum', 'vorige_datum'): {p}")
        elif not filecmp.cmp(a / p, b / p, shallow=False):
            bad.append(f"verschilt: {p}")
    return bad, len(fa & fb)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", default="main", help="baseline commit (default: main)")
    ap.add_argument(
        "--revert",
        action="append",
        default=[],
        metavar="A..B",
        help="baseline = --rev with the changes A..B to src/ undone (e.g. this branch's own commits, "
        "when --rev already holds some of them)",
    )
    ap.add_argument("--repeat", type=int, default=2, help="timed runs after the first (default 2)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies")
    ap.add_argument("gemeenten", nargs="*", default=["GM0642"])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="goals_identical_"))
    base, new = tmp / "base", tmp / "new"
    _copy_rev(args.rev, base)
    for span in reversed(args.revert):  # later changes first
        _revert(base, span)
    new.mkdir()
    _copy_tree(new)
    failed = False
    for gm in args.gemeenten:
        _run(base, "--gemeente", gm, "build")
        shutil.copytree(base / "data" / "processed" / gm, new / "data" / "processed" / gm)
        # the first run also compiles the copy's bytecode; then runs in turn, the least CPU counts
        cpu_base, cpu_new = [], []
        for _ in range(1 + args.repeat):
            cpu_base.append(_run(base, "--gemeente", gm, "goals"))
            cpu_new.append(_run(new, "--gemeente", gm, "goals"))
        cpu_base, cpu_new = min(cpu_base[1:] or cpu_base), min(cpu_new[1:] or cpu_new)
        bad, n = _compare(base / "outputs" / gm, new / "outputs" / gm)
        print(
            f"{gm}: {n} bestanden vergeleken; goals CPU {cpu_base:.2f} s ({args.rev}) -> {cpu_new:.2f} s (nu)"
        )
        for line in bad:
            print("  " + line)
        failed |= bool(bad) or n == 0
    if args.keep:
        print(f"kopieen in {tmp}")
    else:
        shutil.rmtree(tmp)
    print("IDENTIEK" if not failed else "VERSCHIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
