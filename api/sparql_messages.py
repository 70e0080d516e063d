"""The messages between the server and its SPARQL worker processes (typed, pickled over a pipe), and
the errors the pool raises.

Worker → parent: :class:`Ready` or :class:`StartFailed` once, then per job any number of
:class:`EmbedRequest` (answered with :class:`Vectors`) and one :class:`Done` or :class:`Failed`.
Parent → worker: a :class:`Job`, a :class:`Vectors`, or None (stop).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from api.similarity import TextKind

#: rows a job returns at most unless it says otherwise (the endpoint's result cap)
DEFAULT_CAP = 10_000


# -- messages -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One query for a worker. ``iris_only``: answer the IRIs bound by the first variable of a SELECT
    (the ``sparql`` filter of /api/search) instead of a serialised result."""

    query: str
    accept: str | None = None  # the Accept header; negotiated once the query form is known
    fmt: str | None = None  # an explicit format (format= / output=), wins over accept
    cap: int = DEFAULT_CAP
    iris_only: bool = False
    base: str | None = None  # resolves relative IRIs (the endpoint's URL)
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    endpoint: str | None = None  # for the next-page link of a cut result
    dataset_params: tuple[tuple[str, str], ...] = ()  # protocol parameters repeated in that link


@dataclass
class Outcome:
    body: bytes = b""
    media: str = ""
    rows: int | None = None
    truncated: bool = False
    iris: list[str] | None = None
    seconds: float = 0.0
    form: str = ""
    next_page: str | None = None


@dataclass(frozen=True)
class Ready:
    pid: int


@dataclass(frozen=True)
class StartFailed:
    reason: str


@dataclass(frozen=True)
class EmbedRequest:
    kind: TextKind
    texts: list[str]


@dataclass(frozen=True)
class Vectors:
    vectors: list[np.ndarray | None]


@dataclass(frozen=True)
class Done:
    outcome: Outcome


class Failure(Enum):
    INVALID = "invalid"  # 400: does not parse, too large or too deep
    REFUSED = "refused"  # 403: an update, LOAD, SERVICE
    NOT_ACCEPTABLE = "not acceptable"  # 406: no accepted format carries this form
    FAILED = "failed"  # the store could not evaluate it


@dataclass(frozen=True)
class Failed:
    failure: Failure
    message: str


# -- errors the parent raises -------------------------------------------------------------------

class QueryTimeout(Exception):
    """The query did not finish within the timeout; its worker was killed."""


class MemoryExceeded(Exception):
    """The query's worker grew past the memory limit; it was killed."""


class PoolBusy(Exception):
    """No worker became free within the timeout."""


class WorkerDied(Exception):
    """The worker process ended while running the query."""


class QueryFailed(Exception):
    """The store could not evaluate the query (an error other than a syntax error)."""
