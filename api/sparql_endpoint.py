"""``/sparql``: a read-only SPARQL 1.1 Protocol endpoint over the whole graph.

- Query by ``GET ?query=``, ``POST`` form (``application/x-www-form-urlencoded``) or ``POST``
  ``application/sparql-query``; ``default-graph-uri`` / ``named-graph-uri`` are honoured (without
  them the default graph is the union of all graphs).
- Results by content negotiation (``Accept``, or ``format=`` / ``output=`` as SPARQLWrapper and
  Virtuoso clients send them): SPARQL JSON / XML / CSV / TSV for SELECT and ASK; Turtle,
  N-Triples, JSON-LD, RDF/XML for CONSTRUCT and DESCRIBE.
- Updates (in any form), ``LOAD`` and ``SERVICE`` are refused with 403 before anything runs: the
  server never makes an outbound request because of a query. A malformed query gives 400 with
  the parser's message.
- Each query runs in a worker process (:mod:`api.sparql_pool`) with a timeout (``--sparql-timeout``,
  default 30 s; 503 when exceeded) and a result cap (rows beyond it are dropped and the response
  says ``X-Budgetkg-Truncated: true``).
- ``GET /sparql`` without a query: the SPARQL 1.1 Service Description (Turtle, JSON-LD, N-Triples
  or RDF/XML); browsers (``Accept: text/html``) are redirected to the query editor ``/sparql-editor``.

Protocol parsing (:func:`protocol_request`), execution (:func:`run_query`) and the HTTP answer
(:func:`query_response`) are separate small steps; formats live in :mod:`api.sparql`.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import numpy as np
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from api.errors import ApiError, JsonErrorRoute, error_responses
from api.sparql import (SIMILARITY_IRI, NotAcceptable, QueryInvalid, QueryRefused, check_read_only,
                        negotiate, parse_accept, similarity_literals)
from api.sparql_pool import LRU, Job, Outcome, PoolBusy, QueryFailed, QueryTimeout, SparqlPool, WorkerDied

log = logging.getLogger("budgetkg.sparql")

#: longest query text accepted (characters)
MAX_QUERY_CHARS = 100_000
DEFAULT_WORKERS = 2
EDITOR_PATH = "/sparql-editor"

SIMILARITY_DOC = f"""
**扩展函数 `bkg:similarity(?text, "查询文本")`**（IRI `{SIMILARITY_IRI}`）返回 `?text` 与查询文本的语义相似度
（multilingual-e5 向量的余弦，`xsd:double`；e5 的余弦普遍偏高：相关文本通常在 0.88 以上，无关文本多在 0.80–0.86），
可在同一个查询里按语义排序和过滤：

```sparql
SELECT ?p ?name ?score WHERE {{
  ?p a bkg:Project ; rdfs:label ?name .
  BIND(bkg:similarity(?name, "自助终端 租赁") AS ?score)
}} ORDER BY DESC(?score) LIMIT 10
```

```sparql
SELECT ?i ?text ?target WHERE {{
  ?i a bkg:PerformanceIndicator ; rdfs:label ?text ; bkg:annualTarget ?target .
  FILTER(bkg:similarity(?text, "群众满意度") > 0.88)
}}
```

`?text` 的向量取自检索索引的向量缓存（项目名称、目标、指标、任务等已建索引的文本）；其他文本（如单位名称、科目名称）
由服务器已加载的模型批量计算并记住（首次约每条 15–30 毫秒），超时限制同样适用。使用该函数的查询会执行两遍：
第一遍只收集要比较的文本以便一次取得全部向量，第二遍给出结果。
`?text` 不是字面量（例如 IRI）时结果未绑定。前缀 `bkg:` 等已预先声明，可省略 PREFIX。
"""

SPARQL_DESCRIPTION = """SPARQL 1.1 查询端点（只读）。查询方式：`GET ?query=`、`POST` 表单、`POST application/sparql-query`。
结果格式按 `Accept` 协商：SELECT/ASK 为 SPARQL JSON、XML、CSV、TSV；CONSTRUCT/DESCRIBE 为 Turtle、N-Triples、
JSON-LD、RDF/XML。更新、`LOAD`、`SERVICE` 一律拒绝（403）；语法错误返回 400 及解析器信息；超时返回 503；
结果超过上限时截断并返回响应头 `X-Budgetkg-Truncated: true`。不带查询的 GET 返回服务描述（SPARQL Service
Description），浏览器则转到查询编辑器 `/sparql-editor`。
""" + SIMILARITY_DOC

EXAMPLE_QUERY = ("SELECT ?p ?name ?amount WHERE { ?p a bkg:Project ; rdfs:label ?name ; bkg:amount ?amount } "
                 "ORDER BY DESC(?amount) LIMIT 5")


class QueryEmbeddings:
    """Vectors for the similarity function, computed by the server's loaded model and remembered:
    ``embeddings("query" | "passage", [texts])`` → one vector (or None) per text."""

    def __init__(self, engine):
        self.engine = engine
        self.memory = LRU(20_000)
        self.lock = threading.Lock()

    def __call__(self, kind: str, texts: list[str]) -> list[np.ndarray | None]:
        with self.lock:
            known = {t: self.memory[(kind, t)] for t in texts if (kind, t) in self.memory}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            from index.embedder import EmbedderError

            try:
                vectors = self._embed(kind, todo)
            except (EmbedderError, OSError, RuntimeError, ValueError) as exc:
                log.warning("cannot embed %d %s texts for bkg:similarity: %s", len(todo), kind, exc)
                vectors = [None] * len(todo)
            with self.lock:
                for t, v in zip(todo, vectors):
                    if v is not None:
                        known[t] = self.memory.remember((kind, t), v)
        return [known.get(t) for t in texts]

    def _embed(self, kind: str, texts: list[str]) -> list[np.ndarray]:
        if self.engine.embedder is None:
            self.engine.embed_query("")  # loads the model once
        embedder = self.engine.embedder
        return list(embedder.queries(texts) if kind == "query" else embedder.passages(texts))

    def queries(self, texts: list[str]) -> dict[str, np.ndarray]:
        return {t: v for t, v in zip(texts, self("query", texts)) if v is not None}


def worker_count(settings) -> int:
    n = getattr(settings, "sparql_workers", None) or os.environ.get("BUDGETKG_SPARQL_WORKERS") or DEFAULT_WORKERS
    return max(1, int(n))


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Start the SPARQL workers once the app's store and engine are loaded; stop them at shutdown."""
    from index.build import expected_model_name

    settings = app.state.settings
    embeddings = QueryEmbeddings(app.state.engine)
    pool = SparqlPool(settings.data_dir, expected_model_name(), size=worker_count(settings),
                      timeout=settings.sparql_timeout, embed=embeddings)
    await pool.start()
    app.state.sparql_pool = pool
    app.state.query_embeddings = embeddings
    try:
        yield
    finally:
        await pool.close()


router = APIRouter(route_class=JsonErrorRoute, lifespan=lifespan, tags=["SPARQL"])


# -- protocol ---------------------------------------------------------------------------------

@dataclass
class ProtocolRequest:
    query: str | None = None
    update: str | None = None
    default_graph: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    fmt: str | None = None


def _first(params, *names: str) -> str | None:
    for n in names:
        v = params.get(n)
        if v:
            return v
    return None


def _from_params(params, body_query: str | None = None) -> ProtocolRequest:
    return ProtocolRequest(query=body_query if body_query is not None else params.get("query"),
                           update=params.get("update"),
                           default_graph=params.getlist("default-graph-uri"),
                           named_graphs=params.getlist("named-graph-uri"),
                           fmt=_first(params, "format", "output", "results"))


async def protocol_request(request: Request) -> ProtocolRequest:
    """The protocol operation of a GET or POST request (SPARQL 1.1 Protocol §2.1)."""
    if request.method == "GET":
        return _from_params(request.query_params)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded" or ctype == "multipart/form-data":
        form = await request.form()
        req = _from_params(form)
        url = _from_params(request.query_params)
        req.default_graph = req.default_graph or url.default_graph
        req.named_graphs = req.named_graphs or url.named_graphs
        req.fmt = req.fmt or url.fmt
        return req
    if ctype == "application/sparql-query":
        body = await request.body()
        try:
            return _from_params(request.query_params, body_query=body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ApiError(400, "查询不是 UTF-8 文本 query is not UTF-8", str(exc)) from exc
    if not ctype and not await request.body():
        return _from_params(request.query_params)  # an empty POST: answered like a GET (400 without a query)
    if ctype == "application/sparql-update":
        raise ApiError(403, "拒绝执行 query refused", "SPARQL Update is not allowed: this endpoint is read-only")
    raise ApiError(415, "不支持的请求类型 unsupported media type",
                   f"POST the query as application/x-www-form-urlencoded (query=...) or application/sparql-query, not {ctype or 'no content type'}")


def wants_html(request: Request) -> bool:
    ranges = parse_accept(request.headers.get("accept"))
    return bool(ranges) and ranges[0] in ("text/html", "application/xhtml+xml")


# -- execution --------------------------------------------------------------------------------

def query_form(req: ProtocolRequest) -> str:
    """Check the operation before anything runs: refuse updates, LOAD and SERVICE; size limit."""
    if req.update is not None:
        raise ApiError(403, "拒绝执行 query refused", "SPARQL Update is not allowed: this endpoint is read-only")
    query = req.query or ""
    if not query.strip():
        raise ApiError(400, "缺少查询 missing query", "give the SPARQL query as query=... (or POST application/sparql-query)")
    if len(query) > MAX_QUERY_CHARS:
        raise ApiError(413, "查询过长 query too long", f"{len(query)} characters; at most {MAX_QUERY_CHARS}")
    try:
        return check_read_only(query)
    except QueryRefused as exc:
        raise ApiError(403, "拒绝执行 query refused", str(exc)) from exc
    except QueryInvalid as exc:
        raise ApiError(400, "查询语法错误 malformed query", str(exc)) from exc


async def run_query(request: Request, query: str, fmt: str | None, cap: int,
                    default_graph: list[str] | None = None, named_graphs: list[str] | None = None) -> Outcome:
    """Run a checked query in a worker (``fmt`` None: the IRIs of the first variable)."""
    app = request.app
    pool: SparqlPool | None = getattr(app.state, "sparql_pool", None)
    if pool is None:
        raise ApiError(503, "SPARQL 工作进程未启动 SPARQL workers not started",
                       "the app's start-up (lifespan) has not run: serve it with `budgetkg serve`")
    texts = similarity_literals(query)
    vectors = await run_in_threadpool(app.state.query_embeddings.queries, texts) if texts else {}
    job = Job(query=query, fmt=fmt, cap=cap, query_vectors=vectors,
              default_graph=default_graph or None, named_graphs=named_graphs or None)
    try:
        return await pool.run(job)
    except QueryRefused as exc:
        raise ApiError(403, "拒绝执行 query refused", str(exc)) from exc
    except QueryInvalid as exc:
        raise ApiError(400, "查询语法错误 malformed query", str(exc)) from exc
    except QueryTimeout as exc:
        raise ApiError(503, "查询超时 query timed out",
                       f"the query ran longer than {pool.timeout:g} s and was stopped; narrow the patterns or add LIMIT",
                       headers={"Retry-After": "1"}) from exc
    except PoolBusy as exc:
        raise ApiError(503, "服务繁忙 server busy", str(exc), headers={"Retry-After": "5"}) from exc
    except (WorkerDied, QueryFailed) as exc:
        raise ApiError(500, "查询执行失败 query failed", str(exc)) from exc


def query_response(outcome: Outcome) -> Response:
    headers = {"Vary": "Accept", "X-Budgetkg-Truncated": "true" if outcome.truncated else "false",
               "X-Budgetkg-Query-Seconds": f"{outcome.seconds:.4f}"}
    if outcome.rows is not None:
        headers["X-Budgetkg-Rows"] = str(outcome.rows)
    return Response(outcome.body, media_type=outcome.media, headers=headers)


async def answer(request: Request, req: ProtocolRequest) -> Response:
    if req.query is None and req.update is None:
        if request.method == "GET":
            return await service_description(request)
    form = query_form(req)
    try:
        fmt = negotiate(form, request.headers.get("accept"), req.fmt)
    except NotAcceptable as exc:
        raise ApiError(406, "无法提供所要求的格式 not acceptable", str(exc)) from exc
    outcome = await run_query(request, req.query, fmt, request.app.state.settings.result_cap,
                              req.default_graph, req.named_graphs)
    return query_response(outcome)


# -- service description ----------------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
SD_FORMATS = {"ttl": ("text/turtle", "Turtle"), "jsonld": ("application/ld+json", "JSON-LD"),
              "nt": ("application/n-triples", "N-Triples"), "xml": ("application/rdf+xml", "RDF/XML")}
RESULT_FORMAT_IRIS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                      "Turtle", "N-Triples", "JSON-LD", "RDF_XML"]


def dataset_facts(store) -> tuple[int, list[str]]:
    """(triples in the union of all graphs, named graphs), asked through the store's SPARQL."""
    count = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"]
    graphs = sorted(row["g"].value for row in store.query("SELECT ?g WHERE { GRAPH ?g { } }"))
    return int(count.value), graphs


async def _dataset_facts(request: Request) -> tuple[int, list[str]]:
    """:func:`dataset_facts`, computed once (the data does not change while serving) off the event loop."""
    cached = getattr(request.app.state, "sd_facts", None)
    if cached is None:
        cached = await run_in_threadpool(dataset_facts, request.app.state.store)
        request.app.state.sd_facts = cached
    return cached


def service_triples(endpoint: str, triples: int, graphs: list[str], timeout: float, cap: int) -> list:
    import pyoxigraph as ox

    from ontology import BKG

    RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    RDFS = "http://www.w3.org/2000/01/rdf-schema#"
    DCT = "http://purl.org/dc/terms/"
    VOID = "http://rdfs.org/ns/void#"

    def n(iri: str):
        return ox.NamedNode(iri)

    svc = n(endpoint)
    fn = n(str(BKG.similarity))
    ds, dg = ox.BlankNode("dataset"), ox.BlankNode("defaultGraph")
    out = [
        ox.Triple(svc, RDF_TYPE, n(SD + "Service")),
        ox.Triple(svc, n(SD + "endpoint"), svc),
        ox.Triple(svc, n(SD + "supportedLanguage"), n(SD + "SPARQL11Query")),
        ox.Triple(svc, n(SD + "feature"), n(SD + "UnionDefaultGraph")),
        ox.Triple(svc, n(SD + "extensionFunction"), fn),
        ox.Triple(svc, n(DCT + "title"), ox.Literal("预算知识图谱 SPARQL 查询端点", language="zh")),
        ox.Triple(svc, n(DCT + "title"), ox.Literal("budgetkg SPARQL endpoint", language="en")),
        ox.Triple(svc, n(RDFS + "comment"), ox.Literal(
            f"Read-only: SPARQL Update, LOAD and SERVICE are refused. Queries time out after {timeout:g} s; "
            f"at most {cap} rows or triples are returned (X-Budgetkg-Truncated: true when more matched). "
            f"The default graph is the union of all named graphs (one per document).", language="en")),
        ox.Triple(fn, RDF_TYPE, n(SD + "Function")),
        ox.Triple(fn, n(RDFS + "label"), ox.Literal("语义相似度", language="zh")),
        ox.Triple(fn, n(RDFS + "comment"), ox.Literal(
            'bkg:similarity(?text, "query text") → xsd:double: cosine of the multilingual-e5 embeddings of ?text '
            '(as a passage) and the query text (as a query), before the per-field standardisation /api/search applies.', language="en")),
        ox.Triple(svc, n(SD + "defaultDataset"), ds),
        ox.Triple(ds, RDF_TYPE, n(SD + "Dataset")),
        ox.Triple(ds, n(SD + "defaultGraph"), dg),
        ox.Triple(dg, RDF_TYPE, n(SD + "Graph")),
        ox.Triple(dg, n(VOID + "triples"), ox.Literal(str(triples), datatype=n("http://www.w3.org/2001/XMLSchema#integer"))),
    ]
    out += [ox.Triple(svc, n(SD + "resultFormat"), n(FORMATS + f)) for f in RESULT_FORMAT_IRIS]
    for k, g in enumerate(graphs):
        ng = ox.BlankNode(f"graph{k}")
        out += [ox.Triple(ds, n(SD + "namedGraph"), ng), ox.Triple(ng, RDF_TYPE, n(SD + "NamedGraph")),
                ox.Triple(ng, n(SD + "name"), n(g))]
    return out


async def service_description(request: Request) -> Response:
    """The SPARQL 1.1 Service Description, or a redirect to the query editor for browsers."""
    import pyoxigraph as ox

    if wants_html(request):
        return RedirectResponse(EDITOR_PATH, status_code=303)
    try:
        fmt = negotiate("CONSTRUCT", request.headers.get("accept"), None)
    except NotAcceptable as exc:
        raise ApiError(406, "无法提供所要求的格式 not acceptable", str(exc)) from exc
    settings = request.app.state.settings
    endpoint = str(request.url.replace(query="", fragment=""))
    triples, graphs = await _dataset_facts(request)
    media = SD_FORMATS[fmt][0]
    rdf_format = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD, "nt": ox.RdfFormat.N_TRIPLES,
                  "xml": ox.RdfFormat.RDF_XML}[fmt]
    prefixes = {"sd": SD, "bkg": "https://w3id.org/budgetkg/def#", "dcterms": "http://purl.org/dc/terms/",
                "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "void": "http://rdfs.org/ns/void#", "formats": FORMATS}
    body = ox.serialize(service_triples(endpoint, triples, graphs, settings.sparql_timeout, settings.result_cap),
                        format=rdf_format, prefixes=prefixes if fmt in ("ttl", "xml") else None)
    return Response(body, media_type=media, headers={"Vary": "Accept"})


# -- routes -----------------------------------------------------------------------------------

_QUERY_RESPONSES = {
    200: {"description": "查询结果（格式按 Accept 协商）；无查询时为服务描述",
          "content": {"application/sparql-results+json": {"example": {
              "head": {"vars": ["p", "name"]},
              "results": {"bindings": [{"p": {"type": "uri", "value": "https://w3id.org/budgetkg/id/project/c6cec4138d1e21db"},
                                        "name": {"type": "literal", "value": "专用设备租赁费支出"}}]}}},
                      "application/sparql-results+xml": {}, "text/csv": {}, "text/tab-separated-values": {},
                      "text/turtle": {}, "application/n-triples": {}, "application/ld+json": {}}},
    303: {"description": "浏览器（Accept: text/html）且无查询：转到查询编辑器 /sparql-editor"},
    **error_responses(400, 403, 406, 413, 415, 503),
}


@router.get("/sparql", summary="SPARQL 查询（GET）", description=SPARQL_DESCRIPTION, responses=_QUERY_RESPONSES,
            response_class=Response)
async def sparql_get(
    request: Request,
    query: str | None = Query(None, description="SPARQL 查询（SELECT / ASK / CONSTRUCT / DESCRIBE）；省略时返回服务描述",
                              examples=[EXAMPLE_QUERY]),
    default_graph_uri: list[str] | None = Query(None, alias="default-graph-uri", description="默认图（可多个）；省略时为全部图的并集"),
    named_graph_uri: list[str] | None = Query(None, alias="named-graph-uri", description="可用于 GRAPH 的命名图（可多个）"),
    format: str | None = Query(None, description="结果格式（非标准参数，优先于 Accept）：json、xml、csv、tsv、turtle、nt、json-ld",
                               examples=["json"]),
) -> Response:
    return await answer(request, await protocol_request(request))


@router.post("/sparql", summary="SPARQL 查询（POST）", description=SPARQL_DESCRIPTION, responses=_QUERY_RESPONSES,
             response_class=Response,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["query"], "properties": {
                     "query": {"type": "string", "description": "SPARQL 查询", "example": EXAMPLE_QUERY},
                     "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                     "named-graph-uri": {"type": "array", "items": {"type": "string"}}}}},
                 "application/sparql-query": {"schema": {"type": "string", "example": EXAMPLE_QUERY}}}}})
async def sparql_post(request: Request) -> Response:
    return await answer(request, await protocol_request(request))
