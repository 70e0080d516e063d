"""Query planning: which items a search may return (filters, applied before ranking) and how the
filters read from a question are relaxed when they leave nothing.

Explicit parameters (``kind``, ``town``, ``year``, amounts, a SPARQL result's IRIs) make the base
:class:`Filters`, once per search; each reading of the question (the first, then each relaxed one)
adds its filters to a copy of it. Explicit parameters win over the same kind of filter written in
the question.
"""
from __future__ import annotations

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

    def kind_only(self) -> bool:
        """No filter but the kind: the candidates of such filters are the same for every search."""
        return (self.town is None and self.year is None and self.years is None and self.iris is None
                and self.amount_min is None and self.amount_max is None and not self.regions and not self.units)


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
        if f.amount_min is not None:
            a = np.nan_to_num(d.amounts, nan=-np.inf)
            mask &= (a >= float(f.amount_min)) if f.min_inclusive else (a > float(f.amount_min))
        if f.amount_max is not None:
            a = np.nan_to_num(d.amounts, nan=np.inf)
            mask &= (a <= float(f.amount_max)) if f.max_inclusive else (a < float(f.amount_max))
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


class Plan:
    """What one search asks: the base filters of its explicit parameters and the reading of its
    question (None when the question is not read)."""

    def __init__(self, query: str, lexicon, *, kind: str | None, town: str | None, year: int | None,
                 iris: ItemSet | None, amount_min: Decimal | None, amount_max: Decimal | None,
                 parse: bool, off: tuple[str, ...] | list[str]):
        self.query = query
        self.base = Filters(kind=kind or "all", town=town, year=year, iris=iris, amount_min=amount_min,
                            amount_max=amount_max)
        self.explicit = {"kind": kind is not None, "town": town is not None, "year": year is not None,
                         "amount": amount_min is not None or amount_max is not None}
        self.interp = read_question(query, lexicon, off) if parse and lexicon is not None and query.strip() else None

    @property
    def text(self) -> str:
        """The words to rank by (the whole question when nothing was read from it as a filter)."""
        text = self.interp.text if self.interp is not None else self.query
        return text or self.query

    def filters(self) -> Filters:
        f = replace(self.base)
        if self.interp is not None:
            apply(self.interp, f, self.explicit)
        return f

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
                yield


def read_question(query: str, lexicon, off) -> object:
    """The filters written in ``query`` (an :class:`~index.understand.Interpretation`), without
    those the researcher turned off (``off``: their words stay search text)."""
    from .understand import relax, understand

    interp = understand(query, lexicon)
    for i in reversed(range(len(interp.filters))):
        flt = interp.filters[i]
        if flt.source in off:
            interp = relax(interp, i, note=f"“{flt.source}”按检索词处理（已取消该筛选）")
        elif flt.kind == "code":
            # projects and indicators are not filed under classification codes: the code's
            # name says what the question is about, so it stays in the text to rank by
            interp = relax(interp, i, note=f"“{flt.source}”是预算科目（{flt.label}）：项目不按科目编列，按检索词处理")
    return interp


def apply(interp, f: Filters, explicit: dict[str, bool]) -> None:
    """Add the filters of a reading of the question to ``f`` (explicit parameters win)."""
    regions: list[str] = []
    units: set[str] = set()
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
    if regions:
        f.regions = regions
    if units:
        f.units = units
