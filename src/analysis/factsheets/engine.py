"""A papermill engine that reuses one kernel per worker process.

Starting a kernel costs ~2 s; reusing it brings a sheet down to the cost of its own work. The
template's first cell runs ``%reset -f`` and :func:`analysis.factsheets.sheet.reset_plotting`
resets matplotlib, so a sheet cannot see state left by the sheet before it (tested).
"""

from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_client.manager import KernelManager
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import remove_args

ENGINE_NAME = "veerkracht-reuse"
_KERNEL: dict[str, object] = {}


def worker_kernel(kernel_name: str, startup_timeout: float = 60, warm: str | None = None):
    """The kernel (manager, client) of this process, started on first use or after a death.

    ``warm`` is code run once after start (imports, caches) so the first sheet is not slower.
    """
    km = _KERNEL.get("km")
    if km is None or not km.is_alive():
        shutdown_worker_kernel()
        # IPC sockets under a per-process prefix: no TCP ports, and no collision between workers
        sock_dir = tempfile.mkdtemp(prefix="veerkracht-kernel-")
        km = KernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(sock_dir, "k"))
        # no SQLite input history in a batch kernel: it costs a write per cell
        km.start_kernel(extra_arguments=["--HistoryManager.enabled=False"])
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=startup_timeout)
        kc.allow_stdin = False
        _KERNEL.update(km=km, kc=kc, sock_dir=sock_dir)
        if warm:
            reply = kc.execute_interactive(warm, timeout=startup_timeout, output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                shutdown_worker_kernel()
                raise RuntimeError(f"kernel warm-up failed: {reply['content'].get('evalue')}")
    return _KERNEL["km"], _KERNEL["kc"]


def shutdown_worker_kernel() -> None:
    kc, km = _KERNEL.pop("kc", None), _KERNEL.pop("km", None)
    if kc is not None:
        kc.stop_channels()
    if km is not None:
        km.shutdown_kernel(now=True)
    sock_dir = _KERNEL.pop("sock_dir", None)
    if sock_dir is not None:
        shutil.rmtree(sock_dir, ignore_errors=True)


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
        client.kc = kc  # reuse the channels: no new client, no shutdown (we own the kernel)
        return client.execute()


def register() -> None:
    papermill_engines.register(ENGINE_NAME, ReusedKernelEngine)
