"""Child processes of a run die with it: no process of a run outlives it, even after ``kill -9``.

:func:`die_with_parent` is the initializer of every process pool a command starts (the goals side
process of ``veerkracht report``; the fact-sheet workers and their kernels use the same Linux
parent-death signal in analysis.factsheets.engine)."""

from __future__ import annotations

import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1

try:  # resolved at import: nothing to load between fork and the first task
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: SIGKILL this process when its parent dies; exit at once when the parent
    already died before the signal was armed (then this process was re-parented)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)
