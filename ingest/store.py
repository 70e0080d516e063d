"""The graph store: rdflib's API over Oxigraph (``oxrdflib``), persistent in the data directory.

:class:`GraphStore` is the one small interface the rest of budgetkg talks to, so that a remote
SPARQL 1.1 endpoint can replace the embedded store. Writing a document is one SPARQL Update —
drop its named graph, insert its quads and what it adds to the shared graph — which Oxigraph
applies as a single transaction: a document goes in whole or not at all.
"""
from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import SKOS

from ontology import BKG, LEVELS_TTL, ONTOLOGY_TTL, sparql_prefixes

from .errors import StoreError
from .mapping import ONTOLOGY_GRAPH, SHARED_GRAPH, Mapped, concept_iri, concept_triples

_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def _nt(graph: Graph) -> str:
    return graph.serialize(format="nt")


def preferred_name(counts: dict[str, int]) -> str | None:
    """The variant to use as skos:prefLabel among the names printed for a code: without line-wrap
    spaces, with the full-width brackets of the national code list (维修（护）费, not 维修(护)费),
    then the most printed, then the shortest."""
    if not counts:
        return None
    return min(counts, key=lambda n: (bool(_CJK_SPACE.search(n)), bool(re.search(r"[()\[\]]", n)),
                                      -counts[n], len(n), n))


class GraphStore(ABC):
    """What budgetkg needs from a graph store."""

    @abstractmethod
    def fingerprint(self, graph: URIRef) -> str | None:
        """The content hash recorded in a document graph, or None if the graph is absent."""

    @abstractmethod
    def commit(self, mapped: Mapped) -> bool:
        """Replace the document's named graph and extend the shared graph, atomically.
        Returns False (and writes nothing) when the stored graph has the same content."""

    @abstractmethod
    def query(self, sparql: str, **kwargs) -> object:
        """Run a read-only SPARQL query over the union of all graphs."""

    @abstractmethod
    def documents(self) -> dict[str, str]:
        """Document graph IRI → content hash, for every stored document."""

    @abstractmethod
    def dump(self, fmt: str) -> bytes:
        """The whole dataset serialised (``nq``, ``trig``) or merged (``ttl``, ``nt``, ``jsonld``)."""

    @abstractmethod
    def rdflib_graph(self) -> Graph:
        """The union of all graphs as an rdflib graph (for SHACL validation)."""

    @abstractmethod
    def close(self) -> None: ...


class OxigraphStore(GraphStore):
    """Embedded Oxigraph (RocksDB) in ``<data>/store``, used through rdflib's Dataset API."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        try:
            if read_only:
                if not (self.path / "CURRENT").exists():
                    raise StoreError(f"{self.path}: no store here yet (run `budgetkg ingest` first)")
                inner = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                inner = ox.Store(str(self.path))
        except OSError as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                raise StoreError(
                    f"{self.path}: the store is in use by another budgetkg process (is `budgetkg serve` "
                    f"running on this data directory?). Stop it, or use another --data directory."
                ) from exc
            raise StoreError(f"{self.path}: cannot open the store ({msg})") from exc
        from oxrdflib import OxigraphStore as _RdflibStore

        self.dataset = Dataset(store=_RdflibStore(store=inner), default_union=True)
        self.ox: ox.Store = inner
        if not read_only:
            self._ensure_ontology()

    # -- ontology ---------------------------------------------------------------------------------
    def _ensure_ontology(self) -> None:
        """Load the ontology and level scheme into their own graph when they changed."""
        text = ONTOLOGY_TTL.read_text(encoding="utf-8") + "\n" + LEVELS_TTL.read_text(encoding="utf-8")
        version = hashlib.sha256(text.encode("utf-8")).hexdigest()
        g = ox.NamedNode(str(ONTOLOGY_GRAPH))
        current = list(self.ox.quads_for_pattern(g, ox.NamedNode(str(BKG.ontologyHash)), None, g))
        if current and current[0].object.value == version:
            return
        merged = Graph()
        merged.parse(data=ONTOLOGY_TTL.read_text(encoding="utf-8"), format="turtle")
        merged.parse(data=LEVELS_TTL.read_text(encoding="utf-8"), format="turtle")
        merged.add((ONTOLOGY_GRAPH, BKG.ontologyHash, Literal(version)))
        self.ox.update(f"DROP SILENT GRAPH <{ONTOLOGY_GRAPH}> ; INSERT DATA {{ GRAPH <{ONTOLOGY_GRAPH}> {{\n{_nt(merged)}\n}} }}")

    # -- documents --------------------------------------------------------------------------------
    def fingerprint(self, graph: URIRef) -> str | None:
        g = ox.NamedNode(str(graph))
        for q in self.ox.quads_for_pattern(g, ox.NamedNode(str(BKG.contentHash)), None, g):
            return q.object.value
        return None

    def documents(self) -> dict[str, str]:
        res = self.ox.query(f"SELECT ?g ?h WHERE {{ GRAPH ?g {{ ?g <{BKG.contentHash}> ?h }} }}")
        return {r["g"].value: r["h"].value for r in res}

    def _names_elsewhere(self, concepts: list[URIRef], graph: URIRef) -> dict[str, dict[str, int]]:
        """Names other documents print for these codes: concept → {name: times printed}."""
        if not concepts:
            return {}
        values = " ".join(f"<{c}>" for c in concepts)
        q = (f"SELECT ?c ?name (COUNT(*) AS ?n) WHERE {{ VALUES ?c {{ {values} }} GRAPH ?g {{ "
             f"{{ ?x <{BKG.classification}> ?c ; <{BKG.printedName}> ?name }} UNION "
             f"{{ ?x <{BKG.listsCode}> ?c ; <{BKG.printedName}> ?name }} }} FILTER(?g != <{graph}>) }} GROUP BY ?c ?name")
        out: dict[str, dict[str, int]] = {}
        for r in self.ox.query(q):
            out.setdefault(r["c"].value, {})[r["name"].value] = int(r["n"].value)
        return out

    def commit(self, mapped: Mapped) -> bool:
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        fp = mapped.fingerprint()
        if self.fingerprint(mapped.graph_iri) == fp:
            return False
        doc_graph = Graph()
        for t in mapped.graph:
            doc_graph.add(t)
        doc_graph.add((mapped.graph_iri, BKG.contentHash, Literal(fp)))
        shared = Graph()
        for t in mapped.shared:
            shared.add(t)
        # classification concepts are named from every document that prints them: the preferred
        # variant is skos:prefLabel, the others skos:altLabel — recomputed for the codes this
        # document prints, so the result does not depend on the order documents arrive in
        g = mapped.graph_iri
        concepts = [concept_iri(sc, c) for (sc, c) in mapped.code_names]
        elsewhere = self._names_elsewhere(concepts, g)
        for (scheme, code), names in mapped.code_names.items():
            for parent in (code[:n] for n in (3, 5) if n < len(code)):
                shared += concept_triples(scheme, parent, None, [])
            counts = dict(elsewhere.get(str(concept_iri(scheme, code)), {}))
            for n in names:
                counts[n] = counts.get(n, 0) + 1
            pref = preferred_name(counts)
            shared += concept_triples(scheme, code, pref, [n for n in counts if n != pref])
        relabel = ""
        if concepts:
            values = " ".join(f"<{c}>" for c in concepts)
            relabel = (f"DELETE {{ GRAPH <{SHARED_GRAPH}> {{ ?c <{SKOS.prefLabel}> ?p . ?c <{SKOS.altLabel}> ?a }} }} "
                       f"WHERE {{ VALUES ?c {{ {values} }} GRAPH <{SHARED_GRAPH}> {{ "
                       f"OPTIONAL {{ ?c <{SKOS.prefLabel}> ?p }} OPTIONAL {{ ?c <{SKOS.altLabel}> ?a }} }} }} ;\n")
        update = (f"DROP SILENT GRAPH <{g}> ;\n{relabel}INSERT DATA {{ GRAPH <{g}> {{\n{_nt(doc_graph)}\n}} "
                  f"GRAPH <{SHARED_GRAPH}> {{\n{_nt(shared)}\n}} }}")
        try:
            self.ox.update(update)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"{self.path}: writing {g} failed, nothing was written ({exc})") from exc
        return True

    # -- reading ----------------------------------------------------------------------------------
    def query(self, sparql: str, **kwargs):
        kwargs.setdefault("use_default_graph_as_union", True)
        return self.ox.query(sparql, **kwargs)

    def select(self, sparql: str, **kwargs) -> Iterator[dict[str, object]]:
        """SELECT rows as dicts of Python values (str for IRIs and literals, None when unbound)."""
        res = self.query(sparql_prefixes() + sparql, **kwargs)
        names = [v.value for v in res.variables]
        for row in res:
            yield {n: (row[n].value if row[n] is not None else None) for n in names}

    def dump(self, fmt: str) -> bytes:
        formats = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}
        if fmt in formats:
            return self.ox.dump(format=formats[fmt])
        merged = self.rdflib_graph()
        for p, iri in (("bkg", BKG),):
            merged.bind(p, iri)
        rdflib_fmt = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt]
        return merged.serialize(format=rdflib_fmt).encode("utf-8")

    def rdflib_graph(self) -> Graph:
        merged = Graph()
        data = self.ox.dump(format=ox.RdfFormat.N_QUADS)
        ds = Dataset()
        ds.parse(data=data.decode("utf-8"), format="nquads")
        for s, p, o, _ in ds.quads((None, None, None, None)):
            merged.add((s, p, o))
        from ontology import PREFIXES

        for prefix, iri in PREFIXES.items():
            merged.bind(prefix, iri)
        return merged

    def __len__(self) -> int:
        return len(self.ox)

    def close(self) -> None:
        if not self.read_only:
            self.ox.flush()
        del self.ox
        self.dataset = None  # type: ignore[assignment]


def open_store(data_dir: Path, read_only: bool = False) -> OxigraphStore:
    return OxigraphStore(Path(data_dir) / "store", read_only=read_only)
