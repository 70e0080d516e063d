"""Indicator rows (绩效指标: 一级指标 › 二级指标 › 三级指标 → 指标值) of any target table.

PDF extraction shifts cells, leaves merged cells as empty leading columns, prints a 一级 name in the
二级 column (and the reverse), repeats rows, and leaves placeholder rows with no 三级 indicator.
So a row is read by *vocabulary* first (the SKOS level scheme), by the *number of cells left*
second (a table with k value columns ends every indicator row with at most k values), and by the
header's column positions only to tell a non-standard level name's depth and which value column
a lone value sits in. Rows of a ruled PDF table (``Line.grid``) keep their columns, so there every
cell is read by the role of its column.

A heading row names the columns (:data:`ingest.vocab.INDICATOR_COLUMNS`): besides the levels and
the targets (年度 / 实施周期 side by side) a template may print 指标性质, 计量单位, 分值, 权重,
评（扣）分标准, 指标解释, 指标方向性, and a 绩效自评表 实际完成值, 得分, 偏差原因. They are kept
on the indicator as printed; 指标性质 + 指标值 + 计量单位 are composed into the target
(``≥`` ``95`` ``%`` → ``≥95%``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ontology import BKG

from .records import Indicator, LevelRef, Span
from .targets import parse_target
from .text import Line, key
from .vocab import (
    INDICATOR_SECTION,
    Level,
    children,
    column_role,
    level1_of,
    level2_of,
    split_level_score,
)

UNSPECIFIED_L2 = "未注明二级指标"

LEVEL_ROLES = {"level1": 1, "level2": 2, "level3": 3}
VALUE_ROLES = ("period", "annual")
#: columns printed beside the target, kept on the indicator (role → Indicator attribute)
ATTRIBUTE_ROLES = {"nature": "nature", "unit": "measure_unit", "score": "score", "weight": "weight",
                   "standard": "standard", "explanation": "explanation", "direction": "direction",
                   "actual": "actual", "self_score": "self_score", "deviation": "deviation"}
TRAILING_ROLES = (*VALUE_ROLES, *ATTRIBUTE_ROLES)
#: project columns of a table that lists several projects, one row per indicator
PROJECT_ROLES = ("unit_name", "project_name", "amount", "goal")

_COMPARATOR = re.compile(r"^(≥|≤|>|<|=|＞|＜|≧|≦|>=|<=|＝|大于等于|小于等于|大于|小于|等于|不低于|不高于|不少于|不超过|不大于|不小于)$")
_LEADING_COMPARATOR = re.compile(r"^\s*(≥|≤|>|<|=|＞|＜|≧|≦|＝|大于|小于|等于|不低于|不高于|不少于|不超过|不大于|不小于)")
_SCORE_SHAPE = re.compile(r"^\d+(\.\d+)?\s*(分|%|％)?$")
#: a unit cell is short and has no digits (%, 个, 人/年, 万元)
_UNIT_SHAPE = re.compile(r"^[^\d\s]{1,8}$")
#: a target value: an operator or a number, or a short qualitative phrase
_TARGET_SHAPE = re.compile(r"^(≥|≤|>|<|=|＞|＜|≧|≦)|\d")
#: longest text a qualitative target is printed with (有效提高, 显著改善, 2025年12月31日前完成)
QUALITATIVE_TARGET_MAX = 24


_LEVEL_SCORE_NOTE = re.compile(r"^[(]?\d+(\.\d+)?([-—~～至]\d+(\.\d+)?)?分?[)]?分$|^[(]\d+(\.\d+)?([-—~～至]\d+(\.\d+)?)?分?[)]$")


def _is_level_prefix(cell: str) -> bool:
    """A proper beginning of a standard level name (数量指, 服务对象满): the rest wrapped away."""
    from .vocab import levels

    k = key(cell)
    return len(k) >= 2 and not levels().get(k) and any(name.startswith(k) and name != k for name in levels())


def _ref(lv: Level) -> LevelRef:
    return LevelRef(lv.label, lv.depth, lv.iri, lv.parent)


@dataclass
class IndicatorHeader:
    """Column roles read from a heading row such as 一级指标 | 二级指标 | 三级指标 | 实施周期指标值 | 年度指标值."""

    level_cols: dict[int, int]  # column index → depth (1, 2, 3)
    value_cols: list[tuple[int, str]]  # (column index, "period" | "annual")
    #: every other column with a role: attributes after the 三级 column, project columns before it
    other_cols: dict[int, str] = field(default_factory=dict)
    #: columns whose heading prints a word no role knows: their cells are not read as targets
    unknown_cols: frozenset[int] = frozenset()

    @property
    def nvalues(self) -> int:
        return max(1, len(self.value_cols))

    @property
    def text_col(self) -> int:
        depth3 = [c for c, d in self.level_cols.items() if d == 3]
        return depth3[0] if depth3 else max(self.level_cols)

    @property
    def roles(self) -> dict[int, str]:
        out = {c: ("level1", "level2", "level3")[d - 1] for c, d in self.level_cols.items()}
        out.update({c: kind for c, kind in self.value_cols})
        out.update(self.other_cols)
        return out

    @property
    def trailing(self) -> list[tuple[int, str]]:
        """(column, role) of the values and attributes after the 三级 column, in column order."""
        return sorted((c, r) for c, r in self.roles.items() if r in TRAILING_ROLES)

    @property
    def has_attributes(self) -> bool:
        return any(r in ATTRIBUTE_ROLES for _, r in self.trailing)

    @property
    def project_cols(self) -> dict[int, str]:
        return {c: r for c, r in self.other_cols.items() if r in PROJECT_ROLES}

    def role_of(self, col: int) -> str | None:
        """The role of a row's cell in ``col``: the heading's, else that of the nearest heading
        column to its left (a heading cell merged over several columns)."""
        roles = self.roles
        if col in roles:
            return roles[col]
        if col in self.unknown_cols:
            return None
        left = [c for c in roles if c < col]
        return roles[max(left)] if left else None


def header_roles(cells: tuple[str, ...] | list[str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i, cell in enumerate(cells):
        role = column_role(cell)
        if role is not None and role not in out.values():
            out[i] = role
    return out


def header_from_roles(roles: dict[int, str]) -> IndicatorHeader | None:
    level_cols = {c: LEVEL_ROLES[r] for c, r in roles.items() if r in LEVEL_ROLES}
    if len(level_cols) < 2 or 3 not in level_cols.values():
        return None
    value_cols = sorted((c, r) for c, r in roles.items() if r in VALUE_ROLES)
    other = {c: r for c, r in roles.items() if r not in LEVEL_ROLES and r not in VALUE_ROLES and r != "section"}
    if not value_cols:
        free = max(level_cols) + 1
        while free in other:
            free += 1
        value_cols = [(free, "annual")]
    return IndicatorHeader(level_cols, value_cols, other)


def read_header(line: Line) -> IndicatorHeader | None:
    """The header if ``line`` is an indicator heading row (must name 一级/二级/三级 or 指标值 columns)."""
    roles = header_roles(line.cells)
    h = header_from_roles(roles)
    if h is not None:
        h.unknown_cols = frozenset(i for i, c in enumerate(line.cells) if c.strip() and i not in roles)
    return h


def is_section_label(cell: str) -> bool:
    return bool(INDICATOR_SECTION.match(key(cell)))


def compose_target(nature: str | None, value: str | None, unit: str | None) -> str | None:
    """The target as one string when 指标性质 / 指标值 / 计量单位 are printed in separate columns:
    (``≥``, ``95``, ``%``) → ``≥95%``. A comparator already printed in the value, or a unit already
    at its end, is not repeated; a nature that is not a comparator (定性) is not prefixed."""
    if value is None or not value.strip():
        return value
    out = value.strip()
    if nature and _COMPARATOR.match(key(nature)) and not _LEADING_COMPARATOR.match(out):
        out = nature.strip() + out
    if unit and unit.strip() and not out.endswith(unit.strip()) and re.search(r"\d$", out):
        out = out + unit.strip()
    return out


def _fits(role: str, cell: str) -> int:
    """How well a cell's shape fits a column role: 2 typical, 1 possible, 0 not."""
    k = key(cell)
    if role == "nature":
        return 2 if _COMPARATOR.match(k) or k in ("定性", "定量") else 0
    if role == "unit":
        return 2 if _UNIT_SHAPE.match(k) else 0
    if role in ("score", "weight", "self_score"):
        return 2 if _SCORE_SHAPE.match(k) else 0
    if role in ("annual", "period", "actual"):
        return 2 if _TARGET_SHAPE.search(k) or len(k) <= QUALITATIVE_TARGET_MAX else 1
    if role == "direction":
        return 2 if "向" in k else 0
    return 1  # free text: 指标解释, 评分标准, 偏差原因


def fit_trailing(cells: list[str], columns: list[str]) -> list[tuple[str, str]] | None:
    """Assign ``cells`` (in order) to ``columns`` (in order, some left empty) by shape: the best
    assignment, or None when some cell fits no column left."""
    n, m = len(cells), len(columns)
    if n > m:
        return None
    best: dict[tuple[int, int], tuple[int, list[tuple[str, str]]] | None] = {}

    def go(i: int, j: int) -> tuple[int, list[tuple[str, str]]] | None:
        if i == n:
            return 0, []
        if m - j < n - i:
            return None
        if (i, j) in best:
            return best[(i, j)]
        out = None
        f = _fits(columns[j], cells[i])
        if f:
            rest = go(i + 1, j + 1)
            if rest is not None:
                out = (f + rest[0], [(columns[j], cells[i])] + rest[1])
        skip = go(i, j + 1)
        if skip is not None and (out is None or skip[0] > out[0]):
            out = skip
        best[(i, j)] = out
        return out

    found = go(0, 0)
    return found[1] if found else None


@dataclass
class IndicatorReader:
    """Reads indicator rows one at a time, carrying the 一级/二级 context across rows."""

    header: IndicatorHeader
    l1: LevelRef | None = None
    l2: LevelRef | None = None
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _seen: set[tuple] = field(default_factory=set)
    l1_score: str | None = None
    #: the line of the last row that gave an indicator (a wrapped cell continues on the next row)
    _last_row: int | None = None

    # -- level helpers -------------------------------------------------------------------------
    def _is_output(self, ref: LevelRef | None) -> bool:
        return ref is not None and ref.concept == BKG.OutputIndicator

    def _set_l1(self, ref: LevelRef, score: str | None = None) -> None:
        self.l1, self.l2, self.l1_score = ref, None, score

    def _set_l2(self, ref: LevelRef) -> None:
        # a standard 二级 implies its 一级: 服务对象满意度指标 printed after 效益 rows belongs to 满意度指标
        if ref.parent is not None and (self.l1 is None or self.l1.concept is not None) and (
            self.l1 is None or self.l1.concept != ref.parent
        ):
            parent = next((lv for lv in _all_levels() if lv.iri == ref.parent), None)
            if parent is not None:
                self.l1, self.l1_score = _ref(parent), None
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

    def _take_level(self, ref: LevelRef, cell: str) -> None:
        if ref.depth == 1:
            self._set_l1(ref, split_level_score(cell)[1])
        else:
            self._set_l2(ref)

    # -- rows ----------------------------------------------------------------------------------
    def row(self, line: Line, text_col: int | None = None, positional: bool | None = None) -> None:
        """Read one row; ``text_col`` names a column known to hold the 三级 text (cell-per-line
        input); ``positional`` reads every cell by its column's role (rows of a ruled table)."""
        if positional is None:
            positional = line.grid is not None
        if positional and text_col is None:
            self._row_by_columns(line)
            return
        self._row_by_tokens(line, text_col)

    def _score_note(self, line: Line) -> bool:
        """A row holding only the score of the 一级 above it, wrapped out of its cell (产出指标 /
        ``(40-50)分``): kept with that level."""
        cells = [c for _, c in line.filled]
        if len(cells) == 1 and _LEVEL_SCORE_NOTE.match(key(cells[0])) and self.l1 is not None and self.l1_score is None:
            self.l1_score = cells[0].strip()
            return True
        return False

    def _row_by_columns(self, line: Line) -> None:
        """A row whose cells sit in the heading's columns: each cell is read by its column's role,
        level names by vocabulary first."""
        if self._score_note(line):
            return
        h = self.header
        tc = h.text_col
        head: list[tuple[int, str]] = []
        text: str | None = None
        trailing: dict[str, str] = {}
        for col, cell in line.filled:
            role = h.role_of(col)
            if col == tc or role == "level3":
                text = cell if text is None else text + cell
            elif col < tc:
                if role in PROJECT_ROLES:
                    continue  # read by the project-row reader
                head.append((col, cell))
            elif role in TRAILING_ROLES:
                trailing[role] = cell if role not in trailing else trailing[role] + cell
        first_level = min(h.level_cols)
        depths_seen: set[int] = set()
        for j, (col, cell) in enumerate(head):
            nxt = head[j + 1][1] if j + 1 < len(head) else text
            ref = self._level_of(cell, nxt)
            if ref is not None and ref.depth not in depths_seen and not (ref.depth == 1 and 2 in depths_seen):
                depths_seen.add(ref.depth)
                self._take_level(ref, cell)
                continue
            if is_section_label(cell) or col < first_level:
                continue  # 绩效指标 / 年度绩效目标(90分) printed in the section column
            if ref is not None:
                continue  # a level name printed twice in one row
            depth = h.level_cols.get(col) or (1 if col <= first_level else 2)
            if depth == 1:
                self._set_l1(LevelRef(split_level_score(cell)[0] if split_level_score(cell)[1] else cell, 1),
                             split_level_score(cell)[1])
            else:
                self.l2 = LevelRef(cell, 2)
        if text is not None and not head and not trailing and self._continues(line):
            self._extend_text(text, line)
            return
        if text is None:
            if trailing and not head and self._continues(line):
                self._extend_values(trailing, line)
            return
        self._emit(text, trailing, line)

    def _row_by_tokens(self, line: Line, text_col: int | None) -> None:
        if self._score_note(line):
            return
        tokens = [(i, c) for i, c in line.filled]
        while tokens and is_section_label(tokens[0][1]):
            tokens = tokens[1:]
        if not tokens:
            return
        if len(tokens) == 1 and text_col is None and _is_level_prefix(tokens[0][1]):
            # 数量指 (/ 标 on the next line, or cut off): the start of a level name, not an indicator
            self.warnings.append(f"line {line.no}: {tokens[0][1]!r} is the start of a level name, not an indicator; row skipped")
            return
        h = self.header
        ntrail = len(h.trailing) if h.has_attributes else h.nvalues
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
                self._take_level(ref, cell)
                continue
            if remaining > ntrail:
                # more cells than an indicator and its values need: a level name the standard
                # does not know (成本控制, 部门管理 …); its column says which level
                depth = h.level_cols.get(col)
                if depth == 1 or (depth is None and self.l1 is None):
                    self._set_l1(LevelRef(cell, 1))
                else:
                    self.l2 = LevelRef(cell, 2)
                continue
            text = cell
        if text is None:
            return  # placeholder row: only level names (or nothing) — context updated above
        trailing = self._trailing_of(values, line)
        if trailing is None:
            return
        self._emit(text, trailing, line)

    def _trailing_of(self, values: list[tuple[int, str]], line: Line) -> dict[str, str] | None:
        h = self.header
        if not h.has_attributes:
            period, annual = self._assign_values(values, line)
            return {k: v for k, v in (("period", period), ("annual", annual)) if v is not None}
        cols = h.trailing
        if len(values) > len(cols):
            dropped = [v for _, v in values[: len(values) - len(cols)]]
            self.warnings.append(f"line {line.no}: extra cells {dropped!r} before the target values ignored")
            values = values[len(values) - len(cols):]
        if len(values) == len(cols):
            return {role: v for (_, role), (_, v) in zip(cols, values)}
        if line.tabbed and len(line.cells) >= max(c for c, _ in cols) + 1:
            # the row keeps its empty cells: each value sits in its own column
            by_col = dict(cols)
            if all(c in by_col for c, _ in values):
                return {by_col[c]: v for c, v in values}
        fitted = fit_trailing([v for _, v in values], [r for _, r in cols])
        if fitted is None:
            self.warnings.append(f"line {line.no}: cells {[v for _, v in values]!r} do not fit the columns "
                                 f"{[r for _, r in cols]!r}; row skipped")
            return None
        return dict(fitted)

    def _continues(self, line: Line) -> bool:
        """Whether ``line`` comes right after the row of the last indicator (a wrapped cell)."""
        return bool(self.indicators) and self._last_row is not None and line.no == self._last_row + 1

    def _extend_text(self, text: str, line: Line) -> None:
        ind = self.indicators[-1]
        ind.text += text
        ind.span = ind.span.merge(Span(line.no, line.no))
        self._last_row = line.no
        self.warnings.append(f"line {line.no}: 三级指标 {ind.text!r} continued from line {ind.span.start} (wrapped cell)")

    def _extend_values(self, trailing: dict[str, str], line: Line) -> None:
        ind = self.indicators[-1]
        for role, cell in trailing.items():
            if role == "annual":
                ind.annual = parse_target(cell if ind.annual is None else ind.annual.raw + cell)
            elif role == "period":
                ind.period = parse_target(cell if ind.period is None else ind.period.raw + cell)
            elif role == "actual":
                ind.actual = parse_target(cell if ind.actual is None else ind.actual.raw + cell)
            else:
                attr = ATTRIBUTE_ROLES[role]
                setattr(ind, attr, (getattr(ind, attr) or "") + cell)
        ind.span = ind.span.merge(Span(line.no, line.no))
        self._last_row = line.no

    def _emit(self, text: str, trailing: dict[str, str], line: Line) -> None:
        if self.l1 is None:
            self.warnings.append(f"line {line.no}: indicator {text!r} has no 一级指标; row skipped")
            return
        if self.l2 is None or (
            self.l2.parent is not None and self.l1.concept is not None and self.l2.parent != self.l1.concept
        ):
            self.l2 = self._default_l2()
        nature, unit = trailing.get("nature"), trailing.get("unit")
        annual = compose_target(nature, trailing.get("annual"), unit)
        period = compose_target(nature, trailing.get("period"), unit)
        sig = (self.l1.label, self.l2.label, text, period, annual)
        if sig in self._seen:
            self.warnings.append(f"line {line.no}: duplicated indicator row {text!r} ignored")
            return
        self._seen.add(sig)
        ind = Indicator(
            text=text,
            level1=self.l1,
            level2=self.l2,
            annual=parse_target(annual),
            period=parse_target(period),
            span=Span(line.no, line.no),
            order=len(self.indicators) + 1,
            level1_score=self.l1_score,
        )
        for role, attr in ATTRIBUTE_ROLES.items():
            if role in trailing and trailing[role].strip():
                setattr(ind, attr, parse_target(trailing[role]) if role == "actual" else trailing[role].strip())
        self.indicators.append(ind)
        self._last_row = line.no

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
            l3col = header.text_col
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
                reader._take_level(lv, cell)
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


# -- pdftotext -layout text ----------------------------------------------------------------------
# A ruled table extracted as layout text loses its rules: a merged level cell is printed once, in
# the middle of the rows it spans (or on the line between two of them), a wrapped cell over
# several lines around its row, and rows are apart by blank lines or not at all. The grid is
# rebuilt from positions: each cell goes to the heading column nearest to it; each line holding a
# target value is a row; the other lines' cells join the row they are nearest to (in the same
# paragraph); a level name spans the rows it is centred on.

_RUN = re.compile(r"[^\s\u3000]+(?: [^\s\u3000]+)*")


def layout_cells(raw: str, split_words: bool = True) -> list[tuple[float, int, int, str]]:
    """(centre, start, end, text) of the cells of a layout line: runs of characters apart by two
    or more spaces. A run holding level names or an amount beside text (``绩效指标 产出指标``,
    ``35.00 做到有求必应``) is split at its single spaces."""
    out: list[tuple[float, int, int, str]] = []
    for m in _RUN.finditer(raw.replace("\x0c", " ")):
        text = m.group(0)
        parts = [(m.start(), text)]
        if split_words and " " in text:
            words = list(re.finditer(r"\S+", text))
            if any(level_candidates_any(w.group(0)) or is_section_label(w.group(0)) for w in words) or re.match(r"^-?[\d,]+(\.\d+)?\s", text):
                parts = [(m.start() + w.start(), w.group(0)) for w in words]
                if not any(level_candidates_any(w.group(0)) or is_section_label(w.group(0)) for w in words):
                    # an amount then text: keep the text one cell
                    first = words[0]
                    parts = [(m.start(), first.group(0)), (m.start() + words[1].start(), text[words[1].start():])]
        for start, t in parts:
            end = start + len(t)
            out.append(((start + end - 1) / 2, start, end, t))
    return out


def level_candidates_any(cell: str) -> bool:
    from .vocab import level_candidates

    return bool(level_candidates(cell))


def header_columns(raw: str, cells: tuple[str, ...]) -> list[tuple[float, int, int]] | None:
    """(centre, start, end) of each heading cell, in the order of ``cells``; None when the heading
    line's runs do not match its cells."""
    runs = layout_cells(raw, split_words=False)
    texts = [c for c in cells]
    if len(runs) != len([c for c in texts if c]):
        return None
    out: list[tuple[float, int, int]] = []
    it = iter(runs)
    for c in texts:
        if not c:
            out.append((-1.0, -1, -1))
            continue
        centre, start, end, _ = next(it)
        out.append((centre, start, end))
    return out


def _nearest_column(centre: float, start: int, end: int, cols: list[tuple[int, float, int, int]]) -> int | None:
    """The heading column (index) a cell belongs to: the nearest by centre; None for a cell left of
    every column (the vertical 绩效指标 label)."""
    if not cols:
        return None
    first_start = min(s for _, _, s, _ in cols)
    if end <= first_start - 1:
        return None
    return min(cols, key=lambda c: (abs(c[1] - centre), c[0]))[0]


@dataclass
class _Fragment:
    line: int  # index into lines
    col: int  # heading column index
    text: str


def _paragraphs(lines: list[Line], idxs: list[int]) -> dict[int, int]:
    """Line index → paragraph number: lines apart by a blank line (or page furniture) are in
    different paragraphs."""
    out: dict[int, int] = {}
    para = 0
    prev: int | None = None
    for j in idxs:
        if prev is not None and any(not lines[k].filled or _is_page_furniture(lines[k]) for k in range(prev + 1, j)):
            para += 1
        if prev is not None and j != prev + 1 and para == out.get(prev):
            para += 1
        out[j] = para
        prev = j
    return out


def _is_page_furniture(line: Line) -> bool:
    from .project_targets import is_page_number

    return is_page_number(line)


def _attach(anchors: list[int], para: dict[int, int], j: int) -> int | None:
    """The anchor (row) a line's fragments belong to: the nearest in the same paragraph; on a tie
    the one above (a wrapped cell continues downwards)."""
    same = [a for a in anchors if para.get(a) == para.get(j)]
    if not same:
        return None
    return min(same, key=lambda a: (abs(a - j), a > j))


def _row_bounds(anchors: list[int]) -> list[tuple[float, float]]:
    """(top, bottom) of each row in lines: halfway to the neighbouring rows' lines."""
    out = []
    n = len(anchors)
    for r, a in enumerate(anchors):
        up = (anchors[r] - anchors[r - 1]) / 2 if r > 0 else ((anchors[1] - a) / 2 if n > 1 else 0.5)
        down = (anchors[r + 1] - a) / 2 if r + 1 < n else ((a - anchors[r - 1]) / 2 if n > 1 else 0.5)
        out.append((a - up, a + down))
    return out


def _tile(labels: list[tuple[float, str]], bounds: list[tuple[float, float]], lo: int, hi: int) -> dict[int, str] | None:
    """Rows lo..hi shared out among level labels, in order, each over consecutive rows: the
    sharing whose spans are best centred on their labels (a merged cell prints its text in its
    middle), or — when that fits worse — starts at their labels (a name on its group's first row)."""
    labels = sorted(labels)
    k, n = len(labels), hi - lo + 1
    if k == 0 or k > n:
        return None
    best: tuple[float, dict[int, str]] | None = None
    for anchor in ("centre", "top"):
        inf = float("inf")
        # f[j][e]: cost of the first j labels covering rows lo..e
        f = [[inf] * (n + 1) for _ in range(k + 1)]
        back: dict[tuple[int, int], int] = {}
        f[0][0] = 0.0
        for j in range(1, k + 1):
            line = labels[j - 1][0]
            for e in range(j, n + 1):
                for s in range(j - 1, e):
                    if f[j - 1][s] == inf:
                        continue
                    top, bottom = bounds[lo + s][0], bounds[lo + e - 1][1]
                    at = (top + bottom) / 2 if anchor == "centre" else bounds[lo + s][0]
                    cost = f[j - 1][s] + abs(at - line)
                    if cost < f[j][e]:
                        f[j][e], back[(j, e)] = cost, s
        if f[k][n] == inf:
            continue
        out: dict[int, str] = {}
        e = n
        for j in range(k, 0, -1):
            s = back[(j, e)]
            for r in range(s, e):
                out[lo + r] = labels[j - 1][1]
            e = s
        if best is None or f[k][n] < best[0]:
            best = (f[k][n], out)
    return best[1] if best else None


def _merge_labels(frags: list[_Fragment], para: dict[int, int]) -> list[tuple[list[int], str]]:
    """Level-name fragments of one column joined where a name wrapped over lines of a paragraph
    (经济成本指 / 标, 服务对象满意度 / 指标): (lines, text)."""
    out: list[tuple[list[int], str]] = []
    for f in sorted(frags, key=lambda f: f.line):
        if out and para.get(out[-1][0][-1]) == para.get(f.line):
            prev_lines, prev = out[-1]
            joined = prev + f.text
            if level_candidates_any(joined) or not (level_candidates_any(prev) or level_candidates_any(f.text)):
                out[-1] = (prev_lines + [f.line], joined)
                continue
        out.append(([f.line], f.text))
    return out


def layout_rows(lines: list[Line], i: int, end: int, header_line: Line, header: IndicatorHeader) -> tuple[list[Line], int]:
    """Indicator rows of ``pdftotext -layout`` text rebuilt as positional rows (see above)."""
    cols_pos = header_columns(header_line.raw, header_line.cells)
    if cols_pos is None:
        return [ln for ln in lines[i:end] if ln.filled], end - 1
    roles = header.roles
    cols = [(c, centre, s, e) for c, (centre, s, e) in enumerate(cols_pos) if s >= 0 and c in roles and roles[c] != "section"]
    frags: list[_Fragment] = []
    idxs: list[int] = []
    last = i - 1
    for j in range(i, end):
        ln = lines[j]
        if not ln.filled:
            continue
        if _is_page_furniture(ln) or _is_title_text(ln):
            continue
        if is_stop_line(ln):
            break
        got = []
        for centre, s, e, text in layout_cells(ln.raw):
            if is_section_label(text):
                continue
            c = _nearest_column(centre, s, e, cols)
            if c is not None:
                got.append(_Fragment(j, c, text))
        if got:
            frags.extend(got)
            idxs.append(j)
            last = j
    value_cols = {c for c, r in roles.items() if r in VALUE_ROLES}
    anchors = sorted({f.line for f in frags if f.col in value_cols})
    if not anchors:
        return [], last
    para = _paragraphs(lines, idxs)
    level_col = {c: d for c, d in header.level_cols.items()}
    text_col = header.text_col
    rows: dict[int, dict[int, list[str]]] = {a: {} for a in anchors}
    level_frags: dict[int, list[_Fragment]] = {1: [], 2: []}
    for f in frags:
        depth = level_col.get(f.col)
        if depth in (1, 2):
            level_frags[depth].append(f)
            continue
        a = f.line if f.line in rows else _attach(anchors, para, f.line)
        if a is None:
            continue
        rows[a].setdefault(f.col, []).append(f.text)
    nrows = len(anchors)
    out_rows: list[dict[int, str]] = [{c: "".join(v) for c, v in rows[a].items()} for a in anchors]
    bounds = _row_bounds(anchors)
    for depth in (1, 2):
        merged = _merge_labels(level_frags[depth], para)
        labels = [(sum(ls) / len(ls), text) for ls, text in merged]
        if depth == 1:
            spans = [(0, nrows - 1)]
        else:
            l1 = [r.get(next(c for c, d in level_col.items() if d == 1), "") for r in out_rows] if 1 in level_col.values() else []
            spans = _spans_of(l1) if l1 else [(0, nrows - 1)]
        for lo, hi in spans:
            inside = [(p, t) for p, t in labels if bounds[lo][0] <= p <= bounds[hi][1]]
            if not inside:
                continue
            got = _tile(inside, bounds, lo, hi) or {
                r: min(inside, key=lambda x: abs(x[0] - anchors[r]))[1] for r in range(lo, hi + 1)}
            col = next(c for c, d in level_col.items() if d == depth)
            for r, text in got.items():
                out_rows[r][col] = text
    width = len(header_line.cells)
    result = []
    for a, cells in zip(anchors, out_rows):
        if text_col not in cells:
            # a value whose row prints no 三级 text: the rest of the row above or below it
            if result and any(v for c, v in cells.items() if c in value_cols):
                prev = list(result[-1].cells)
                for c, v in cells.items():
                    if c in value_cols and c < len(prev):
                        prev[c] += v
                result[-1] = Line(result[-1].no, result[-1].raw, tuple(prev), page=result[-1].page)
            continue
        result.append(Line(lines[a].no, lines[a].raw, tuple(cells.get(c, "") for c in range(max(width, max(cells) + 1))),
                           page=lines[a].page))
    return result, last


def _spans_of(values: list[str]) -> list[tuple[int, int]]:
    """Runs of equal values: [(first row, last row)]."""
    out: list[tuple[int, int]] = []
    for r, v in enumerate(values):
        if out and values[out[-1][0]] == v:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


_STOP = re.compile(r"^(注[:：]|备注[:：]|说明[:：])")


def is_stop_line(line: Line) -> bool:
    """A line that ends an indicator table: a note, the next project's 项目名称, a section heading."""
    from .sections import is_heading
    from .vocab import PROJECT_FIELDS, match_field

    t = line.text
    if _STOP.match(t) or is_heading(line):
        return True
    first = t.split()[0] if t.split() else ""
    return match_field(first, PROJECT_FIELDS) == "name"


def _is_title_text(line: Line) -> bool:
    from .sections import is_title

    return is_title(line)


def layout_list_rows(lines: list[Line], hi: int, end: int, roles: dict[int, str]
                     ) -> tuple[list[tuple[tuple[int, int], dict[str, str]]], int]:
    """Rows of a list table (单位名称 | 项目名称 | 金额 | 目标) in ``pdftotext -layout`` text: each
    line with an amount under the amount heading is a row; the lines around it in its paragraph
    (a goal wrapped above and below) belong to it."""
    from .amounts import is_amount

    header_line = lines[hi]
    cols_pos = header_columns(header_line.raw, header_line.cells)
    if cols_pos is None:
        return [], hi
    cols = [(c, centre, s, e) for c, (centre, s, e) in enumerate(cols_pos) if s >= 0 and c in roles]
    amount_col = next(c for c, r in roles.items() if r == "amount")
    frags: list[_Fragment] = []
    idxs: list[int] = []
    last = hi
    for j in range(hi + 1, end):
        ln = lines[j]
        if not ln.filled or _is_page_furniture(ln):
            continue
        if is_stop_line(ln) or _is_title_text(ln) or ln.text.strip().startswith("表"):
            break
        cells = layout_cells(ln.raw)
        if all(re.fullmatch(r"\*+|\d{1,2}", t) for *_, t in cells):
            continue  # the column-number row
        for centre, s, e, text in cells:
            c = _nearest_column(centre, s, e, cols)
            if c is not None:
                frags.append(_Fragment(j, c, text))
        idxs.append(j)
        last = j
    anchors = sorted({f.line for f in frags if f.col == amount_col and is_amount(f.text)})
    para = _paragraphs(lines, idxs)
    rows: dict[int, dict[int, list[str]]] = {a: {} for a in anchors}
    spans: dict[int, list[int]] = {a: [a] for a in anchors}
    for f in frags:
        a = f.line if f.line in rows else _attach(anchors, para, f.line)
        if a is None:
            continue
        rows[a].setdefault(f.col, []).append(f.text)
        spans[a].append(f.line)
    out = []
    for a in anchors:
        got = {roles[c]: "".join(v) for c, v in rows[a].items()}
        out.append(((lines[min(spans[a])].no, lines[max(spans[a])].no), got))
    return out, last
