"""SPARQL over the store, shared by the CLI and the HTTP endpoint.

Three small steps kept apart: :func:`check_read_only` (refuse updates, LOAD and SERVICE before
anything runs), :func:`execute` (run the query), :func:`serialize` (results in a chosen format).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from ontology import PREFIXES


class QueryRefused(Exception):
    """The query is not allowed here (an update, LOAD, or SERVICE)."""


class QueryInvalid(Exception):
    """The query does not parse; the message is the parser's."""


_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b", re.I)
_SERVICE = re.compile(r"\bSERVICE\b", re.I)
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.I)

RESULT_FORMATS = {
    "json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
    "csv": (ox.QueryResultsFormat.CSV, "text/csv"),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values"),
}
GRAPH_FORMATS = {
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle"),
    "nt": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json"),
    "xml": (ox.RdfFormat.RDF_XML, "application/rdf+xml"),
}


_NAMES = re.compile(r"[?$]\w+|[\w\-.]*:[\w\-.]*")


def _code_only(query: str) -> str:
    """The query with strings, IRIs, comments, variables and prefixed names blanked, so that
    keywords inside them (?delete, bkg:copy, "DROP") do not count."""
    return _NAMES.sub(" ", _STRINGS.sub(" ", query))


def check_read_only(query: str) -> str:
    """The query form (SELECT/ASK/CONSTRUCT/DESCRIBE); raises QueryRefused for anything that
    writes or reaches another server."""
    code = _code_only(query)
    m = _UPDATE.search(code)
    if m:
        raise QueryRefused(f"SPARQL {m.group(1).upper()} is not allowed: this endpoint is read-only")
    if _SERVICE.search(code):
        raise QueryRefused("SERVICE is not allowed: this endpoint never queries other servers")
    form = _FORM.search(code)
    if not form:
        raise QueryInvalid("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return form.group(1).upper()


@dataclass
class Result:
    form: str  # SELECT | ASK | CONSTRUCT | DESCRIBE
    value: object  # pyoxigraph QuerySolutions / QueryBoolean / QueryTriples


def execute(store, query: str, custom_functions: dict | None = None) -> Result:
    form = check_read_only(query)
    try:
        value = store.query(query, prefixes=PREFIXES, custom_functions=custom_functions or None)
    except SyntaxError as exc:
        raise QueryInvalid(str(exc)) from exc
    return Result(form, value)


def serialize(result: Result, fmt: str) -> tuple[bytes, str]:
    """Bytes and media type. SELECT/ASK: json, xml, csv, tsv. CONSTRUCT/DESCRIBE: ttl, nt, jsonld, xml."""
    if result.form in ("SELECT", "ASK"):
        if fmt not in RESULT_FORMATS:
            raise QueryInvalid(f"format {fmt!r} is not available for {result.form} (use json, xml, csv or tsv)")
        f, media = RESULT_FORMATS[fmt]
        return result.value.serialize(format=f), media
    if fmt not in GRAPH_FORMATS:
        raise QueryInvalid(f"format {fmt!r} is not available for {result.form} (use ttl, nt, jsonld or xml)")
    f, media = GRAPH_FORMATS[fmt]
    return result.value.serialize(format=f), media
