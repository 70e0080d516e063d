"""The ontology served at ``/def`` (a real ``budgetkg serve``), and documented: every class and property
has a Chinese and an English label and a comment."""
from __future__ import annotations

import httpx
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from ontology import BKG, VOCABULARY_FILES


def vocabulary() -> rdflib.Graph:
    g = rdflib.Graph()
    for f in VOCABULARY_FILES:
        g.parse(f, format="turtle")
    return g


def test_every_class_and_property_has_labels_and_a_comment():
    g = vocabulary()
    terms = [s for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty) for s in g.subjects(RDF.type, t)
             if str(s).startswith(str(BKG))]
    assert len(terms) > 140
    missing = []
    for s in terms:
        labels = list(g.objects(s, RDFS.label))
        zh = [x for x in labels if x.language is None and any("\u4e00" <= ch <= "\u9fff" for ch in x)]
        en = [x for x in labels if x.language == "en"]
        comments = list(g.objects(s, RDFS.comment))
        if not (zh and en and comments):
            missing.append(str(s))
    assert missing == []


def test_chinese_labels_carry_no_language_tag():
    g = vocabulary()
    tagged = [(s, o) for s, p, o in g if isinstance(o, rdflib.Literal) and o.language not in (None, "en")]
    assert tagged == []
    labels = (RDFS.label, rdflib.namespace.SKOS.prefLabel, rdflib.namespace.SKOS.altLabel)
    chinese_as_en = [o for p in labels for o in g.objects(None, p) if o.language == "en"
                     and "\u4e00" <= str(o)[:1] <= "\u9fff"]
    assert chinese_as_en == []


def get(server, path: str, accept: str | None = None, **params) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return httpx.get(server.url + path, headers=headers, params=params, timeout=30)


def test_def_turtle_is_the_ontology(protocol_server):
    r = get(protocol_server, "/def", "text/turtle")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    served = rdflib.Graph().parse(data=r.text, format="turtle")
    assert len(served) == len(vocabulary())
    assert (BKG.BudgetUnit, RDFS.label, rdflib.Literal("预算单位")) in served
    assert (BKG.detailRow, RDF.type, OWL.DatatypeProperty) in served
    # curl's */* gets Turtle too
    assert get(protocol_server, "/def", "*/*").headers["content-type"].startswith("text/turtle")


def test_def_json_ld(protocol_server):
    r = get(protocol_server, "/def", "application/ld+json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    served = rdflib.Graph().parse(data=r.text, format="json-ld")
    assert len(served) == len(vocabulary())
    assert r.json()["@context"]["bkg"] == str(BKG)


def test_def_html_lists_classes_and_properties(protocol_server):
    r = get(protocol_server, "/def", "text/html,application/xhtml+xml,*/*;q=0.8")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    for expected in ('id="BudgetUnit"', "预算单位", "budget unit", 'id="detailRow"', "明细行", 'id="includedIn"',
                     "类 Classes", "属性 Properties", 'id="TimelinessIndicator"', "时效指标"):
        assert expected in page, expected
    assert get(protocol_server, "/def", format="html").headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("accept, media", [("text/turtle", "text/turtle"), ("application/ld+json", "application/ld+json"),
                                           ("text/html", "text/html")])
def test_def_term(protocol_server, accept, media):
    r = get(protocol_server, "/def/documentScope", accept)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    if media == "text/turtle":
        g = rdflib.Graph().parse(data=r.text, format="turtle")
        assert set(g.subjects()) == {BKG.documentScope}
        assert (BKG.documentScope, RDFS.range, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#Concept")) in g
    if media == "text/html":
        assert 'id="documentScope"' in r.text and 'id="BudgetUnit"' not in r.text


def test_def_unknown_term_and_format(protocol_server):
    assert get(protocol_server, "/def/NoSuchTerm", "text/turtle").status_code == 404
    assert get(protocol_server, "/def", "image/png").status_code == 406
    assert get(protocol_server, "/def", format="pdf").status_code == 406
