"""A Dask client for the sheet batch: on a given scheduler (address or scheduler file), or on a new
LocalCluster. Every way of connecting is bounded in time: whatever answers on the port (an HTTP
server, a closed port, a scheduler without workers) ends in one ``fout:`` line, never a hang."""

from __future__ import annotations

import asyncio
from pathlib import Path

from analysis.errors import InputError


def connect_timeout() -> float:
    """Dask's own connect timeout (``distributed.comm.timeouts.connect``, 30 s by default;
    ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s`` to change it), in seconds."""
    import dask
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="s"))


async def _identity(address: str, timeout: float) -> dict:
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def probe_scheduler(address: str, timeout: float | None = None) -> None:
    """Ask ``address`` who it is, within ``timeout`` for the whole exchange; anything but a Dask
    scheduler's answer is an InputError. (``distributed.Client`` bounds only the TCP connect: a
    server that accepts the connection and never answers in Dask's protocol made it wait for ever.)"""
    timeout = connect_timeout() if timeout is None else timeout
    what = f"--scheduler {address}"
    try:
        # one second more than the connect timeout: a closed port reports Dask's own connect error
        reply = asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout + 1))
    except TimeoutError as exc:
        raise InputError(
            f"{what}: geen antwoord van een Dask-scheduler binnen {timeout:g} s (is dit een Dask-poort?)"
        ) from exc
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"{what}: geen Dask-scheduler bereikbaar ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # noqa: BLE001 - e.g. a garbled reply: not a Dask scheduler
        raise InputError(f"{what}: geen Dask-scheduler ({type(exc).__name__}: {exc})") from exc
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        kind = reply.get("type") if isinstance(reply, dict) else type(reply).__name__
        raise InputError(f"{what}: dit is geen Dask-scheduler (antwoord: {kind})")


def scheduler_address(scheduler: str | None, scheduler_file: str | Path | None) -> str | None:
    """The address to connect to: ``--scheduler``, else the ``address`` in ``--scheduler-file`` (the
    JSON file ``dask scheduler --scheduler-file`` and dask-jobqueue/Slurm set-ups write)."""
    import json

    if scheduler and scheduler_file:
        raise InputError("--scheduler en --scheduler-file: geef er een van de twee")
    if not scheduler_file:
        return scheduler
    path = Path(scheduler_file)
    try:
        address = json.loads(path.read_text(encoding="utf-8"))["address"]
    except FileNotFoundError as exc:
        raise InputError(f"--scheduler-file {path}: bestand bestaat niet") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"--scheduler-file {path}: geen Dask-schedulerbestand (JSON met 'address'): {type(exc).__name__}"
        ) from exc
    if not isinstance(address, str) or not address:
        raise InputError(f"--scheduler-file {path}: 'address' is leeg of geen tekst")
    return address


def start_client(scheduler: str | None, n_workers: int, log=print, scheduler_file=None):
    """A client on ``scheduler`` (or the scheduler of ``scheduler_file``), or on a new LocalCluster
    of ``n_workers`` single-thread processes. Returns (client, cluster or None)."""
    from distributed import Client, LocalCluster

    address = scheduler_address(scheduler, scheduler_file)
    if address:
        timeout = connect_timeout()
        probe_scheduler(address, timeout)
        try:
            client = Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {address}: geen Dask-scheduler bereikbaar ({exc})") from exc
        try:  # a scheduler without workers would leave the sheets waiting for ever
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError as exc:
            client.close()
            raise InputError(f"--scheduler {address}: de scheduler heeft geen workers") from exc
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=0,  # kernels live outside the worker process; the OS is the limit
        )
        client = Client(cluster)
    log(f"dask: {len(client.scheduler_info()['workers'])} workers, dashboard {client.dashboard_link}")
    return client, cluster
