"""项目(支出)绩效目标(申报/审批)表 → :class:`ProjectTargetTable`.

One reader for the shapes the national template is printed in:

* one project per table: field labels and values (项目名称, 主管部门, 项目资金 …), then an
  indicator grid (:mod:`ingest.indicators`). Field labels are recognised by vocabulary
  (:data:`ingest.vocab.PROJECT_FIELDS`); a value is whatever follows its label. The name may be
  printed only in the table's title (``<code>_<unit>_<name>项目绩效目标表``);
* several projects in one table, one row per indicator, the project's name, amount and goal only
  on its first row (:func:`read_project_rows`);
* a list of projects with their amount and 总体绩效目标 and no indicator grid
  (:func:`read_goal_list`).

Rows come as PDF grid rows, tab-separated or pipe rows, ``pdftotext -layout`` lines (cells apart
by runs of spaces), web copies with single spaces between cells, or one cell per line.

Amounts are read in the unit their label, the table's heading or caption (单位：万元), or — when
the table prints none — the document's other tables print; a table whose unit cannot be told is
skipped (:class:`ParseError`), never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .amounts import is_amount, parse_money, unit_of_label
from .errors import ParseError
from .indicators import (
    IndicatorHeader,
    IndicatorReader,
    header_from_roles,
    header_roles,
    is_section_label,
    read_header,
    read_stream,
)
from .indicators import layout_rows
from .records import Money, ProjectTargetTable, Span
from .sections import MONEY_UNIT, is_heading, is_title
from .text import Line, key
from .vocab import ANNUAL_VALUE, INDICATOR_HEADER, PERIOD_VALUE, PROJECT_FIELDS, level_candidates, match_field

_YEAR = re.compile(r"(20\d{2}|19\d{2})")
_LABEL_VALUE = re.compile(r"^([^：:]{2,14})[：:]\s*(.+)$")
#: a unit note printed under or after a label that wrapped: 项目资金 / （万元）
_UNIT_NOTE = re.compile(r"^[(（]\s*(万元|元)\s*[)）]$")
#: page furniture between rows: page numbers (2 2, — 31—, - 3 -, 第3页), column-number rows (** / 1 2 3)
_PAGE_NUMBER = re.compile(r"^[-—–]+\s*\d{1,3}\s*[-—–]+$|^\d(\s\d){1,2}$|^第\d+页(共\d+页)?$")
#: a bare page number printed far right or centred (``                 19``): pdftotext -layout
_INDENTED_PAGE_NUMBER = re.compile(r"^\s{8,}\d{1,3}\s*$")
_COLUMN_NUMBERS = re.compile(r"^(\*+|\d{1,2}|[一二三四五六七八九十]{1,2})$")
#: the title of a project table: <name>项目(支出)绩效目标(申报/审批)表
_TITLE_SUFFIX = re.compile(r"(项目)?(支出)?(预算)?绩效(目标|指标)(申报|审批|审核)?表$")
_TITLE_NUMBERING = re.compile(r"^(附件\d*[:：]?)?([(（]?[一二三四五六七八九十\d]{1,3}[)）.．、]\s*)+")
_TITLE_YEAR = re.compile(r"[(（]\s*\d{4}\s*年度?\s*[)）]")
#: what is left of a generic title once its suffix is removed: no project name
_GENERIC_TITLE = re.compile(r"^((\d{4}年度?)?(部门|单位|部门\(单位\))?(预算)?(政策和|政策)?(项目支出|项目|专项资金|部门主管专项资金|财政)?(的)?)$")
#: a unit code printed before the unit's or project's name: 820001-井研县马踏镇人民政府, 301007_…, [292]…
_CODED_NAME = re.compile(r"^\[?(\d{3,12})\]?\s*[-_－—、\s]?\s*(\S.*)$")
#: field rows looked at to tell how a table is printed (label and value on one line, or one cell per line)
LABEL_ROWS_SEEN = 6
#: how many lines above a table its title may wrap over
TITLE_WRAP = 3
#: a title line is short; prose above a table is not its title
TITLE_MAX = 60


# -- money units ------------------------------------------------------------------------------

_DOC_UNITS: dict[int, set[str]] = {}


def document_money_units(lines: list[Line]) -> set[str]:
    """The money units the document's tables print in their captions (单位：万元)."""
    k = id(lines)
    if k not in _DOC_UNITS:
        found: set[str] = set()
        for ln in lines:
            m = MONEY_UNIT.search(ln.raw) or MONEY_UNIT.search(" " + ln.text)
            if m:
                found.add(m.group(1))
        _DOC_UNITS.clear()  # one document at a time
        _DOC_UNITS[k] = found
    return _DOC_UNITS[k]


def caption_unit(lines: list[Line], lo: int, hi: int) -> str | None:
    """The money unit a table's head prints: ``单位：万元``, ``金额单位:元``, or a bare ``万元`` cell
    beside the department's name (湖州: ``511-退役军人事务局   万元``)."""
    for j in range(max(0, lo), min(hi, len(lines))):
        ln = lines[j]
        m = MONEY_UNIT.search(ln.raw) or MONEY_UNIT.search(" " + ln.text)
        if m:
            return m.group(1)
        for _, c in ln.filled:
            k = key(c)
            if k in ("万元", "元", "(万元)", "(元)", "单位:万元", "单位:元"):
                return "万元" if "万" in k else "元"
    return None


@dataclass
class MoneyContext:
    """Where a table's amounts get their unit when their label names none."""

    caption: str | None  # the table's 单位 line / heading
    document: set[str]  # units the document's other tables print

    def unit(self, *labels: str | None) -> str | None:
        for label in labels:
            if label:
                u = unit_of_label(label, default="")
                if u:
                    return u
        if self.caption:
            return self.caption
        if len(self.document) == 1:
            return next(iter(self.document))
        return None

    def why_not(self) -> str:
        if len(self.document) > 1:
            return f"no money unit printed with the amount or in the table's head, and the document's tables print several ({'/'.join(sorted(self.document))})"
        return "no money unit (元/万元) printed with the amount, in the table's head or anywhere in the document"


# -- lines --------------------------------------------------------------------------------------

def is_furniture(line: Line) -> bool:
    """A page number, a title, a 续表 mark: never a table cell."""
    t = key(line.text)
    return (is_page_number(line) or is_title(line) or t in ("续表", "(续表)"))


def is_page_number(line: Line) -> bool:
    """A page number between rows: ``— 31—``, ``- 3 -``, ``2 2`` (letter-spaced), ``第3页``, or a bare
    number standing far from the margin; a bare number at the margin may be a cell (one cell per line)."""
    return bool(_PAGE_NUMBER.match(line.text.strip()) or _INDENTED_PAGE_NUMBER.match(line.raw)) and line.grid is None


def _is_column_numbers(line: Line) -> bool:
    cells = [key(c) for _, c in line.filled]
    return len(cells) >= 2 and all(_COLUMN_NUMBERS.match(c) for c in cells)


def _label_tokens(text: str) -> list[str]:
    """A web-copy line whose cells are apart by single spaces, split into labels and values:
    ``主管部门 县财政局 实施单位 安徽金寨…`` → [主管部门, 县财政局, 实施单位, 安徽金寨…].
    Tokens that together spell a label are joined (``年度主要目标 和成果``, ``项目资金 (万元)``);
    consecutive value tokens stay one value, joined by a space."""
    tokens = text.split()
    out: list[str] = []
    value: list[str] = []
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):
            cand = "".join(tokens[i:i + n])
            if i + n <= len(tokens) and (match_field(cand, PROJECT_FIELDS) or _label_value(cand)):
                break
        else:
            n = 0
        if n:
            if value:
                out.append(" ".join(value))
                value = []
            out.append("".join(tokens[i:i + n]))
            i += n
        else:
            value.append(tokens[i])
            i += 1
    if value:
        out.append(" ".join(value))
    return out


def _label_value(cell: str) -> bool:
    m = _LABEL_VALUE.match(cell)
    return bool(m) and match_field(m.group(1), PROJECT_FIELDS) is not None


def _kv_cells(line: Line) -> list[str]:
    """The cells of a field row. Text rows (not a grid, not tab-separated) are split on single
    spaces too when they hold field labels (web copies print ``项目名称 物业管理``)."""
    cells = [c for _, c in line.filled]
    if line.grid is not None or "\t" in line.raw:
        return cells
    out: list[str] = []
    for c in cells:
        if " " in c.strip() and any(match_field("".join(t), PROJECT_FIELDS) for t in _windows(c.split())):
            out.extend(_label_tokens(c))
        else:
            out.append(c)
    return out


def _is_label(cell: str) -> bool:
    return bool(match_field(cell, PROJECT_FIELDS)) or bool(_UNIT_NOTE.match(cell.strip()))


def _positioned_kv_cells(line: Line) -> list[tuple[int, str]]:
    """(x, cell) of a layout line's field cells: runs apart by two or more spaces, split further
    when they hold field labels."""
    out: list[tuple[int, str]] = []
    for m in re.finditer(r"[^\s\u3000]+(?: [^\s\u3000]+)*", line.raw.replace("\x0c", " ")):
        parts = _kv_cells(Line(line.no, m.group(0), (m.group(0),)))
        for p in parts:
            out.append((m.start() + max(0, m.group(0).find(p.split()[0] if p.split() else p)), p))
    # a label wrapped inside its cell onto the same line's next run: 年度主要目标   和成果 新建…
    k = 0
    while k + 1 < len(out):
        x, c = out[k]
        nx, nxt = out[k + 1]
        head, _, rest = nxt.partition(" ")
        if _is_label(c) and not _is_label(nxt) and _is_label(c + head):
            out[k] = (x, c + head)
            if rest.strip():
                out[k + 1] = (nx + len(head) + 1, rest.strip())
            else:
                del out[k + 1]
        k += 1
    return out


#: how far (characters) the pieces of a wrapped label may stand apart, and how many lines
LABEL_WRAP_X = 3
LABEL_WRAP_LINES = 2


def _join_wrapped_labels(cells: list[list[tuple[int, str]]]) -> list[list[tuple[int, str]]]:
    """A label wrapped in its cell (``专项资金情`` … ``况（万元）``, ``项目实施期`` … ``目标``) is one
    label: two pieces at the same x, a line or two apart, that together spell a field label."""
    cells = [list(cs) for cs in cells]
    for li in range(len(cells)):
        for ci, (x, c) in enumerate(cells[li]):
            if _is_label(c):
                continue
            for lj in range(li + 1, min(len(cells), li + LABEL_WRAP_LINES + 1)):
                hit = next((k for k, (x2, c2) in enumerate(cells[lj])
                            if abs(x2 - x) <= LABEL_WRAP_X and not _is_label(c2) and _is_label(c + c2)), None)
                if hit is not None:
                    cells[li][ci] = (x, c + cells[lj][hit][1])
                    del cells[lj][hit]
                    break
    return cells


def _windows(tokens: list[str]) -> list[list[str]]:
    return [tokens[i:i + n] for i in range(len(tokens)) for n in (1, 2, 3) if i + n <= len(tokens)]


# -- titles -------------------------------------------------------------------------------------

def title_name(title: str) -> tuple[str | None, str | None, str | None]:
    """(project name, unit code, unit name) a project table's title prints:
    ``301007_泉州市公安局晋江国际机场分局_科技兴警绩效目标表`` → (科技兴警, 301007,
    泉州市公安局晋江国际机场分局); a generic title (政策和项目预算绩效目标表) → (None, None, None)."""
    t = re.sub(r"\s+", "", title)
    t = _TITLE_YEAR.sub("", t)
    m = _TITLE_SUFFIX.search(t)
    if not m:
        return None, None, None
    rest = _TITLE_NUMBERING.sub("", t[: m.start()])
    if not rest or _GENERIC_TITLE.match(key(rest)) or rest.endswith("的"):
        return None, None, None
    code = unit = None
    parts = re.split(r"[_＿]", rest)
    if len(parts) >= 3 and re.fullmatch(r"\d{3,12}", parts[0]):
        code, unit, rest = parts[0], parts[1], "_".join(parts[2:])
    elif len(parts) == 2 and re.fullmatch(r"\d{3,12}", parts[0]):
        code, rest = parts
    return (rest or None), code, unit


def table_title(lines: list[Line], first_row: int, floor: int) -> str:
    """The title printed just above a table's first row, joined when it wraps over lines
    (``301007_泉州市公安局…_机场公安综`` / ``合修缮改造项目绩效目标表``); page numbers and
    ``(2026年度)`` lines between are skipped."""
    parts: list[str] = []
    j = first_row - 1
    while j >= max(0, floor) and len(parts) < TITLE_WRAP:
        ln = lines[j]
        j -= 1
        if not ln.filled:
            continue
        text = ln.text
        if ln.grid is not None or "\t" in ln.raw:
            break
        if is_page_number(ln) or _TITLE_YEAR.fullmatch(re.sub(r"\s+", "", text)):
            if parts:
                break
            continue
        if len(key(text)) > TITLE_MAX or is_heading(ln) and parts:
            break
        if parts and re.search(r"表$", key(text)):
            break  # another title above: the section's (1.项目支出绩效目标表)
        if not parts and not re.search(r"表$", key(text)):
            if MONEY_UNIT.search(" " + text):
                continue
            break
        parts.insert(0, text.strip())
    return "".join(parts)


# -- one project per table ----------------------------------------------------------------------

class ProjectTableReader:
    """Reads one project table from ``lines[start:end]``."""

    def __init__(self, path: str, lines: list[Line], start: int, end: int, money: MoneyContext | None = None,
                 title: str = ""):
        self.path, self.lines, self.start, self.end = path, lines, start, end
        self.money = money or MoneyContext(None, set())
        self.title = title
        self.values: dict[str, list[tuple[int, str]]] = {}
        self.labels: dict[str, str] = {}  # field → label as printed (carries units such as （元）)
        self.current: str | None = None
        self.goal_cols: dict[int, str] = {}
        self._label_only: list[str] = []  # fields whose label came without a value yet
        self.first_no: int | None = None  # the table's first field row (its 项目名称 row when printed)
        self.name_no: int | None = None

    # -- key/value part -----------------------------------------------------------------------
    def _take(self, no: int, cell: str) -> None:
        field = match_field(cell, PROJECT_FIELDS)
        if field is None:
            m = _LABEL_VALUE.match(cell)
            if m and match_field(m.group(1), PROJECT_FIELDS):
                self._take(no, m.group(1))
                self._take(no, m.group(2))
                return
            if _UNIT_NOTE.match(cell.strip()):
                # 项目资金 / （万元）: the rest of a label that wrapped
                target = next((f for f in reversed(self._label_only)), self.current)
                if target is not None:
                    self.labels[target] = self.labels.get(target, "") + cell
                return
        if field is not None and not (self.current == "name" and not self.values.get("name")):
            if self.first_no is None or field == "name" and self.name_no is None:
                self.first_no = no
            self.name_no = self.name_no or (no if field == "name" else None)
            self.current = field
            self.labels.setdefault(field, cell)
            self.values.setdefault(field, [])
            self._label_only.append(field)
            return
        if self.current is None:
            return
        self.values.setdefault(self.current, []).append((no, cell))
        if self.current in self._label_only:
            self._label_only.remove(self.current)

    def _goal_columns(self, line: Line) -> bool:
        """申报表 print 长期目标 | 年度目标 side by side, their texts in the row(s) below: remember
        which column is which (returns True for that heading row)."""
        fields = {col: match_field(cell, PROJECT_FIELDS) for col, cell in line.filled}
        goal = {col: f for col, f in fields.items() if f in ("overall_goal", "annual_goal")}
        if len(set(goal.values())) == 2 and line.tabbed:
            for col, f in fields.items():
                if f is not None:
                    self.labels.setdefault(f, dict(line.filled)[col])
            self.goal_cols = goal
            self.current = None
            return True
        if self.goal_cols and any(f is not None and f not in ("goals",) for f in fields.values()):
            self.goal_cols = {}  # a new label row: the goal texts are over
        return False

    def _goal_targets(self, line: Line) -> dict[int, str]:
        """Column → goal field for a row under a side-by-side goal heading (nearest heading column)."""
        cols = sorted(self.goal_cols)
        out = {}
        for col, _ in line.filled:
            nearest = min(cols, key=lambda c: (abs(c - col), c))
            if match_field(dict(line.filled)[col], PROJECT_FIELDS) is None:
                out[col] = self.goal_cols[nearest]
        return out

    def _mode(self) -> str:
        body = [ln for ln in self.lines[self.start:self.end] if ln.filled and not is_furniture(ln)]
        # the rows that hold field labels (titles above the table say nothing of its shape)
        labelled = [ln for ln in body if ln.tabbed or any(_is_label(c) or _label_value(c) for c in _kv_cells(ln))]
        if labelled and labelled[0].tabbed:
            return "tab"
        if any(len(ln.filled) >= 2 or len(_kv_cells(ln)) >= 2 for ln in labelled[:LABEL_ROWS_SEEN]):
            return "layout"
        return "cell"

    def _is_cell_line(self, line: Line, mode: str) -> bool:
        """Lines that carry table cells; titles, page numbers and blank lines between rows do not."""
        if not line.filled:
            return False
        if mode == "tab":
            return line.tabbed
        return not is_furniture(line) and not is_heading(line) and not _is_column_numbers(line)

    def _header(self, line: Line) -> tuple[IndicatorHeader | None, str]:
        """The indicator heading this line prints, and how its rows are printed: ``grid``,
        ``tab`` (tabs or pipes), ``layout`` (cells apart by runs of spaces) or ``web`` (single spaces)."""
        h = read_header(line)
        if h is not None:
            if line.grid is not None:
                return h, "grid"
            if "\t" in line.raw:
                return h, "tab"
            return h, "layout"
        if line.grid is None and "\t" not in line.raw:
            tokens = tuple(line.text.split())
            h = header_from_roles(header_roles(tokens))
            if h is not None:
                return h, "web"
        return None, ""

    def read(self) -> ProjectTargetTable:
        lines, i = self.lines, self.start
        mode = self._mode()
        header: IndicatorHeader | None = None
        row_mode = ""
        pending_layout: list[Line] = []
        # key/value part, up to the indicator heading
        while i < self.end:
            line = lines[i]
            if not self._is_cell_line(line, mode):
                i += 1
                continue
            header, row_mode = self._header(line)
            if header is not None:
                i += 1
                break
            if mode == "cell":
                k = key(line.text)
                if is_section_label(k) or k == "一级指标":
                    header, i = _synthetic_header(lines, i)
                    if header is not None:
                        row_mode = "cell"
                        break
            if self._goal_columns(line):
                i += 1
                continue
            if mode == "layout" and not line.tabbed:
                pending_layout.append(line)
                i += 1
                continue
            for col, cell in line.filled:
                if self.goal_cols and col in self._goal_targets(line):
                    self.values.setdefault(self._goal_targets(line)[col], []).append((line.no, cell))
                else:
                    for c in ([cell] if line.grid is not None or "\t" in line.raw else _kv_cells(Line(line.no, cell, (cell,)))):
                        self._take(line.no, c)
            i += 1
        if pending_layout:
            self._take_layout(pending_layout)
        table = self._build()
        if header is None:
            table.warnings.append(f"project {table.name!r}: no indicator table found")
            table.span = Span(table.span.start, lines[max(self.start, i - 1)].no)
            return table
        last = i - 1
        if not any(self._is_cell_line(lines[j], mode if mode != "tab" else "tab") for j in range(i, self.end)):
            raise ParseError(self.path, f"the indicator table of project {table.name!r} ends after its heading "
                             "(truncated document?)", lines[i - 1].no)
        table.indicators, warnings, last = read_indicator_rows(lines, i, self.end, header, row_mode, lines[i - 1])
        table.span = Span(table.span.start, lines[max(last, i - 1)].no)
        table.warnings.extend(warnings)
        return table

    def _take_layout(self, rows: list[Line]) -> None:
        """Field rows of ``pdftotext -layout`` text. A label whose value wrapped over several lines
        is printed in their middle, its value's lines above and below it (总体目标 beside a
        six-line goal; 实施单位 with ``烟台市社会救助综合服务`` above and ``中心`` below): a line of
        values only goes to the nearest label of its paragraph that has no value on its own line
        and stands left of it; other cells are read in order."""
        paragraphs: list[list[Line]] = []
        prev: Line | None = None
        for ln in rows:
            if prev is None or ln.no != prev.no + 1:
                paragraphs.append([])
            paragraphs[-1].append(ln)
            prev = ln
        for para in paragraphs:
            cells = _join_wrapped_labels([_positioned_kv_cells(ln) for ln in para])
            # labels with nothing to their right on their own line
            dangling: list[tuple[int, int, int]] = []  # (line in paragraph, cell index, x)
            for li, cs in enumerate(cells):
                for ci, (x, c) in enumerate(cs):
                    if _is_label(c) and (ci + 1 == len(cs) or _is_label(cs[ci + 1][1])):
                        dangling.append((li, ci, x))
            attached: dict[tuple[int, int], list[str]] = {}
            moved: set[int] = set()
            for li, cs in enumerate(cells):
                if not cs or any(_is_label(c) for _, c in cs):
                    continue
                x = cs[0][0]
                near = [d for d in dangling if d[2] <= x + 1]
                if not near:
                    continue
                d = min(near, key=lambda d: (abs(d[0] - li), -d[2]))
                attached.setdefault((d[0], d[1]), []).extend(c for _, c in cs)
                moved.add(li)
            for li, (ln, cs) in enumerate(zip(para, cells)):
                if li in moved:
                    continue
                value_only = li > 0 and not any(_is_label(c) for _, c in cs)
                for ci, (_, c) in enumerate(cs):
                    if value_only and ci == 0 and self.current and self.values.get(self.current):
                        # the value of the label above wrapped onto this line
                        no, prev = self.values[self.current][-1]
                        self.values[self.current][-1] = (no, prev + c)
                        continue
                    self._take(ln.no, c)
                    if (li, ci) in attached:
                        self._take(ln.no, "".join(attached[(li, ci)]))

    # -- fields ---------------------------------------------------------------------------------
    def _text(self, field: str, sep: str = "\n") -> str | None:
        parts = [c for _, c in self.values.get(field, []) if c]
        return sep.join(parts) if parts else None

    def _money(self, field: str) -> Money | None:
        cells = [c for _, c in self.values.get(field, [])]
        if not any(is_amount(c) for c in cells):
            return None
        unit = self.money.unit(self.labels.get(field), self.labels.get("funds"))
        if unit is None:
            raise ParseError(self.path, f"project {self._text('name', '')!r}: {self.money.why_not()}",
                             self.lines[self.start].no)
        return next(parse_money(c, unit) for c in cells if is_amount(c))

    def _build(self) -> ProjectTargetTable:
        first = next((ln for ln in self.lines[self.start:self.end] if ln.no == self.first_no), self.lines[self.start])
        name = self._text("name", "")
        code = unit_from_title = None
        if not name:
            name, code, unit_from_title = title_name(self.title)
        if not name:
            raise ParseError(self.path, "project table without a 项目名称 value", first.no)
        t = ProjectTargetTable(name=name, span=Span(first.no, first.no))
        t.project_type = self._text("project_type")
        t.project_level = self._text("project_level")
        t.competent_department = self._text("competent_department")
        t.implementing_unit = self._text("implementing_unit") or unit_from_title or self._text("budget_unit")
        t.unit_code = code
        t.basis = self._text("basis")
        t.summary = self._text("summary")
        # 实施周期: 起始年度 2022 到期年度 2099, or a printed range "2024 年 1 月 1 日-2024 年 12 月 31 日"
        sy = [int(y) for _, c in self.values.get("start_year", []) for y in _YEAR.findall(c)]
        ey = [int(y) for _, c in self.values.get("end_year", []) for y in _YEAR.findall(c)]
        py = [int(y) for _, c in self.values.get("period", []) for y in _YEAR.findall(c)]
        t.start_year = sy[0] if sy else (py[0] if py else None)
        t.end_year = ey[0] if ey else (py[-1] if len(py) > 1 else None)
        # amounts: the year's budget (元 or 万元 by the label), or 年度资金(申请)总额 under 项目资金 (万元)
        if "amount" in self.values:
            t.amount = self._money("amount")
            years = _YEAR.findall(self.labels["amount"])
            t.amount_year = int(years[0]) if years else None
        if t.amount is None and "annual_funds" in self.values:
            t.amount = self._money("annual_funds")
        if "total_funds" in self.values:
            t.total_funds = self._money("total_funds")
        if t.amount is None and t.total_funds is not None and "annual_funds" not in self.values:
            t.amount = t.total_funds
        for field, attr in (("appropriation", "current_year_appropriation"), ("carry_over", "carry_over"), ("other_funds", "other_funds")):
            if field in self.values:
                setattr(t, attr, self._money(field))
        # goals: 总体绩效目标 › 实施周期总目标 / 2024年度目标, or a single 总体目标 text
        t.overall_goal = self._text("overall_goal") or self._text("goals")
        t.annual_goal = self._text("annual_goal")
        if self.labels.get("annual_goal") and t.amount_year is None:
            years = _YEAR.findall(key(self.labels["annual_goal"]))
            t.amount_year = int(years[0]) if years else None
        if t.amount is None:
            raise ParseError(self.path, f"project table {t.name!r}: no readable amount (年度预算金额 / 年度资金总额 "
                             "missing or not a number)", first.no)
        return t


def _synthetic_header(lines: list[Line], i: int) -> tuple[IndicatorHeader | None, int]:
    """Cell mode: heading cells (一级指标, 二级指标 …) stand on consecutive lines."""
    cells: list[str] = []
    j = i
    while j < len(lines) and len(cells) < 8:
        line = lines[j]
        if not line.filled:
            j += 1
            continue
        k = key(line.text)
        if is_section_label(k) or k in ("一级指标", "二级指标") or INDICATOR_HEADER.match(k) or PERIOD_VALUE.match(k) or ANNUAL_VALUE.match(k):
            cells.append(line.text)
            j += 1
            continue
        break
    header = read_header(Line(lines[i].no, "\t".join(cells), tuple(cells)))
    return header, j


def read_indicator_rows(lines: list[Line], i: int, end: int, header: IndicatorHeader, mode: str,
                        header_line: Line) -> tuple[list, list[str], int]:
    """The indicators of rows ``lines[i:end]`` under ``header``; returns (indicators, warnings,
    index of the last row read)."""
    last = i - 1
    if mode == "cell":
        cells: list[tuple[int, str]] = []
        for j in range(i, end):
            line = lines[j]
            if line.filled and not is_furniture(line) and not is_heading(line):
                cells.extend((line.no, c) for _, c in line.filled)
                last = j
        found, warnings = read_stream(cells, header)
        return found, warnings, last
    reader = IndicatorReader(header)
    if mode == "layout":
        rows, last = layout_rows(lines, i, end, header_line, header)
        for row in rows:
            reader.row(row, positional=True)
        return reader.indicators, reader.warnings, last
    for j in range(i, end):
        line = lines[j]
        if not line.filled or is_furniture(line) or _is_column_numbers(line):
            continue
        if mode in ("grid", "tab") and not line.tabbed:
            continue  # titles and notes between the rows of a table
        if mode == "web":
            if is_heading(line) or re.match(r"^注[:：]", line.text):
                break
            line = _web_row(line)
        again = read_header(line)
        if again is not None:
            reader.header = again  # continued on a new page with its heading repeated
            last = j
            continue
        reader.row(line)
        last = j
    return reader.indicators, reader.warnings, last


def _web_row(line: Line) -> Line:
    """A web-copy row (cells apart by single spaces) as cells: the level names it starts with,
    then its 三级 text (which may itself hold spaces), then what follows as separate cells."""
    tokens = line.text.split()
    return Line(line.no, "\t".join(tokens), tuple(tokens), page=line.page)


# -- several projects, one row per indicator ----------------------------------------------------

_SUBTOTAL = re.compile(r"^\d{2,12}\s*[-_－]\s*\S+")


def _row_cells(line: Line, header: IndicatorHeader) -> dict[int, str]:
    """Column → cell of a row of a table listing projects row by row. Grid and tab rows keep their
    columns; a pipe row copied from a web page lacks the cells a merged (rowspan) cell covers, so
    it is aligned on its first level name (or, with none, on the heading's last column)."""
    if line.grid is not None or "\t" in line.raw and not _left_packed(line, header):
        return {c: t for c, t in line.filled}
    cells = list(line.cells)
    while cells and not cells[-1]:
        cells.pop()
    anchor = next((j for j, c in enumerate(cells) if level_candidates(c)), None)
    if anchor is not None:
        depth = level_candidates(cells[anchor])[0].depth
        col = next((c for c, d in header.level_cols.items() if d == depth), min(header.level_cols))
        offset = col - anchor
    else:
        width = max(header.roles) + 1
        offset = width - len(cells)
    return {j + offset: c for j, c in enumerate(cells) if c and j + offset >= 0}


def _left_packed(line: Line, header: IndicatorHeader) -> bool:
    """A row shorter than its heading (a web page's table copied as pipes): the cells under merged
    (rowspan) cells are missing, not empty."""
    cells = list(line.cells)
    while cells and not cells[-1]:
        cells.pop()
    return len(cells) < max(header.roles) + 1


def read_project_rows(path: str, lines: list[Line], hi: int, end: int, header: IndicatorHeader,
                      money: MoneyContext) -> tuple[list[ProjectTargetTable], int]:
    """A table listing several projects, one row per indicator (部门预算项目绩效目标申报表): the
    project's unit, name, amount and 年度目标 only on its first row. A row with a coded unit and an
    amount but no project name (``820-马踏镇部门 | 8,827,620.53``) is the department's subtotal,
    not a project."""
    cols = header.project_cols
    by_role = {r: c for c, r in cols.items()}
    projects: list[ProjectTargetTable] = []
    readers: list[IndicatorReader] = []
    unit_cell: str | None = None
    amount_label = next((ln.cells[c] for c in [by_role.get("amount")] if c is not None for ln in [lines[hi]] if c < len(ln.cells)), "")
    last = hi
    for j in range(hi + 1, end):
        line = lines[j]
        if not line.filled or is_furniture(line) or _is_column_numbers(line):
            continue
        if not line.tabbed:
            if is_heading(line):
                break
            continue
        if read_header(line) is not None:
            continue  # the heading repeated on a new page
        cells = _row_cells(line, header)
        name = cells.get(by_role.get("project_name", -1))
        unit = cells.get(by_role.get("unit_name", -1))
        amount = cells.get(by_role.get("amount", -1))
        goal = cells.get(by_role.get("goal", -1))
        has_levels = any(c in header.level_cols for c in cells)
        if unit and not name and not has_levels and (amount is None or is_amount(amount)):
            unit_cell = None  # a department subtotal row (820-马踏镇部门): not a project
            last = j
            continue
        if unit:
            unit_cell = unit
        if name and (not projects or name != projects[-1].name or amount):
            p = ProjectTargetTable(name=re.sub(r"\s*\n\s*", "", name), span=Span(line.no, line.no))
            if unit_cell:
                m = _CODED_NAME.match(unit_cell)
                p.unit_code, p.implementing_unit = (m.group(1), m.group(2)) if m else (None, unit_cell)
            if amount is not None and is_amount(amount):
                u = money.unit(amount_label)
                if u is None:
                    raise ParseError(path, f"project {p.name!r}: {money.why_not()}", line.no)
                p.amount = parse_money(amount, u)
            p.annual_goal = goal
            projects.append(p)
            readers.append(IndicatorReader(header))
        if not projects:
            continue
        if has_levels or any(c > max(header.project_cols or {-1: 0}) for c in cells):
            row = Line(line.no, line.raw, tuple(cells.get(c, "") for c in range(max(cells) + 1)), page=line.page)
            readers[-1].row(row, positional=True)
        projects[-1].span = projects[-1].span.merge(Span(line.no, line.no))
        last = j
    for p, r in zip(projects, readers):
        p.indicators, p.warnings = r.indicators, p.warnings + r.warnings
        if p.amount is None:
            raise ParseError(path, f"project {p.name!r}: no readable amount in its first row", p.span.start)
    return projects, last


# -- a list of projects with their goals, no indicator grid ------------------------------------

def read_goal_list(path: str, lines: list[Line], hi: int, end: int, roles: dict[int, str],
                   money: MoneyContext) -> tuple[list[ProjectTargetTable], int]:
    """项目支出绩效表 printed as a list (湖州: 单位名称 | 项目名称 | 金额 | 项目总体绩效目标): one
    project per row with its amount and goal, no indicator grid."""
    by_role = {r: c for c, r in roles.items()}
    header_line = lines[hi]
    amount_label = header_line.cells[by_role["amount"]] if by_role["amount"] < len(header_line.cells) else ""
    unit = money.unit(amount_label)
    rows, last = _list_rows(lines, hi, end, roles)
    out: list[ProjectTargetTable] = []
    for no, cells in rows:
        name = cells.get("project_name")
        amount = cells.get("amount")
        if not name or amount is None or not is_amount(amount) or key(name) in ("合计", "总计", "小计"):
            continue
        if unit is None:
            raise ParseError(path, f"project {name!r}: {money.why_not()}", no[0])
        p = ProjectTargetTable(name=name, span=Span(no[0], no[1]))
        p.amount = parse_money(amount, unit)
        unit_name = cells.get("unit_name")
        if unit_name:
            m = _CODED_NAME.match(unit_name)
            p.unit_code, p.implementing_unit = (m.group(1), m.group(2)) if m and not unit_name[0].isdigit() is False else (None, unit_name)
        p.overall_goal = cells.get("goal")
        out.append(p)
    return out, last


def _list_rows(lines: list[Line], hi: int, end: int, roles: dict[int, str]) -> tuple[list[tuple[tuple[int, int], dict[str, str]]], int]:
    """Rows of a list table as role → text, with their first and last line. Grid rows are rows;
    ``pdftotext -layout`` rows are rebuilt from the cells' positions under the heading."""
    header_line = lines[hi]
    out: list[tuple[tuple[int, int], dict[str, str]]] = []
    last = hi
    if header_line.grid is not None or "\t" in header_line.raw:
        for j in range(hi + 1, end):
            ln = lines[j]
            if not ln.filled or not ln.tabbed:
                continue
            if header_roles(ln.cells) and set(header_roles(ln.cells).values()) >= {"project_name"}:
                continue  # heading repeated on a new page
            got = {roles[c]: t for c, t in ln.filled if c in roles}
            out.append(((ln.no, ln.no), got))
            last = j
        return out, last
    from .indicators import layout_list_rows

    return layout_list_rows(lines, hi, end, roles)


# -- entry point --------------------------------------------------------------------------------

def _is_project_start(lines: list[Line], j: int) -> bool:
    cells = lines[j].filled
    if not cells:
        return False
    first = cells[0][1]
    if match_field(first, PROJECT_FIELDS) == "name" or _label_value(first) and match_field(_LABEL_VALUE.match(first).group(1), PROJECT_FIELDS) == "name":
        return True
    toks = first.split()
    return len(toks) > 1 and match_field(toks[0], PROJECT_FIELDS) == "name"


def _segments(lines: list[Line], start: int, end: int) -> list[int]:
    """Where each project table of a block starts: its 项目名称 row, or — for tables that print
    the name in their title — the first row after an indicator grid that starts a new table
    (a new grid, or field rows again)."""
    starts = [start]
    seen_name = seen_grid = False
    grid_id: int | None = None
    for j in range(start, end):
        ln = lines[j]
        if not ln.filled:
            continue
        if _is_project_start(lines, j):
            if seen_name or seen_grid:
                starts.append(_title_start(lines, j, starts[-1]))
                seen_grid = False
            seen_name = True
            grid_id = ln.grid
            continue
        if read_header(ln) is not None:
            seen_grid = True
            grid_id = ln.grid
            continue
        if seen_grid and ln.grid is not None and ln.grid != grid_id and not seen_name and read_header(ln) is None:
            # a new ruled table after an indicator grid: the next project (its name in its title)
            first_of_grid = j == 0 or lines[j - 1].grid != ln.grid
            if first_of_grid and any(match_field(c, PROJECT_FIELDS) for _, c in ln.filled):
                starts.append(_title_start(lines, j, starts[-1]))
                seen_grid = False
                grid_id = ln.grid
    return starts


def _title_start(lines: list[Line], j: int, floor: int) -> int:
    """The first line of the title block printed above row ``j`` (kept with its table)."""
    k = j
    while k - 1 > floor and lines[k - 1].grid is None and "\t" not in lines[k - 1].raw and (
        not lines[k - 1].filled or len(key(lines[k - 1].text)) <= TITLE_MAX and not _is_data_row(lines[k - 1])
    ) and j - (k - 1) <= TITLE_WRAP + 3:
        k -= 1
    return k


def _is_data_row(line: Line) -> bool:
    return len(line.filled) >= 2 and any(is_amount(c) for _, c in line.filled)


def read_project_tables(path: str, lines: list[Line], start: int, end: int, caption: str | None = None,
                        floor: int = 0) -> tuple[list[ProjectTargetTable], list[str]]:
    """Every project a project-table block holds, and a warning for each part of it that could not
    be read (when at least one part could; else the first part's :class:`ParseError`)."""
    money = MoneyContext(caption or caption_unit(lines, start, min(end, start + 12)), document_money_units(lines))
    if not any(ln.tabbed or any(_is_label(c) or _label_value(c) for c in _kv_cells(ln)) for ln in lines[start:end] if ln.filled):
        return [], []  # a heading with no table under it (本部门无…)
    # a table that lists projects row by row: its heading names project columns
    for j in range(start, min(end, start + 40)):
        ln = lines[j]
        if not ln.filled:
            continue
        roles = header_roles(ln.cells if (ln.tabbed or len(ln.filled) > 1) else tuple(ln.text.split()))
        present = set(roles.values())
        if "project_name" in present and "amount" in present:
            header = header_from_roles(roles)
            if header is not None:
                if not ln.tabbed:
                    raise ParseError(path, "a project table listing projects row by row, printed without column "
                                     "separators: its rows cannot be told apart", ln.no)
                projects, _ = read_project_rows(path, lines, j, end, header, money)
                return projects, []
            if "goal" in present and not any(r in present for r in ("level1", "level2", "level3")):
                projects, _ = read_goal_list(path, lines, j, end, roles, money)
                return projects, []
    out: list[ProjectTargetTable] = []
    errors: list[ParseError] = []
    bounds = _segments(lines, start, end) + [end]
    for a, b in zip(bounds, bounds[1:]):
        first_row = next((k for k in range(a, b) if lines[k].filled and (lines[k].tabbed or _is_project_start(lines, k)
                                                                        or _is_data_row(lines[k]))), a)
        # a title wrapped over lines may begin in the block above (its tail lines are not table rows)
        title = table_title(lines, first_row, max(0, a - TITLE_WRAP - 2))
        seg_caption = caption_unit(lines, a, min(b, a + 8)) or money.caption
        reader = ProjectTableReader(path, lines, a, b, MoneyContext(seg_caption, money.document), title=title)
        try:
            out.append(reader.read())
        except ParseError as exc:
            errors.append(exc)
    if not out and errors:
        raise errors[0]
    return out, [f"project table skipped ({e.reason}, line {e.line})" for e in errors]


def read_project_table(path: str, lines: list[Line], start: int, end: int) -> ProjectTargetTable:
    """One project table (the first of the block)."""
    projects, _ = read_project_tables(path, lines, start, end)
    return projects[0]
