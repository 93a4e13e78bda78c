"""What the CBS and PDOK clients share on the wire: timeouts, a total time budget, and bounded retries
with exponential backoff (tenacity), with every failure said in plain Dutch.

:class:`TransportSettings` holds the five numbers both clients read from their `cbs:` / `pdok:`
section of config/settings.yaml; :func:`with_retries` runs one request under them. What counts as
retryable (:func:`is_transient`): connection errors, timeouts, a connection cut mid-answer, HTTP
408/425/429/5xx (raised as :class:`Transient` by the caller) - never a 404, a bad URL or bad input.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception

from analysis.errors import InputError, SourceUnavailable

TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
T = TypeVar("T")


class BudgetExhausted(SourceUnavailable):
    """The total time budget of a fetch ran out."""


class Transient(Exception):
    """A retryable failure that is not a requests exception (HTTP 5xx/429, unreadable JSON)."""


@dataclass(frozen=True)
class TransportSettings:
    """Timeouts, retries and budget of one client (each client keeps its own defaults)."""

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 30.0
    retries: int = 2  # retries after the first attempt: at most retries + 1 requests
    backoff_s: float = 0.5  # waits backoff_s, 2 * backoff_s, 4 * backoff_s, ... between attempts
    budget_s: float = 900.0

    def timeout(self, remaining: float = math.inf) -> tuple[float, float]:
        """(connect, read) timeout for one request, each capped by the remaining budget."""
        rem = max(remaining, 0.05)
        return (min(self.connect_timeout_s, rem), min(self.read_timeout_s, rem))


class Deadline:
    """Monotonic end time of a fetch; ``None`` budget never expires."""

    def __init__(self, budget_s: float | None, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.end = None if budget_s is None else clock() + float(budget_s)

    def remaining(self) -> float:
        return float("inf") if self.end is None else self.end - self._clock()

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise BudgetExhausted(f"tijdsbudget op ({what})")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, BudgetExhausted):
        return False
    if isinstance(exc, Transient):
        return True
    if isinstance(exc, requests.HTTPError):
        return False
    bad_request = (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)
    bad_request += (requests.exceptions.MissingSchema,)
    return isinstance(exc, requests.RequestException) and not isinstance(exc, bad_request)


def describe(exc: BaseException) -> str:
    """A transport failure in plain Dutch, without exception class names or library text."""
    rx = requests.exceptions
    if isinstance(exc, Transient):
        return str(exc)
    if isinstance(exc, rx.ConnectTimeout):
        return "geen verbinding binnen de tijdslimiet"
    if isinstance(exc, rx.ReadTimeout | rx.Timeout):
        return "geen antwoord binnen de tijdslimiet"
    if isinstance(exc, rx.ChunkedEncodingError | rx.ContentDecodingError):
        return "verbinding verbroken tijdens het antwoord"
    if isinstance(exc, rx.ConnectionError):
        return "geen verbinding (geweigerd of verbroken)"
    return "netwerkfout"


def with_retries(
    call: Callable[[], T],
    s: TransportSettings,
    deadline: Deadline,
    *,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "",
) -> T:
    """``call()``, retried on transient failures at most ``s.retries`` times with backoff
    ``s.backoff_s * 2**n``, never past the deadline. The last failure becomes one Dutch
    :class:`SourceUnavailable` (``<what><reason> (na N pogingen)``), or :class:`BudgetExhausted`
    when the budget ran out; InputError and other errors pass through unchanged."""

    def wait(rs: RetryCallState) -> float:
        return max(0.0, min(s.backoff_s * 2 ** (rs.attempt_number - 1), deadline.remaining()))

    def stop(rs: RetryCallState) -> bool:
        return rs.attempt_number > s.retries or deadline.remaining() <= 0

    try:
        for attempt in Retrying(
            stop=stop, wait=wait, retry=retry_if_exception(is_transient), sleep=sleep, reraise=True
        ):
            with attempt:
                return call()
    except (InputError, BudgetExhausted):
        raise
    except (requests.RequestException, Transient) as exc:
        if deadline.remaining() <= 0:
            raise BudgetExhausted(f"{what}tijdsbudget op ({describe(exc)})") from exc
        raise SourceUnavailable(f"{what}{describe(exc)} (na {s.retries + 1} pogingen)") from exc
    raise AssertionError("unreachable")  # pragma: no cover
