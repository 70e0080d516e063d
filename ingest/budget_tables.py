"""Budget tables (表1–表12) → :class:`BudgetTable` with coded lines.

A line is recognised by the shape of its classification code (科目编码): 3, 5 or 7 digits for
支出功能分类 (类 › 款 › 项), 3 or 5 for 支出经济分类 (类 › 款), printed as ``2080104``,
``[2080104] 综合业务管理``, ``208 01 04`` / ``204   06   01`` (split columns), or glued to the name
(``2010507专项普查活动 500,000``); several lines may even share one extracted line. Amounts are
recognised by shape too; the first amount of a line is its total (合计/小计/预算数).
"""
from __future__ import annotations

import re

from .amounts import AMOUNT_RE, is_amount, parse_money
from .records import BudgetLine, BudgetTable, ColumnAmount, Money, Span
from .sections import MONEY_UNIT, is_heading
from .text import Line, key

_CJK = r"\u4e00-\u9fff"
_CODE_HEAD = re.compile(r"\[?(\d{3}|\d{5}|\d{7})\]?(?![\d.,，])")
_SPLIT_PART = re.compile(r"[ \t]{1,6}(\d{2})(?![\d.,，])")
_NAME = re.compile(rf"\s*([{_CJK}（(\[【A-Za-z][^\d\t]*?)(?=\s{{2,}}|\t|\s+-?\d|\s*$)")
_TOTAL_LABEL = re.compile(r"^(合\s*计|总\s*计|小\s*计|支出合计|收入合计|本年支出合计)$")
_TITLE_TAIL = re.compile(r"((?:表\s*[一二三四五六七八九十\d]+\s*[、.．]?\s*)?(?:\d{4}\s*年)?[^\s\d,，.]{2,40}?表(?:（[^）]{1,20}）|\([^)]{1,20}\))?)\s*$")
_TABLE_NO_LINE = re.compile(r"^表\s*([一二三四五六七八九十]+|\d+)$")
_TABLE_NO = re.compile(r"表\s*([一二三四五六七八九十]+|\d+)")
_CODE_HEADINGS = re.compile(r"^(科目编码|科目名称|功能分类科目|功能科目名称|经济分类科目|功能分类科目编码|功能分类科目名称|"
                            r"经济分类科目编码|经济分类科目名称|部门经济分类科目名称|部门预算支出经济科目|部门预算经济分类科目|"
                            r"项目|类|款|项|类款项|编码|序号|单位名称|\*\*|功能分类科目编码类款项|经济分类科目编码类款)$")
_TOTAL_ROW = re.compile(r"^\s*(?:合\s*计|总\s*计|小\s*计)\s*\t*\s*((?:\d{1,3}(?:\s*,\s*\d{3})+|\d+)(?:\.\d+)?)(?![\d])")
# column headings of amount columns, longest first (layout text loses column positions, so the
# headings are matched by vocabulary and paired with a row's amounts only when the counts agree)
_AMOUNT_HEADINGS = re.compile("|".join(sorted([
    "合计", "小计", "总计", "基本支出", "项目支出", "人员经费", "公用经费", "财政拨款收入", "财政拨款",
    "一般公共预算", "政府性基金预算", "国有资本经营预算", "事业收入", "事业单位经营收入", "经营收入", "其他收入",
    "上年结转", "上年结余", "财政专户拨款", "其他资金", "事业单位经营支出", "对附属单位补助支出", "上缴上级支出",
    "结转下年", "预算数", "支出合计", "教育收费", "其他专户收入拨款", "上级补助收入", "附属单位上缴收入",
    "用事业基金弥补收支差额"], key=len, reverse=True)))
_SUMMARY_LABELS = re.compile(r"(收入总计|支出总计|本年收入合计|本年支出合计|收\s*入\s*总\s*计|支\s*出\s*总\s*计)")


def _scheme(code: str) -> str:
    # 7-digit codes are always 功能分类 (项); 经济分类 starts with 3 (部门) or 5 (政府)
    return "economic" if code[0] in "35" and len(code) <= 5 else "functional"


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


def _find_title(lines: list[Line], unit_idx: int) -> tuple[str, str | None]:
    """The table title in the few lines above its 单位：万元 line (or glued at the end of one)."""
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


class BudgetTableReader:
    def __init__(self, path: str, lines: list[Line], unit_idx: int, end: int):
        self.path, self.lines, self.unit_idx, self.end = path, lines, unit_idx, end

    def read(self) -> BudgetTable | None:
        lines = self.lines
        m = MONEY_UNIT.search(lines[self.unit_idx].raw) or MONEY_UNIT.search(" " + lines[self.unit_idx].text)
        unit = m.group(1) if m else "元"
        title, number = _find_title(lines, self.unit_idx)
        flow, fund, etype = dimensions(title)
        headings: dict[int, str] = {}
        layout_headings: list[str] = []
        rows: list[BudgetLine] = []
        total: Money | None = None
        summary: dict[str, Money] = {}
        prose = 0
        last = self.unit_idx
        body = [ln for ln in lines[self.unit_idx + 1 : self.end] if ln.filled]
        # one cell per line: almost no line holds text followed by a number (layout rows do)
        if body and sum(1 for ln in body if not ln.tabbed and not re.search(r"\S\s+-?\d", ln.text)) > 0.8 * len(body):
            return self._read_stream(body, title, number, unit, flow, fund, etype)
        for i in range(self.unit_idx + 1, self.end):
            line = lines[i]
            if not line.filled:
                continue
            if is_heading(line):
                break
            got = self._codes(line)
            if got:
                rows.extend(got)
                last, prose = i, 0
                continue
            amounts = [(c, x) for c, x in line.filled if is_amount(x)]
            tm = _TOTAL_ROW.match(line.raw)
            if tm and total is None:
                # 合计 / 总计 row: the table's printed total (layout text may glue the next title on)
                total = parse_money(tm.group(1), unit)
                last = i
                continue
            # summary tables (收支总表) and category tables (表12): label → first amount
            for lab, amt in _label_amounts(line):
                summary.setdefault(lab, parse_money(amt, unit))
                last = i
            if not amounts and not rows:
                # heading rows: remember what each column is called
                if line.tabbed:
                    for c, x in line.filled:
                        if not _CODE_HEADINGS.match(key(x)):
                            headings[c] = x
                else:
                    # group headings (支出预算) sit on their own line: keep the line naming the most columns
                    words = [m.group(0) for m in _AMOUNT_HEADINGS.finditer(key(line.text))]
                    if len(words) >= max(2, len(layout_headings)):
                        layout_headings = words
                continue
            # two lines of prose in a row end the table (a repeated page heading is not prose)
            if not amounts and len(key(line.text)) > 40 and not _AMOUNT_HEADINGS.search(key(line.text)):
                prose += 1
                if prose >= 2:
                    break
        if not rows and not summary and total is None:
            return None
        cols = [headings[c] for c in sorted(headings)] if headings else layout_headings
        for row in rows:
            row.columns = self._name_columns(row, headings, layout_headings, unit)
            if row.total is None and row.columns:
                row.total = row.columns[0].money
        span = Span(lines[self.unit_idx].no, lines[last].no)
        return BudgetTable(title=title, number=number, unit=unit, flow=flow, fund_scope=fund,
                           expenditure_type=etype, headings=cols, lines=rows, total=total, span=span,
                           summary_totals={k: v for k, v in summary.items() if v is not None})

    def _read_stream(self, body: list[Line], title, number, unit, flow, fund, etype) -> BudgetTable | None:
        """One cell per line: a code, its name and its amounts follow each other on separate lines."""
        cells = [(ln.no, ln.text) for ln in body if not is_heading(ln)]
        rows: list[BudgetLine] = []
        total: Money | None = None
        i, n = 0, len(cells)

        def is_name(j: int) -> bool:
            return j < n and bool(re.search(f"[{_CJK}]", cells[j][1])) and not is_amount(cells[j][1])

        while i < n:
            no, text = cells[i]
            if _TOTAL_ROW.match(text + " 0") and i + 1 < n and is_amount(cells[i + 1][1]) and total is None:
                total = parse_money(cells[i + 1][1], unit)
                i += 2
                continue
            m = re.fullmatch(r"\[?(\d{7}|\d{5}|\d{3})\]?(?![\d.,，])\s*(\D.*)?", text)
            if not m:
                i += 1
                continue
            code, name = m.group(1), ((m.group(2) or "").strip() or None)
            j = i + 1
            while name is None and len(code) < 7 and j < n and re.fullmatch(r"\d{2}", cells[j][1]):
                code += cells[j][1]
                j += 1
            if name is None and is_name(j):
                name = cells[j][1]
                j += 1
            if name is None and not (len(code) == 7 and j < n and is_amount(cells[j][1])):
                i += 1
                continue
            amounts: list[str] = []
            while j < n and is_amount(cells[j][1]):
                if re.fullmatch(r"\d{1,3}", cells[j][1]) and j + 1 < n and re.match(r"\[\d{3,7}\]", cells[j + 1][1]):
                    break  # the next row's serial number (序号) before its bracketed code
                nxt = re.fullmatch(r"\d{3}|\d{5}|\d{7}", cells[j][1])
                if nxt and (is_name(j + 1) or (amounts and len(cells[j][1]) == 7 and name is None)):
                    break  # the next row's code
                amounts.append(cells[j][1])
                j += 1
            rows.append(BudgetLine(code=code, name=name, scheme=_scheme(code), total=None,
                                   columns=[ColumnAmount(str(k), parse_money(a, "元")) for k, a in enumerate(amounts)],
                                   span=Span(no, cells[j - 1][0])))
            i = j
        if not rows:
            return None
        for row in rows:
            row.columns = self._name_columns(row, {}, [], unit)
            if row.columns:
                row.total = row.columns[0].money
        return BudgetTable(title=title, number=number, unit=unit, flow=flow, fund_scope=fund, expenditure_type=etype,
                           headings=[], lines=rows, total=total, span=Span(body[0].no, body[-1].no))

    # -- coded lines ----------------------------------------------------------------------------
    def _codes(self, line: Line) -> list[BudgetLine]:
        if line.tabbed:
            row = self._tab_row(line)
            return [row] if row else []
        return self._scan(line)

    def _tab_row(self, line: Line) -> BudgetLine | None:
        cells = list(line.cells)
        filled = [(i, c) for i, c in enumerate(cells) if c]
        if not filled:
            return None
        k = 0
        # a serial number column (序号) before a bracketed code: "1 | [30201]办公费"
        if len(filled) > 1 and re.fullmatch(r"\d{1,2}", filled[0][1]) and re.match(r"\[\d{3,7}\]", filled[1][1]):
            k = 1
        col, first = filled[k]
        m = re.match(r"^\[?(\d{3}|\d{5}|\d{7})\]?(?![\d.,，])\s*(.*)$", first)
        if not m:
            return None
        code, name = m.group(1), m.group(2).strip() or None
        nxt = k + 1
        # split code columns: 208 | 01 | 04
        while len(code) < 7 and nxt < len(filled) and re.fullmatch(r"\d{2}", filled[nxt][1]) and name is None:
            code += filled[nxt][1]
            nxt += 1
        if name is None and nxt < len(filled) and not is_amount(filled[nxt][1]):
            name = filled[nxt][1]
            nxt += 1
        if name is None and (nxt >= len(filled)):
            return None
        if name is not None and not re.search(f"[{_CJK}]", name):
            return None
        amounts = [(c, x) for c, x in filled[nxt:] if is_amount(x)]
        raw_amounts = [ColumnAmount(str(c), parse_money(x, "元")) for c, x in amounts]  # unit fixed below
        return BudgetLine(code=code, name=name, scheme=_scheme(code), total=None,
                          columns=raw_amounts, span=Span(line.no, line.no))

    def _scan(self, line: Line) -> list[BudgetLine]:
        """Rows of a space-aligned or glued line; several rows may share one extracted line."""
        s = line.raw.replace("\u3000", " ")
        out: list[BudgetLine] = []
        pos = 0
        while pos < len(s):
            while pos < len(s) and s[pos] == " ":
                pos += 1
            m = _CODE_HEAD.match(s, pos)
            at_row_start = pos == 0 or s[pos - 1] == " "
            if m and at_row_start:
                code = m.group(1)
                end = m.end()
                if len(code) == 3:
                    for _ in range(2):
                        sp = _SPLIT_PART.match(s, end)
                        if not sp:
                            break
                        code += sp.group(1)
                        end = sp.end()
                nm = _NAME.match(s, end)
                if nm and re.search(f"[{_CJK}]", nm.group(1)):
                    name = re.sub(r"\s{2,}", " ", nm.group(1)).strip()
                    end = nm.end()
                    amounts = []
                    for am in AMOUNT_RE.finditer(s, end):
                        gap = s[end:am.start()]
                        if gap.strip():
                            break
                        # a following row's code is not an amount of this one
                        if _next_is_code(s, am):
                            break
                        amounts.append(am.group(0))
                        end = am.end()
                    out.append(BudgetLine(code=code, name=name, scheme=_scheme(code), total=None,
                                          columns=[ColumnAmount(str(n), parse_money(a.strip(), "元")) for n, a in enumerate(amounts)],
                                          span=Span(line.no, line.no)))
                    pos = end
                    continue
            # not a row start: skip one token
            nxt = s.find(" ", pos)
            pos = len(s) if nxt < 0 else nxt
        return out

    def _name_columns(self, row: BudgetLine, headings: dict[int, str], layout: list[str], unit: str) -> list[ColumnAmount]:
        """Money in the table's unit, named by the heading of the column it was printed in."""
        named: list[ColumnAmount] = []
        moneys = [(c.heading, parse_money(c.money.printed, unit)) for c in row.columns]
        if headings and all(h.isdigit() for h, _ in moneys) and all(int(h) in headings for h, _ in moneys):
            for h, money in moneys:
                named.append(ColumnAmount(headings[int(h)], money))
            return named
        if layout and len(layout) == len(moneys):
            return [ColumnAmount(h, m) for h, (_, m) in zip(layout, moneys)]
        return [ColumnAmount("合计" if n == 0 else f"第{n + 1}栏", m) for n, (_, m) in enumerate(moneys)]


def _next_is_code(s: str, am: re.Match) -> bool:
    """True when the number at ``am`` opens the next row (a code followed by a name)."""
    text = am.group(0).strip()
    if not re.fullmatch(r"\d{3}|\d{5}|\d{7}", text):
        return False
    rest = s[am.end():]
    return bool(re.match(rf"(\s{{1,6}}\d{{2}}(?!\d)){{0,2}}\s*[{_CJK}]", rest))


_NUMBER_IN = re.compile(r"\d\.\d|\d{1,3}(,\d{3})+|\d{4,}")


def _label_amounts(line: Line) -> list[tuple[str, str]]:
    out = []
    cells = line.filled
    for j, (_, c) in enumerate(cells):
        k = key(c)
        if not k or is_amount(c) or not re.search(f"[{_CJK}]", k) or _NUMBER_IN.search(k):
            continue
        if j + 1 < len(cells) and is_amount(cells[j + 1][1]):
            out.append((k, cells[j + 1][1]))
    # space-aligned summary rows glue several label/amount pairs: "收入总计 76,306,134 支出总计 …"
    if not line.tabbed:
        for m in re.finditer(rf"([{_CJK}（）()、“”\s]{{2,30}}?)\s+((?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?)", line.raw):
            lab = key(m.group(1))
            if _SUMMARY_LABELS.search(lab) and (lab, m.group(2)) not in out:
                out.append((lab, m.group(2)))
    return out


def read_budget_table(path: str, lines: list[Line], unit_idx: int, end: int) -> BudgetTable | None:
    return BudgetTableReader(path, lines, unit_idx, end).read()
