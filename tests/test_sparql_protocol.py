"""The SPARQL 1.1 Protocol against a real server: the W3C protocol tests, datasets, protocol errors,
third-party clients (SPARQLWrapper, rdflib's SPARQLStore, curl as the README shows it), CORS, HEAD,
OPTIONS and gzip.

The W3C manifest (``tests/fixtures/w3c/``) is run as written: each test's requests go to the
server with their method, path, headers and body, and the status, result format and boolean are
checked. The endpoint is read-only, so the update-side tests are adapted: each update must be refused
(403) and a query that would see its effect must see nothing.
"""
from __future__ import annotations

import gzip
import json
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
import rdflib
from rdflib.collection import Collection

from conftest import ROOT
from served import MF, RESULT_CAP, W3C

pytestmark = pytest.mark.slow

HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
BKG = "https://w3id.org/budgetkg/def#"

#: media types the manifest's expectedFormat values allow
FORMAT_MEDIA = {
    "boolean": {"application/sparql-results+xml", "application/sparql-results+json"},
    "tabular": {"application/sparql-results+xml", "application/sparql-results+json", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "text/plain"},
}


@pytest.fixture(scope="module")
def http(protocol_server):
    with httpx.Client(base_url=protocol_server.url, timeout=60) as client:
        yield client


def bindings(resp: httpx.Response) -> list[dict]:
    assert resp.status_code == 200, resp.text
    return resp.json()["results"]["bindings"]


def count(http, query: str, **params) -> int:
    return int(bindings(http.get("/sparql", params={"query": query, **params}))[0]["n"]["value"])


# -- the W3C SPARQL 1.1 Protocol tests ------------------------------------------------------------

@dataclass
class W3CRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]  # "2xx", "3xx", "4xx"
    boolean: bool | None
    fmt: str | None


def _manifest() -> tuple[rdflib.Graph, list[rdflib.URIRef]]:
    g = rdflib.Graph().parse(W3C / "manifest.ttl", format="turtle")
    root = next(g.subjects(rdflib.RDF.type, MF.Manifest))
    return g, list(Collection(g, g.value(root, MF.entries)))


W3C_GRAPH, W3C_TESTS = _manifest()


def w3c_requests(test: rdflib.URIRef) -> list[W3CRequest]:
    g = W3C_GRAPH
    action = g.value(test, MF.action)
    out = []
    for req in Collection(g, g.value(action, HT.requests)):
        headers = {str(g.value(h, HT.fieldName)): str(g.value(h, HT.fieldValue))
                   for h in (Collection(g, g.value(req, HT.headers)) if g.value(req, HT.headers) else [])}
        body = g.value(req, HT.body)
        data = None
        if body is not None:
            encoding = str(g.value(body, CNT.characterEncoding) or "UTF-8")
            data = str(g.value(body, CNT.chars)).encode("utf-16" if encoding.upper() == "UTF-16" else "utf-8")
        resp = g.value(req, HT.resp)
        statuses = {str(s).rsplit("#StatusCode", 1)[1] for s in g.objects(resp, MF.expectedStatus)}
        boolean = g.value(resp, MF.expectedBoolean)
        fmt = g.value(resp, MF.expectedFormat)
        out.append(W3CRequest(str(g.value(req, HT.methodName)), str(g.value(req, HT.absolutePath)), headers, data,
                              statuses, None if boolean is None else bool(boolean.toPython()),
                              None if fmt is None else str(fmt)))
    return out


def is_update(req: W3CRequest) -> bool:
    return (req.headers.get("content-type", "").startswith("application/sparql-update")
            or (req.body or b"").startswith(b"update=") or "update=" in req.path)


def response_boolean(resp: httpx.Response) -> bool:
    media = resp.headers["content-type"].split(";")[0]
    if media == "application/sparql-results+json":
        return resp.json()["boolean"]
    root = ET.fromstring(resp.content)
    return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"


def status_class(code: int) -> str:
    return f"{code // 100}xx"


@pytest.mark.parametrize("test", W3C_TESTS, ids=[t.split("#")[-1] for t in W3C_TESTS])
def test_w3c_protocol(http, test):
    name = test.split("#")[-1]
    update_test = name.startswith("update_")
    for req in w3c_requests(test):
        path = req.path.replace("/sparql/", "/sparql", 1)
        resp = http.request(req.method, path, headers=req.headers, content=req.body)
        if update_test and is_update(req):
            # read-only endpoint: the update is refused, and nothing of it is written (checked below)
            assert resp.status_code == 403, (name, resp.text)
            continue
        assert status_class(resp.status_code) in req.statuses, (name, req.method, path, resp.status_code, resp.text)
        if req.fmt is not None:
            assert resp.headers["content-type"].split(";")[0] in FORMAT_MEDIA[req.fmt], (name, resp.headers)
        if req.boolean is not None:
            # after a refused update, what it would have written is absent
            expected = False if update_test else req.boolean
            assert response_boolean(resp) is expected, (name, resp.text)


def test_the_w3c_manifest_is_complete():
    assert len(W3C_TESTS) == 34
    assert sum(1 for t in W3C_TESTS if not str(t).split("#")[-1].startswith(("update_", "bad_update_"))) == 21


# -- datasets -----------------------------------------------------------------------------------

KASEI = "http://kasei.us/2009/09/sparql/data/"


def test_from_names_the_default_graph(http):
    everything = count(http, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert everything > 20_000  # no dataset: the union of all graphs
    assert count(http, f"SELECT (COUNT(*) AS ?n) FROM <{KASEI}data1.rdf> WHERE {{ ?s ?p ?o }}") == 1
    assert count(http, f"SELECT (COUNT(*) AS ?n) FROM <{KASEI}data1.rdf> FROM <{KASEI}data2.rdf> WHERE {{ ?s ?p ?o }}") == 2
    # a graph that does not exist is an empty default graph, not everything
    assert count(http, "SELECT (COUNT(*) AS ?n) FROM <http://example.org/nothing> WHERE { ?s ?p ?o }") == 0


def test_from_named_names_the_graphs_graph_sees(http):
    q = f"SELECT (COUNT(DISTINCT ?g) AS ?n) FROM NAMED <{KASEI}data1.rdf> FROM NAMED <{KASEI}data3.rdf> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert count(http, q) == 2
    # FROM NAMED alone leaves the default graph empty; FROM alone leaves no named graph
    assert count(http, f"SELECT (COUNT(*) AS ?n) FROM NAMED <{KASEI}data1.rdf> WHERE {{ ?s ?p ?o }}") == 0
    assert count(http, f"SELECT (COUNT(*) AS ?n) FROM <{KASEI}data1.rdf> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}") == 0


def test_protocol_dataset_replaces_the_querys(http):
    q = f"SELECT (COUNT(*) AS ?n) FROM <{KASEI}data1.rdf> WHERE {{ ?s ?p ?o }}"
    assert count(http, q, **{"default-graph-uri": [f"{KASEI}data2.rdf", f"{KASEI}data3.rdf"]}) == 2
    # named-graph-uri alone: the default graph is empty (SPARQL 1.1 Protocol §2.1.4)
    assert count(http, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **{"named-graph-uri": f"{KASEI}data1.rdf"}) == 0
    assert count(http, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": f"{KASEI}data1.rdf"}) == 1
    # the same parameters in a form body
    r = http.post("/sparql", data={"query": q, "default-graph-uri": f"{KASEI}data3.rdf"})
    assert bindings(r)[0]["n"]["value"] == "1"


def test_relative_iris_resolve_against_the_endpoint(http, protocol_server):
    r = http.post("/sparql", content=b"CONSTRUCT { <s> <p> <o> } WHERE {}",
                  headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"})
    assert r.status_code == 200, r.text
    base = protocol_server.url + "/"
    assert r.text.strip() == f"<{base}s> <{base}p> <{base}o> ."
    # the query's own BASE wins
    r = http.get("/sparql", params={"query": "BASE <http://example.org/> SELECT (<x> AS ?x) {}"})
    assert bindings(r)[0]["x"]["value"] == "http://example.org/x"


# -- protocol errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,kwargs,status", [
    ("GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", {}, 400),
    ("POST", "/sparql", {"content": b"query=ASK%7B%7D&query=ASK%7B%7D",
                         "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400),
    ("POST", "/sparql?query=ASK%7B%7D", {"data": {"query": "ASK {}"}}, 400),
    ("POST", "/sparql?query=ASK%7B%7D", {"content": b"ASK {}", "headers": {"Content-Type": "application/sparql-query"}}, 400),
    ("GET", "/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri", {}, 400),
    ("GET", "/sparql?query=ASK%7B%7D&named-graph-uri=relative", {}, 400),
    ("POST", "/sparql", {"data": {"query": "ASK {}", "named-graph-uri": "http://a b"}}, 400),
    ("POST", "/sparql", {"content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
    ("POST", "/sparql", {"content": "ASK {}".encode("utf-16"),
                         "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415),
    ("POST", "/sparql", {"content": b"query=ASK%20%7B%7D%FF", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400),
    ("POST", "/sparql", {"content": b"query=ASK {}\xff", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400),
    ("PUT", "/sparql?query=ASK%7B%7D", {}, 405),
])
def test_protocol_errors_are_4xx(http, method, path, kwargs, status):
    r = http.request(method, path, **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["detail"]


def test_a_form_body_without_charset_is_utf8(http):
    unit = "东莞市清溪镇政务服务中心"
    query = f'SELECT (COUNT(*) AS ?n) WHERE {{ ?u a bkg:BudgetUnit ; rdfs:label "{unit}" }}'
    # the raw UTF-8 bytes of the query, unescaped, as some clients send them
    body = b"query=" + query.replace("+", "%2B").replace("&", "%26").encode("utf-8")
    r = http.post("/sparql", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert bindings(r)[0]["n"]["value"] == "1"
    # percent-escaped UTF-8, and the same with charset=UTF-8 said explicitly
    escaped = b"query=" + quote(query).encode("ascii")
    for ctype in ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8"):
        r = http.post("/sparql", content=escaped, headers={"Content-Type": ctype})
        assert bindings(r)[0]["n"]["value"] == "1"


# -- result cap and paging ---------------------------------------------------------------------

INDICATOR_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s a bkg:PerformanceIndicator ; ?p ?o }"


def test_sparqlwrapper_pages_past_the_cap(protocol_server, http):
    from SPARQLWrapper import JSON, SPARQLWrapper

    total = count(http, "SELECT (COUNT(*) AS ?n) WHERE { ?s a bkg:PerformanceIndicator ; ?p ?o }")
    assert total > 2 * RESULT_CAP
    s = SPARQLWrapper(protocol_server.url + "/sparql")
    s.setReturnFormat(JSON)
    s.setQuery(INDICATOR_TRIPLES)
    first = s.query()
    assert first.info()["x-budgetkg-truncated"] == "true" and first.info()["x-budgetkg-result-cap"] == str(RESULT_CAP)
    assert len(first.convert()["results"]["bindings"]) == RESULT_CAP
    # paging as the README says: a stable order, pages no longer than the cap
    rows: set[tuple] = set()
    offset = 0
    while True:
        s.setQuery(f"{INDICATOR_TRIPLES} ORDER BY ?s ?p ?o LIMIT {RESULT_CAP} OFFSET {offset}")
        res = s.query()
        page = res.convert()["results"]["bindings"]
        assert res.info()["x-budgetkg-truncated"] == "false"
        rows |= {(b["s"]["value"], b["p"]["value"], b["o"]["value"]) for b in page}
        if len(page) < RESULT_CAP:
            break
        offset += RESULT_CAP
    assert len(rows) == total


def test_sparqlwrapper_follows_the_next_links(protocol_server, http):
    from SPARQLWrapper import JSON, SPARQLWrapper

    total = count(http, "SELECT (COUNT(*) AS ?n) WHERE { ?s a bkg:PerformanceIndicator ; ?p ?o }")
    r = http.get("/sparql", params={"query": INDICATOR_TRIPLES + " ORDER BY ?s ?p ?o"})
    first = bindings(r)
    link = re.fullmatch(r'<(.+)>; rel="next"', r.headers["link"]).group(1)
    assert r.json()["head"]["link"] == [link]
    # the link is an ordinary GET of the next page: a client can follow it as it is
    s = SPARQLWrapper(link.split("?")[0])
    s.setReturnFormat(JSON)
    s.setQuery(httpx.URL(link).params["query"])
    second = s.query().convert()["results"]["bindings"]
    assert len(first) == len(second) == RESULT_CAP and first != second
    assert total > 2 * RESULT_CAP


def test_rdflib_sparqlstore_pages_past_the_cap(protocol_server, http):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    doc = bindings(http.get("/sparql", params={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                                                        "GROUP BY ?g ORDER BY DESC(?n) LIMIT 1"}))[0]
    graph_iri, total = doc["g"]["value"], int(doc["n"]["value"])
    assert total > 2 * RESULT_CAP
    g = rdflib.Graph(store=SPARQLStore(protocol_server.url + "/sparql", returnFormat="json"),
                     identifier=rdflib.URIRef(graph_iri))  # sent as default-graph-uri
    assert len(list(g.triples((None, None, None)))) == RESULT_CAP  # one request: the cap
    triples = set()
    g.LIMIT = RESULT_CAP  # rdflib's SPARQLStore paging: ORDER BY … LIMIT … OFFSET …
    g.OFFSET = 0
    while True:
        page = list(g.triples((None, None, None)))
        triples |= set(page)
        if len(page) < RESULT_CAP:
            break
        g.OFFSET += RESULT_CAP
    assert len(triples) == total


# -- every endpoint: CORS, HEAD, OPTIONS, gzip -------------------------------------------------

GET_ENDPOINTS = ["/sparql?query=ASK%7B%7D", "/api/health", "/api/search?q=%E7%A7%9F%E8%B5%81", "/", "/sparql",
                 "/openapi.json", "/static/favicon.svg"]


@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_head_is_get_without_a_body(http, path):
    get = http.get(path, headers={"Accept-Encoding": "identity"})
    head = http.head(path, headers={"Accept-Encoding": "identity"})
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if "content-length" in get.headers and path not in ("/api/health",):
        assert head.headers["content-length"] == get.headers["content-length"]


@pytest.mark.parametrize("path,methods", [("/sparql", "GET, HEAD, OPTIONS, POST"), ("/api/search", "GET, HEAD, OPTIONS"),
                                          ("/api/health", "GET, HEAD, OPTIONS"), ("/static/favicon.svg", "GET, HEAD, OPTIONS")])
def test_options_lists_the_methods(http, path, methods):
    r = http.options(path)
    assert r.status_code == 204 and r.headers["allow"] == methods


def test_options_of_an_unknown_path_is_404(http):
    assert http.options("/no-such-page").status_code == 404


def test_cors_lets_a_browser_client_on_another_origin_read_results(http):
    origin = "https://yasgui.example.org"
    pre = http.options("/sparql", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"].lower()
    r = http.post("/sparql", content=b"SELECT * WHERE { ?s ?p ?o }",
                  headers={"Origin": origin, "Content-Type": "application/sparql-query"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    exposed = r.headers["access-control-expose-headers"].lower()
    assert "x-budgetkg-truncated" in exposed and "link" in exposed
    s = http.get("/api/search", params={"q": "租赁"}, headers={"Origin": origin})
    assert s.headers["access-control-allow-origin"] == "*"


def test_gzip_when_the_client_accepts_it(http):
    q = {"query": "SELECT * WHERE { ?s ?p ?o }"}
    plain = http.get("/sparql", params=q, headers={"Accept-Encoding": "identity"})
    with httpx.stream("GET", str(http.base_url.join("/sparql")), params=q, headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip" and "Accept-Encoding" in r.headers["vary"]
        assert int(r.headers["content-length"]) == len(raw) < len(plain.content) / 3
    assert gzip.decompress(raw) == plain.content
    page = http.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "<html" in page.text
    js = http.get("/static/vendor/swagger-ui/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and js.headers["content-encoding"] == "gzip" and len(js.content) > 100_000


# -- the README's curl examples ------------------------------------------------------------------

def readme_curl_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    commands = []
    for block in blocks:
        for cmd in re.split(r"(?<!\\)\n", block.strip()):
            cmd = cmd.replace("\\\n", " ")
            if cmd.startswith("curl ") and "127.0.0.1:8000" in cmd:
                commands.append(cmd)
    return commands


def test_readme_curl_examples_work(protocol_server):
    commands = readme_curl_commands()
    assert len(commands) >= 4
    for cmd in commands:
        argv = [a.replace("http://127.0.0.1:8000", protocol_server.url) for a in shlex.split(cmd)]
        out = subprocess.run(argv + ["--fail-with-body", "--max-time", "60"], capture_output=True, timeout=90)
        assert out.returncode == 0, (cmd, out.stdout[-500:], out.stderr[-500:])
        text = out.stdout.decode("utf-8")
        if "-I" in argv:  # the headers of a result cut at the cap
            assert "x-budgetkg-truncated: true" in text.lower() and 'rel="next"' in text, text
        elif "api/search" in cmd or "sparql-results+json" in cmd:
            body = json.loads(text)
            assert body.get("results"), (cmd, text[:300])
        else:
            assert len(text.strip().splitlines()) >= 3, (cmd, text[:300])
