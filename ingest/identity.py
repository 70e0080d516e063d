"""Who published a document, of what kind, for which year: its title, 预算单位 and 年度.

Documents say it in many places and never all alike: the cover title (``2026 年度苏州市水务局单位预算公开``,
``上海市普陀区规划和自然`` / ``资源局`` / ``2024 年度部门决算`` over three lines), a label above the tables
(单位名称 / 部门名称 / 预算单位 / 编制单位 / 部门（单位）/ ``部门：X`` / ``单位：X`` beside ``单位：万元``), a coded
label (``511-退役军人事务局``, ``[123001]上海市普陀区司法局``), a 单位名称 column of the tables, or the 用款/实施单位 of
the project tables. Every source gives candidates; the fullest name wins (a name the title prints with its region
beats the same name printed without it).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .records import ParsedDocument
from .text import Line, key

#: the document's title and year are read from its first lines, up to its first table row
TITLE_LINES = 15
#: labels of the budget unit are looked for in this many lines (front matter and the first tables)
LABEL_LINES = 600
#: a cover title wrapped over lines is at most this long (matching key)
TITLE_CHARS = 60

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_YEAR_BARE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
# the end of an organisation's name: 局 / 中心 / 委员会 / 人民政府 / 办事处 / 学院 / 试验场 / 活动室 …
UNIT_SUFFIX = re.compile(
    r"(中心|局|委员会|委|办公室|办公厅|人民政府|政府|办事处|街道|法院|检察院|院|所|站|队|会|馆|厅|部|社|处|办|室|校|"
    r"学院|大学|医院|场|园|台|队|团|组|协会|联合会|研究院|总队|支队|大队|公司|集团|库|监狱)$")
# words of labels, headings and sentences, never of a unit's name
_NOT_NAME = re.compile(r"名称|主管部门|实施单位|预算|决算|金额|合计|说明|情况|[，。；、]")
_BENJI = re.compile(r"[（(]本级[)）]$")
# label: value (the value is a name, up to a run of spaces, the next label, a money-unit caption or 目录)
_UNIT_LABEL = re.compile(
    r"(?:单位名称|部门名称|预算主管部门|预算单位|编制部门|编制单位|部门[（(]单位[)）](?:名称)?|部门|单位)"
    r"\s*[：:]\s*([^\s：:][^：:]*?)(?=\s{2,}|\t|\s*(?:金额)?单位\s*[：:]|\s*目\s*录|$)")
_CODED_NAME = re.compile(r"^\s*[\[【(（]?\d{3,9}[\]】)）]?\s*[-－—:：]?\s*(\D.*)$")
_DOC_KIND = re.compile(r"(部门|单位)?(预算|决算)(公开|信息公开)?(表|说明|报告)?$")
_TITLE_NOISE = re.compile(r"^(关于)?|(公开|信息公开|的?说明|情况|报告|编制说明)$")
_TOC = re.compile(r"目\s*录")
_SECTION = re.compile(r"^[一二三四五六七八九十]+、|^第[一二三四五六七八九十]+部分|^附件\s*\d*$")


def title_lines(lines: list[Line], is_data) -> list[Line]:
    """The document's opening lines, up to its first table row or table of contents."""
    out: list[Line] = []
    for ln in lines:
        # a cover line spaced out like a table row (社会工作部      2024      年度) is still the title
        if (is_data(ln) and not _YEAR.search(key(ln.text))) or len(out) >= TITLE_LINES or _TOC.search(ln.text):
            break
        if ln.text:
            out.append(ln)
    return out


def document_title(head: list[Line]) -> str:
    """The document's own title: its first lines, up to a table of contents or a section."""
    parts: list[str] = []
    for ln in head[:4]:
        text = re.sub(r"^#+\s*", "", ln.text)
        if parts and _SECTION.match(text):
            break
        if text and len(text) < 80 and not re.fullmatch(r"附件\s*\d*", text):
            parts.append(re.sub(r"\s{2,}", " ", text))
    return " ".join(parts)[:200]


def document_kind(head: list[Line]) -> str:
    """部门预算 | 单位预算 | 部门决算 | 单位决算 | 绩效自评表 | 绩效目标表, from the title proper (a table of
    contents below it names other tables)."""
    text = key(" ".join(ln.text for ln in head[:4]))
    for kind in ("部门决算", "单位决算", "部门预算", "单位预算"):
        if kind in text:
            return kind
    if "决算" in text:
        return "部门决算"
    if "自评" in text:
        return "绩效自评表"
    if "预算" in text and "绩效" not in text:
        return "部门预算"
    return "绩效目标表"


def _clean_name(value: str) -> str | None:
    """A unit's name as printed, without a code before it; None when it is not an organisation's name."""
    v = value.strip().strip("：:").strip()
    m = _CODED_NAME.match(v)
    if m:
        v = m.group(1).strip()
    v = re.sub(r"\s+", "", v)
    # 上海市统计和大数据研究院（上海市统计数据管理中心）: a second name in brackets; the first one ends the name
    bare = re.sub(r"[（(][^()（）]*[)）]$", "", v)
    if not (3 <= len(bare) <= 40) or not UNIT_SUFFIX.search(bare) or re.search(r"\d", bare) or _NOT_NAME.search(bare):
        return None
    return v


def _title_unit(head: list[Line]) -> str | None:
    """The unit a cover title names: ``2026年度苏州市水务局单位预算公开`` → 苏州市水务局; the title may be wrapped
    over lines (``上海市普陀区规划和自然`` / ``资源局`` / ``2024 年度部门决算``)."""
    text = ""
    for ln in head[:6]:
        # a title is one cell a line; a table row or a label ends it
        if _SECTION.match(ln.text) or (len(ln.filled) > 1 and not _YEAR.search(key(ln.text))) or re.search(r"[：:]", ln.text):
            break
        text += key(ln.text)
        if len(text) > TITLE_CHARS:
            return None
        if _DOC_KIND.search(re.sub(r"[(（][^)）]*[)）]$", "", text)) and ("预算" in text or "决算" in text):
            break
    text = re.sub(r"[(（]?\d{4}年度?[)）]?|\d{4}", "|", text)
    for part in text.split("|"):
        part = _DOC_KIND.sub("", part)
        part = re.sub(r"(市级|县级|区级|省级|本级)$", "", part)
        name = _clean_name(part)
        if name:
            return name
    return None


def _labelled(lines: Iterable[Line]) -> list[str]:
    out = []
    for ln in lines:
        for m in _UNIT_LABEL.finditer(ln.text.replace("\t", "  ")):
            name = _clean_name(m.group(1))
            if name:
                out.append(name)
    return out


def _column_values(lines: Iterable[Line]) -> list[str]:
    """Names in a 单位名称 column (tables that print the unit per row instead of a label)."""
    out: list[str] = []
    col: int | None = None
    for ln in lines:
        if not ln.tabbed:
            continue
        keys = [key(c) for c in ln.cells]
        if "单位名称" in keys:
            col = keys.index("单位名称")
            continue
        if col is not None and col < len(ln.cells):
            name = _clean_name(ln.cells[col])
            if name:
                out.append(name)
    return out


def _fullest(names: list[str]) -> str | None:
    """The most complete of names that may be the same unit printed with and without its region:
    ``退役军人事务局`` and ``湖州市退役军人事务局`` are one unit."""
    if not names:
        return None
    best = names[0]
    for n in names[1:]:
        if n.endswith(_BENJI.sub("", best)) and len(n) > len(best):
            best = n
    return best


def unit_name(lines: list[Line], head: list[Line], doc: ParsedDocument) -> str | None:
    """The budget unit (预算单位) of the document, or None when it prints none."""
    for dt in [*doc.department_targets, *doc.self_evaluations]:  # 部门（单位）名称 of a target or 自评 table
        if dt.unit_name and _clean_name(dt.unit_name):
            return _fullest([_clean_name(dt.unit_name), *_labelled(lines[:LABEL_LINES])])
    labelled = _labelled(lines[:LABEL_LINES])
    titled = _title_unit(head)
    columns = Counter(_column_values(lines))
    projects = Counter(n for p in doc.projects for n in (p.implementing_unit, p.competent_department)
                       if n and _clean_name(n))
    # a label is what the document says the unit is; the title says it with its region
    first = labelled[0] if labelled else None
    if first and titled and titled.endswith(_BENJI.sub("", first)):
        return titled
    if first:
        return _fullest([first, *([titled] if titled else [])])
    if titled:
        return titled
    for counter in (columns, projects):
        if counter:
            return _clean_name(counter.most_common(1)[0][0])
    return None


def fiscal_year(head: list[Line], doc: ParsedDocument, path: str) -> tuple[int | None, str | None]:
    """(year, where it was read): the title's 2026年度, else the one year the tables state, else a year in
    the file name (publishers name files 江苏省政协办公厅2018度部门预算公开表.pdf). Never invented."""
    years = _YEAR.findall(key(" ".join(ln.text for ln in head)))
    if years:
        return int(years[0]), "title"
    stated = {p.amount_year for p in doc.projects if p.amount_year} | {d.year for d in doc.department_targets if d.year}
    stated |= {int(y) for t in doc.budget_tables for y in _YEAR.findall(key(t.title))}
    if len(stated) == 1:
        return stated.pop(), "tables"
    named = set(_YEAR_BARE.findall(Path(path).stem))
    if len(named) == 1:
        return int(named.pop()), "file name"
    return None, None


# -- identity across documents and years ----------------------------------------------------------

#: a unit's own budget is printed as 「X（本级）」「X本级」「X本部」: the organisation is X
_OWN_MARK = re.compile(r"\s*(?:[（(]\s*(?:本级|本部)\s*[)）]|本级|本部)$")
#: administrative organs (机关) publish their own 单位预算 as the department's unit (单位本级); other units
#: (事业单位: 中心, 馆, 院, 所 …) are usually a department's subordinate units (下属单位)
_ORGAN = re.compile(r"(局|委员会|委|办公室|办公厅|人民政府|政府|办事处|法院|检察院|部|厅|署|人大常委会|政协)$")
#: a year printed in a project's name (2024年度政务服务外包): the same project of another year
_NAME_YEAR = re.compile(r"(?:19|20)\d{2}\s*年度?")
_NAME_PUNCT = re.compile(r"[、，,。．.·・\-－—_:：;；/／\s]")

#: document scopes (bkg:DocumentScopes concepts): whose money a document counts
DEPARTMENT, OWN, SUBORDINATE = "DepartmentConsolidated", "UnitOwn", "SubordinateUnit"


def unit_display_name(name: str) -> str:
    """The organisation a printed unit name stands for: ``…街道办事处（本级）`` → ``…街道办事处`` (the
    （本级） marks the document's scope, not another organisation). Full-width punctuation is kept."""
    return _OWN_MARK.sub("", name.strip()) or name.strip()


def unit_key(name: str) -> str:
    """What makes two printed names one budget unit (预算单位) across documents and years: the name
    without spaces and without the （本级） mark, brackets full-width (``(本级)`` and ``（本级）`` alike)."""
    s = re.sub(r"\s+", "", unit_display_name(name))
    return s.replace("(", "（").replace(")", "）")


def project_key(name: str) -> str:
    """What makes two project names (项目名称) of one unit the same project in different years: NFKC, no
    spaces, brackets, quotes or list punctuation, and no year printed in the name
    (``2024年度政务服务外包`` and ``2025年政务服务外包（续）``… differ only by the year and brackets)."""
    k = re.sub(r"[()（）\[\]【】“”\"'‘’《》<>]", "", key(name))
    k = _NAME_YEAR.sub("", k)
    return _NAME_PUNCT.sub("", k) or key(name)


def is_own_budget(name: str, title: str = "") -> bool:
    """The name or the title marks the unit's own budget (（本级）, 本级, 本部)."""
    return bool(_OWN_MARK.search(name.strip())) or bool(re.search(r"[（(]?本级[)）]?", key(title)))


def document_scope(doc: ParsedDocument) -> tuple[str, str]:
    """(scope, why) of a document — whose money it counts (预算范围):

    - 部门汇总 (``DepartmentConsolidated``): a 部门预算 / 部门决算 sums the department's own unit and its
      subordinate units (所属单位);
    - 单位本级 (``UnitOwn``): a 单位预算 marked （本级）, or of an administrative organ (局, 委员会, 办公室 …,
      the department's own unit), and the performance tables a unit publishes for itself;
    - 下属单位 (``SubordinateUnit``): a 单位预算 of a unit that is not an organ (中心, 馆, 院 …).

    Read from the document alone; which department's document counts a unit's money is a link the
    store makes when both documents are in it (``bkg:includedIn``)."""
    name = doc.unit_name or ""
    if doc.kind.startswith("部门") and not is_own_budget(name, doc.title):
        return DEPARTMENT, f"{doc.kind}: the department with its units"
    if is_own_budget(name, doc.title):
        return OWN, "（本级） in the unit's name or the title"
    if doc.kind.startswith("单位"):
        if _ORGAN.search(unit_display_name(name)):
            return OWN, f"{doc.kind} of an administrative organ: the department's own unit"
        return SUBORDINATE, f"{doc.kind} of a unit that is not an administrative organ"
    return OWN, f"{doc.kind} of the unit itself"


_LIST_HEAD = re.compile(r"具体包括|包括[:：]|预算单位构成|所属单位|下属单位|纳入.{0,30}(编制范围|预算)的?(单位)?(包括|有)")
_LIST_ITEM = re.compile(r"(?:^|\s|[：:；;，,、])(?:\d{1,2}\s*[.．、]|[（(]\d{1,2}[)）])\s*([^\s；;，,。、]{3,40})")
_INTERNAL = re.compile(r"内设|处室|科室|职能部门")
#: a 单位名称 cell that holds something else (a project, a grant, ``辅助人员补助经费-珠海边检总站``)
_NOT_UNIT = re.compile(r"[-－—]|经费|补助|慰问|项目|资金")
#: lines after a list heading that may still hold its items
LIST_WINDOW = 12


def listed_units(lines: list[Line], own: str) -> list[str]:
    """Units a department's document says it consists of (预算单位构成 / 具体包括：1. X 2. Y / a 单位名称
    column), as printed, without the department's own unit (本部 / 本级 name the department itself)."""
    found: list[str] = []
    for n, ln in enumerate(lines):
        if not _LIST_HEAD.search(ln.text):
            continue
        for item in lines[n : n + LIST_WINDOW]:
            if _INTERNAL.search(item.text):
                break  # a list of internal divisions (内设机构: 办公室, 组织人事处 …), not budget units
            for m in _LIST_ITEM.finditer(" " + item.text):
                name = _clean_name(m.group(1))
                if name:
                    found.append(name)
    found.extend(_column_values(lines))
    own_key = unit_key(own)
    out: list[str] = []
    for name in found:
        k = unit_key(name)
        if _NOT_UNIT.search(name):
            continue
        if k and k != own_key and not own_key.endswith(k) and name not in out and not is_own_budget(name):
            out.append(name)
    return out
