"""A papermill engine that reuses one kernel per worker process.

Starting a kernel costs ~2 s; reusing it brings a sheet down to the cost of its own work. The
template's first cell clears the namespace and :func:`analysis.factsheets.sheet.reset_plotting`
resets matplotlib, so a sheet cannot see state left by the sheet before it (tested).

Reliability (tested in ``tests/test_factsheets.py``):

* nbclient runs an asyncio loop; it gets an **asynchronous** kernel client, so its per-cell timeout
  and its dead-kernel poll actually run (a blocking client stalls the loop on ``get_msg``);
* after a timeout or a dead kernel, :func:`discard_worker_kernel` drops the kernel; the next sheet
  starts and warms a fresh one, so the batch goes on;
* the kernel is started with ``PR_SET_PDEATHSIG``: it dies with its worker process, even on
  ``kill -9`` (ipykernel's own parent poller is the fallback on non-Linux systems).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import tempfile

from analysis.factsheets.lean_imports import jsonschema_without_iri_checker

jsonschema_without_iri_checker()  # before papermill imports nbformat, and nbformat jsonschema

from jupyter_client.asynchronous import AsyncKernelClient  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from jupyter_core.utils import run_sync  # noqa: E402
from papermill.clientwrap import PapermillNotebookClient  # noqa: E402
from papermill.engines import NBClientEngine, papermill_engines  # noqa: E402
from papermill.utils import remove_args  # noqa: E402

ENGINE_NAME = "veerkracht-reuse"
_KERNEL: dict[str, object] = {}
_PR_SET_PDEATHSIG = 1


try:  # resolved once at import: a preexec_fn (between fork and exec) must not load libraries
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere; there
    ipykernel's own parent poller still ends the kernel)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def _kernel_preexec() -> None:
    die_with_parent(signal.SIGKILL)


async def _run_warm(kc: AsyncKernelClient, warm: str, timeout: float) -> None:
    reply = await kc.execute_interactive(warm, timeout=timeout, output_hook=lambda msg: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"opwarmen van de kernel mislukt: {reply['content'].get('evalue')}")


async def _start_client(km: KernelManager, startup_timeout: float, warm: str | None) -> AsyncKernelClient:
    kc = AsyncKernelClient(parent=km, **km.get_connection_info(session=True))
    kc.start_channels()
    await kc.wait_for_ready(timeout=startup_timeout)
    kc.allow_stdin = False
    if warm:
        try:
            await _run_warm(kc, warm, startup_timeout)
        except BaseException:
            kc.stop_channels()
            raise
    return kc


def set_warm_code(warm: str | None) -> None:
    """Code run once after every (re)start of this worker's kernel (imports, tables, base map)."""
    _KERNEL["warm"] = warm


def set_root(root: str | None) -> None:
    """The project folder (``VEERKRACHT_ROOT``) the kernel reads its configuration and snapshot files
    from; None: this process's own. A kernel running with another root is replaced at its next use
    (its imported settings and caches belong to the files it was started on)."""
    _KERNEL["want_root"] = root


def worker_kernel(kernel_name: str, startup_timeout: float = 60, warm: str | None = None):
    """The kernel (manager, async client) of this process, started on first use, after a death or
    when :func:`set_root` asks for another project folder."""
    if warm is not None:
        set_warm_code(warm)
    km = _KERNEL.get("km")
    root = _KERNEL.get("want_root")
    if km is None or not km.is_alive() or _KERNEL.get("root") != root:
        discard_worker_kernel()
        # IPC sockets under a per-process prefix: no TCP ports, and no collision between workers
        sock_dir = tempfile.mkdtemp(prefix="veerkracht-kernel-")
        km = KernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(sock_dir, "k"))
        _KERNEL.update(km=km, sock_dir=sock_dir)
        # no SQLite input history in a batch kernel: it costs a write per cell
        env = {**os.environ, "VEERKRACHT_ROOT": root} if root else dict(os.environ)
        km.start_kernel(
            extra_arguments=["--HistoryManager.enabled=False"], preexec_fn=_kernel_preexec, env=env
        )
        _KERNEL["root"] = root
        try:
            kc = run_sync(_start_client)(km, startup_timeout, _KERNEL.get("warm"))
        except BaseException:
            discard_worker_kernel()
            raise
        _KERNEL["kc"] = kc
        _KERNEL["warmed_with"] = _KERNEL.get("warm")
    return _KERNEL["km"], _KERNEL["kc"]


def ensure_warm(kernel_name: str, warm: str, timeout: float = 60):
    """Make ``warm`` this worker's warm code and run it in the kernel unless it already ran there.

    A worker started ahead of its data (``veerkracht report`` starts the kernels while the build and
    the analyses run) imports the modules only; the tables are loaded here, before its first sheet.
    A kernel (re)started after this point runs the full warm code itself."""
    set_warm_code(warm)
    km, kc = worker_kernel(kernel_name, timeout)
    if _KERNEL.get("warmed_with") != warm:
        run_sync(_run_warm)(kc, warm, timeout)
        _KERNEL["warmed_with"] = warm
    return km, kc


def discard_worker_kernel() -> None:
    """Stop this worker's kernel now (after a timeout or death); the next sheet starts a new one."""
    kc, km = _KERNEL.pop("kc", None), _KERNEL.pop("km", None)
    _KERNEL.pop("warmed_with", None)
    if kc is not None:
        try:
            kc.stop_channels()
        except Exception:  # noqa: BLE001 - channels of a dead kernel may already be gone
            pass
    if km is not None:
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - a dead kernel cannot be shut down twice
            pass
    _KERNEL.pop("root", None)
    sock_dir = _KERNEL.pop("sock_dir", None)
    if sock_dir is not None:
        shutil.rmtree(sock_dir, ignore_errors=True)


shutdown_worker_kernel = discard_worker_kernel  # the worker's exit hook


class ReusedKernelEngine(NBClientEngine):
    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        **kwargs,
    ):
        km, kc = worker_kernel(kernel_name, start_timeout)
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        client.kc = kc  # reuse the (async) channels: no new client, no shutdown (we own the kernel)
        return client.execute()


def register() -> None:
    papermill_engines.register(ENGINE_NAME, ReusedKernelEngine)
