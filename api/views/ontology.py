"""``GET /def`` and ``/def/{term}``: the ontology (本体) served, content-negotiated.

The vocabulary is what ``ontology/*.ttl`` says (OWL classes and properties, the SKOS schemes of table
kinds, indicator levels and document scopes): Turtle, JSON-LD, or an HTML page listing classes and
properties with their Chinese and English labels and comments. ``bkg:`` terms are hash IRIs
(``https://w3id.org/budgetkg/def#BudgetUnit``); ``/def/BudgetUnit`` gives one term's description.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from ontology import BKG, PREFIXES, VOCABULARY_FILES

router = APIRouter(tags=["本体 ontology"])

#: media types served, and the names ``?format=`` takes
FORMATS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "html": "text/html"}
_ACCEPTED = {"text/turtle": "ttl", "application/x-turtle": "ttl", "application/ld+json": "jsonld",
             "application/json": "jsonld", "text/html": "html", "application/xhtml+xml": "html"}
#: what an ``Accept`` without any of these (``*/*``, curl's default) gets: the ontology's own syntax
DEFAULT_FORMAT = "ttl"


@lru_cache(maxsize=1)
def vocabulary() -> Graph:
    """The ontology files merged into one graph, loaded once."""
    g = Graph()
    for prefix, iri in PREFIXES.items():
        g.bind(prefix, iri)
    for f in VOCABULARY_FILES:
        g.parse(f, format="turtle")
    return g


def negotiate(accept: str | None, fmt: str | None) -> str:
    """``?format=`` first, else the first media type of ``Accept`` (by q) that is served."""
    if fmt:
        if fmt not in FORMATS:
            raise HTTPException(406, f"format must be one of {', '.join(FORMATS)}")
        return fmt
    ranges = []
    for n, part in enumerate((accept or "").split(",")):
        media, *params = [x.strip() for x in part.split(";")]
        q = next((float(p[2:]) for p in params if p.startswith("q=") and p[2:].replace(".", "", 1).isdigit()), 1.0)
        ranges.append((-q, n, media.lower()))
    for _, _, media in sorted(ranges):
        if media in _ACCEPTED:
            return _ACCEPTED[media]
        if media in ("*/*", "text/*", "application/*"):
            return DEFAULT_FORMAT
    if not ranges:
        return DEFAULT_FORMAT
    raise HTTPException(406, f"not acceptable: the ontology is served as {', '.join(FORMATS.values())}")


def term_graph(iri: URIRef) -> Graph:
    """A term's concise bounded description: its triples, and those of the blank nodes they reach."""
    src, out = vocabulary(), Graph(namespace_manager=vocabulary().namespace_manager)
    todo, seen = [iri], set()
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        for p, o in src.predicate_objects(s):
            out.add((s, p, o))
            if isinstance(o, BNode):
                todo.append(o)
    return out


@dataclass
class Term:
    """What the HTML page shows of a class, property or concept."""

    iri: str
    local: str
    zh: str
    en: str
    comment: str
    kind: str  # class | property | concept | scheme
    detail: str = ""  # domain → range of a property; the scheme of a concept


def _labels(g: Graph, s) -> tuple[str, str]:
    zh = en = ""
    for p in (SKOS.prefLabel, RDFS.label):
        for o in g.objects(s, p):
            if isinstance(o, Literal) and o.language == "en":
                en = en or str(o)
            elif isinstance(o, Literal) and not o.language:
                zh = zh or str(o)
    return zh, en


def _short(g: Graph, node) -> str:
    if node is None:
        return ""
    try:
        return g.namespace_manager.normalizeUri(node) if isinstance(node, URIRef) else ""
    except ValueError:
        return str(node)


def terms() -> dict[str, list[Term]]:
    """Classes, properties, concept schemes and concepts of the ``bkg:`` namespace, by local name."""
    g = vocabulary()
    groups: dict[str, list[Term]] = {"class": [], "property": [], "scheme": [], "concept": []}
    kinds = {OWL.Class: "class", OWL.ObjectProperty: "property", OWL.DatatypeProperty: "property",
             SKOS.ConceptScheme: "scheme", SKOS.Concept: "concept"}
    seen = set()
    for t, kind in kinds.items():
        for s in g.subjects(RDF.type, t):
            if not isinstance(s, URIRef) or not str(s).startswith(str(BKG)) or s in seen:
                continue
            seen.add(s)
            zh, en = _labels(g, s)
            comment = next((str(o) for p in (RDFS.comment, SKOS.definition) for o in g.objects(s, p)), "")
            if kind == "property":
                detail = " → ".join(x for x in (_short(g, g.value(s, RDFS.domain)), _short(g, g.value(s, RDFS.range))) if x)
            elif kind == "concept":
                detail = _short(g, g.value(s, SKOS.inScheme))
            else:
                detail = _short(g, g.value(s, RDFS.subClassOf)) if kind == "class" else ""
            groups[kind].append(Term(str(s), str(s)[len(str(BKG)):], zh, en, comment, kind, detail))
    for items in groups.values():
        items.sort(key=lambda t: (t.detail if t.kind == "concept" else "", t.local))
    return groups


def _answer(request: Request, graph: Graph, fmt: str, title: str, focus: str | None = None) -> Response:
    headers = {"Vary": "Accept", "Link": '<https://w3id.org/budgetkg/def>; rel="describedby"'}
    if fmt == "ttl":
        return Response(graph.serialize(format="turtle"), media_type="text/turtle; charset=utf-8", headers=headers)
    if fmt == "jsonld":
        context = {p: iri for p, iri in PREFIXES.items()}
        return Response(graph.serialize(format="json-ld", context=context, indent=1), media_type="application/ld+json",
                        headers=headers)
    from api.templating import render

    groups = terms()
    if focus is not None:
        groups = {k: [t for t in v if t.local == focus] for k, v in groups.items()}
    resp = render(request, "ontology.html", nav="", title=title, groups=groups, focus=focus,
                  namespace=str(BKG), formats=FORMATS)
    resp.headers.update(headers)
    return resp


@router.get("/def", summary="本体（OWL / SKOS），按内容协商返回",
            description="预算知识图谱的本体：类、属性及其中英文标签与说明，表种、指标层级、预算范围等 SKOS 概念方案。"
                        "按 `Accept` 返回 Turtle（默认）、JSON-LD 或 HTML 页面；也可用 `?format=ttl|jsonld|html`。",
            responses={200: {"content": {"text/turtle": {}, "application/ld+json": {}, "text/html": {}}},
                       406: {"description": "无法提供所要求的格式"}},
            response_class=Response)
def ontology(request: Request, format: str | None = Query(None, description="ttl、jsonld 或 html（优先于 Accept）")):
    fmt = negotiate(request.headers.get("accept"), format)
    return _answer(request, vocabulary(), fmt, "本体 ontology")


@router.get("/def/{term}", summary="本体中的一个术语", response_class=Response,
            description="一个类、属性或概念（如 `BudgetUnit`、`detailRow`、`TimelinessIndicator`）的描述，按内容协商返回。",
            responses={200: {"content": {"text/turtle": {}, "application/ld+json": {}, "text/html": {}}},
                       404: {"description": "本体中没有这个术语"}, 406: {"description": "无法提供所要求的格式"}})
def ontology_term(request: Request, term: str, format: str | None = Query(None, description="ttl、jsonld 或 html")):
    fmt = negotiate(request.headers.get("accept"), format)
    g = term_graph(BKG[term]) if term.isidentifier() else Graph()
    if not len(g):
        raise HTTPException(404, f"no term bkg:{term} in the ontology")
    return _answer(request, g, fmt, f"bkg:{term}", focus=term)
