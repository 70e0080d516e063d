"""SPARQL over the store, shared by the CLI and the HTTP endpoint.

Small steps kept apart: :func:`api.sparql_check.prepare` (is the query allowed, and what is it —
read by a real parser), :func:`negotiate` (which result format a client asked for), :func:`execute`
(run the query over its dataset), :func:`serialize` / :func:`serialize_capped` (results in a chosen
format, at most a number of rows, saying so in the body where the format has room for it).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice

import pyoxigraph as ox

from api.sparql_check import (SIMILARITY_IRI, QueryInfo, QueryInvalid, QueryRefused, dataset_options, on_big_stack,
                              prepare)
from ontology import PREFIXES

__all__ = ["SIMILARITY_IRI", "QueryInfo", "QueryInvalid", "QueryRefused", "NotAcceptable", "Result", "execute",
           "serialize", "serialize_capped", "negotiate", "on_big_stack", "prepare"]


class NotAcceptable(Exception):
    """None of the formats the client accepts can carry this kind of result."""


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


@dataclass
class Result:
    form: str  # SELECT | ASK | CONSTRUCT | DESCRIBE
    value: object  # pyoxigraph QuerySolutions / QueryBoolean / QueryTriples
    info: QueryInfo | None = None


def execute(store, query: str, custom_functions: dict | None = None, base: str | None = None,
            default_graphs: list[str] | None = None, named_graphs: list[str] | None = None,
            info: QueryInfo | None = None) -> Result:
    """Run a read-only query (checked by :func:`prepare` unless ``info`` says it was). ``base``
    resolves relative IRIs; ``default_graphs`` / ``named_graphs`` are the protocol's dataset (see
    :func:`api.sparql_check.dataset_options`). Call it, and iterate its result, on a big stack."""
    info = info or prepare(query, base)
    options = dataset_options(info, default_graphs, named_graphs)
    try:
        value = store.query(query, base_iri=base, prefixes=PREFIXES, custom_functions=custom_functions or None, **options)
    except SyntaxError as exc:
        raise QueryInvalid(str(exc)) from exc
    return Result(info.form, value, info)


def drain(result: Result) -> None:
    """Evaluate a query result completely, discarding it (the first pass of a query whose
    ``bkg:similarity`` texts are recorded, then embedded, before the pass that answers)."""
    if result.form == "ASK":
        bool(result.value)
    else:
        for _ in result.value:
            pass


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


# -- content negotiation ----------------------------------------------------------------------

#: media type → format key, for SELECT/ASK and for CONSTRUCT/DESCRIBE
RESULT_MEDIA = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA = {
    "text/turtle": "ttl", "application/turtle": "ttl", "application/x-turtle": "ttl", "text/n3": "ttl",
    "text/rdf+n3": "ttl", "application/n-triples": "nt", "text/plain": "nt",
    "application/ld+json": "jsonld", "application/x-json+ld": "jsonld", "application/json": "jsonld",
    "application/rdf+xml": "xml", "application/xml": "xml", "text/xml": "xml",
}
#: values of the non-standard ``format=`` / ``output=`` parameters (SPARQLWrapper, Virtuoso style)
RESULT_ALIASES = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}
GRAPH_ALIASES = {"turtle": "ttl", "ttl": "ttl", "n3": "ttl", "nt": "nt", "ntriples": "nt", "n-triples": "nt",
                 "json-ld": "jsonld", "jsonld": "jsonld", "json": "jsonld", "xml": "xml", "rdf": "xml",
                 "rdf+xml": "xml", "rdfxml": "xml"}


def parse_accept(header: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (q=0 dropped; equal q keep their order)."""
    ranges = []
    for n, part in enumerate((header or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranges.append((-q, n, media))
    return [m for _, _, m in sorted(ranges)]


def is_graph_form(form: str) -> bool:
    return form in ("CONSTRUCT", "DESCRIBE")


def negotiate(form: str, accept: str | None, fmt: str | None = None) -> str:
    """The format key (see RESULT_FORMATS / GRAPH_FORMATS) for a query form. An explicit ``fmt``
    (a key, an alias or a media type) wins over the Accept header; no Accept or ``*/*`` gives
    SPARQL JSON for SELECT/ASK and Turtle for CONSTRUCT/DESCRIBE."""
    media_map, aliases, default = (GRAPH_MEDIA, GRAPH_ALIASES, "ttl") if is_graph_form(form) else \
        (RESULT_MEDIA, RESULT_ALIASES, "json")
    if fmt:
        key = fmt.strip().lower()
        if key in aliases:
            return aliases[key]
        if key.split(";")[0] in media_map:
            return media_map[key.split(";")[0]]
        raise NotAcceptable(f"format {fmt!r} is not available for {form} (use {', '.join(sorted(set(aliases)))})")
    ranges = parse_accept(accept)
    if not ranges:
        return default
    for media in ranges:
        if media in media_map:
            return media_map[media]
        if media == "*/*":
            return default
        if media.endswith("/*"):
            top = media[:-1]
            if default_media(form, default).startswith(top):
                return default
            for m, key in media_map.items():
                if m.startswith(top):
                    return key
    offered = ", ".join(sorted(media_map))
    raise NotAcceptable(f"none of the accepted media types ({accept}) can carry a {form} result; offered: {offered}")


def default_media(form: str, key: str) -> str:
    return (GRAPH_FORMATS if is_graph_form(form) else RESULT_FORMATS)[key][1]


# -- capped serialisation ---------------------------------------------------------------------

@dataclass
class Serialized:
    body: bytes
    media: str
    rows: int | None  # solutions or triples written; None for ASK
    truncated: bool  # the result had more than the cap


def term_json(term) -> dict:
    """A term in the SPARQL 1.1 Query Results JSON format."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": term_json(term.subject), "predicate": term_json(term.predicate),
                                            "object": term_json(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def _take(iterator, cap: int) -> tuple[list, bool]:
    rows = list(islice(iterator, cap + 1))
    return rows[:cap], len(rows) > cap


def _xml_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def truncation_note(cap: int, next_page: str | None) -> str:
    """What a cut result says about itself in formats that have comments."""
    how = f"next page: {next_page}" if next_page else "page with ORDER BY … LIMIT … OFFSET …"
    return f"budgetkg: the result was cut at the endpoint's cap of {cap} rows; {how}"


def serialize_capped(result: Result, fmt: str, cap: int, next_page: str | None = None) -> Serialized:
    """Like :func:`serialize`, writing at most ``cap`` solutions or triples (and saying whether more
    there were). A cut result says so where the format has room: SPARQL JSON and XML results carry
    the next page's URL as a ``link`` in their head (the spec's place for links to more about the
    results); Turtle and N-Triples start with a comment. Other formats rely on the headers."""
    if result.form == "ASK":
        body, media = serialize(result, fmt)
        return Serialized(body, media, None, False)
    if result.form == "SELECT":
        names = [v.value for v in result.value.variables]
        rows, truncated = _take(result.value, cap)
        doc: dict = {"head": {"vars": names},
                     "results": {"bindings": [{n: term_json(row[n]) for n in names if row[n] is not None} for row in rows]}}
        link = next_page if truncated else None
        if fmt == "json":
            if link:
                doc["head"]["link"] = [link]
            return Serialized(json.dumps(doc, ensure_ascii=False).encode("utf-8"), RESULT_FORMATS["json"][1],
                              len(rows), truncated)
        kept = ox.parse_query_results(json.dumps(doc).encode("utf-8"), format=ox.QueryResultsFormat.JSON)
        body, media = serialize(Result("SELECT", kept), fmt)
        if fmt == "xml" and link:
            body = body.replace(b"</head>", f'<link href="{_xml_attr(link)}"/></head>'.encode("utf-8"), 1)
        return Serialized(body, media, len(rows), truncated)
    if fmt not in GRAPH_FORMATS:
        raise QueryInvalid(f"format {fmt!r} is not available for {result.form} (use ttl, nt, jsonld or xml)")
    triples, truncated = _take(result.value, cap)
    f, media = GRAPH_FORMATS[fmt]
    prefixes = PREFIXES if fmt in ("ttl", "xml") else None
    body = ox.serialize(triples, format=f, prefixes=prefixes)
    if truncated and fmt in ("ttl", "nt"):
        body = f"# {truncation_note(cap, next_page)}\n".encode("utf-8") + body
    return Serialized(body, media, len(triples), truncated)


def first_variable_iris(result: Result) -> list[str]:
    """IRIs bound by the first variable of a SELECT (a set of items to search among)."""
    if result.form != "SELECT":
        raise QueryInvalid("expected a SELECT query whose first variable binds the IRIs to search among")
    variables = result.value.variables
    if not variables:
        raise QueryInvalid("the SELECT query has no variable")
    first = variables[0]
    return list(dict.fromkeys(row[first].value for row in result.value if isinstance(row[first], ox.NamedNode)))
