"""Query planning: which items a search may return (filters, applied before ranking) and how the
filters read from a question are relaxed when they leave nothing.

Explicit parameters (``kind``, ``town``, ``year``, amounts, a SPARQL result's IRIs) make the base
:class:`Filters`, once per search; each reading of the question (the first, then each relaxed one)
adds its filters to a copy of it. Explicit parameters win over the same kind of filter written in
the question.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from .loading import IndexData

#: characters of a question at most (the API and the pages refuse longer ones before asking)
MAX_QUESTION_CHARS = 1000


@dataclass
class Filters:
    """Structured filters, applied before ranking (explicit parameters and words of the question alike)."""

    kind: str = "all"
    town: str | None = None
    year: int | None = None
    years: tuple[int, int] | None = None  # inclusive range
    iris: set[str] | ItemSet | None = None  # a SPARQL result's IRIs, or those resolved once
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    regions: list[str] | None = None  # region labels any of which must be in the item's chain
    units: set[str] | None = None  # budget unit IRIs
    codes: set[str] | None = None  # classification concept IRIs: budget lines must be classified under one
    owner_amounts: bool = False  # amounts of indicators are their projects' (an indicator has none)

    def kind_only(self) -> bool:
        """No filter but the kind: the candidates of such filters are the same for every search."""
        return (self.town is None and self.year is None and self.years is None and self.iris is None
                and self.amount_min is None and self.amount_max is None and not self.regions and not self.units
                and not self.codes)


@dataclass(frozen=True, eq=False)
class ItemSet:
    """The items among the IRIs of a SPARQL result (the ``sparql`` filter), resolved to a mask over
    the index once by :meth:`Candidates.item_set`, so that every search it restricts — a batch,
    a relaxed retry, the same filter asked again — skips touching each IRI string again."""

    mask: np.ndarray  # bool per item of the engine that resolved it
    iris: int  # IRIs in the result, items or not (what the API reports as ``sparql_candidates``)

    @property
    def items(self) -> int:
        return int(self.mask.sum())


def region_matches(query: str, chain: list[str] | tuple[str, ...]) -> bool:
    """清溪 matches 清溪镇; 东莞 matches every town of 东莞市 (the chain holds all ancestors)."""
    from ingest.regions import short_name

    q = query.strip()
    return any(q == r or q == short_name(r) or short_name(q) == short_name(r) for r in chain)


class Candidates:
    """The candidate mask of :class:`Filters` over the items of an index."""

    def __init__(self, data: IndexData):
        self.data = data
        self._kind_masks: dict[str, np.ndarray] = {}

    def mask(self, f: Filters) -> np.ndarray:
        d = self.data
        if f.kind != "all":
            if f.kind not in self._kind_masks:
                self._kind_masks[f.kind] = d.kinds == f.kind
            mask = self._kind_masks[f.kind].copy()
        else:
            mask = d.searchable.copy()
        if f.year is not None:
            mask &= d.years == f.year
        if f.years is not None:
            mask &= (d.years >= f.years[0]) & (d.years <= f.years[1])
        if f.units:
            ids = [d.unit_ids[u] for u in f.units if u in d.unit_ids]
            mask &= np.isin(d.unit_id, np.asarray(ids, dtype=np.int32))
        if f.town:
            ok = np.asarray([region_matches(f.town, c) for c in d.chains] or [False])
            mask &= ok[d.chain_id]
        if f.regions:
            wanted = set(f.regions)
            ok = np.asarray([bool(wanted.intersection(c)) for c in d.chains] or [False])
            mask &= ok[d.chain_id]
        amounts = d.owner_amounts if f.owner_amounts else d.amounts
        if f.amount_min is not None:
            a = np.nan_to_num(amounts, nan=-np.inf)
            mask &= (a >= float(f.amount_min)) if f.min_inclusive else (a > float(f.amount_min))
        if f.amount_max is not None:
            a = np.nan_to_num(amounts, nan=np.inf)
            mask &= (a <= float(f.amount_max)) if f.max_inclusive else (a < float(f.amount_max))
        if f.codes is not None:
            # a code restricts budget lines; projects, indicators and tasks are not filed under codes
            ids = [d.concept_ids[c] for c in f.codes if c in d.concept_ids]
            coded = np.zeros(len(d.items), dtype=bool)
            coded[d.line_concepts[np.isin(d.line_concepts[:, 1], ids), 0]] = True
            mask &= ~d.is_line | coded
        if f.iris is not None:
            mask &= self.item_set(f.iris).mask
        return mask

    @staticmethod
    def key(f: Filters) -> str | None:
        """The cache key of a candidate mask that depends on the kind alone (see :class:`~index.rankers.Counts`)."""
        return f"kind:{f.kind}" if f.kind_only() else None

    def item_set(self, iris) -> ItemSet:
        """The items among ``iris`` as an :class:`ItemSet` (one given is checked and returned)."""
        if isinstance(iris, ItemSet):
            if len(iris.mask) != len(self.data.items):
                raise ValueError(f"an ItemSet of {len(iris.mask)} items cannot restrict an index of {len(self.data.items)}")
            return iris
        if not isinstance(iris, (set, frozenset, dict)):
            iris = set(iris)  # count each IRI once, as a set does
        keep = np.zeros(len(self.data.items), dtype=bool)
        keep[self.indices_of(iris)] = True
        return ItemSet(mask=keep, iris=len(iris))

    def indices_of(self, iris) -> np.ndarray:
        """Item indices of those of ``iris`` that are items (a SPARQL result holds other IRIs too).
        Memory-bound: every IRI string is touched once, ~150–300 ns each when the caches are cold
        (13k IRIs: 2–4 ms); a vectorised lookup by string hash measured no faster, as hashing touches
        the same strings."""
        get = self.data.by_iri.get
        return np.fromiter((n for n in map(get, iris) if n is not None), dtype=np.int64)


def check_length(query: str) -> None:
    if len(query) > MAX_QUESTION_CHARS:
        from .understand import QuestionError

        raise QuestionError(f"问题过长（{len(query)} 字），请不超过 {MAX_QUESTION_CHARS} 字",
                            f"the question has {len(query)} characters; at most {MAX_QUESTION_CHARS}")


#: names of the kinds of item, for notes to the researcher
KIND_NAMES = {"project": "项目", "indicator": "绩效指标", "task": "重点任务", "line": "预算科目行"}
_NOTATION = re.compile(r"[\[\]【】\s\d]+")


def is_notation(source: str) -> bool:
    """A code written as its number (2080104, 【208】), not as its name (普法宣传)."""
    return bool(_NOTATION.fullmatch(source))


class Plan:
    """What one search asks: the base filters of its explicit parameters and the reading of its
    question (None when the question is not read), with notes on what was not applied as asked."""

    def __init__(self, query: str, lexicon, *, kind: str | None, town: str | None, year: int | None,
                 iris: ItemSet | None, amount_min: Decimal | None, amount_max: Decimal | None,
                 parse: bool, off: tuple[str, ...] | list[str], kinds_with_amounts=frozenset(KIND_NAMES)):
        self.query = query
        self.base = Filters(kind=kind or "all", town=town, year=year, iris=iris, amount_min=amount_min,
                            amount_max=amount_max)
        self.explicit = {"kind": kind is not None, "town": town is not None, "year": year is not None,
                         "amount": amount_min is not None or amount_max is not None}
        self.kinds_with_amounts = kinds_with_amounts
        self.notes: list[str] = []
        self.interp = None
        if parse and lexicon is not None and query.strip():
            self.interp = read_question(query, lexicon, off, kind)
            self._keep_code_names()

    def _keep_code_names(self) -> None:
        # a code's name restricts budget lines only; projects, indicators and tasks about 普法宣传 are
        # found by its words, so they stay in the text to rank by
        from .understand import text_without

        named = [f for f in self.interp.filters if f.kind == "code" and not is_notation(f.source)]
        if named:
            self.interp.text = text_without(self.interp.query, [f for f in self.interp.filters
                                                                 if not any(f is g for g in named)])

    @property
    def text(self) -> str:
        """The words to rank by (the whole question when nothing was read from it as a filter)."""
        text = self.interp.text if self.interp is not None else self.query
        return text or self.query

    def filters(self) -> Filters:
        f = replace(self.base)
        if self.interp is not None:
            apply(self.interp, f, self.explicit)
        self._amounts_of_kind(f)
        return f

    def _amounts_of_kind(self, f: Filters) -> None:
        """An amount asked of a kind that has none says so instead of silently finding nothing:
        indicators are filtered by their project's amount; other kinds without amounts ignore it."""
        if (f.amount_min is None and f.amount_max is None) or f.kind == "all" or f.kind in self.kinds_with_amounts:
            return
        if f.kind == "indicator" and "project" in self.kinds_with_amounts:
            f.owner_amounts = True
            self.note("绩效指标本身没有金额：金额条件按指标所属项目的金额筛选")
        else:
            f.amount_min = f.amount_max = None
            self.note(f"{KIND_NAMES.get(f.kind, f.kind)}没有金额：金额条件未应用")

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def relaxations(self) -> Iterator[None]:
        """Turn the ambiguous filters of the question back into text, the last first, one at a time
        (a word that is both a place and part of a name must not remove the only matches); the
        caller searches again after each and stops when it has results."""
        from .understand import relax

        if self.interp is None:
            return
        for i, flt in reversed(list(enumerate(self.interp.filters))):
            if flt.kind in ("region", "unit", "code") and flt.ambiguous:
                self.interp = relax(self.interp, i, note=f"“{flt.source}”既是地名/科目也出现在项目名称中：没有同时满足的结果，已改作检索词")
                self._keep_code_names()
                yield

    def interpretation(self) -> dict | None:
        """The reading of the question for the response, with the plan's notes."""
        if self.interp is None:
            return None
        d = self.interp.as_dict()
        d["notes"] += [n for n in self.notes if n not in d["notes"]]
        return d


def read_question(query: str, lexicon, off, kind: str | None = None) -> object:
    """The filters written in ``query`` (an :class:`~index.understand.Interpretation`), without
    those the researcher turned off (``off``: their words stay search text). A classification code
    restricts budget lines; when the search is for other kinds only it is search text."""
    from .understand import relax, understand

    interp = understand(query, lexicon)
    asked = {kind} if kind and kind != "all" else {f.value for f in interp.filters if f.kind == "kind"}
    lines = not asked or "line" in asked
    for i in reversed(range(len(interp.filters))):
        flt = interp.filters[i]
        if flt.source in off:
            interp = relax(interp, i, note=f"“{flt.source}”按检索词处理（已取消该筛选）")
        elif flt.kind == "code" and not lines:
            # projects, indicators and tasks are not filed under classification codes: the code's
            # name says what the question is about, so it stays in the text to rank by
            interp = relax(interp, i, note=f"“{flt.source}”是预算科目（{flt.label}）：项目、指标和任务不按科目编列，按检索词处理")
        elif flt.kind == "code":
            interp.notes.append(f"“{flt.source}”是预算科目（{flt.label}）：预算科目行按该科目筛选"
                                + ("" if is_notation(flt.source) else "，项目、指标和任务按检索词检索"))
    return interp


def apply(interp, f: Filters, explicit: dict[str, bool]) -> None:
    """Add the filters of a reading of the question to ``f`` (explicit parameters win)."""
    regions: list[str] = []
    units: set[str] = set()
    codes: set[str] = set()
    notation = False
    for flt in interp.filters:
        if flt.kind == "region" and not explicit["town"]:
            regions.extend(flt.value)
        elif flt.kind == "unit" and not explicit["town"]:
            units.add(flt.value)
        elif flt.kind == "year" and not explicit["year"]:
            a, b = flt.value
            f.years = (max(a, f.years[0]), min(b, f.years[1])) if f.years else (a, b)
        elif flt.kind == "amount" and not explicit["amount"]:
            lo, hi, inc_lo, inc_hi = flt.value
            if lo is not None and (f.amount_min is None or lo > f.amount_min):
                f.amount_min, f.min_inclusive = lo, inc_lo
            if hi is not None and (f.amount_max is None or hi < f.amount_max):
                f.amount_max, f.max_inclusive = hi, inc_hi
        elif flt.kind == "kind" and not explicit["kind"]:
            kinds = {x.value for x in interp.filters if x.kind == "kind"}
            f.kind = flt.value if len(kinds) == 1 else "all"
        elif flt.kind == "code":
            codes.update(flt.iris)
            notation = notation or is_notation(flt.source)
    if regions:
        f.regions = regions
    if units:
        f.units = units
    if codes:
        f.codes = codes
        if notation and f.kind == "all":
            f.kind = "line"  # a code's number says nothing about projects, indicators or tasks
