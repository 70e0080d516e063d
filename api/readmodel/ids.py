"""One rule for ids and IRIs: what a path segment may be, how it becomes an IRI, and the check every
IRI passes before it is written into a query.

An id is the last path segment of a minted IRI (``a5607415adf71490`` of
``https://w3id.org/budgetkg/id/project/a5607415adf71490``).
"""
from __future__ import annotations

import re

ID = "https://w3id.org/budgetkg/id/"

#: an id in a URL path (``/project/{id}``, ``/api/projects/{id}``)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
ID_RE = re.compile(ID_PATTERN)
#: a classification code (科目编码): digits only
NOTATION_PATTERN = r"^\d{1,12}$"
NOTATION_RE = re.compile(NOTATION_PATTERN)
#: an absolute IRI with nothing that could end the ``<…>`` of a query
_SAFE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|^`\\]*$")

#: the kinds of minted IRIs that have a page, and the page's path
PAGES = {"project": "/project/", "unit": "/unit/", "department-target": "/target/", "doc": "/document/",
         "indicator": "/indicator/", "task": "/task/"}


class InvalidIRI(ValueError):
    """A string that is not an absolute IRI, or that could break out of ``<…>`` in a query."""


def is_id(value: str | None) -> bool:
    return bool(value) and ID_RE.match(value) is not None


def minted(kind: str, id: str) -> str:
    """The IRI of ``id`` of a kind (``project``, ``unit`` …); the id must pass :data:`ID_RE`."""
    if not is_id(id):
        raise InvalidIRI(f"{id!r} is not an id")
    return f"{ID}{kind}/{id}"


def is_safe_iri(iri: str | None) -> bool:
    return bool(iri) and _SAFE_IRI.match(iri) is not None


def iri_term(iri: str) -> str:
    """``<iri>`` for a query, refusing anything that could break out of the IRI."""
    if not is_safe_iri(iri):
        raise InvalidIRI(f"{iri!r} is not an absolute IRI")
    return f"<{iri}>"


def local_id(iri: str | None) -> str | None:
    """The id of an IRI (its last path segment); None for None."""
    return iri.rstrip("/").rsplit("/", 1)[-1] if iri else None


def page_url(iri: str | None) -> str | None:
    """The web page of a graph IRI, when there is one."""
    if not iri or not iri.startswith(ID):
        return None
    parts = iri[len(ID):].split("/")
    kind = parts[0]
    if kind == "code" and len(parts) == 3:
        return f"/code/{parts[2]}?scheme={parts[1]}"
    if len(parts) != 2:
        return None
    return PAGES[kind] + parts[1] if kind in PAGES else None
