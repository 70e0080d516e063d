"""``/sparql``: a read-only SPARQL 1.1 Protocol endpoint over the whole graph.

- Query by ``GET ?query=``, ``POST`` form (``application/x-www-form-urlencoded``, read as UTF-8 unless
  its ``charset`` says otherwise) or ``POST`` ``application/sparql-query`` (UTF-8). One query per
  request: two ``query`` parameters, or a query both in the URL and in the body, are 400.
- The dataset (SPARQL 1.1 Protocol §2.1.4): ``default-graph-uri`` / ``named-graph-uri`` (URL or
  form) replace the query's own ``FROM`` / ``FROM NAMED``; ``named-graph-uri`` alone leaves the
  default graph empty, as the spec says. A query with no dataset at all runs over the endpoint's
  default dataset: the union of all graphs as default graph, every document graph as named graph.
  An IRI that is not one is 400. Relative IRIs resolve against the endpoint's URL.
- Results by content negotiation (``Accept``, or ``format=`` / ``output=`` as SPARQLWrapper and
  Virtuoso clients send them): SPARQL JSON / XML / CSV / TSV for SELECT and ASK; Turtle,
  N-Triples, JSON-LD, RDF/XML for CONSTRUCT and DESCRIBE.
- Updates (in any form), ``LOAD`` and ``SERVICE`` are refused with 403 before anything runs: the
  server never makes an outbound request because of a query. A malformed query gives 400 with
  the parser's message.
- Each query runs in a worker process (:mod:`api.sparql_pool`) — parsing included, so that no query
  text costs the event loop more than a linear look at its first keyword — with a timeout
  (``--sparql-timeout``, default 30 s) and a memory limit (``--sparql-memory``, default 2 GiB), 503
  when either is exceeded, and a result cap: rows beyond it are dropped, and the response says so
  (``X-Budgetkg-Truncated: true``, ``X-Budgetkg-Result-Cap``, a ``Link: <…>; rel="next"`` to the
  next page when the query does not page itself, the same link in the head of SPARQL JSON / XML
  results, a comment atop Turtle / N-Triples).
- ``GET /sparql`` without a query: the SPARQL 1.1 Service Description (Turtle, JSON-LD, N-Triples
  or RDF/XML); browsers (``Accept: text/html``) are redirected to the query editor ``/sparql-editor``.

Protocol parsing (:func:`protocol_request`), execution (:func:`run_job`) and the HTTP answer
(:func:`query_response`) are separate small steps; formats live in :mod:`api.sparql`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import QueryParams

from api.errors import ApiError, JsonErrorRoute, error_responses
from api.runtime import runtime
from api.sparql import SIMILARITY_IRI, NotAcceptable, QueryInvalid, QueryRefused, negotiate, parse_accept
from api.sparql_check import MAX_QUERY_CHARS, operation
from api.sparql_pool import (Job, MemoryExceeded, Outcome, PoolBusy, QueryFailed, QueryTimeout, SparqlPool,
                             WorkerDied)

log = logging.getLogger("budgetkg.sparql")

EDITOR_PATH = "/sparql-editor"
#: largest request body read (bytes): the longest query, percent-encoded, with room for the rest
MAX_BODY_BYTES = 4 * MAX_QUERY_CHARS * 3

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

SPARQL_DESCRIPTION = """SPARQL 1.1 查询端点（只读）。查询方式：`GET ?query=`、`POST` 表单（UTF-8）、`POST application/sparql-query`；
每个请求只能有一个查询（重复的 `query` 参数、URL 与请求体同时给出查询均返回 400）。
数据集：`default-graph-uri` / `named-graph-uri` 优先于查询中的 `FROM` / `FROM NAMED`（只给 `named-graph-uri` 时默认图为空）；
查询和协议都未指定数据集时，默认图为全部图的并集。相对 IRI 以端点地址为基准解析。
结果格式按 `Accept` 协商：SELECT/ASK 为 SPARQL JSON、XML、CSV、TSV；CONSTRUCT/DESCRIBE 为 Turtle、N-Triples、
JSON-LD、RDF/XML。更新、`LOAD`、`SERVICE` 一律拒绝（403）；语法错误、嵌套过深返回 400 及解析器信息；超时或超出内存限制返回 503；
结果超过上限时截断：响应头 `X-Budgetkg-Truncated: true`、`X-Budgetkg-Result-Cap`，查询本身没有 LIMIT/OFFSET 时
`Link: <…>; rel="next"` 给出下一页（SPARQL JSON/XML 结果的 head 中也有此链接）；翻页请用 `ORDER BY … LIMIT … OFFSET …`。
不带查询的 GET 返回服务描述（SPARQL Service Description），浏览器则转到查询编辑器 `/sparql-editor`。
""" + SIMILARITY_DOC

def _cookbook_examples() -> dict[str, dict]:
    """OpenAPI examples of the query parameter: the query cookbook (ontology/queries, tested)."""
    from ontology import cookbook

    return {q.name: {"summary": q.title, "description": q.description, "value": q.text} for q in cookbook()}


COOKBOOK_EXAMPLES = _cookbook_examples()
#: the example of a POSTed query: the cookbook's totals per region and year
EXAMPLE_QUERY = COOKBOOK_EXAMPLES["totals-by-region-year"]["value"]


router = APIRouter(route_class=JsonErrorRoute, tags=["SPARQL"])


# -- protocol ---------------------------------------------------------------------------------

DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")
FORMAT_PARAMS = ("format", "output", "results")
FORM = "application/x-www-form-urlencoded"


@dataclass
class ProtocolRequest:
    query: str | None = None
    update: str | None = None
    default_graph: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    fmt: str | None = None


def protocol_error(detail: str) -> ApiError:
    return ApiError(400, "请求不符合 SPARQL 协议 bad SPARQL protocol request", detail)


def _one(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise protocol_error(f"{len(values)} {name} parameters; give exactly one")
    return values[0] if values else None


def _iris(values: list[str], name: str) -> list[str]:
    """Protocol graph IRIs, each checked (a bad one is the client's error, never the worker's)."""
    for v in values:
        try:
            ox.NamedNode(v)
        except ValueError as exc:
            raise protocol_error(f"{name}={v!r} is not an absolute IRI ({exc})") from exc
    return values


def _operation(url: QueryParams, body: list[tuple[str, str]], body_query: str | None = None) -> ProtocolRequest:
    """The protocol operation from the URL's parameters and the body's (form fields, or a query)."""
    def values(name: str, where: list[tuple[str, str]]) -> list[str]:
        return [v for k, v in where if k == name]

    url_items = list(url.multi_items())
    queries = values("query", url_items) + values("query", body)
    if body_query is not None:
        queries.append(body_query)
    if values("query", url_items) and (values("query", body) or body_query is not None):
        raise protocol_error("the query is given both in the URL and in the body; give it once")
    updates = values("update", url_items) + values("update", body)
    fmt = next((v for n in FORMAT_PARAMS for v in values(n, body) + values(n, url_items) if v), None)
    return ProtocolRequest(query=_one(queries, "query"), update=updates[0] if updates else None,
                           default_graph=_iris(values("default-graph-uri", url_items + body), "default-graph-uri"),
                           named_graphs=_iris(values("named-graph-uri", url_items + body), "named-graph-uri"), fmt=fmt)


def _media_type(request: Request) -> tuple[str, str | None]:
    """(media type, charset parameter) of the request body."""
    fields = [f.strip() for f in request.headers.get("content-type", "").split(";")]
    charset = next((f.split("=", 1)[1].strip().strip('"').lower() for f in fields[1:] if f.lower().startswith("charset=")), None)
    return fields[0].lower(), charset


async def _body_text(request: Request, charset: str | None, what: str) -> str:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "查询过长 query too long", f"the request body has {len(body)} bytes; at most {MAX_BODY_BYTES}")
    try:
        return body.decode(charset or "utf-8")
    except LookupError as exc:
        raise ApiError(415, "不支持的字符集 unsupported charset", f"{what} in charset {charset!r}: send UTF-8") from exc
    except UnicodeDecodeError as exc:
        raise protocol_error(f"{what} is not {charset or 'UTF-8'} text ({exc})") from exc


async def protocol_request(request: Request) -> ProtocolRequest:
    """The protocol operation of a GET or POST request (SPARQL 1.1 Protocol §2.1)."""
    if request.method in ("GET", "HEAD"):
        return _operation(request.query_params, [])
    ctype, charset = _media_type(request)
    if ctype == FORM:
        # a form's percent-escapes and raw bytes are UTF-8 unless the client names another charset
        text = await _body_text(request, charset, "the form")
        try:
            fields = parse_qsl(text, keep_blank_values=True, encoding=charset or "utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            raise protocol_error(f"a percent-escaped form field is not {charset or 'UTF-8'} ({exc})") from exc
        return _operation(request.query_params, fields)
    if ctype == "multipart/form-data":
        form = await request.form()
        return _operation(request.query_params, [(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    if ctype == "application/sparql-query":
        if charset not in (None, "utf-8", "utf8"):
            raise ApiError(415, "不支持的字符集 unsupported charset",
                           f"application/sparql-query is UTF-8 (SPARQL 1.1 Protocol §2.1.3), not {charset}")
        return _operation(request.query_params, [], body_query=await _body_text(request, None, "the query"))
    if ctype == "application/sparql-update":
        raise ApiError(403, "拒绝执行 query refused", "SPARQL Update is not allowed: this endpoint is read-only")
    if not ctype and not await request.body():
        return _operation(request.query_params, [])  # an empty POST: answered like a GET (400 without a query)
    raise ApiError(415, "不支持的请求类型 unsupported media type",
                   f"POST the query as {FORM} (query=...) or application/sparql-query, not {ctype or 'no content type'}")


def wants_html(request: Request) -> bool:
    ranges = parse_accept(request.headers.get("accept"))
    return bool(ranges) and ranges[0] in ("text/html", "application/xhtml+xml")


# -- execution --------------------------------------------------------------------------------

def query_form(req: ProtocolRequest) -> str | None:
    """Check the operation on the event loop, in time linear in its length: refuse updates (403),
    a missing query (400) or a too long one (413). The query form named by its prologue, or None
    when it names none (the worker's parser will say what is wrong)."""
    if req.update is not None:
        raise ApiError(403, "拒绝执行 query refused", "SPARQL Update is not allowed: this endpoint is read-only")
    query = req.query or ""
    if not query.strip():
        raise ApiError(400, "缺少查询 missing query", "give the SPARQL query as query=... (or POST application/sparql-query)")
    if len(query) > MAX_QUERY_CHARS:
        raise ApiError(413, "查询过长 query too long", f"{len(query)} characters; at most {MAX_QUERY_CHARS}")
    try:
        return operation(query)
    except QueryRefused as exc:
        raise ApiError(403, "拒绝执行 query refused", str(exc)) from exc


def _pool(request: Request) -> SparqlPool:
    pool = runtime(request).sparql
    if pool is None:
        raise ApiError(503, "SPARQL 工作进程未启动 SPARQL workers not started",
                       "the app's start-up (lifespan) has not run: serve it with `budgetkg serve`")
    return pool


async def run_job(request: Request, job: Job) -> Outcome:
    """Run a job in a worker; its failures as HTTP errors."""
    pool = _pool(request)
    try:
        return await pool.run(job)
    except QueryRefused as exc:
        raise ApiError(403, "拒绝执行 query refused", str(exc)) from exc
    except QueryInvalid as exc:
        raise ApiError(400, "查询语法错误 malformed query", str(exc)) from exc
    except NotAcceptable as exc:
        raise ApiError(406, "无法提供所要求的格式 not acceptable", str(exc)) from exc
    except QueryTimeout as exc:
        raise ApiError(503, "查询超时 query timed out",
                       f"the query ran longer than {pool.timeout:g} s and was stopped; narrow the patterns or add LIMIT",
                       headers={"Retry-After": "1"}) from exc
    except MemoryExceeded as exc:
        raise ApiError(503, "查询内存超限 query used too much memory",
                       f"{exc}; narrow the patterns, add LIMIT, or avoid sorting or grouping huge intermediate results") from exc
    except PoolBusy as exc:
        raise ApiError(503, "服务繁忙 server busy", str(exc), headers={"Retry-After": "5"}) from exc
    except (WorkerDied, QueryFailed) as exc:
        raise ApiError(500, "查询执行失败 query failed", str(exc)) from exc


async def run_query(request: Request, query: str, fmt: str | None, cap: int,
                    default_graph: list[str] | None = None, named_graphs: list[str] | None = None) -> Outcome:
    """Run a checked query in a worker: serialised in format ``fmt``, or (``fmt`` None) the IRIs of
    its first variable."""
    job = Job(query=query, fmt=fmt, cap=cap, iris_only=fmt is None, base=endpoint_url(request),
              default_graphs=tuple(default_graph or ()), named_graphs=tuple(named_graphs or ()))
    return await run_job(request, job)


def endpoint_url(request: Request) -> str:
    """This endpoint's URL, the base of relative IRIs (SPARQL 1.1 Protocol: it "MAY be the service endpoint")."""
    return str(request.url.replace(query="", fragment=""))


def query_response(outcome: Outcome, cap: int) -> Response:
    headers = {"Vary": "Accept", "X-Budgetkg-Truncated": "true" if outcome.truncated else "false",
               "X-Budgetkg-Result-Cap": str(cap), "X-Budgetkg-Query-Seconds": f"{outcome.seconds:.4f}"}
    if outcome.rows is not None:
        headers["X-Budgetkg-Rows"] = str(outcome.rows)
    if outcome.next_page:
        headers["Link"] = f'<{outcome.next_page}>; rel="next"'
    return Response(outcome.body, media_type=outcome.media, headers=headers)


async def answer(request: Request, req: ProtocolRequest) -> Response:
    if req.query is None and req.update is None and request.method in ("GET", "HEAD"):
        return await service_description(request)
    query_form(req)
    cap = runtime(request).settings.result_cap
    dataset = [(n, g) for n, gs in zip(DATASET_PARAMS, (req.default_graph, req.named_graphs)) for g in gs]
    job = Job(query=req.query, accept=request.headers.get("accept"), fmt=req.fmt, cap=cap, base=endpoint_url(request),
              default_graphs=tuple(req.default_graph), named_graphs=tuple(req.named_graphs),
              endpoint=endpoint_url(request), dataset_params=tuple(dataset))
    return query_response(await run_job(request, job), cap)


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
    rt = runtime(request)
    return await run_in_threadpool(rt.once, "sd_facts", lambda: dataset_facts(rt.store))


def example_triples(svc) -> list:
    """The query cookbook (``ontology/queries/*.rq``, every query tested against the samples) as the
    service's examples: ``svc bkg:exampleQuery [ a bkg:ExampleQuery ; dcterms:title ; dcterms:description ;
    rdf:value "the query" ]``."""
    from ontology import BKG, cookbook

    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    rdf_value = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#value")
    dct = "http://purl.org/dc/terms/"
    out = []
    for q in cookbook():
        ex = ox.BlankNode(f"example-{q.name}")
        out += [ox.Triple(svc, ox.NamedNode(str(BKG.exampleQuery)), ex),
                ox.Triple(ex, rdf_type, ox.NamedNode(str(BKG.ExampleQuery))),
                ox.Triple(ex, ox.NamedNode(dct + "identifier"), ox.Literal(q.name)),
                ox.Triple(ex, ox.NamedNode(dct + "title"), ox.Literal(q.title)),
                ox.Triple(ex, ox.NamedNode(dct + "description"), ox.Literal(q.description, language="en")),
                ox.Triple(ex, rdf_value, ox.Literal(q.text))]
    return out


def service_triples(endpoint: str, triples: int, graphs: list[str], timeout: float, cap: int) -> list:
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
        ox.Triple(svc, n(DCT + "title"), ox.Literal("预算知识图谱 SPARQL 查询端点")),
        ox.Triple(svc, n(DCT + "title"), ox.Literal("budgetkg SPARQL endpoint", language="en")),
        ox.Triple(svc, n(RDFS + "comment"), ox.Literal(
            f"Read-only: SPARQL Update, LOAD and SERVICE are refused. Queries time out after {timeout:g} s; "
            f"at most {cap} rows or triples are returned (X-Budgetkg-Truncated: true when more matched, with a "
            f"Link rel=next to the next page; page with ORDER BY, LIMIT and OFFSET). Without FROM, FROM NAMED, "
            f"default-graph-uri or named-graph-uri, the default graph is the union of all named graphs "
            f"(one per document); with them, the dataset is exactly what they name.", language="en")),
        ox.Triple(fn, RDF_TYPE, n(SD + "Function")),
        ox.Triple(fn, n(RDFS + "label"), ox.Literal("语义相似度")),
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
    out += example_triples(svc)
    for k, g in enumerate(graphs):
        ng = ox.BlankNode(f"graph{k}")
        out += [ox.Triple(ds, n(SD + "namedGraph"), ng), ox.Triple(ng, RDF_TYPE, n(SD + "NamedGraph")),
                ox.Triple(ng, n(SD + "name"), n(g))]
    return out


async def service_description(request: Request) -> Response:
    """The SPARQL 1.1 Service Description, or a redirect to the query editor for browsers."""
    if wants_html(request):
        return RedirectResponse(EDITOR_PATH, status_code=303)
    try:
        fmt = negotiate("CONSTRUCT", request.headers.get("accept"), None)
    except NotAcceptable as exc:
        raise ApiError(406, "无法提供所要求的格式 not acceptable", str(exc)) from exc
    settings = runtime(request).settings
    endpoint = endpoint_url(request)
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
    **error_responses(400, 403, 406, 413, 415, 500, 503),
}


@router.get("/sparql", summary="SPARQL 查询（GET）", description=SPARQL_DESCRIPTION, responses=_QUERY_RESPONSES,
            response_class=Response)
async def sparql_get(
    request: Request,
    query: str | None = Query(None, description="SPARQL 查询（SELECT / ASK / CONSTRUCT / DESCRIBE）；省略时返回服务描述",
                              openapi_examples=COOKBOOK_EXAMPLES),
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
