"""A remote SPARQL 1.1 endpoint as the graph store: Oxigraph server, Virtuoso, QLever, GraphDB, …

    BUDGETKG_STORE=http://localhost:7878/query budgetkg ingest samples      # or: budgetkg --store URL …

Reading uses the SPARQL 1.1 Protocol (POST of URL-encoded ``query=``); results come back as
pyoxigraph objects (:func:`pyoxigraph.parse_query_results`, :func:`pyoxigraph.parse`), so
``store.query`` / ``store.select``, the /sparql serialisers, the checks and the index build work
unchanged. Writing is the very update the embedded store applies (:func:`ingest.graphstore.document_update`,
built by :meth:`GraphStore.commit_many`), POSTed as ``update=``: the server
applies it as one request — Oxigraph server transactionally.

The update endpoint is ``$BUDGETKG_STORE_UPDATE`` when set, else derived from the query URL:
``…/query`` → ``…/update`` (Oxigraph server), anything else (``…/sparql`` of Virtuoso, GraphDB's
``/repositories/x`` → ``/repositories/x/statements``) is used as is unless it ends in
``/repositories/<name>``.

With ``$BUDGETKG_STORE_GSP`` set to a SPARQL 1.1 Graph Store HTTP Protocol endpoint, each document
graph is instead replaced by one ``PUT …?graph=<document>`` of its N-Triples (shared entities and
classification labels still go as an update, first). Virtuoso needs this: it compiles an update to
SQL and refuses a large one (SP031 / SQ199), while its ``/sparql-graph-crud`` takes a whole document
in one request. Each document then goes in whole or not at all (the PUT replaces its graph in one
request; the content hash is in that graph); the shared facts written just before a PUT that fails
stay, as they are facts about units, regions and codes that hold whatever documents are stored.

The endpoint must answer queries over the union of all graphs by default, as budgetkg's queries do
not say GRAPH: ``oxigraph serve --union-default-graph``; Virtuoso does so by default.
"""
from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pyoxigraph as ox

from .errors import StoreError
from .graphstore import GraphStore

RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
ACCEPT = ("application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8, "
          "application/sparql-results+xml;q=0.5, application/rdf+xml;q=0.4")


def update_endpoint(query_url: str) -> str:
    """The update endpoint that goes with a query endpoint."""
    parts = urllib.parse.urlsplit(query_url)
    path = parts.path
    if path.endswith("/query"):
        path = path[: -len("query")] + "update"
    elif re.search(r"/repositories/[^/]+/?$", path):  # GraphDB / RDF4J
        path = path.rstrip("/") + "/statements"
    return urllib.parse.urlunsplit(parts._replace(path=path))


class RemoteTriples:
    """CONSTRUCT / DESCRIBE results: iterable triples with pyoxigraph's ``serialize``."""

    def __init__(self, triples: list):
        self.triples = triples

    def __iter__(self) -> Iterator:
        return iter(self.triples)

    def serialize(self, output=None, format=ox.RdfFormat.N_TRIPLES):
        return ox.serialize(self.triples, output, format=format)


def _iri(x) -> str:
    return x.value if hasattr(x, "value") else str(x)


class SparqlEndpointStore(GraphStore):
    """A SPARQL 1.1 query (and update) endpoint over HTTP."""

    #: another client may write the same endpoint: always drop a document's graph before writing it
    shared = True

    def __init__(self, url: str, update_url: str | None = None, read_only: bool = False, timeout: float = 300.0,
                 graph_store_url: str | None = None):
        self.url = url
        self.update_url = update_url or update_endpoint(url)
        self.graph_store_url = graph_store_url
        self.where = url
        self.read_only = read_only
        self.timeout = timeout
        try:
            self.query("ASK { }")
        except (StoreError, SyntaxError) as exc:
            raise StoreError(f"{url}: no SPARQL endpoint answers here ({exc})") from exc
        if not read_only:
            self._ensure_ontology()

    # -- HTTP -------------------------------------------------------------------------------------
    def _post(self, url: str, field: str, text: str, accept: str, params: list[tuple[str, str]] = ()) -> tuple[bytes, str]:
        """POST with URL-encoded parameters (``query=`` / ``update=``): the protocol form every server
        takes (Virtuoso 7.2 never answers a POST of ``application/sparql-query``)."""
        body = urllib.parse.urlencode([(field, text), *params]).encode("ascii")
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.read(), resp.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip()[:500]
            if exc.code == 400:
                raise SyntaxError(detail or "the endpoint refused the request (400)") from exc
            raise StoreError(f"{url}: HTTP {exc.code} {exc.reason}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreError(f"{url}: cannot reach the SPARQL endpoint ({getattr(exc, 'reason', exc)})") from exc

    # -- GraphStore -------------------------------------------------------------------------------
    def query(self, sparql: str, prefixes: dict | None = None, custom_functions: dict | None = None,
              default_graph=None, named_graphs=None, use_default_graph_as_union: bool = True, **_ignored):
        if custom_functions and any(_iri(f) in sparql or _local(f) in sparql for f in custom_functions):
            raise StoreError(f"{self.url}: extension functions ({', '.join(map(_iri, custom_functions))}) "
                             "are evaluated by the embedded store only, not by a remote endpoint")
        if prefixes:
            sparql = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items()) + sparql
        params = []
        if default_graph is not None:
            for g in default_graph if isinstance(default_graph, (list, tuple, set)) else [default_graph]:
                params.append(("default-graph-uri", _iri(g)))
        for g in named_graphs or []:
            params.append(("named-graph-uri", _iri(g)))
        data, ctype = self._post(self.url, "query", sparql, ACCEPT, params)
        if b"nodeID://" in data:
            # Virtuoso names blank nodes nodeID://b123, not a blank node label: keep the label part
            data = re.sub(rb"nodeID://", b"", data)
        if ctype in RESULT_TYPES:
            return ox.parse_query_results(data, format=RESULT_TYPES[ctype])
        if ctype in GRAPH_TYPES:
            return RemoteTriples(list(ox.parse(data, format=GRAPH_TYPES[ctype])))
        raise StoreError(f"{self.url}: unexpected result type {ctype!r}")

    def _update(self, text: str) -> None:
        try:
            self._post(self.update_url, "update", text, "*/*")
        except SyntaxError as exc:
            raise StoreError(f"{self.update_url}: the update was refused, nothing was written ({exc})") from exc

    # -- Graph Store Protocol ---------------------------------------------------------------------
    def commit_many(self, batch, relabel: bool = True):
        if self.graph_store_url is None:
            return super().commit_many(batch, relabel)
        # one document per write: its PUT is what makes it whole or absent
        out = []
        for m in batch:
            out.extend(super().commit_many([m], relabel))
        return out

    def _write(self, docs: list[tuple[str, list[str]]], shared: list[str], relabel: list, drop: list) -> None:
        if self.graph_store_url is None:
            return super()._write(docs, shared, relabel, drop)
        from .graphstore import document_update

        if shared or relabel:
            self._update(document_update([], shared, relabel, []))
        for graph, lines in docs:
            self._put_graph(graph, lines)
        self.relink([g for g, _ in docs])  # links need the documents in place: after their PUTs
        return None

    def _put_graph(self, graph: str, lines: list[str]) -> None:
        """Replace one named graph (SPARQL 1.1 Graph Store HTTP Protocol, indirect graph identification)."""
        sep = "&" if "?" in self.graph_store_url else "?"
        url = f"{self.graph_store_url}{sep}{urllib.parse.urlencode({'graph': graph})}"
        req = urllib.request.Request(url, data=("\n".join(lines) + "\n").encode("utf-8"), method="PUT",
                                     headers={"Content-Type": "application/n-triples"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip()[:500]
            raise StoreError(f"{self.graph_store_url}: the graph store refused <{graph}> (HTTP {exc.code}), "
                             f"nothing of it was written: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreError(f"{self.graph_store_url}: cannot reach the graph store ({getattr(exc, 'reason', exc)})") from exc

    #: a server holds other graphs too (Virtuoso: its system graphs): budgetkg's dataset is its own
    OWN_GRAPHS = 'FILTER(STRSTARTS(STR(?g), "https://w3id.org/budgetkg/"))'

    def dump(self, fmt: str) -> bytes:
        if fmt in ("nq", "trig"):
            res = self.query(f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self.OWN_GRAPHS} }}",
                             use_default_graph_as_union=False)
            quads = [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in res]
            return ox.serialize(quads, format=ox.RdfFormat.N_QUADS if fmt == "nq" else ox.RdfFormat.TRIG)
        return self._merged_dump(fmt)

    def __len__(self) -> int:
        res = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self.OWN_GRAPHS} }}",
                         use_default_graph_as_union=False)
        return int(next(iter(res))["n"].value)

    def close(self) -> None:
        pass


def _local(function_iri) -> str:
    """``bkg:similarity`` for a function IRI in the budgetkg namespace (how queries usually write it)."""
    s = _iri(function_iri)
    return "bkg:" + s.rsplit("#", 1)[-1] if "#" in s else s
