"""Client side of a Dask sheet batch: the pages and manifests are written while results arrive.

The client's loop in :mod:`analysis.factsheets.dask_runner` only takes each result off its worker
and releases it; :class:`ResultWriter` writes the page (atomically), the manifest entry, and each
finished set's manifest and overview page in a thread of its own.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from analysis.factsheets import manifest
from analysis.io import write_text

__all__ = ["ResultWriter"]


def _record(p, a, res: dict) -> None:
    """Write a returned page (atomically, in the client) and record the sheet's manifest entry."""
    html = res.pop("html", None)
    if res["status"] == "ok" and html is not None:
        write_text(p.out / f"{a.slug}.html", html)
    p.entries[a.region_code] = manifest.manifest_entry(a, res, p.fingerprint)


class ResultWriter:
    """Writes the returned pages and each finished set's manifest and overview in a thread of its
    own, so the loop that takes the results off the workers never waits on the disk or on an
    overview page: a result left on a worker while the client writes is lost (and rendered again)
    when that worker dies."""

    def __init__(self, n_workers: int, t0: float, template: Path, bar):
        self.args, self.bar, self.error = (n_workers, t0, template), bar, None
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="veerkracht-writer", daemon=True)
        self.thread.start()

    def put(self, p, chunk, results) -> None:
        self.queue.put((p, chunk, results))

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the error is raised in the client's thread
            p, chunk, results = item
            try:
                for a in chunk:
                    _record(p, a, results[a.region_code])
                manifest.complete(p, *self.args)
                self.bar.update(len(chunk))
            except Exception as exc:  # noqa: BLE001 - re-raised by close()
                self.error = exc

    def close(self) -> None:
        """Write what is queued, stop; an error of the writer is raised here."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
