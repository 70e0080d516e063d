"""SPARQL over the store, shared by the CLI and the HTTP endpoint.

Small steps kept apart: :func:`check_read_only` (refuse updates, LOAD and SERVICE before
anything runs), :func:`negotiate` (which result format a client asked for), :func:`execute` (run
the query), :func:`serialize` / :func:`serialize_capped` (results in a chosen format, at most a
number of rows). :func:`similarity_literals` finds the query texts of ``bkg:similarity`` calls so
that they can be embedded before the query runs.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import islice

import pyoxigraph as ox

from ontology import PREFIXES

#: the similarity extension function: ``bkg:similarity(?text, "query text")`` → xsd:double cosine
SIMILARITY_IRI = "https://w3id.org/budgetkg/def#similarity"


class QueryRefused(Exception):
    """The query is not allowed here (an update, LOAD, or SERVICE)."""


class QueryInvalid(Exception):
    """The query does not parse; the message is the parser's."""


class NotAcceptable(Exception):
    """None of the formats the client accepts can carry this kind of result."""


#: SPARQL string literals as the grammar defines them (long and short, with escapes)
_STRING = "|".join([
    r'"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""',
    r"'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''",
    r'"(?:[^"\\\n\r]|\\.)*"',
    r"'(?:[^'\\\n\r]|\\.)*'",
])
#: every token a keyword could hide in, matched in one left-to-right pass as a SPARQL lexer does:
#: strings, IRIs, comments, variables, and prefixed names whose local part may hold escapes
#: (``bkg:a\'`` is a name, not the start of a string)
_TOKENS = re.compile("|".join([
    _STRING,
    r'<[^<>"{}|^`\\\x00-\x20]*>',
    r"#[^\n\r]*",
    r"[?$]\w+",
    r"[\w\-.]*:(?:[\w\-.:]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])*",
]))
_STRINGS = re.compile(_STRING)
_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b", re.I)
_SERVICE = re.compile(r"\bSERVICE\b", re.I)
#: a second, lexer-independent guard on the raw text: SERVICE [SILENT] followed by an IRI, a prefixed
#: name or a variable, with only whitespace or comments between — anywhere, even inside a string
#: (a string that reads like a SERVICE clause is refused too: a rare false alarm, never a miss)
_SERVICE_RAW = re.compile(r"(?<![\w:\-?$])SERVICE(?:\s|#[^\n\r]*)*(?:SILENT(?:\s|#[^\n\r]*)*)?(?:<|[?$]|[\w\-.]*:)", re.I)
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


def _code_only(query: str) -> str:
    """The query with strings, IRIs, comments, variables and prefixed names blanked, so that
    keywords inside them (?delete, bkg:copy, "DROP") do not count. One pass, so that a quote
    inside a name (``bkg:a\\'``) or an escaped quote inside a long string never desynchronises
    what counts as code from what the parser reads (two passes let ``SERVICE`` hide there)."""
    return _TOKENS.sub(" ", query)


def check_read_only(query: str) -> str:
    """The query form (SELECT/ASK/CONSTRUCT/DESCRIBE); raises QueryRefused for anything that
    writes or reaches another server."""
    code = _code_only(query)
    m = _UPDATE.search(code)
    if m:
        raise QueryRefused(f"SPARQL {m.group(1).upper()} is not allowed: this endpoint is read-only")
    if _SERVICE.search(code) or _SERVICE_RAW.search(query):
        raise QueryRefused("SERVICE is not allowed: this endpoint never queries other servers")
    form = _FORM.search(code)
    if not form:
        raise QueryInvalid("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return form.group(1).upper()


@dataclass
class Result:
    form: str  # SELECT | ASK | CONSTRUCT | DESCRIBE
    value: object  # pyoxigraph QuerySolutions / QueryBoolean / QueryTriples


def execute(store, query: str, custom_functions: dict | None = None, **options) -> Result:
    """Run a read-only query over the union of all graphs. ``options`` go to pyoxigraph
    (``default_graph``, ``named_graphs`` for the protocol's ``default-graph-uri`` / ``named-graph-uri``)."""
    form = check_read_only(query)
    if options.get("default_graph") is not None:
        options["use_default_graph_as_union"] = False
    options = {k: v for k, v in options.items() if v is not None}
    try:
        value = store.query(query, prefixes=PREFIXES, custom_functions=custom_functions or None, **options)
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


def serialize_capped(result: Result, fmt: str, cap: int) -> Serialized:
    """Like :func:`serialize`, writing at most ``cap`` solutions or triples (and saying whether more
    there were). The rows kept are written by pyoxigraph's own serialisers."""
    if result.form == "ASK":
        body, media = serialize(result, fmt)
        return Serialized(body, media, None, False)
    if result.form == "SELECT":
        names = [v.value for v in result.value.variables]
        rows, truncated = _take(result.value, cap)
        doc = {"head": {"vars": names},
               "results": {"bindings": [{n: term_json(row[n]) for n in names if row[n] is not None} for row in rows]}}
        kept = ox.parse_query_results(json.dumps(doc).encode("utf-8"), format=ox.QueryResultsFormat.JSON)
        body, media = serialize(Result("SELECT", kept), fmt)
        return Serialized(body, media, len(rows), truncated)
    if fmt not in GRAPH_FORMATS:
        raise QueryInvalid(f"format {fmt!r} is not available for {result.form} (use ttl, nt, jsonld or xml)")
    triples, truncated = _take(result.value, cap)
    f, media = GRAPH_FORMATS[fmt]
    prefixes = PREFIXES if fmt in ("ttl", "xml") else None
    return Serialized(ox.serialize(triples, format=f, prefixes=prefixes), media, len(triples), truncated)


def first_variable_iris(result: Result) -> list[str]:
    """IRIs bound by the first variable of a SELECT (a set of items to search among)."""
    if result.form != "SELECT":
        raise QueryInvalid("expected a SELECT query whose first variable binds the IRIs to search among")
    variables = result.value.variables
    if not variables:
        raise QueryInvalid("the SELECT query has no variable")
    first = variables[0]
    return list(dict.fromkeys(row[first].value for row in result.value if isinstance(row[first], ox.NamedNode)))


# -- the similarity function ------------------------------------------------------------------

_SIM_CALL = re.compile(r"(?:<https://w3id\.org/budgetkg/def#similarity>|\b[A-Za-z][\w\-.]*:similarity|(?<![\w:]):similarity)\s*\(")
_STRING_ARG = re.compile(r"\s*(" + _STRING + r")\s*\)")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(body: str) -> str:
    def repl(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "uU":
            return chr(int(e[1:], 16))
        return _ESCAPES.get(e, e)

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", repl, body)


def _unquote(literal: str) -> str:
    q = 3 if literal[:3] in ('"""', "'''") else 1
    return literal[q:-q]


def _second_argument(query: str, start: int) -> str | None:
    """The string literal given as second argument of a call whose '(' is at ``start - 1``."""
    depth, i, n = 0, start, len(query)
    while i < n:
        c = query[i]
        if c in "\"'":
            m = _STRINGS.match(query, i)
            i = m.end() if m else i + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return None
            depth -= 1
        elif c == "," and depth == 0:
            m = _STRING_ARG.match(query, i + 1)
            return _unescape(_unquote(m.group(1))) if m else None
        i += 1
    return None


def similarity_literals(query: str) -> list[str]:
    """The literal query texts of ``bkg:similarity(?x, "…")`` calls, to embed before the query runs
    (texts given any other way are embedded when the function first meets them)."""
    out: list[str] = []
    for m in _SIM_CALL.finditer(query):
        text = _second_argument(query, m.end())
        if text is not None and text not in out:
            out.append(text)
    return out


def uses_similarity(query: str) -> bool:
    """Whether the query text calls ``bkg:similarity`` (written with any prefix or as a full IRI)."""
    return _SIM_CALL.search(query) is not None
