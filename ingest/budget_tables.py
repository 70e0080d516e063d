"""Budget tables (预算表 / 决算表) → :class:`BudgetTable`: coded lines, columns named by their headings,
the printed total, and the label → amount rows of summary tables.

One reader for the national templates' tables keyed by classification codes (支出总表, 一般公共预算
支出表, 财政拨款支出表, 基本支出表, 经济分类表, 政府性基金 / 国有资本经营预算支出表, 收入总表) and for
summary tables (收支总表, 财政拨款收支总表). A table arrives as rows of cells — PDF grids and
tab-separated text keep their columns, layout text (pdftotext -layout) keeps character positions — and
is read in three steps:

1. the **head**: title, money unit (``单位：万元`` caption, ``（万元）`` heading) and the header rows,
   composed top-down into column headings (``基本支出›人员经费``) with their positions;
2. the **rows**: a code in the row's first cells (whole, split 类 | 款 | 项, only the new segment, glued to
   the name, or printed twice in a two-up table: 301xx left, 302xx right), the subject's name, and the
   amounts, each named by the heading above it (by column in a grid, by position in layout text);
3. **assembly**: codes composed from the 类/款 above them (:mod:`ingest.codes`), names wrapped over
   several lines joined, lines without a printed code kept for :func:`infer_codes`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .amounts import AMOUNT_RE, caption_unit, clean_number, heading_unit, parse_money
from .codes import ECONOMIC, SEGMENT_CELL, Hierarchy, is_class, scheme_of, whole_code
from .errors import ParseError
from .records import ACTUAL, ADJUSTED, BUDGET, BudgetLine, BudgetTable, ColumnAmount, Money, Span, SummaryRow
from .classify import classify, looks_like_title
from .sections import Block, MONEY_UNIT
from .text import Line, key

_CJK = re.compile(r"[\u4e00-\u9fff]")
_NAME_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_NUMERIC = re.compile(r"^[-−]?[\d,，.．]+$")
_DASH = re.compile(r"^[-—–－/]+$")
#: labels of a table's total row
TOTAL_LABEL = re.compile(r"^(合计|总计|小计|本年支出合计|支出合计|支出总计|本年收入合计|收入合计|收入总计)$")
#: headings that name the code and name columns, not amounts
_CODE_HEADING = re.compile(r"(科目|编码|代码|名称|^项目$|^类$|^款$|^项$|^类款项$|^\*+$|^序号$|^单位$)")
_CODE_COLUMN_HEADING = re.compile(r"(编码|代码)$")
_LEVEL_HEADING = {"类": "类", "款": "款", "项": "项"}
#: words that make up amount headings (a layout line glues them: 合计基本支出项目支出)
_AMOUNT_WORDS = sorted([
    "合计", "小计", "总计", "基本支出", "项目支出", "人员经费", "公用经费", "人员支出", "日常公用支出",
    "财政拨款收入", "财政拨款", "一般公共预算", "政府性基金预算", "国有资本经营预算", "事业收入",
    "事业单位经营收入", "经营收入", "其他收入", "上年结转", "上年结余", "财政专户拨款", "财政专户管理资金",
    "其他资金", "单位资金", "事业单位经营支出", "对附属单位补助支出", "上缴上级支出", "经营支出", "结转下年",
    "预算数", "决算数", "年初预算数", "全年预算数", "全年执行数", "执行数", "支出合计", "上级补助收入",
    "附属单位上缴收入", "本年收入合计", "本年支出合计", "金额", "预算金额"], key=len, reverse=True)
_AMOUNT_WORD = re.compile("|".join(map(re.escape, _AMOUNT_WORDS)))
# 决算 tables: which columns are budgets and which are what was spent
_ADJUSTED_WORDS = re.compile(r"全年预算|调整预算|调整后预算|预算调整")
_BUDGET_WORDS = re.compile(r"年初预算|预算数|预算金额|^预算$")
_ACTUAL_WORDS = re.compile(r"决算|执行数|执行|实际支出|实际完成")
#: a header row numbering the columns (栏次): ** ** 1 2 3 4 5
_COLUMN_NUMBERS = re.compile(r"^(\*+|栏次|\d{1,2}|[A-Z])$")
#: a table's end: a note under it, or the next table's caption
_NOTE = re.compile(r"^(注|说明|备注)\s*[:：\d]")
_PAGE_FURNITURE = re.compile(r"^[—\-–－\s]*\d{1,3}[—\-–－\s]*$|^第\d+页|^(公开|附)?表\s*[\d一二三四五六七八九十]+$|^公开\d+表$")
#: how far (characters) a layout cell may sit from the column it belongs to
_SLACK = 3
#: headings of a table's total column
_TOTAL_HEADINGS = {"合计", "总计", "小计", "本年支出合计", "本年收入合计", "支出合计", "收入合计", "金额", "预算数", "决算数"}
#: mean distance (characters) of a row's amounts from their headings beyond which positions are not trusted
_SHIFTED = 8
#: a subject-name fragment this close (characters) to a line's name column belongs to it
_NAME_SLACK = 6


# -- cells ------------------------------------------------------------------------------------------
@dataclass
class Cell:
    """A cell's text and its horizontal extent: column indices in a grid (start inclusive, end
    exclusive), character positions in layout text (a CJK character counted twice, as printed)."""

    text: str
    start: float
    end: float
    no: int = 0  # the line it was printed on

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def is_name(text: str) -> bool:
    return bool(_NAME_CHAR.search(text)) and clean_number(text) is None


def is_amount_cell(text: str) -> bool:
    t = text.replace(" ", "")
    return bool(_NUMERIC.match(t)) and clean_number(t) is not None


_QUANTITY_WORD = re.compile(r"^(年|月|日|个|人|次|万元|元|%|％)")


def cells_of(line: Line) -> list[Cell]:
    """A line's cells: a grid's or a tab-separated line's by column, layout text by position.

    In layout text cells are runs separated by two or more spaces; one space separates words of one
    cell (``合 计``, ``维修 (护) 费``) but never two numbers (``82,096,797.42 82,096,797.42``) or a code
    and its name (``201 一般公共服务支出``)."""
    if line.tabbed:
        return [Cell(t.strip(), c, c + 1, line.no) for c, t in line.filled if t.strip()]
    raw = line.raw.replace("\u3000", " ").replace("\x0c", " ").replace("\t", " ")
    out: list[Cell] = []
    prev_end = -10
    for m in re.finditer(r"\S+", raw):
        text, start = m.group(), m.start()
        numeric = bool(_NUMERIC.match(text))
        if out and start - prev_end == 1:
            last = out[-1]
            last_numeric = bool(_NUMERIC.match(last.text))
            if not numeric and (not last_numeric or _QUANTITY_WORD.match(text)) and not whole_code(text):
                # words of one cell (合 计), or a number and its unit (2026 年度, 12 个)
                last.text += " " + text
                last.end = start + _width(text)
                prev_end = m.end()
                continue
            if numeric and last_numeric and (last.text.endswith((",", "，", ".", "．")) or text.startswith((",", "，", ".", "．"))):
                # an amount broken by a stray space: 432, 000. 00
                last.text += text
                last.end = start + _width(text)
                prev_end = m.end()
                continue
        out.append(Cell(text, start, start + _width(text), line.no))
        prev_end = m.end()
    return out


# -- the head: unit, header rows, columns ---------------------------------------------------------------
@dataclass
class Column:
    """An amount column: its heading path (top-down), extent, and role."""

    path: list[str]
    start: float
    end: float
    role: str = BUDGET

    @property
    def heading(self) -> str:
        return "›".join(self.path)

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


@dataclass
class Layout:
    """What the header says about the table's columns."""

    grid: bool
    columns: list[Column] = field(default_factory=list)
    #: start positions of the code columns (two in a two-up table)
    halves: list[float] = field(default_factory=list)
    #: 类/款/项 columns: level → position
    levels: dict[str, float] = field(default_factory=dict)
    #: the heading path over each label column (summary tables: 收入 / 支出›功能分类 …)
    groups: list[tuple[float, float, str]] = field(default_factory=list)
    unit: str | None = None
    ncols: int | None = None  # grid: columns of the grid the header was read from
    #: False when the headings were printed one space apart (their positions say nothing)
    positional: bool = True

    def half_of(self, pos: float) -> int:
        if len(self.halves) < 2:
            return 0
        n = 0
        for i, h in enumerate(self.halves):
            if pos + (0.5 if self.grid else _NAME_SLACK) >= h:
                n = i
        return n

    def half_bounds(self, half: int) -> tuple[float, float]:
        if len(self.halves) < 2:
            return float("-inf"), float("inf")
        lo = self.halves[half] - (0.5 if self.grid else _NAME_SLACK)
        hi = self.halves[half + 1] - (0.5 if self.grid else _NAME_SLACK) if half + 1 < len(self.halves) else float("inf")
        return lo, hi

    def level_of(self, cell: Cell) -> str | None:
        if not self.levels:
            return None
        if self.grid:
            for lv, pos in self.levels.items():
                if cell.start <= pos < cell.end:
                    return lv
            return None
        lv, pos = min(self.levels.items(), key=lambda kv: abs(kv[1] - cell.center))
        return lv if abs(pos - cell.center) <= _NAME_SLACK else None

    def group_of(self, cell: Cell) -> str:
        for lo, hi, g in self.groups:
            if lo - (0.5 if self.grid else _SLACK) <= cell.center <= hi + (0.5 if self.grid else _SLACK):
                return g
        return ""


@dataclass
class _Token:
    text: str
    row: int
    start: float
    end: float
    below: list["_Token"] = field(default_factory=list)
    parent: "_Token | None" = None

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


def _overlaps(a: _Token, b: _Token, grid: bool) -> bool:
    """Whether heading ``b`` (lower) is printed under heading ``a``: in a grid their columns meet; in
    layout text one's centre lies within the other (cramped neighbours touch without that)."""
    if grid:
        return a.start < b.end and b.start < a.end
    return a.start - 1 <= b.center <= a.end + 1 or b.start - 1 <= a.center <= b.end + 1


def _header_tokens(rows: list[tuple[Line, list[Cell]]], grid: bool) -> list[list[_Token]]:
    """Header cells as tokens with their extent; in a grid a heading spans the columns a merged cell
    covers to its right (empty in its row, nothing above, something below)."""
    out: list[list[_Token]] = []
    for r, (line, cells) in enumerate(rows):
        toks: list[_Token] = []
        if grid:
            filled = {int(c.start): c.text for c in cells}
            width = len(line.cells)
            for col in sorted(filled):
                # up to the next heading of its row, over columns nothing above claims, back to the
                # last column a heading below it is printed in
                end = col + 1
                while end < width and end not in filled and not _text_at(rows[:r], end):
                    end += 1
                while end > col + 1 and not _text_at(rows[r + 1:], end - 1):
                    end -= 1
                toks.append(_Token(filled[col], r, col, end))
        else:
            toks = _merge_spaced([_Token(c.text, r, c.start, c.end) for c in cells])
        out.append(toks)
    return out


def _text_at(rows: list[tuple[Line, list[Cell]]], col: int) -> bool:
    return any(int(c.start) == col for _, cells in rows for c in cells)


def _merge_spaced(toks: list[_Token]) -> list[_Token]:
    """Letter-spaced headings (``合       计``) are one heading; 类 款 项 stay apart."""
    out: list[_Token] = []
    for t in toks:
        if (out and len(key(t.text)) == 1 and len(key(out[-1].text)) == 1 and key(t.text) not in _LEVEL_HEADING
                and key(out[-1].text) not in _LEVEL_HEADING and _AMOUNT_WORD.fullmatch(key(out[-1].text) + key(t.text))):
            out[-1] = _Token(out[-1].text + t.text, t.row, out[-1].start, t.end)
        else:
            out.append(t)
    return out


def _split_glued(tok: _Token) -> list[_Token]:
    """A layout cell gluing several headings (``功能分类科目名称 合计 基本支出 项目支出``, one space
    apart) → one token each, the words between them kept as their own tokens."""
    k = key(tok.text)
    found = list(_AMOUNT_WORD.finditer(k))
    if len(found) < 2:
        return [tok]
    pieces: list[tuple[int, int]] = []
    pos = 0
    for m in found:
        if m.start() > pos:
            pieces.append((pos, m.start()))
        pieces.append((m.start(), m.end()))
        pos = m.end()
    if pos < len(k):
        pieces.append((pos, len(k)))
    step = (tok.end - tok.start) / len(k)
    return [_Token(k[a:b], tok.row, tok.start + a * step, tok.start + b * step) for a, b in pieces]


def read_header(rows: list[tuple[Line, list[Cell]]], grid: bool, stage: str) -> Layout:
    """Columns (heading paths, extents, roles), code and level columns, from the header rows."""
    layout = Layout(grid=grid)
    rows = [(ln, cs) for ln, cs in rows if not all(_COLUMN_NUMBERS.match(key(c.text)) for c in cs)]
    if not rows:
        return layout
    tokens = _header_tokens(rows, grid)
    if not grid:
        split = [[s for t in toks for s in _split_glued(t)] for toks in tokens]
        if split != tokens:
            layout.positional = False
            tokens = split
    flat = [t for toks in tokens for t in toks]
    if not layout.positional:
        # headings glued one space apart: no vertical structure to read, columns in printed order
        for t in flat:
            layout.unit = layout.unit or heading_unit(t.text)
            if not _CODE_HEADING.search(key(t.text)) or _AMOUNT_WORD.search(key(t.text)):
                layout.columns.append(Column([_clean_heading(t.text)], t.start, t.end, _role([t.text], stage)))
        return layout
    for t in flat:
        layout.unit = layout.unit or heading_unit(t.text)
    # vertical structure: a heading printed over the headings below it
    for upper in flat:
        for lower in flat:
            if lower.row > upper.row and _overlaps(upper, lower, grid):
                upper.below.append(lower)
    if not grid:
        flat = _join_wrapped(flat)
    code_heads = [t for t in flat if _CODE_COLUMN_HEADING.search(key(t.text)) and not t.below]
    code_heads += [t for t in flat if _CODE_COLUMN_HEADING.search(key(t.text)) and t.below
                   and not any(_CODE_COLUMN_HEADING.search(key(b.text)) for b in t.below)]
    starts = sorted({t.start for t in code_heads})
    halves: list[float] = []
    for s in starts:
        if not halves or s - halves[-1] > (0.5 if grid else 10):
            halves.append(s)
    layout.halves = halves if len(halves) > 1 else []
    for t in flat:
        lv = _LEVEL_HEADING.get(key(t.text))
        if lv and lv not in layout.levels:
            layout.levels[lv] = t.start if grid else t.center
    leaves = [t for t in flat if not t.below and not _CODE_HEADING.search(key(t.text))]
    # a group heading owns the leaves in its children's row that no other heading above claims
    for upper in flat:
        if not upper.below or _CODE_HEADING.search(key(upper.text)) and not _AMOUNT_WORD.search(key(upper.text)):
            continue
        child_row = min(b.row for b in upper.below)
        row_leaves = sorted((t for t in flat if t.row == child_row), key=lambda t: t.start)
        direct = [t for t in row_leaves if t in upper.below]
        if not direct:
            continue
        lo, hi = row_leaves.index(direct[0]), row_leaves.index(direct[-1])
        while lo > 0 and _free(row_leaves[lo - 1], upper, flat, grid):
            lo -= 1
        while hi + 1 < len(row_leaves) and _free(row_leaves[hi + 1], upper, flat, grid):
            hi += 1
        for t in row_leaves[lo:hi + 1]:
            if t.parent is None or t.parent.row < upper.row:
                t.parent = upper
    for leaf in sorted(leaves, key=lambda t: t.start):
        path: list[str] = []
        node: _Token | None = leaf
        while node is not None:
            if not _CODE_HEADING.search(key(node.text)) or _AMOUNT_WORD.search(key(node.text)):
                path.insert(0, _clean_heading(node.text))
            node = node.parent
        layout.columns.append(Column(path, leaf.start, leaf.end, _role(path, stage)))
    # summary tables: the group over each label column (收入 / 支出›功能分类)
    for t in flat:
        if not t.below and _CODE_HEADING.search(key(t.text)):
            path = []
            ups = [u for u in flat if t in u.below]
            for u in sorted(ups, key=lambda u: u.row):
                path.append(_clean_heading(u.text))
            if path:
                layout.groups.append((t.start, t.end, "›".join(path)))
    return layout


def _join_wrapped(flat: list[_Token]) -> list[_Token]:
    """Layout text breaks a heading over header rows (一般公共 / 预算财政 / 拨款, 对附属单位补 / 助支出):
    a piece that is no heading by itself, over exactly one piece below, is joined to it (the nearest
    when several could be). The headings over others are worked out again afterwards."""
    for lower in sorted(flat, key=lambda t: -t.row):
        while lower.text:
            # a heading complete by itself (基本支出) continues no piece above it unless together they
            # make a longer heading (事业单位 / 经营支出)
            ups = [u for u in flat if u.text and lower in u.below and len(u.below) == 1
                   and not _AMOUNT_WORD.fullmatch(key(u.text)) and not _CODE_HEADING.search(key(u.text))
                   and (not _AMOUNT_WORD.fullmatch(key(lower.text)) or _AMOUNT_WORD.fullmatch(key(u.text + lower.text)))]
            if not ups:
                break
            upper = min(ups, key=lambda u: abs(u.start - lower.start))
            lower.text = upper.text + lower.text
            lower.start, lower.end = min(upper.start, lower.start), max(upper.end, lower.end)
            upper.text = ""
            for u in flat:
                if upper in u.below:
                    u.below = [b for b in u.below if b is not upper] + ([lower] if lower not in u.below else [])
    flat = [t for t in flat if t.text]
    for upper in flat:
        upper.below = [b for b in flat if b.row > upper.row and _overlaps(upper, b, False)]
    return flat


def _free(t: _Token, owner: _Token, flat: list[_Token], grid: bool) -> bool:
    """A heading in the owner's children's row that no other heading at or above the owner's row covers."""
    if _CODE_HEADING.search(key(t.text)) and not _AMOUNT_WORD.search(key(t.text)):
        return False
    return not any(u is not owner and u.row <= owner.row and t in u.below for u in flat) and not any(
        u.row < t.row and u.row > owner.row and t in u.below for u in flat)


def _clean_heading(text: str) -> str:
    return re.sub(r"\s+", "", text).strip()


def _role(path: list[str], stage: str) -> str:
    for part in reversed(path):
        k = key(part)
        if _ADJUSTED_WORDS.search(k):
            return ADJUSTED
        if _ACTUAL_WORDS.search(k):
            return ACTUAL
        if _BUDGET_WORDS.search(k):
            return BUDGET
    return ACTUAL if stage == "决算" else BUDGET


# -- rows --------------------------------------------------------------------------------------------
@dataclass
class Item:
    """One row of one half of a table as printed: a coded line, a total, a labelled row, a fragment of
    a wrapped name, or a code alone (its name and amounts on the next line)."""

    kind: str  # coded | total | labeled | fragment | code
    line: Line
    row: int  # index among the table's non-empty rows
    segments: list[Cell] = field(default_factory=list)
    name_parts: list[str] = field(default_factory=list)
    name_cell: Cell | None = None
    amounts: list[Cell] = field(default_factory=list)
    half: int = 0
    above: list[str] = field(default_factory=list)
    below: list[str] = field(default_factory=list)
    first_line: int = 0
    last_line: int = 0

    @property
    def x(self) -> float:
        if self.name_cell is not None:
            return self.name_cell.start
        return self.segments[-1].end if self.segments else 0.0


_GLUED_SEGMENT = re.compile(r"^(\d{1,2})(?![\d.,，%％])\s*[-－—.．、]?\s*(\D.*)$")


def _code_start(cells: list[Cell], i: int, allow_segment: bool) -> tuple[list[Cell], str | None, int] | None:
    """A code printed at ``cells[i]``: (segment cells, name glued to the code, index after the code)."""
    c = cells[i].text
    wc = whole_code(c)
    n = len(cells)
    if wc:
        code, rest = wc
        if rest:
            if not is_name(rest) or TOTAL_LABEL.match(key(rest)):
                return None
            return [Cell(code, cells[i].start, cells[i].end)], rest, i + 1
        segs = [cells[i]]
        j = i + 1
        if len(code) in (3, 5):
            while j < n and len(segs) < (3 if len(code) == 3 else 2) and SEGMENT_CELL.match(cells[j].text):
                j += 1
                segs.append(cells[j - 1])
            if j < n and len(segs) < (3 if len(code) == 3 else 2):
                glued = _GLUED_SEGMENT.match(cells[j].text)
                if glued and is_name(glued.group(2)):
                    # 301 01基本工资: the last segment glued to the name
                    segs.append(Cell(glued.group(1), cells[j].start, cells[j].start + len(glued.group(1))))
                    rest = glued.group(2).strip()
                    return segs, rest, j + 1
            if len(segs) > 1 and not (j < n and _is_name_cell(cells[j])):
                segs, j = [cells[i]], i + 1  # numbers after a nameless code are its amounts
        return segs, None, j
    if allow_segment and SEGMENT_CELL.match(c):
        j = i + 1
        segs = [cells[i]]
        if j < n and SEGMENT_CELL.match(cells[j].text) and j + 1 < n and _is_name_cell(cells[j + 1]):
            segs.append(cells[j])
            j += 1
        if j < n and _is_name_cell(cells[j]) and not whole_code(cells[j].text):
            return segs, None, j
    return None


def _bare_segment(cells: list[Cell], i: int, layout: Layout) -> bool:
    """A 款/项 segment printed alone before the row's amounts, its name wrapped above and below it
    (layout text: `其他行政事业单位养老支` / `99   3.56  3.56` / `出`): a code only where the header
    prints that level's column and left of every amount column — elsewhere a small number is an amount."""
    c = cells[i]
    if layout.grid or not layout.columns or i + 1 >= len(cells) or not SEGMENT_CELL.match(c.text):
        return False
    if not is_amount_cell(cells[i + 1].text) or layout.level_of(c) not in ("款", "项"):
        return False
    return c.end < min(col.start for col in layout.columns) - _SLACK


def _is_name_cell(cell: Cell) -> bool:
    return is_name(cell.text) and not _DASH.match(cell.text)


def scan_row(line: Line, cells: list[Cell], row: int, layout: Layout, segments_ok: bool) -> list[Item]:
    """The items of one row, left to right (two-up tables hold two coded items per row)."""
    items: list[Item] = []
    i, n = 0, len(cells)

    def amounts_from(j: int) -> tuple[list[Cell], int]:
        got: list[Cell] = []
        half = layout.half_of(cells[j - 1].start) if j > 0 else 0
        while j < n and (is_amount_cell(cells[j].text) or _DASH.match(cells[j].text)):
            nxt = _code_start(cells, j, False)
            if nxt and (nxt[1] or nxt[2] < n and _is_name_cell(cells[nxt[2]]) or layout.half_of(cells[j].start) > half):
                break  # the next half's code (its name may be on the next line)
            got.append(cells[j])
            j += 1
        return got, j

    while i < n:
        at_start = not items or items[-1].amounts or items[-1].kind != "coded"
        got = _code_start(cells, i, segments_ok and at_start)
        if got is None and segments_ok and at_start and _bare_segment(cells, i, layout):
            got = [cells[i]], None, i + 1  # its name wrapped onto the lines above and below
        if got is not None:
            segs, glued, j = got
            item = Item("coded", line, row, segments=segs)
            if glued:
                item.name_parts = [glued]
                item.name_cell = Cell(glued, segs[-1].end, segs[-1].end + _width(glued))
            else:
                while j < n and _is_name_cell(cells[j]) and not _code_start(cells, j, False):
                    item.name_parts.append(cells[j].text)
                    item.name_cell = item.name_cell or cells[j]
                    j += 1
            item.amounts, j = amounts_from(j)
            if not item.name_parts and not item.amounts:
                item.kind = "code"
            items.append(item)
            i = j
            continue
        c = cells[i]
        if _is_name_cell(c):
            item = Item("labeled", line, row, name_parts=[c.text], name_cell=c)
            j = i + 1
            while j < n and _is_name_cell(cells[j]) and not _code_start(cells, j, False) and not layout.grid:
                item.name_parts.append(cells[j].text)
                j += 1
            item.amounts, j = amounts_from(j)
            label = key("".join(item.name_parts))
            if TOTAL_LABEL.match(label):
                item.kind = "total"
            elif not item.amounts:
                item.kind = "fragment"
            items.append(item)
            i = j
            continue
        if is_amount_cell(c.text):
            got_amounts, j = amounts_from(i)
            items.append(Item("amounts", line, row, amounts=got_amounts))
            i = j
            continue
        i += 1
    for it in items:
        pos = it.segments[0].start if it.segments else (it.name_cell.start if it.name_cell else (it.amounts[0].start if it.amounts else 0))
        it.half = layout.half_of(pos)
        nos = [c.no for c in it.segments + it.amounts + ([it.name_cell] if it.name_cell else []) if c.no]
        it.first_line, it.last_line = (min(nos), max(nos)) if nos else (line.no, line.no)
    return items


# -- the reader --------------------------------------------------------------------------------------
@dataclass
class TableRead:
    """A table as read, and the rows that continue the previous table (printed before this one's title)."""

    table: BudgetTable | None
    continued: list[BudgetLine] = field(default_factory=list)
    #: further tables the block holds (its segmentation missed their titles)
    more: list[BudgetTable] = field(default_factory=list)


_SUMMARY_KINDS = {"IncomeExpenditureSummary", "FiscalAppropriationSummary"}


class BudgetTableReader:
    def __init__(self, path: str, lines: list[Line], block: Block, previous: BudgetTable | None = None,
                 document_unit: str | None = None):
        self.path, self.lines, self.block = path, lines, block
        self.previous, self.document_unit = previous, document_unit
        c = block.classification
        self.kind = c.kind.id if c is not None else "UnknownTable"
        self.stage = c.stage if c is not None else "预算"

    # -- head ---------------------------------------------------------------------------------------
    def _title_index(self) -> int | None:
        """Where the block's own title (or caption) is, when rows of another table come before it."""
        b = self.block
        if b.title:
            for j in range(b.start, b.end):
                ln = self.lines[j]
                if ln.grid is None and ln.filled and key(b.title) in key(ln.text):
                    return j
        for j in range(b.start, b.end):
            ln = self.lines[j]
            if ln.grid is None and (MONEY_UNIT.search(ln.raw) or MONEY_UNIT.search(" " + ln.text)):
                return j
        return None

    def read(self) -> TableRead:
        b, lines = self.block, self.lines
        start = b.start
        continued: list[BudgetLine] = []
        title_at = self._title_index()
        skipped_rows: list[str] = []
        if title_at is not None and title_at > b.start and any(
                lines[j].filled and _row_has_code(lines[j]) for j in range(b.start, title_at)):
            continued = self._continuation(b.start, title_at)
            start = title_at
        elif title_at is not None and title_at > b.start and any(
                _is_data_row(cells_of(lines[j])) for j in range(b.start, title_at) if lines[j].filled):
            # rows of another table before this one's title (its own title was not found): not this table's
            skipped_rows.append(f"lines {lines[b.start].no}–{lines[title_at - 1].no}: rows before the title "
                                f"{b.title!r} belong to another table")
            start = title_at
        rows = [(ln, cells_of(ln)) for ln in lines[start:b.end] if ln.filled]
        rows = [(ln, cs) for ln, cs in rows if cs]
        # the head: everything before the first row holding an amount or a code
        first = next((k for k, (ln, cs) in enumerate(rows) if _is_data_row(cs)), len(rows))
        # the first line's subject name may begin on the line above it (社会保障和就 / 208 … / 业支出)
        while first < len(rows) and first > 0 and not rows[first - 1][0].tabbed and _fragment_like(
                rows[first - 1][1], Layout(grid=False)) and not caption_unit(rows[first - 1][0].text) \
                and not looks_like_title(rows[first - 1][0].text):
            first -= 1
        head = rows[:first]
        # another table's caption further down (a block holding several tables): read it on its own
        more: list[BudgetTable] = []
        split = next((k for k in range(first + 1, len(rows)) if _starts_table(rows[k], b.title)), None)
        if split is not None:
            more = self._read_rest(rows[split][0], b.end)
            rows = rows[:split]
        caption_at = next((ln.no for ln, cs in head if caption_unit(" ".join(c.text for c in cs))), None)
        unit = b.money_unit or caption_unit("\n".join(" ".join(c.text for c in cs) for _, cs in head))
        header_rows = header_of(head, b.title)
        grid = bool(rows) and rows[min(first, len(rows) - 1)][0].tabbed
        layout = read_header(header_rows, grid, self.stage)
        if header_rows:
            layout.ncols = len(header_rows[-1][0].cells) if grid else None
        unit = unit or layout.unit
        title, number = b.title or "", b.number
        if not title or number is None:
            # the title (or number) the block lacks: above its (last) caption, maybe glued to a row's end
            head_end = head[-1][0].no if head else lines[start].no
            captions = [j for j in range(start, b.end) if lines[j].no <= head_end and lines[j].grid is None and (
                MONEY_UNIT.search(lines[j].raw) or MONEY_UNIT.search(" " + lines[j].text))]
            if captions:
                found, found_number = title_above(lines, captions[-1])
                if not title and found:
                    title = found
                    c = classify(title, " ".join(ln.text for ln, _ in header_rows))
                    self.kind, self.stage = c.kind.id, c.stage if c.stage == "决算" else self.stage
                if number is None and found and key(found) == key(title):
                    number = found_number
        self.number = number
        if not rows[first:]:
            return TableRead(None, continued, more)
        if unit is None:
            unit = self.document_unit
            if unit is None:
                raise ParseError(self.path, f"table {title or self.kind!r} prints no money unit (单位：万元/元) and the "
                                            "document's other tables do not agree on one", rows[0][0].no)
        hierarchy = None
        prev = self.previous
        if prev is not None and title and prev.title == title:
            # the same table on the next page: codes go on under the 类/款 of its last rows
            hierarchy = _hierarchies_of(prev)
            if not layout.columns and isinstance(prev.layout, Layout):
                layout = prev.layout
        table = self._read_body(rows[first:], layout, header_rows, unit, title, hierarchy=hierarchy)
        if table is None:
            return TableRead(None, continued, more)
        span_start = caption_at or rows[0][0].no
        table.span = Span(min(span_start, table.span.start), table.span.end)
        table.dropped = skipped_rows + table.dropped
        return TableRead(table, continued, more)

    def _read_rest(self, at: Line, end: int) -> list[BudgetTable]:
        """The tables of the block from line ``at`` (a caption row) on."""
        lo = next(i for i in range(self.block.start, end) if self.lines[i] is at)
        text = at.text
        title = _title_before_caption(text)
        if not title:
            title, _ = title_above(self.lines, lo)
            if title:
                lo = max(self.block.start, next((i for i in range(lo, self.block.start - 1, -1)
                                                  if key(title) in key(self.lines[i].text)), lo))
        header = " ".join(ln.text for ln in self.lines[lo:min(end, lo + 6)])
        c = classify(title, header)
        if c.family not in ("coded", "summary"):
            return []
        sub = Block("budget", lo, end, title=title, classification=c, money_unit=caption_unit(text))
        got = BudgetTableReader(self.path, self.lines, sub, None, self.document_unit).read()
        return ([got.table] if got.table is not None else []) + got.more

    def _continuation(self, lo: int, hi: int) -> list[BudgetLine]:
        """Coded rows printed before this block's title: the previous table runs on (a page break)."""
        prev = self.previous
        if prev is None or not prev.lines:
            return []
        rows = [(ln, cells_of(ln)) for ln in self.lines[lo:hi] if ln.filled]
        layout = prev.layout if isinstance(prev.layout, Layout) else Layout(grid=bool(rows and rows[0][0].tabbed))
        if layout.grid and rows and layout.ncols is not None and len(rows[0][0].cells) != layout.ncols:
            layout = Layout(grid=True)  # another grid: columns named by order below
        table = self._read_body(rows, layout, [], prev.unit, prev.title, hierarchy=_hierarchies_of(prev))
        return table.lines if table is not None else []

    # -- body ---------------------------------------------------------------------------------------
    def _read_body(self, rows, layout: Layout, header_rows, unit: str, title: str,
                   hierarchy: dict[int, Hierarchy] | None = None) -> BudgetTable | None:
        segments_ok = bool(layout.levels) or _has_split_codes(rows)
        if _one_cell_per_line(rows):
            # text extracted one cell per line: the cells in print order are one long row
            layout = _stream_layout(header_rows, self.stage) if not layout.positional or not layout.grid else layout
            stop = next((k for k, (ln, _) in enumerate(rows) if _NOTE.match(key(ln.text))), len(rows))
            # a bare number on its own line is a cell here (a code, an amount), not a page number
            kept = [(ln, cs) for ln, cs in rows[:stop] if not _PAGE_FURNITURE.match(key(ln.text)) or is_amount_cell(ln.text)]
            rows = [(kept[0][0], [c for _, cs in kept for c in cs if not _is_header_row(_, [c], title) or _is_data_row([c])
                                  or _fragment_like([c], layout) or is_name(c.text)])] if kept else []
            segments_ok = False
        items: list[Item] = []
        n = 0
        prose = 0
        for r, (ln, cells) in enumerate(rows):
            text = key(ln.text)
            if _PAGE_FURNITURE.match(text) and _code_over_name(cells, rows[r + 1][1] if r + 1 < len(rows) else []):
                items.extend(scan_row(ln, cells, n, layout, segments_ok))  # a code whose name is on the next line
                n += 1
                continue
            if _NOTE.match(text) or (not ln.tabbed and len(text) > 40 and not _AMOUNT_WORD.search(text) and not any(
                    is_amount_cell(c.text) for c in cells)):
                prose += 1
                if _NOTE.match(text) or prose >= 2:
                    break
                continue
            prose = 0
            if _PAGE_FURNITURE.match(text) or text == key(title) or caption_unit(ln.text) and not _is_data_row(cells):
                continue
            if not _is_data_row(cells) and _is_header_row(ln, cells, title) and not _fragment_like(cells, layout):
                # a page's repeated header: read it again (a new page may shift the columns)
                continue
            items.extend(scan_row(ln, cells, n, layout, segments_ok))
            n += 1
        if not items:
            return None
        _join_codes_and_names(items, layout)
        _attach_fragments(items, layout)
        return self._assemble(items, layout, unit, title, hierarchy or {})

    def _assemble(self, items: list[Item], layout: Layout, unit: str, title: str,
                  hierarchy: dict[int, Hierarchy]) -> BudgetTable | None:
        lines_out: list[BudgetLine] = []
        summary: list[SummaryRow] = []
        dropped: list[str] = []
        total: Money | None = None
        total_label_seen = False
        first_no = items[0].first_line
        last_no = first_no
        pending: list[tuple[Item, BudgetLine]] = []  # coded items with no amounts of their own
        for it in items:
            if it.kind == "fragment":
                continue
            columns = self._columns(it, layout, unit)
            if it.kind == "coded":
                h = hierarchy.setdefault(it.half, Hierarchy())
                segs = [(c.text, layout.level_of(c) if len(it.segments) == 1 or k > 0 or len(c.text) < 3 else "类")
                        for k, c in enumerate(it.segments)]
                code = h.compose(segs)
                if code is None:
                    dropped.append(f"line {it.line.no}: code {' '.join(s for s, _ in segs)!r} is not a 类/款/项 under the rows above it")
                    continue
                h.see(code)
                name = "".join(it.above + it.name_parts + it.below) or None
                name = _clean_name(name)
                line = BudgetLine(code=code, name=name, scheme=scheme_of(code) or ECONOMIC, total=_total(columns, self.stage, self._first),
                                  columns=[c for c in columns if c is not None],
                                  span=Span(it.first_line, it.last_line))
                if not it.amounts:
                    pending.append((it, line))
                    lines_out.append(line)
                    last_no = max(last_no, it.last_line)
                    continue
                if pending and pending[-1][0].line is it.line and pending[-1][1].code[0] != code[0]:
                    # one row, one amount, two codes of two lists (部门预算 301xx | 政府预算 501xx): one line
                    first = pending[-1][1]
                    first.total, first.columns, first.span = line.total, line.columns, first.span.merge(line.span)
                    first.cross_code, first.cross_name = line.code, line.name
                    pending = []
                    continue
                pending = []
                lines_out.append(line)
                last_no = max(last_no, it.last_line)
            elif it.kind == "total":
                cols = [c for c in columns if c is not None]
                label = _clean_name("".join(it.name_parts)) or "合计"
                # a 收支总表 prints 收入 and 支出 totals side by side: its lines (the 类 of its 功能分类
                # column) add up to the 支出 one
                expenditure_side = self.kind not in _SUMMARY_KINDS or "支出" in key(label)
                if cols and expenditure_side and (total is None or self.kind in _SUMMARY_KINDS and total_label_seen is False):
                    total = _total(columns, self.stage, self._first)
                    total_label_seen = self.kind in _SUMMARY_KINDS
                if cols:
                    summary.append(SummaryRow(label, _total(columns, self.stage, self._first) or cols[0].money, layout.group_of(it.name_cell) if it.name_cell else "",
                                              Span(it.first_line, it.last_line)))
                last_no = max(last_no, it.last_line)
            elif it.kind == "amounts" and not lines_out and layout.columns and not _left_of_amounts(it, layout):
                # a table of totals only (支出总表 of some templates): each amount under its heading
                cols = [c for c in columns if c is not None]
                for c in cols:
                    summary.append(SummaryRow(c.heading, c.money, "", Span(it.first_line, it.last_line)))
                if total is None and cols and self._first is not None:
                    total = _total(columns, self.stage, self._first)
                last_no = max(last_no, it.last_line)
            elif it.kind == "labeled":
                cols = [c for c in columns if c is not None]
                if cols:
                    label = _clean_name("".join(it.above + it.name_parts + it.below)) or ""
                    summary.append(SummaryRow(label, cols[0].money, layout.group_of(it.name_cell) if it.name_cell else "",
                                              Span(it.first_line, it.last_line), columns=cols))
                    last_no = max(last_no, it.last_line)
        if not lines_out and not summary and total is None:
            return None
        headings = [c.heading for c in layout.columns]
        flow, fund, etype = dimensions(title)
        table = BudgetTable(title=title, number=getattr(self, "number", self.block.number), unit=_unit_word(unit), flow=flow, fund_scope=fund,
                            expenditure_type=etype, headings=headings, lines=lines_out, total=total,
                            span=Span(first_no, last_no), kind=self.kind, stage=self.stage)
        table.summary_rows = summary
        for row in summary:
            table.summary_totals.setdefault(key(row.label), row.money)
        table.dropped = dropped
        table.layout = layout
        table._hierarchy = hierarchy  # type: ignore[attr-defined]
        return table

    def _columns(self, it: Item, layout: Layout, unit: str) -> list[ColumnAmount | None]:
        """The item's amounts as column amounts, named by the column they were printed under."""
        self._first = None
        if not it.amounts:
            return []
        cols = [c for c in layout.columns if _in_half(c, layout, it.half)]
        aligned = layout.grid or layout.positional and all(b.start - a.end > 1 for a, b in zip(it.amounts, it.amounts[1:]))
        assigned = _assign(it.amounts, cols, layout.grid, aligned)
        # the line's total is the amount under the table's first amount column (合计); a row whose
        # amounts could not be placed under headings takes its first amount
        total_col = _total_column(cols, self.stage)
        self._first = 0 if not cols or all(a is None for a in assigned) or self.kind in _SUMMARY_KINDS else next(
            (k for k, a in enumerate(assigned) if a is total_col), None)
        out: list[ColumnAmount | None] = []
        for k, (cell, col) in enumerate(zip(it.amounts, assigned)):
            if _DASH.match(cell.text):
                out.append(None)
                continue
            money = parse_money(cell.text, unit)
            if money is None:
                out.append(None)
                continue
            if col is None:
                heading, role = (("合计" if k == 0 else f"第{k + 1}栏"), (ACTUAL if self.stage == "决算" else BUDGET))
            else:
                heading, role = col.heading, col.role
            out.append(ColumnAmount(heading, money, role))
        return out


def _left_of_amounts(it: Item, layout: Layout) -> bool:
    """Numbers printed in a grid's code or name columns, left of every amount column (a unit's code
    105001 beside its name in a 收入总表 by unit): not figures."""
    return layout.grid and bool(it.amounts) and it.amounts[-1].end <= min(c.start for c in layout.columns)


def _total_column(cols: list[Column], stage: str) -> Column | None:
    """The column a line's amount is read from: the first (合计); in a 预算 table that prints last
    year's 执行数 first (2025年执行数 | 2026年预算数 小计 基本支出 项目支出 | 增减), the first budget column
    — a line whose budget cells are empty then has no amount, not last year's."""
    if not cols:
        return None
    if stage != "决算" and cols[0].role == ACTUAL:
        return next((c for c in cols if c.role == BUDGET), cols[0])
    return cols[0]


def _in_half(col: Column, layout: Layout, half: int) -> bool:
    lo, hi = layout.half_bounds(half)
    pos = col.start if layout.grid else col.center
    return lo <= pos < hi


def _assign(amounts: list[Cell], cols: list[Column], grid: bool, aligned: bool = True,
            pin_total: bool = True) -> list[Column | None]:
    """Each amount's column: by grid column, else the order-keeping match nearest in position."""
    if not cols:
        return [None] * len(amounts)
    if grid:
        out = []
        for a in amounts:
            hit = [c for c in cols if c.start <= a.start < c.end]
            out.append(hit[-1] if hit else None)
        if all(o is None for o in out) and len(amounts) == len(cols):
            return list(cols)  # the grid of a continued page: columns by order
        if all(o is None for o in out) and len(amounts) < len(cols):
            # headings in merged cells a column off their figures: the nearest, in order
            return _assign(amounts, cols, False, True)
        return out
    if len(amounts) > len(cols):
        return list(cols) + [None] * (len(amounts) - len(cols))
    if len(amounts) == len(cols):
        return list(cols)
    if not aligned:
        # one space between cells: positions say nothing; the first amount is the line's total
        return [cols[0]] + [None] * (len(amounts) - 1)
    if pin_total and key(cols[0].path[-1]) in _TOTAL_HEADINGS:
        # a row's 合计 is never empty when another of its cells is printed: its first amount is
        # the 合计, whatever the layout's drift; the others by position among the other columns
        return [cols[0]] + (_assign(amounts[1:], cols[1:], grid, aligned, pin_total=False) if len(amounts) > 1 else [])
    # fewer amounts than columns (empty cells): the order-keeping assignment nearest in position
    m, k = len(amounts), len(cols)
    inf = float("inf")
    cost = [[inf] * (k + 1) for _ in range(m + 1)]
    back = [[0] * (k + 1) for _ in range(m + 1)]
    for j in range(k + 1):
        cost[0][j] = 0
    for i in range(1, m + 1):
        for j in range(i, k + 1):
            take = cost[i - 1][j - 1] + _distance(amounts[i - 1], cols[j - 1])
            skip = cost[i][j - 1]
            if take <= skip:
                cost[i][j], back[i][j] = take, 1
            else:
                cost[i][j], back[i][j] = skip, 0
    if cost[m][k] / m > _SHIFTED:
        # the row sits far from every heading (a page printed without its header, shifted): by order
        return [cols[0]] + [None] * (m - 1)
    out: list[Column | None] = [None] * m
    i, j = m, k
    while i > 0 and j > 0:
        if back[i][j] == 1:
            out[i - 1] = cols[j - 1]
            i, j = i - 1, j - 1
        else:
            j -= 1
    return out


def _distance(a: Cell, c: Column) -> float:
    # amounts are right-aligned, headings centred: compare the amount's right edge with the column's
    # extent, and centres
    return min(abs(a.center - c.center), abs(a.end - c.end))


def _total(columns: list[ColumnAmount | None], stage: str, first: int | None) -> Money | None:
    """A line's amount: the amount under its table's first column (合计) as printed; in a 决算 table
    that prints budgets beside actuals, its first actual column (决算数 / 全年执行数)."""
    cols = [c for c in columns if c is not None]
    if not cols:
        return None
    if stage == "决算" and any(c.role != ACTUAL for c in cols):
        actual = [c for c in cols if c.role == ACTUAL]
        if actual:
            return actual[0].money
    if first is not None and first < len(columns) and columns[first] is not None:
        return columns[first].money
    return None


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    name = re.sub(r"^[\s　]+|[\s　]+$", "", name)
    return name or None


def _unit_word(unit: str) -> str:
    return "万元" if unit in ("万元", "万") else ("亿元" if unit in ("亿元", "亿") else "元")


def _row_has_code(line: Line) -> bool:
    cells = cells_of(line)
    return bool(cells) and _code_start(cells, 0, False) is not None and any(is_amount_cell(c.text) for c in cells[1:])


def _is_data_row(cells: list[Cell]) -> bool:
    """A row holding an amount (not a column-number row) or a code followed by a name."""
    if all(_COLUMN_NUMBERS.match(key(c.text)) for c in cells):
        return False
    if any(caption_unit(c.text) for c in cells):
        return False  # the caption line (511-退役军人事务局 … 单位：万元), not a row
    if any(is_amount_cell(c.text) for c in cells):
        return True
    got = _code_start(cells, 0, False) if cells else None
    return got is not None and (len(cells) > 1 or got[1] is not None)


#: a header cell is short; a longer one is a frame holding the whole page's text, or prose
_HEADER_CELL_MAX = 30


def header_of(head: list[tuple[Line, list[Cell]]], title: str) -> list[tuple[Line, list[Cell]]]:
    """The header rows of a table's head: after its last caption or title line (a head may begin
    with the end of another, empty table)."""
    last = max((k for k, (ln, cs) in enumerate(head) if caption_unit(ln.text) or (
        len(cs) <= 2 and looks_like_title(ln.text))), default=-1)
    return [(ln, cs) for ln, cs in head[last + 1:] if _is_header_row(ln, cs, title)]


_CAPTION_LABEL = re.compile(r"(部门名称|部门（单位）|部门\(单位\)|编制单位|编制部门|预算单位|单位名称|部门|单位)\s*[:：]")


def _title_before_caption(text: str) -> str:
    """A table title printed in front of its caption in one cell: ``财政拨款支出预算表（功能科目）部门：… 单位：万元``."""
    head = _CAPTION_LABEL.split(text, maxsplit=1)[0].strip()
    return head if head and looks_like_title(head) else ""


def _starts_table(row: tuple[Line, list[Cell]], title: str) -> bool:
    """A caption row (单位：万元) after a table's rows: the next table begins (not this one's own
    title repeated on a new page)."""
    ln, cells = row
    return not _is_data_row(cells) and bool(caption_unit(ln.text)) and not (title and key(title) in key(ln.text))


def _is_header_row(line: Line, cells: list[Cell], title: str) -> bool:
    """A row of column headings: not the title, the caption, a unit label or page furniture."""
    text = key(line.text)
    if not text or caption_unit(line.text) or any(len(key(c.text)) > _HEADER_CELL_MAX or "\n" in c.text for c in cells):
        return False
    if title and key(title) in text:
        return False
    if len(cells) <= 2 and looks_like_title(line.text) or _PAGE_FURNITURE.match(text):
        return False
    if re.match(r"^(部门|单位|编制单位|编制部门|预算单位|部门\(单位\)|部门（单位）)(名称)?[:：]", text) or re.match(r"^\d{3}-", text):
        return False
    return True


def _fragment_like(cells: list[Cell], layout: Layout) -> bool:
    """A lone piece of a wrapped subject name (not a heading word) in layout text."""
    if layout.grid or len(cells) != 1:
        return False
    k = key(cells[0].text)
    return bool(_CJK.search(k)) and not _AMOUNT_WORD.search(k) and not _CODE_HEADING.search(k) and not _LEVEL_HEADING.get(k)


#: share of a table's rows holding one cell for it to be read as one cell per line
_STREAM_SHARE = 0.8


def _one_cell_per_line(rows) -> bool:
    body = [cs for ln, cs in rows if not ln.tabbed]
    return len(body) == len(rows) and len(rows) >= 3 and sum(1 for cs in body if len(cs) == 1) > _STREAM_SHARE * len(rows)


def _stream_layout(header_rows, stage: str) -> Layout:
    """Column headings of a table printed one cell per line: the amount headings in print order."""
    layout = Layout(grid=False, positional=False)
    for ln, cells in header_rows:
        for c in cells:
            k = key(c.text)
            for w in _AMOUNT_WORD.findall(k):
                layout.columns.append(Column([w], 0, 0, _role([w], stage)))
            layout.unit = layout.unit or heading_unit(c.text)
    return layout


def _code_over_name(cells: list[Cell], below: list[Cell]) -> bool:
    """A code alone on its line with a name (and amount) printed just under it: not a page number."""
    if len(cells) != 1 or not whole_code(cells[0].text) or not below:
        return False
    c = cells[0]
    return any(_is_name_cell(b) and c.start - _SLACK <= b.start <= c.end + 3 * _NAME_SLACK for b in below) and any(
        is_amount_cell(b.text) for b in below)


def _has_split_codes(rows) -> bool:
    """Whether the table prints codes as segments (a 类 alone in its cell, 款/项 in their own)."""
    for ln, cells in rows:
        if len(cells) >= 2 and is_class(cells[0].text) and SEGMENT_CELL.match(cells[1].text):
            return True
    return False


def _hierarchies_of(table: BudgetTable) -> dict[int, Hierarchy]:
    h = getattr(table, "_hierarchy", None)
    if h:
        return h
    out = Hierarchy()
    for ln in table.lines:
        out.see(ln.code)
    return {0: out}


def _join_codes_and_names(items: list[Item], layout: Layout) -> None:
    """A code alone at the end of a line whose name and amounts are on the next line (two-up layout
    text: ``30207`` / ``邮电费  8.05``) → one coded item."""
    for k, it in enumerate(items):
        if it.kind != "code":
            continue
        for nxt in items[k + 1:]:
            if nxt.row == it.row:
                continue
            if nxt.row > it.row + 1:
                break
            if nxt.kind in ("labeled", "fragment") and nxt.half == it.half and nxt.name_cell is not None \
                    and it.segments[0].start - _SLACK <= nxt.name_cell.start <= it.segments[-1].end + 3 * _NAME_SLACK:
                it.kind = "coded"
                it.name_parts, it.name_cell, it.amounts = nxt.name_parts, nxt.name_cell, nxt.amounts
                it.last_line = nxt.line.no
                nxt.kind = "joined"
                break


def _attach_fragments(items: list[Item], layout: Layout) -> None:
    """Names wrapped over several lines in layout text, the code on one of them: each fragment goes to
    the coded line above while that line's name is still running (its last part fills the column),
    else to the coded line below."""
    if layout.grid:
        return
    halves = sorted({it.half for it in items})
    for half in halves:
        seq = [it for it in items if it.half == half and it.kind in ("coded", "fragment")]
        coded = [it for it in seq if it.kind == "coded"]
        frags = [it for it in seq if it.kind == "fragment"]
        if not coded or not frags:
            continue
        width = max([_width(p) for it in seq for p in it.name_parts] or [0])
        if not width:
            continue

        def near(f: Item, c: Item) -> bool:
            lo = c.segments[-1].end if c.segments else 0
            hi = c.amounts[0].start if c.amounts else float("inf")
            fx = f.name_cell.start if f.name_cell else 0
            if c.name_cell is not None:
                return abs(fx - c.name_cell.start) <= _NAME_SLACK
            return lo - _SLACK <= fx <= hi

        def running(c: Item) -> bool:
            parts = c.above + c.name_parts + c.below
            return bool(parts) and _width(parts[-1]) >= width - 2

        prev: Item | None = None
        gap: list[Item] = []
        for it in seq:
            if it.kind == "fragment":
                gap.append(it)
                continue
            _split_gap(prev, it, gap, near, running)
            prev, gap = it, []
        _split_gap(prev, None, gap, near, running)


def _split_gap(a: Item | None, b: Item | None, gap: list[Item], near, running) -> None:
    k = 0
    if a is not None:
        while k < len(gap) and near(gap[k], a) and (running(a) or not (a.name_parts or a.above or a.below)):
            a.below.extend(gap[k].name_parts)
            a.last_line = max(a.last_line, gap[k].last_line)
            gap[k].kind = "joined"
            k += 1
    if b is not None:
        for f in gap[k:]:
            if near(f, b):
                b.above.extend(f.name_parts)
                b.first_line = min(b.first_line, f.first_line)
                f.kind = "joined"


_TITLE_TAIL = re.compile(r"((?:表\s*[一二三四五六七八九十\d]+\s*[、.．]?\s*)?(?:\d{4}\s*年)?[^\s\d,，.]{2,40}?表(?:（[^）]{1,20}）|\([^)]{1,20}\))?)\s*$")
_TABLE_NO_LINE = re.compile(r"^表\s*([一二三四五六七八九十]+|\d+)$")
_TABLE_NO = re.compile(r"表\s*([一二三四五六七八九十]+|\d+)")


def title_above(lines: list[Line], unit_idx: int) -> tuple[str, str | None]:
    """The table title in the few lines above its 单位：万元 line, or glued at the end of one (text
    printed one row per line: ``收入总计 76,306,134 … 2026年预算单位收入预算总表``)."""
    title, number = "", None
    same = lines[unit_idx].raw
    before_unit = MONEY_UNIT.split(same)[0]
    candidates = [before_unit] + [lines[j].raw for j in range(unit_idx - 1, max(0, unit_idx - 8), -1)]
    for n, text in enumerate(candidates):
        if (n > 0 and AMOUNT_RE.search(text) and _TITLE_TAIL.search(text.replace("\t", " ")) is None
                and not _TABLE_NO_LINE.match(text.strip())):
            break  # the previous table's rows: no title above this one
        text = text.strip()
        if not text:
            continue
        k = re.sub(r"[\s\u3000]+", "", text)
        if k.startswith(("单位名称", "编制单位", "编制部门", "预算单位", "部门名称")) and not k.endswith("表"):
            continue
        m = _TITLE_TAIL.search(text.replace("\t", " "))
        if m and not title:
            title = re.sub(r"^\d{4}\s*年\s*", lambda x: x.group(0).replace(" ", ""), m.group(1).strip())
            n = _TABLE_NO.search(title)
            number = n.group(1) if n else None
            continue
        if title and number is None:
            n = _TABLE_NO_LINE.match(k)
            if n:
                number = n.group(1)
                break
        if title:
            break
    return title, number


def dimensions(title: str) -> tuple[str, str, str]:
    """(flow, fund scope, expenditure type) from a table title."""
    t = key(title)
    flow = "income" if ("收入" in t and "收支" not in t and "支出" not in t) else "expenditure"
    if "一般公共预算" in t:
        fund = "general-public-budget"
    elif "政府性基金" in t:
        fund = "government-fund"
    elif "国有资本经营" in t:
        fund = "state-capital"
    elif "财政拨款" in t:
        fund = "fiscal-appropriation"
    else:
        fund = "all"
    if "机关运行经费" in t:
        etype = "running"
    elif "基本支出" in t:
        etype = "basic"
    elif "项目支出" in t:
        etype = "project"
    else:
        etype = "all"
    return flow, fund, etype


def read_budget_table(path: str, lines: list[Line], block: Block, previous: BudgetTable | None = None,
                      document_unit: str | None = None) -> TableRead:
    return BudgetTableReader(path, lines, block, previous, document_unit).read()


def document_unit(lines: list[Line], blocks: list[Block]) -> str | None:
    """The money unit every budget table of the document that prints one prints, or None when they
    differ (or none prints one): what a table printing no unit is read in."""
    units: set[str] = set()
    for b in blocks:
        if b.kind not in ("budget", "projectlist"):
            continue
        head = [ln for ln in lines[b.start:min(b.end, b.start + 12)] if ln.filled]
        unit = b.money_unit or caption_unit("\n".join(ln.text for ln in head))
        if unit:
            units.add(_unit_word(unit))
    return units.pop() if len(units) == 1 else None


def read_continuation(path: str, lines: list[Line], block: Block, previous: BudgetTable,
                      leading: bool = False) -> list[BudgetLine]:
    """The coded rows of a block that only continue ``previous`` on a new page (its header not
    repeated, a running page header between); with ``leading``, the coded rows a block of another
    kind holds before its own title. [] when there are none, or when anything else is among them."""
    if not previous.lines:
        return []
    hi = block.end
    if leading:
        reader = BudgetTableReader(path, lines, block, previous)
        at = reader._title_index()
        hi = at if at is not None else block.start
        # the block's title inside its first grid row (Excel-made PDFs)
        for j in range(block.start, hi):
            if lines[j].filled and not _is_data_row(cells_of(lines[j])):
                hi = j
                break
    elif block.title:
        return []
    body = [ln for ln in lines[block.start:hi] if ln.filled]
    data = [ln for ln in body if _is_data_row(cells_of(ln))]
    if not data or not all(_row_has_code(ln) for ln in data) or any(caption_unit(ln.text) for ln in body):
        return []
    return BudgetTableReader(path, lines, block, previous)._continuation(block.start, hi)


# -- names printed without their codes -------------------------------------------------------------
_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d{1,2}[.、．]\s*)")


def _name_key(name: str) -> str:
    return key(_NUMBERING.sub("", name.strip()))


def infer_codes(tables: list[BudgetTable]) -> int:
    """Rows that print a subject's name but no code get the code the same document prints beside
    the same name elsewhere (``bkg:codeInferred``); a name printed with several codes is resolved
    by the rows above it (行政运行 under 21201 → 2120101), else left uncoded. Never a code no table
    of the document prints. Returns how many lines were added."""
    from .classify import CODED, KINDS

    pairs: dict[str, set[str]] = {}
    for t in tables:
        for ln in t.lines:
            if ln.name and not ln.code_inferred:
                pairs.setdefault(_name_key(ln.name), set()).add(ln.code)
    added = 0
    for t in tables:
        family = KINDS[t.kind].family if t.kind in KINDS else ""
        context: str | None = None
        kept: list[SummaryRow] = []
        headings = {key(h.split("›")[-1]) for h in t.headings}
        for row in t.summary_rows:
            k = _name_key(row.label)
            candidates = set(pairs.get(k, ()))
            if TOTAL_LABEL.match(k) or not candidates or key(row.label.split("›")[-1]) in headings:
                # a total, a name no code is printed with, or a column's heading (a table of totals)
                kept.append(row)
                continue
            if family != CODED:
                kept.append(row)  # a summary table's rows are its totals (收入合计 …), not lines
                continue
            if len(candidates) > 1 and context is not None:
                under = {c for c in candidates if any(c.startswith(context[:n]) and len(c) > n for n in (5, 3) if len(context) >= n)}
                narrowed = {c for c in under if c[:5] == context[:5]} or {c for c in under if c[:3] == context[:3]}
                candidates = narrowed or candidates
            if len(candidates) != 1:
                kept.append(row)
                continue
            (code,) = candidates
            columns = row.columns or [ColumnAmount("合计", row.money, ACTUAL if t.stage == "决算" else BUDGET)]
            t.lines.append(BudgetLine(code=code, name=row.label, scheme=scheme_of(code) or ECONOMIC, total=row.money,
                                      columns=columns, span=row.span, code_inferred=True))
            context = code
            added += 1
        t.summary_rows = kept
    return added
