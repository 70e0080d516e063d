"""What a SPARQL query is, and whether it may run here — read by a real parser, never by regexes.

:func:`prepare` is the one entry point (the HTTP workers and the CLI both use it). Its steps, cheapest
first, each linear in the query's length or bounded by the parsers themselves:

1. :func:`check_text`: size and bracket nesting. Both parsers recurse once per nesting level
   (Oxigraph's overflows the stack at a few thousand levels and kills the process), so a query nested
   deeper than :data:`MAX_NESTING` is refused before either sees it. The scan is linear and skips
   strings and comments; as a second line of defence :func:`on_big_stack` runs parsing and evaluation
   on a thread whose stack holds any nesting a query of :data:`MAX_QUERY_CHARS` can have.
2. Oxigraph's parser, on an empty in-memory store, for a fast and precise syntax error (a malformed
   60,000-character query is refused in milliseconds). Evaluating there could run a ``SERVICE`` call
   (Oxigraph sends it at once), so this step is skipped when the word ``service`` appears anywhere in
   the text — Oxigraph only reads the keyword spelt out, in any case — and rdflib decides alone.
3. rdflib's SPARQL parser (:func:`rdflib.plugins.sparql.parser.parseQuery`): its parse tree gives the
   query form, any ``SERVICE`` pattern (refused), the dataset clauses (``FROM`` / ``FROM NAMED``), the
   ``BASE``, whether the query pages itself (``LIMIT`` / ``OFFSET``), and the literal query texts of
   ``bkg:similarity`` calls. The tree is walked iteratively, so its depth never matters.

Updates never parse as queries (both parsers refuse them); :func:`leading_keyword` names the operation
from the prologue alone, in a few microseconds, so that the event loop can refuse an update (403) or a
query of the wrong form without waiting for a worker.
"""
from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox

from api.cache import LRU
from ontology import PREFIXES

#: the similarity extension function: ``bkg:similarity(?text, "query text")`` → xsd:double cosine
SIMILARITY_IRI = "https://w3id.org/budgetkg/def#similarity"

#: longest query text accepted (characters)
MAX_QUERY_CHARS = 100_000
#: deepest bracket nesting accepted: real queries stay under 20 levels; rdflib needs ~2 ms per level
MAX_NESTING = 100
#: stack of the thread that parses and evaluates: at ~3 KB per level for Oxigraph and ~0.5 KB per
#: Python frame for rdflib, 512 MiB holds the deepest nesting a query of MAX_QUERY_CHARS can write
#: (only the pages touched are ever committed)
BIG_STACK_BYTES = 512 * 1024 * 1024
#: Python frames allowed on that thread (rdflib's parser recurses ~40 frames per nesting level)
BIG_STACK_RECURSION = 200_000
BIG_STACK_THREAD = "budgetkg-sparql-big-stack"
#: analyses kept per process, by query text (parsing with rdflib costs 5–100 ms)
ANALYSIS_CACHE = 512

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")


class QueryRefused(Exception):
    """The query is not allowed here (an update, LOAD, or SERVICE)."""


class QueryInvalid(Exception):
    """The query does not parse, or is too large or too deeply nested; the message says why."""


@dataclass(frozen=True)
class QueryInfo:
    """What the parser found in a query."""

    form: str  # SELECT | ASK | CONSTRUCT | DESCRIBE
    has_dataset: bool = False  # FROM or FROM NAMED
    base: str | None = None  # the query's own BASE
    pages_itself: bool = False  # LIMIT, OFFSET or a trailing VALUES: no next page can be appended
    similarity_texts: tuple[str, ...] = ()  # literal second arguments of bkg:similarity, in order
    uses_similarity: bool = False


# -- 1. text limits ---------------------------------------------------------------------------

_OPEN, _CLOSE = "([{", ")]}"
#: what the nesting scan must jump over: strings (long ones first), comments, and backslash escapes
#: outside strings (``bkg:a\\'`` is a name, not the start of a string). Each alternative is anchored
#: where a quote or ``#`` was found and scans forward only, so the whole scan is linear.
_SKIP = {
    '"""': re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""', re.S),
    "'''": re.compile(r"'''(?:[^'\\]|\\.|'(?!''))*'''", re.S),
    '"': re.compile(r'"(?:[^"\\\n\r]|\\.)*"'),
    "'": re.compile(r"'(?:[^'\\\n\r]|\\.)*'"),
}
_INTERESTING = re.compile(r"""[()\[\]{}#"'\\]""")
_LINE_END = re.compile(r"[\n\r]")


def nesting_depth(query: str) -> int:
    """The deepest nesting of brackets ``( [ {`` in the query, outside strings and comments.
    An unterminated string counts as running to the end (the parser will refuse it)."""
    depth = deepest = 0
    pos, n = 0, len(query)
    while pos < n:
        m = _INTERESTING.search(query, pos)
        if m is None:
            break
        c, pos = m.group(), m.start()
        if c in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
            pos += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
            pos += 1
        elif c == "#":
            end = _LINE_END.search(query, pos)
            pos = n if end is None else end.end()
        elif c == "\\":
            pos += 2
        else:
            quote = query[pos:pos + 3] if query[pos:pos + 3] in _SKIP else c
            s = _SKIP[quote].match(query, pos)
            pos = n if s is None else s.end()
    return deepest


def check_text(query: str) -> None:
    """Refuse (QueryInvalid) a query too long or too deeply nested for the parsers."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryInvalid(f"the query has {len(query)} characters; at most {MAX_QUERY_CHARS}")
    depth = nesting_depth(query)
    if depth > MAX_NESTING:
        raise QueryInvalid(f"the query nests brackets {depth} deep; at most {MAX_NESTING}")


# -- the operation named by the prologue --------------------------------------------------------

#: one prologue item or the keyword after it, matched where the previous one ended: whitespace,
#: a comment, ``BASE <iri>``, ``PREFIX p: <iri>`` (comments allowed between their parts), or a word.
#: Alternatives start with different characters, so nothing backtracks.
_GAP = r"(?:\s|#[^\n\r]*)*"
_IRIREF = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_PROLOGUE_ITEM = re.compile(
    rf"\s+|#[^\n\r]*|(?i:BASE){_GAP}{_IRIREF}|(?i:PREFIX){_GAP}[^\s:<#]*:{_GAP}{_IRIREF}|(?P<word>[A-Za-z]+)")


def leading_keyword(query: str) -> str | None:
    """The first keyword after the prologue, upper-cased (SELECT, ASK, … or an update's INSERT, LOAD,
    …), or None. The grammar decides between a query and an update by this word alone; the parsers
    check the rest."""
    pos = 0
    while pos < len(query):
        m = _PROLOGUE_ITEM.match(query, pos)
        if m is None:
            return None
        if m.group("word"):
            return m.group("word").upper()
        pos = m.end()
    return None


def operation(query: str) -> str | None:
    """The query form named by the prologue (None when the prologue names none: the parsers will say
    what is wrong); QueryRefused for an update. Cheap enough for the event loop; :func:`prepare`
    has the final word."""
    word = leading_keyword(query)
    if word in UPDATE_KEYWORDS:
        raise QueryRefused(f"SPARQL {word} is not allowed: this endpoint is read-only")
    return word if word in QUERY_FORMS else None


# -- 2. Oxigraph's syntax check ---------------------------------------------------------------

_SERVICE_WORD = re.compile("service", re.I)
_EMPTY_STORE: ox.Store | None = None


def _unbound(*_args):
    return None


def oxigraph_syntax(query: str, base: str | None) -> None:
    """QueryInvalid with Oxigraph's message if Oxigraph cannot parse the query. Skipped (rdflib
    decides) when the text holds the word ``service``: evaluating here, even over an empty store,
    would send a SERVICE request."""
    global _EMPTY_STORE
    if _SERVICE_WORD.search(query):
        return
    if _EMPTY_STORE is None:
        _EMPTY_STORE = ox.Store()
    try:
        _EMPTY_STORE.query(query, base_iri=base, prefixes=PREFIXES,
                           custom_functions={ox.NamedNode(SIMILARITY_IRI): _unbound})
    except SyntaxError as exc:
        raise QueryInvalid(str(exc)) from exc
    except (OSError, ValueError, TypeError, RuntimeError):
        pass  # it parsed; evaluating over nothing may still fail (a type error, …): not our concern here


# -- 3. rdflib's parse tree -------------------------------------------------------------------

def _resolve(term, prefixes: dict[str, str]) -> str | None:
    """A parse-tree IRI (URIRef or ``pname``) as a string; None for an unknown prefix."""
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef

    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, CompValue) and term.name == "pname":
        ns = prefixes.get(term["prefix"] or "")
        return None if ns is None else ns + (term["localname"] or "")
    return None


def _literal_text(expr) -> str | None:
    """The string of an argument that is only a literal (through the expression wrappers rdflib keeps)."""
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Literal

    while isinstance(expr, CompValue) and expr.name != "literal" and set(expr.keys()) == {"expr"}:
        expr = expr["expr"]
    if isinstance(expr, CompValue) and expr.name == "literal":
        value = expr["string"]
        return str(value) if isinstance(value, Literal) else None
    return None


def _walk(root):
    """Every node of a parse tree, depth first, without recursion."""
    from pyparsing import ParseResults

    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, (list, tuple, ParseResults)):
            stack.extend(reversed(list(node)))


def analyse(query: str) -> QueryInfo:
    """Parse with rdflib and read what matters here; QueryInvalid / QueryRefused. Call it on a big
    stack (:func:`on_big_stack`)."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        prologue, body = parseQuery(query)
    except ParseBaseException as exc:
        raise QueryInvalid(f"malformed query: {exc}") from exc
    except RecursionError as exc:
        raise QueryInvalid("the query is nested too deeply to be read") from exc
    prefixes = dict(PREFIXES)
    base = None
    for decl in prologue:
        if decl.name == "Base":
            base = str(decl["iri"])
        elif decl.name == "PrefixDecl":
            prefixes[decl["prefix"] or ""] = str(decl["iri"])
    form = body.name.removesuffix("Query").upper()
    texts: list[str] = []
    calls = 0
    for node in _walk(body):
        if not isinstance(node, CompValue):
            continue
        if node.name == "ServiceGraphPattern":
            raise QueryRefused("SERVICE is not allowed: this endpoint never queries other servers")
        if node.name == "Function" and _resolve(node["iri"], prefixes) == SIMILARITY_IRI:
            calls += 1
            args = node["expr"] if "expr" in node else []
            text = _literal_text(args[1]) if len(args) == 2 else None
            if text is not None and text not in texts:
                texts.append(text)
    return QueryInfo(form=form, has_dataset=bool(body["datasetClause"]) if "datasetClause" in body else False,
                     base=base, pages_itself="limitoffset" in body or "valuesClause" in body,
                     similarity_texts=tuple(texts), uses_similarity=calls > 0)


# -- the whole check ----------------------------------------------------------------------------

_analysed: LRU = LRU(ANALYSIS_CACHE)
_analysed_lock = threading.Lock()


def prepare(query: str, base: str | None = None) -> QueryInfo:
    """Check a query for running here and say what it is: QueryInvalid (400) or QueryRefused (403).
    ``base`` resolves relative IRIs the query's own BASE leaves unresolved. Parses on a big stack."""
    with _analysed_lock:
        known = _analysed.get((query, base))
    if known is not None:
        return known
    check_text(query)
    operation(query)  # an update is refused before any parser sees it

    def parse() -> QueryInfo:
        oxigraph_syntax(query, base)
        return analyse(query)

    info = on_big_stack(parse)
    with _analysed_lock:
        _analysed.remember((query, base), info)
    return info


T = TypeVar("T")


def on_big_stack(fn: Callable[[], T]) -> T:
    """``fn()`` on a thread with a :data:`BIG_STACK_BYTES` stack (and a matching recursion limit),
    so that no nesting a query can write overflows the stack of the parsers or of Oxigraph's
    evaluator. Exceptions are raised here."""
    if threading.current_thread().name == BIG_STACK_THREAD:
        return fn()
    box: dict[str, object] = {}

    def run() -> None:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), BIG_STACK_RECURSION))
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed over to the calling thread, which re-raises it
            box["error"] = exc

    previous = threading.stack_size(BIG_STACK_BYTES)
    try:
        t = threading.Thread(target=run, name=BIG_STACK_THREAD, daemon=True)
        t.start()
    finally:
        threading.stack_size(previous)
    t.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def dataset_options(info: QueryInfo, default_graphs: list[str] | None, named_graphs: list[str] | None) -> dict:
    """The dataset a query runs over, as pyoxigraph options:

    - the protocol's ``default-graph-uri`` / ``named-graph-uri`` replace the query's dataset whole:
      the default graph is the merge of the listed graphs (empty if none is listed), and only the
      listed named graphs exist (none if none is listed);
    - else the query's ``FROM`` / ``FROM NAMED`` (Oxigraph applies them; a FROM of a graph that does
      not exist gives an empty default graph);
    - else (no dataset at all) the default graph is the union of all graphs, every named graph
      available — the endpoint's own default dataset, as its service description says.
    """
    if default_graphs or named_graphs:
        return {"default_graph": [ox.NamedNode(g) for g in default_graphs or []],
                "named_graphs": [ox.NamedNode(g) for g in named_graphs or []], "use_default_graph_as_union": False}
    # said explicitly either way: the store's own default is the union
    return {"use_default_graph_as_union": not info.has_dataset}
