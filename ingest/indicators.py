"""Indicator rows (绩效指标: 一级指标 › 二级指标 › 三级指标 → 指标值) of any target table.

PDF extraction shifts cells, leaves merged cells as empty leading columns, prints a 一级 name in the
二级 column (and the reverse), repeats rows, and leaves placeholder rows with no 三级 indicator.
So a row is read by *vocabulary* first (the SKOS level scheme), by the *number of cells left*
second (a table with k value columns ends every indicator row with at most k values), and by the
header's column positions only to tell a non-standard level name's depth and which value column
a lone value sits in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ontology import BKG

from .records import Indicator, LevelRef, Span
from .targets import parse_target
from .text import Line, key
from .vocab import (
    ANNUAL_VALUE,
    INDICATOR_HEADER,
    INDICATOR_SECTION,
    PERIOD_VALUE,
    Level,
    children,
    level1_of,
    level2_of,
)

UNSPECIFIED_L2 = "未注明二级指标"


def _ref(lv: Level) -> LevelRef:
    return LevelRef(lv.label, lv.depth, lv.iri, lv.parent)


@dataclass
class IndicatorHeader:
    """Column roles read from a heading row such as 一级指标 | 二级指标 | 三级指标 | 实施周期指标值 | 年度指标值."""

    level_cols: dict[int, int]  # column index → depth (1, 2, 3)
    value_cols: list[tuple[int, str]]  # (column index, "period" | "annual")

    @property
    def nvalues(self) -> int:
        return max(1, len(self.value_cols))


def read_header(line: Line) -> IndicatorHeader | None:
    """The header if ``line`` is an indicator heading row (must name 一级/二级/三级 or 指标值 columns)."""
    level_cols: dict[int, int] = {}
    value_cols: list[tuple[int, str]] = []
    for i, cell in enumerate(line.cells):
        k = key(cell)
        if not k:
            continue
        if k in ("一级指标",):
            level_cols[i] = 1
        elif k in ("二级指标",):
            level_cols[i] = 2
        elif INDICATOR_HEADER.match(k):
            level_cols[i] = 3
        elif PERIOD_VALUE.match(k):
            value_cols.append((i, "period"))
        elif ANNUAL_VALUE.match(k):
            value_cols.append((i, "annual"))
    if len(level_cols) >= 2 and 3 in level_cols.values():
        if not value_cols:
            value_cols = [(max(level_cols) + 1, "annual")]
        return IndicatorHeader(level_cols, value_cols)
    return None


def is_section_label(cell: str) -> bool:
    return bool(INDICATOR_SECTION.match(key(cell)))


@dataclass
class IndicatorReader:
    """Reads indicator rows one at a time, carrying the 一级/二级 context across rows."""

    header: IndicatorHeader
    l1: LevelRef | None = None
    l2: LevelRef | None = None
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _seen: set[tuple] = field(default_factory=set)

    # -- level helpers -------------------------------------------------------------------------
    def _is_output(self, ref: LevelRef | None) -> bool:
        return ref is not None and ref.concept == BKG.OutputIndicator

    def _set_l1(self, ref: LevelRef) -> None:
        self.l1, self.l2 = ref, None

    def _set_l2(self, ref: LevelRef) -> None:
        # a standard 二级 implies its 一级: 服务对象满意度指标 printed after 效益 rows belongs to 满意度指标
        if ref.parent is not None and (self.l1 is None or self.l1.concept is not None) and (
            self.l1 is None or self.l1.concept != ref.parent
        ):
            parent = next((lv for lv in _all_levels() if lv.iri == ref.parent), None)
            if parent is not None:
                self.l1 = _ref(parent)
        self.l2 = ref

    def _level_of(self, cell: str, nxt: str | None) -> LevelRef | None:
        lv1, lv2 = level1_of(cell), level2_of(cell)
        if lv1 and lv2:
            # 成本指标: 一级 when a 成本 二级 follows (财预〔2021〕101号), else the older 产出 › 成本指标
            nxt2 = level2_of(nxt) if nxt else None
            if nxt2 is not None and nxt2.parent == lv1.iri:
                return _ref(lv1)
            if self._is_output(self.l1):
                return _ref(lv2)
            return _ref(lv1)
        if lv1:
            return _ref(lv1)
        if lv2:
            return _ref(lv2)
        return None

    def _default_l2(self) -> LevelRef:
        """二级 for an indicator whose row and context name none."""
        if self.l1 is not None and self.l1.concept is not None:
            kids = [k for k in children(self.l1.concept) if k.iri != BKG.OutputCostIndicator]
            if len(kids) == 1:
                return _ref(kids[0])
        return LevelRef(UNSPECIFIED_L2, 2)

    # -- rows ----------------------------------------------------------------------------------
    def row(self, line: Line, text_col: int | None = None) -> None:
        """Read one row; ``text_col`` names a column known to hold the 三级 text (cell-per-line input)."""
        tokens = [(i, c) for i, c in line.filled]
        while tokens and is_section_label(tokens[0][1]):
            tokens = tokens[1:]
        if not tokens:
            return
        nvals = self.header.nvalues
        text: str | None = None
        values: list[tuple[int, str]] = []
        depths_seen: set[int] = set()
        for j, (col, cell) in enumerate(tokens):
            remaining = len(tokens) - j - 1
            if text is not None:
                values.append((col, cell))
                continue
            nxt = tokens[j + 1][1] if j + 1 < len(tokens) else None
            ref = None if col == text_col else self._level_of(cell, nxt)
            # a level name is read once per row: 满意度指标 | 服务对象满意度 | 服务对象满意度 | ≥90%
            # prints the 二级 name again as the 三级 indicator
            if ref is not None and ref.depth not in depths_seen and not (ref.depth == 1 and 2 in depths_seen):
                depths_seen.add(ref.depth)
                self._set_l1(ref) if ref.depth == 1 else self._set_l2(ref)
                continue
            if remaining > nvals:
                # more cells than an indicator and its values need: a level name the standard
                # does not know (成本控制, 部门管理 …); its column says which level
                depth = self.header.level_cols.get(col)
                if depth == 1 or (depth is None and self.l1 is None):
                    self._set_l1(LevelRef(cell, 1))
                else:
                    self.l2 = LevelRef(cell, 2)
                continue
            text = cell
        if text is None:
            return  # placeholder row: only level names (or nothing) — context updated above
        if self.l1 is None:
            self.warnings.append(f"line {line.no}: indicator {text!r} has no 一级指标; row skipped")
            return
        if self.l2 is None or (
            self.l2.parent is not None and self.l1.concept is not None and self.l2.parent != self.l1.concept
        ):
            self.l2 = self._default_l2()
        period, annual = self._assign_values(values, line)
        sig = (self.l1.label, self.l2.label, text, period, annual)
        if sig in self._seen:
            self.warnings.append(f"line {line.no}: duplicated indicator row {text!r} ignored")
            return
        self._seen.add(sig)
        self.indicators.append(
            Indicator(
                text=text,
                level1=self.l1,
                level2=self.l2,
                annual=parse_target(annual),
                period=parse_target(period),
                span=Span(line.no, line.no),
                order=len(self.indicators) + 1,
            )
        )

    def _assign_values(self, values: list[tuple[int, str]], line: Line) -> tuple[str | None, str | None]:
        cols = self.header.value_cols
        if not values:
            return None, None
        if len(values) > len(cols):
            dropped = [v for _, v in values[: len(values) - len(cols)]]
            self.warnings.append(f"line {line.no}: extra cells {dropped!r} before the target values ignored")
            values = values[len(values) - len(cols):]
        if len(values) == len(cols):
            kinds = {kind: v for (_, kind), (_, v) in zip(cols, values)}
            return kinds.get("period"), kinds.get("annual")
        # fewer values than columns: a lone value sits in the column it was printed in, else annual
        by_col = {c: kind for c, kind in cols}
        out: dict[str, str] = {}
        for col, v in values:
            kind = by_col.get(col)
            if kind is None or kind in out:
                kind = "annual" if "annual" not in out else "period"
            out[kind] = v
        return out.get("period"), out.get("annual")


def read_stream(cells: list[tuple[int, str]], header: IndicatorHeader) -> tuple[list[Indicator], list[str]]:
    """Indicators from one cell per line (no row boundaries): each 三级 takes the next k cells as values.

    ``cells`` are (line number, text) of the non-empty cells after the heading.
    """
    reader = IndicatorReader(header)
    k = header.nvalues
    pending: list[tuple[int, str]] | None = None
    last_level: str | None = None

    def flush() -> None:
        nonlocal pending
        if pending:
            no = pending[0][0]
            cols = [(c, kind) for c, kind in header.value_cols] or [(1, "annual")]
            # rebuild a synthetic row: text in the 三级 column, values in the value columns
            l3col = max(c for c, d in header.level_cols.items() if d == 3) if header.level_cols else 0
            row = {l3col: pending[0][1]}
            for (col, _), (_, v) in zip(cols, pending[1:]):
                row[col] = v
            width = max(row) + 1
            reader.row(Line(no, "", tuple(row.get(i, "") for i in range(width))), text_col=l3col)
        pending = None

    for no, cell in cells:
        if is_section_label(cell):
            continue
        if pending is not None and len(pending) <= k and not (level1_of(cell) or level2_of(cell)):
            pending.append((no, cell))
            continue
        flush()
        # a level name printed again right after itself is the 三级 indicator (服务对象满意度 | 服务对象满意度)
        if (level1_of(cell) or level2_of(cell)) and key(cell) != last_level:
            lv = reader._level_of(cell, None)
            if lv is not None:
                reader._set_l1(lv) if lv.depth == 1 else reader._set_l2(lv)
            last_level = key(cell)
            continue
        last_level = None
        pending = [(no, cell)]
    flush()
    return reader.indicators, reader.warnings


_LEVELS_CACHE: list[Level] = []


def _all_levels() -> list[Level]:
    if not _LEVELS_CACHE:
        from .vocab import levels

        seen = {}
        for cands in levels().values():
            for lv in cands:
                seen[lv.iri] = lv
        _LEVELS_CACHE.extend(seen.values())
    return _LEVELS_CACHE

