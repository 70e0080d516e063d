#!/usr/bin/env python
"""Synthetic corpus of budget disclosures for benchmarks, recombined from the real samples.

``generate(out_dir, projects, seed)`` writes one text document per budget unit and year in the
layouts of ``samples/seeds`` (tab-separated text as extracted from the PDFs) and returns the exact
counts of what it wrote, so a benchmark can compare them with what ingestion finds::

    python bench/generate.py --projects 5000 --out /tmp/corpus --seed 0

Everything printed comes from the seeds, parsed at start with :func:`ingest.parse.parse_file`:
project names, types, goal texts, indicator rows (一级 › 二级 › 三级 with their targets, kept under
the levels they were printed under), key tasks (年度重点工作任务), classification codes with their
names and budget amounts. They are re-localised (town/county names, years), numbers in targets and
amounts are varied, and the seeds' own extraction quirks (merged cells as empty leading columns,
placeholder rows, a duplicated row, values shifted one column, a task wrapped over two rows, a
table continued on the next page) are reproduced now and then. Layouts:

``dg-projects``     项目绩效目标表 only (东坑), amounts ``920000`` 元 or ``4,832,039.00``
``dg-dept-tasks``   部门整体预算绩效目标申报表 with 年度重点工作任务 + project tables (南城)
``dg-dept-numbered`` 部门整体预算绩效目标表 with 任务一：… and an optional task + project tables (沙田)
``dg-budget``       部门预算: 表1–表12 in 万元 (类 = Σ款 = Σ项), 重点项目 list, project tables (清溪)
``yd-unit-budget``  单位预算公开: narrative, 表一–表十二, 整体支出绩效目标表, 项目支出绩效目标表 in 万元 (永登)

Randomness comes only from a ``random.Random(seed)``: the same seed writes byte-identical files.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: python bench/generate.py
    sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "samples" / "seeds"
YEARS = tuple(range(2020, 2027))

# --- regions and budget units -------------------------------------------------------------------

#: the 32 镇街 of 东莞市 (4 街道 + 28 镇)
DONGGUAN_TOWNS = (
    "莞城街道", "东城街道", "南城街道", "万江街道", "石碣镇", "石龙镇", "茶山镇", "石排镇", "企石镇", "横沥镇",
    "桥头镇", "谢岗镇", "东坑镇", "常平镇", "寮步镇", "樟木头镇", "大朗镇", "黄江镇", "清溪镇", "塘厦镇",
    "凤岗镇", "大岭山镇", "长安镇", "虎门镇", "厚街镇", "沙田镇", "道滘镇", "洪梅镇", "麻涌镇", "望牛墩镇",
    "中堂镇", "高埗镇",
)
#: counties and districts of 甘肃省兰州市
LANZHOU = ("永登县", "皋兰县", "榆中县", "城关区", "七里河区", "西固区", "安宁区", "红古区")
#: districts of 上海市
SHANGHAI = ("黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区", "嘉定区",
            "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区")

#: kinds of budget unit (the first is the samples' own); all end in a suffix the parser knows
UNIT_TYPES = (
    "政务服务中心", "综合行政执法办公室", "社会事务局", "公共服务办公室", "经济发展局", "党建工作办公室",
    "农林水务局", "城市管理局", "规划管理所", "文化服务中心", "党群服务中心", "社会治理办公室",
    "应急管理办公室", "宣传教育文体办公室", "规划建设办公室", "生态环境办公室", "农业农村办公室",
    "综合办公室", "环境卫生所", "水务工程管理所", "建设工程质量安全监督站", "社区服务中心", "劳动保障所",
    "人民武装部", "司法所", "图书馆", "文化广播电视服务中心", "退役军人服务站", "公共资源交易中心",
    "市场监督管理所", "财政结算中心", "统计办公室", "安全生产监督管理所", "综合治理中心", "数字化城市管理中心",
    "网格管理中心", "便民服务中心", "招商服务中心", "人力资源服务中心", "不动产登记中心", "消防安全委员会办公室",
    "公用事业服务中心", "投资促进局", "教育管理中心", "疾病预防控制中心",
)

_LEVEL_SUFFIX = re.compile(r"(街道|新区|镇|县|区)$")


@dataclass(frozen=True)
class Region:
    kind: str  # dongguan | lanzhou | shanghai
    name: str  # 清溪镇 / 永登县 / 普陀区

    @property
    def short(self) -> str:
        s = _LEVEL_SUFFIX.sub("", self.name)
        return s if len(s) >= 2 else self.name

    @property
    def level_word(self) -> str:
        m = _LEVEL_SUFFIX.search(self.name)
        return "区" if m and m.group(1) == "新区" else (m.group(1) if m else "县")

    @property
    def city(self) -> str:
        return {"dongguan": "东莞市", "lanzhou": "兰州市", "shanghai": "上海市"}[self.kind]

    @property
    def province(self) -> str:
        return {"dongguan": "广东省", "lanzhou": "甘肃省", "shanghai": "上海市"}[self.kind]

    def unit(self, unit_type: str) -> str:
        if self.kind == "lanzhou" and self.name.endswith("县"):
            return self.name + unit_type  # 永登县政务服务中心, as printed
        return self.city + self.name + unit_type


# --- harvesting the seeds -----------------------------------------------------------------------


@dataclass(frozen=True)
class SeedIndicator:
    text: str
    period: str | None
    annual: str | None
    year: int  # the seed document's year (texts mention years relative to it)


@dataclass(frozen=True)
class SeedProject:
    name: str
    project_type: str | None
    overall_goal: str | None
    annual_goal: str | None
    summary: str | None
    basis: str | None
    amount: Decimal  # 元
    year: int


@dataclass(frozen=True)
class SeedTask:
    name: str
    content: str
    outcome: str
    amount: Decimal
    year: int


@dataclass
class Pools:
    projects: list[SeedProject]
    #: (一级, 二级) as the parser reads them → indicator rows printed under them
    indicators: dict[tuple[str, str], list[SeedIndicator]]
    #: 永登's department-wide rows, whose levels are not the standard ones: (一级, 二级, row)
    dept_custom: list[tuple[str, str, SeedIndicator]]
    tasks: list[SeedTask]
    optional_tasks: list[SeedTask]
    dept_goals: list[tuple[str, int]]
    project_types: list[str]
    #: classification code → name, per seed (functional and economic codes)
    codes: dict[str, dict[str, str]]
    #: 清溪 表6 basic expenditure lines (code → amount in 0.01 万元) and 永登 表七/表九 lines
    qingxi_basic: dict[str, int]
    yd_basic: dict[str, tuple[int, int]]
    yd_running: list[tuple[str, int]]


# names of 类/款 the seeds print only by code (政府收支分类科目)
_EXTRA_CODES = {
    "201": "一般公共服务支出", "20103": "政府办公厅（室）及相关机构事务", "208": "社会保障和就业支出",
    "20899": "其他社会保障和就业支出", "210": "卫生健康支出", "21011": "行政事业单位医疗", "221": "住房保障支出",
    "22102": "住房改革支出",
}
_TASK_NUMBER = re.compile(r"^任务[一二三四五六七八九十]+[：:]\s*")
_HEADER_WORDS = {"一级指标", "二级指标", "三级指标", "指标值", "指标名称", "指标内容"}


def _cents(m) -> int:
    """Money in 0.01 万元 (what 万元 tables print with two decimals)."""
    return int((m.yuan / 100).to_integral_value(ROUND_HALF_UP))


@lru_cache(maxsize=1)
def pools() -> Pools:
    from ingest.indicators import is_section_label
    from ingest.parse import parse_file
    from ingest.text import key
    from ingest.vocab import level_candidates

    projects: dict[str, SeedProject] = {}
    indicators: dict[tuple[str, str], list[SeedIndicator]] = {}
    seen_rows: set[tuple] = set()
    dept_custom: list[tuple[str, str, SeedIndicator]] = []
    tasks: list[SeedTask] = []
    optional: list[SeedTask] = []
    goals: list[tuple[str, int]] = []
    types: list[str] = []
    codes: dict[str, dict[str, str]] = {}
    qingxi_basic: dict[str, int] = {}
    yd_basic: dict[str, tuple[int, int]] = {}
    yd_running: list[tuple[str, int]] = []

    def usable(text: str) -> bool:
        k = key(text)
        return bool(k) and not level_candidates(text) and not is_section_label(text) and k not in _HEADER_WORDS

    def add(ind, year: int, custom: bool) -> None:
        if not usable(ind.text):
            return
        row = SeedIndicator(ind.text, ind.period.raw if ind.period else None, ind.annual.raw if ind.annual else None, year)
        if row.period is None and row.annual is None:
            return
        sig = (ind.level1.label, ind.level2.label, row.text, row.period, row.annual)
        if sig in seen_rows:
            return
        seen_rows.add(sig)
        if custom:
            dept_custom.append((ind.level1.label, ind.level2.label, row))
        else:
            indicators.setdefault((ind.level1.label, ind.level2.label), []).append(row)

    for path in sorted(SEEDS.glob("*.txt")):
        doc = parse_file(path)
        year = doc.year or 2024
        stem = path.stem.split("-")[1]
        for p in doc.projects:
            if p.project_type and p.project_type not in types:
                types.append(p.project_type)
            if p.name not in projects and p.amount is not None:
                projects[p.name] = SeedProject(p.name, p.project_type, p.overall_goal, p.annual_goal, p.summary,
                                               p.basis, p.amount.yuan, year)
            for ind in p.indicators:
                add(ind, year, custom=False)
        for dt in doc.department_targets:
            if dt.overall_goal:
                goals.append((dt.overall_goal, year))
            for t in dt.tasks:
                if not t.content or t.amount is None and not t.optional:
                    continue
                task = SeedTask(_TASK_NUMBER.sub("", t.name), t.content, t.outcome or "", t.amount.yuan if t.amount else Decimal(0), year)
                (optional if t.optional else tasks).append(task)
            for ind in dt.indicators:
                add(ind, year, custom=ind.level1.concept is None)
        names = codes.setdefault(stem, {})
        for table in doc.budget_tables:
            for line in table.lines:
                if line.name and line.code not in names:
                    names[line.code] = re.sub(r"\s+", "", line.name)
                if stem == "qingxi" and table.number == "6" and line.total is not None:
                    qingxi_basic[line.code] = _cents(line.total)
                if stem == "yongdeng" and table.number == "七" and line.total is not None:
                    cols = {c.heading: _cents(c.money) for c in line.columns}
                    yd_basic[line.code] = (cols.get("人员经费", 0), cols.get("公用经费", 0))
                if stem == "yongdeng" and table.number == "九":
                    yd_running.append((line.code, _cents(line.total) if line.total else 0))
    return Pools(list(projects.values()), indicators, dept_custom, tasks, optional, goals, types, codes,
                 qingxi_basic, yd_basic, yd_running)


# --- text helpers -------------------------------------------------------------------------------

_SEED_PLACES = {"东坑镇": "full", "清溪镇": "full", "南城街道": "full", "沙田镇": "full", "永登县": "full",
                "东坑": "short", "清溪": "short", "南城": "short", "沙田": "short", "永登": "short"}
# a seed's own place, but not where it is one of a list of 镇街 (向东城、南城、莞城、万江等镇街学习)
_PLACE_RE = re.compile("(?<!、)(?:" + "|".join(sorted(_SEED_PLACES, key=len, reverse=True)) + ")(?!、)")
_YEAR_RE = re.compile(r"(?<![〔\[\d])(20[12]\d)(?![〕\]\d])")
_COUNTY_WORD = re.compile(r"(?<=全)县|县(?=委|政府|人民政府|政务|直)")
_TOWN_WORD = re.compile(r"(?<=全)镇(?!街)")
_NUM = re.compile(r"\d+(?:\.\d+)?")


class Localizer:
    """Moves a seed text to another region and year."""

    def __init__(self, region: Region, year: int):
        self.region, self.year = region, year

    def __call__(self, text: str | None, seed_year: int) -> str | None:
        if text is None:
            return None
        r = self.region
        text = _PLACE_RE.sub(lambda m: r.name if _SEED_PLACES[m.group(0)] == "full" else r.short, text)
        if r.level_word != "县":
            text = _COUNTY_WORD.sub(r.level_word, text)
        if r.kind != "dongguan":
            text = _TOWN_WORD.sub(r.level_word, text).replace("东莞市", r.city)
        shift = self.year - seed_year
        if shift:
            text = _YEAR_RE.sub(lambda m: str(int(m.group(1)) + shift), text)
        return text


def _vary_numbers(rng: random.Random, strings: list[str | None]) -> list[str | None]:
    """The same strings with their quantities changed consistently (one factor, one choice per %)."""
    factor = Decimal(rng.choice(("0.5", "0.6", "0.75", "1.25", "1.5", "2", "3")))
    pct: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        s = m.group(0)
        if (len(s) == 4 and "." not in s and 2010 <= int(s) <= 2030) or s == "12345":
            return s  # a year (already localised) or the 12345 hotline
        if m.string[m.end() : m.end() + 1] == "%":
            if s not in pct:
                v = Decimal(s)
                cands = [c for c in (80, 85, 90, 95, 98, 100) if abs(c - v) <= 15]
                pct[s] = str(rng.choice(cands)) if cands else s
            return pct[s]
        v = Decimal(s)
        if v == 0:
            return s
        if "." in s:
            places = Decimal(1).scaleb(-len(s.split(".")[1]))
            return str((v * factor).quantize(places, ROUND_HALF_UP))
        return str(max(1, int((v * factor).to_integral_value(ROUND_HALF_UP))))

    return [None if s is None else _NUM.sub(repl, s) for s in strings]


def _p(text: str) -> str:
    """A multi-paragraph cell as the extraction prints it (<p>…</p> <p>…</p>)."""
    parts = [x for x in text.split("\n") if x.strip()]
    return " ".join(f"<p>{x}</p>" for x in parts) if len(parts) > 1 else (parts[0] if parts else "")


def _one_line(text: str | None) -> str:
    return "" if not text else " ".join(x.strip() for x in text.split("\n") if x.strip())


def _tab(*cells: str) -> str:
    return "\t".join(cells)


def _wan2(cents: int, comma: bool = False) -> str:
    """0.01 万元 → ``992.85`` / ``1,672.54``."""
    v = Decimal(cents) / 100
    return f"{v:,.2f}" if comma else f"{v:.2f}"


def _wan_plain(cents: int) -> str:
    """0.01 万元 → ``137.05`` / ``48`` / ``8.2`` (永登 prints no trailing zeros)."""
    q, r = divmod(cents, 100)
    return str(q) if r == 0 else f"{q}.{r:02d}".rstrip("0")


def _partition(rng: random.Random, total: int, n: int) -> list[int]:
    """``total`` split into ``n`` positive integer parts (fewer if total is small)."""
    n = max(1, min(n, total)) if total > 0 else 1
    if total <= 0:
        return [0] * n
    weights = [rng.uniform(0.3, 1.0) for _ in range(n)]
    s = sum(weights)
    parts = [max(1, int(total * w / s)) for w in weights]
    diff = total - sum(parts)
    parts[parts.index(max(parts))] += diff
    return parts


# --- indicator templates ------------------------------------------------------------------------

# (一级 as read, 一级 as printed, ((二级 as read, 二级 as printed, min, max), ...))
OLD = (  # 东莞 before 财预〔2021〕101号 took hold: 成本指标 is a 二级 of 产出指标 (东坑, 清溪, 沙田)
    ("产出指标", "产出指标", (("数量指标", "数量指标", 1, 3), ("质量指标", "质量指标", 0, 2),
                             ("时效指标", "时效指标", 0, 2), ("成本指标", "成本指标", 0, 2))),
    ("效益指标", "效益指标", (("经济效益指标", "经济效益指标", 0, 1), ("社会效益指标", "社会效益指标", 1, 2),
                             ("生态效益指标", "生态效益指标", 0, 0), ("可持续影响指标", "可持续影响指标", 0, 2))),
    ("满意度指标", "满意度指标", (("服务对象满意度指标", "服务对象满意度指标", 0, 1),)),
)
NEW = (  # 成本指标 first, as a 一级 with 经济/社会/生态环境成本 (南城 2026)
    ("成本指标", "成本指标", (("经济成本指标", "经济成本指标", 1, 2), ("社会成本指标", "社会成本指标", 0, 0),
                             ("生态环境成本指标", "生态环境成本指标", 0, 0))),
    ("产出指标", "产出指标", (("数量指标", "数量指标", 1, 3), ("质量指标", "质量指标", 1, 2),
                             ("时效指标", "时效指标", 1, 2))),
    ("效益指标", "效益指标", (("经济效益指标", "经济效益", 0, 1), ("社会效益指标", "社会效益", 1, 2),
                             ("生态效益指标", "生态效益", 0, 0))),
    ("满意度指标", "满意度指标", (("服务对象满意度指标", "服务对象满意度", 1, 1),)),
)
YD = (  # 永登 项目支出绩效目标表: one 指标值 column, 成本控制 under 成本指标
    ("成本指标", "成本指标", (("成本控制", "成本控制", 1, 1),)),
    ("产出指标", "产出指标", (("数量指标", "数量指标", 1, 3), ("质量指标", "质量指标", 1, 1),
                             ("时效指标", "时效指标", 1, 1))),
    ("效益指标", "效益指标", (("经济效益指标", "经济效益指标", 0, 1), ("社会效益指标", "社会效益指标", 1, 1),
                             ("可持续影响指标", "可持续影响指标", 0, 1))),
    ("满意度指标", "满意度指标", (("服务对象满意度指标", "服务对象满意度指标", 1, 1),)),
)

# a selected indicator table: ((一级 printed, ((二级 printed, ((text, period, annual), ...)), ...)), ...)
Groups = list[tuple[str, list[tuple[str, list[tuple[str, str | None, str | None]]]]]]


# --- one document -------------------------------------------------------------------------------


@dataclass
class PlannedProject:
    seed: SeedProject
    name: str
    yuan: Decimal
    printed: str
    cents: int  # in 0.01 万元, as the summary tables print it
    project_type: str


@dataclass
class GeneratedDocument:
    """A document as written, with what a parser must find in it."""

    filename: str
    layout: str
    unit: str
    region: str  # the town/county/district its region chain must end with
    year: int
    text: str
    projects: list[tuple[str, Decimal]] = field(default_factory=list)  # (name, amount in 元)
    indicators: int = 0
    key_tasks: int = 0
    budget_lines: int = 0


class DocumentWriter:
    def __init__(self, rng: random.Random, pools: Pools, layout: str, region: Region, unit: str, year: int):
        self.rng, self.pools, self.layout, self.region, self.unit, self.year = rng, pools, layout, region, unit, year
        self.loc = Localizer(region, year)
        self.lines: list[str] = []
        self.indicators = 0
        self.tasks = 0
        self.budget_lines = 0
        self.plans: list[PlannedProject] = []

    # -- planning ---------------------------------------------------------------------------------
    def plan_projects(self, n: int, style: str) -> None:
        rng, pool = self.rng, self.pools.projects
        chosen = rng.sample(pool, min(n, len(pool)))
        while len(chosen) < n:
            chosen.append(rng.choice(pool))
        # one project in two phases now and then: X（一期） / X（二期）
        phased = len(chosen) >= 3 and rng.random() < 0.12
        if phased:
            chosen[-1] = chosen[0]
        used: set[str] = set()
        for i, s in enumerate(chosen):
            name = self.loc(s.name, s.year)
            if phased and s is chosen[0] and (i == 0 or i == len(chosen) - 1):
                name += "（一期）" if i == 0 else "（二期）"
            elif rng.random() < 0.06:
                name += rng.choice(("（续建）", f"（{self.year}年）", "（延续性项目）"))
            elif rng.random() < 0.1 and name.startswith(("办事大厅", "政务服务", "自助厅", "综合窗口", "集装箱式")):
                name = self.region.short + name
            k = 2
            base = name
            while name in used:
                name = f"{base}（{'一二三四五六七八九十'[min(k, 10) - 1]}期）"
                k += 1
            used.add(name)
            yuan, printed = self._amount(s.amount, style)
            ptype = s.project_type or rng.choice(self.pools.project_types)
            self.plans.append(PlannedProject(s, name, yuan, printed, int((yuan / 100).to_integral_value(ROUND_HALF_UP)), ptype))

    def _amount(self, base: Decimal, style: str) -> tuple[Decimal, str]:
        rng = self.rng
        f = Decimal(str(round(math.exp(rng.uniform(math.log(0.35), math.log(2.8))), 4)))
        v = max(base * f, Decimal(3000))
        if style == "wan":
            wan = v / 10000
            r = rng.random()
            q = Decimal(1) if r < 0.7 else (Decimal("0.1") if r < 0.9 else Decimal("0.01"))
            wan = max(wan.quantize(q, ROUND_HALF_UP), q)
            printed = format(wan.normalize(), "f")
            return wan * 10000, printed
        r = rng.random()
        if style == "int":  # 东坑: whole 元, mostly round hundreds
            v = (v / 100).to_integral_value(ROUND_HALF_UP) * 100 if r < 0.8 else v.to_integral_value(ROUND_HALF_UP)
            return v, str(int(v))
        if r < 0.35:
            v = v.quantize(Decimal("0.01"), ROUND_HALF_UP)
        elif r < 0.8:
            v = (v / 100).to_integral_value(ROUND_HALF_UP) * 100
        else:
            v = v.to_integral_value(ROUND_HALF_UP)
        v = v.quantize(Decimal("0.01"))
        printed = f"{v:,.2f}"
        if style == "spaced":  # 清溪: "432, 000. 00"
            printed = printed.replace(",", ", ").replace(".", ". ")
        return v, printed

    # -- indicators -------------------------------------------------------------------------------
    def pick_indicators(self, template, extra: int = 0) -> Groups:
        rng, out = self.rng, []
        for l1, l1_printed, subs in template:
            groups = []
            for l2, l2_printed, lo, hi in subs:
                pool = self.pools.indicators.get((l1, l2), [])
                n = rng.randint(lo, hi + (extra if hi else 0)) if pool else 0
                rows: list[tuple[str, str | None, str | None]] = []
                if n:
                    texts: set[str] = set()
                    for i in rng.sample(range(len(pool)), min(n, len(pool))):
                        row = self._render(pool[i])
                        if row[0] in texts:
                            continue
                        texts.add(row[0])
                        rows.append(row)
                groups.append((l2_printed, rows))
            out.append((l1_printed, groups))
        return out

    def pick_custom(self) -> Groups:
        """永登's department-wide rows (部门管理 › 资金投入 …): a random subset of whole 二级 groups."""
        by_l1: dict[str, dict[str, list]] = {}
        for l1, l2, row in self.pools.dept_custom:
            by_l1.setdefault(l1, {}).setdefault(l2, []).append(row)
        out: Groups = []
        for l1, subs in by_l1.items():
            keep = [(l2, [self._render(r) for r in rows]) for l2, rows in subs.items() if self.rng.random() < 0.8]
            if keep:
                out.append((l1, keep))
        return out

    def _render(self, ind: SeedIndicator) -> tuple[str, str | None, str | None]:
        text, period, annual = (self.loc(x, ind.year) for x in (ind.text, ind.period, ind.annual))
        if self.rng.random() < 0.5:
            if self.rng.random() < 0.4:
                text, period, annual = _vary_numbers(self.rng, [text, period, annual])
            else:
                period, annual = _vary_numbers(self.rng, [period, annual])
        return text, period, annual

    def emit_indicators(self, groups: Groups, nvalues: int, header: str, *, label_first_row: bool = False,
                        placeholders: bool = True, shift: bool = False, quirks: bool = True) -> None:
        """The indicator heading and rows; counts every row a reader must take as an indicator."""
        rng, out = self.rng, self.lines
        out.append(header)
        first_row = True
        for l1, subs in groups:
            first_l1 = True
            satisfaction = l1 == "满意度指标"
            for l2, rows in subs:
                if not rows:
                    if placeholders:
                        c0 = "绩效指标" if (label_first_row and first_row) else ""
                        if satisfaction and quirks and rng.random() < 0.4:
                            out.append(_tab(l1, l2, "", "", "", ""))  # 满意度指标 at the first column
                        else:
                            out.append(_tab(c0, l1 if first_l1 else "", l2, "", "", ""))
                        first_l1 = first_row = False
                    continue
                for k, (text, period, annual) in enumerate(rows):
                    if nvalues == 2:
                        period = period if period is not None else annual
                        annual = annual if annual is not None else period
                        values = ["", period, annual] if shift else [period, annual]
                    else:
                        values = [annual if annual is not None else period]
                    c0 = "绩效指标" if (label_first_row and first_row) else ""
                    c1 = l1 if first_l1 else ""
                    c2 = l2 if k == 0 else ""
                    trail = [""] if rng.random() < 0.3 else []
                    if quirks and not c0 and satisfaction and first_l1 and rng.random() < 0.3:
                        line = _tab(l1, l2, text, *values, *trail)  # 满意度指标 printed at the first column
                    elif quirks and not c0 and not c1 and l2 == "成本指标" and k == 0 and rng.random() < 0.3:
                        line = _tab("", l2, text, *values, "")  # 东坑: 成本指标 in the 一级 column
                    elif quirks and not (c0 or c1 or c2) and nvalues == 2 and not shift and rng.random() < 0.04:
                        line = _tab("", text, "", *values, "") if rng.random() < 0.5 else _tab(text, values[0], "", values[1], "", "")
                    else:
                        line = _tab(c0, c1, c2, text, *values, *trail)
                    out.append(line)
                    self.indicators += 1
                    if quirks and not (c0 or c1 or c2) and rng.random() < 0.02:
                        out.append(line)  # a row printed twice (东坑); the reader keeps one
                    first_l1 = first_row = False

    # -- project tables ---------------------------------------------------------------------------
    def project_table(self, p: PlannedProject, style: str, template) -> None:
        """项目绩效目标表 in the 东坑 (``dk``), 南城 (``nc``) or 清溪 (``qx``) shape."""
        rng, y, out = self.rng, self.year, self.lines
        s = p.seed
        overall = _one_line(self.loc(s.overall_goal or s.annual_goal, s.year))
        annual = _one_line(self.loc(s.annual_goal or s.overall_goal, s.year))
        start = max(2015, y - rng.choice((0, 0, 1, 2, 3)))
        end = rng.choice((y, y, y + 1, y + 2, 2099))
        pad = "\t\t\t\t"
        if style == "qx":
            out += ["项目绩效目标表", ""]
            rows = [("项目名称", p.name), ("项目类型", p.project_type), ("项目等级", "二级项目"),
                    ("主管部门", self.unit), ("用款单位", self.unit)]
            out += [_tab(label, "", value, "", "", "") for label, value in rows]
            out.append(_tab("实施周期", "", "起始年度", str(start), "到期年度", str(end)))
            out.append(_tab(f"{y}年预算金额（元）", "", p.printed, "", "", ""))
            out.append(_tab("设立依据", "", _one_line(self.loc(s.basis, s.year)), "", "", ""))
            out.append(_tab("项目概述", "", _one_line(self.loc(s.summary, s.year)), "", "", ""))
            out.append(_tab("总体绩效目标", "", "实施周期总目标", "", "", ""))
            out.append(_tab("", "", overall, "", "", ""))
            out.append(_tab("", "", f"{y}年度目标", "", "", ""))
            out.append(_tab("", "", annual, "", "", ""))
            header = _tab("绩效指标", "一级指标", "二级指标", "三级指标", "实施周期指标值", "当年度指标值")
        else:
            nc = style == "nc"
            out += ["项目绩效目标表", ""]
            rows = [("项目名称", p.name), ("项目类型", p.project_type), ("项目等级", "二级项目"),
                    ("主管部门", self.unit), ("用款单位", self.unit)]
            out += [label + "\t" + value + pad for label, value in rows]
            out.append(_tab("实施周期", "起始年度", str(start), "到期年度", str(end), ""))
            out.append((f"{y}年预算金额(元)" if nc else f"{y}年预算金额（元）") + "\t" + p.printed + pad)
            out.append("总体绩效目标\t实施周期总目标" + pad)
            out.append("\t" + overall + pad)
            out.append(f"\t{y}年度目标" + pad)
            if nc and rng.random() < 0.1:
                out.append(annual + pad + "\t")  # 南城: the text slipped into the label column
            else:
                out.append("\t" + annual + pad)
            header = _tab("绩效指标", "一级指标", "二级指标", "三级指标", "实施周期指标值", "年度指标值" if nc else "当年度指标值")
        shift = style == "nc" and rng.random() < 0.08  # 南城: values one column right of their heading
        if shift:
            header += "\t"
        self.emit_indicators(self.pick_indicators(template), 2, header, shift=shift)
        out.append("")

    def yd_project_table(self, p: PlannedProject) -> None:
        """永登 项目支出绩效目标表: 项目资金 (万元) › 年度资金总额, one 指标值 column."""
        rng, out, s = self.rng, self.lines, p.seed
        goal = self.loc(s.overall_goal or s.annual_goal, s.year) or ""
        out += ["项目支出绩效目标表", "", f"({self.year} 年度)", ""]
        wide = rng.random() < 0.5
        pad = "\t\t\t\t" if wide else "\t\t\t"
        out.append("项目名称\t" + p.name + pad)
        out.append("主管部门及代码\t\t实施单位\t" + self.unit + ("\t\t" if wide else "\t"))
        if rng.random() < 0.2:  # the amount one column right (政务大厅云桌面租用经费)
            out += [f"项目资金 (万元)\t年度资金总额:\t\t{p.printed}\t", f"\t其中: 当年财政拨款\t\t{p.printed}\t"]
        else:
            out += [f"项目资金 (万元)\t年度资金总额:\t{p.printed}" + ("\t\t\t" if wide else "\t\t"),
                    f"\t其中: 当年财政拨款\t{p.printed}" + ("\t\t\t" if wide else "\t\t")]
        out += ["\t上年结转资金" + ("\t\t\t\t" if wide else "\t\t\t"), "\t其他资金" + ("\t\t\t\t" if wide else "\t\t\t")]
        if wide:
            cell = _p(goal) if "\n" in goal else f"<p>{goal}</p>"
            out.append("总体目标\t" + cell + "\t\t\t\t")
        else:
            out.append("总 体 目 标\t" + _one_line(goal) + "\t\t\t")
        groups = self.pick_indicators(YD)
        r = rng.random()
        if r < 0.6:
            self.emit_indicators(groups, 1, "绩效指标\t一级指标\t二级指标\t三级指标\t指标值\t", placeholders=False, quirks=False)
        elif r < 0.8:
            self.emit_indicators(groups, 1, "绩 效 指 标\t一级指标\t二级指标\t三级指标\t指标值", placeholders=False, quirks=False)
        else:
            self.emit_indicators(groups, 1, "\t一级指标\t二级指标\t三级指标\t指标值", label_first_row=True,
                                 placeholders=False, quirks=False)
        out.append("")

    # -- department-wide tables --------------------------------------------------------------------
    def _dept_goal(self) -> str:
        text, year = self.rng.choice([g for g in self.pools.dept_goals if not g[0].startswith("目标 1")] or self.pools.dept_goals)
        return _p(self.loc(text, year))

    def _tasks(self, n: int, from_projects: bool) -> list[tuple[str, str, str, str]]:
        """(name, content, amount printed in 元, outcome); some of them are the document's projects."""
        rng, out, names = self.rng, [], set()
        pool = self.pools.tasks
        for task in rng.sample(pool, min(n, len(pool))):
            if from_projects and self.plans and rng.random() < 0.4:
                p = rng.choice(self.plans)
                name = re.sub(r"(费用|经费|支出)$", "", p.name) or p.name
                if name in names:
                    continue
                content = _one_line(self.loc(p.seed.annual_goal or p.seed.overall_goal, p.seed.year))
                outcome = _one_line(self.loc(p.seed.overall_goal or p.seed.annual_goal, p.seed.year))
                amount = f"{p.yuan:,.2f}"
            else:
                name = self.loc(task.name, task.year)
                if name in names:
                    continue
                content = _one_line(self.loc(task.content, task.year))
                outcome = _one_line(self.loc(task.outcome, task.year))
                f = Decimal(str(round(rng.uniform(0.4, 2.5), 2)))
                amount = f"{(task.amount * f / 100).to_integral_value(ROUND_HALF_UP) * 100:,.2f}"
            names.add(name)
            out.append((name, content, amount, outcome))
        return out

    def _budget_overview(self) -> tuple[int, int]:
        proj = sum(p.cents for p in self.plans)
        basic = int(proj * self.rng.uniform(0.3, 1.8)) + self.rng.randint(1000, 30000)
        return basic, proj

    def dept_table_nancheng(self, template) -> None:
        rng, out = self.rng, self.lines
        basic, proj = self._budget_overview()
        total = basic + proj
        out += [_tab("部门名称", self.unit, "", "", ""),
                _tab("基本信息", "财政供养人员数", str(rng.randint(6, 80)), "下属二级单位数", "0"),
                _tab("预算整体情况", "部门预算支出", "预算金额(万元)", "收入来源", "预算金额(万元)"),
                _tab("", "基本支出", _wan2(basic, True), "财政拨款", _wan2(total, True)),
                _tab("", "项目支出", _wan2(proj, True), "其他资金", "0.00"),
                _tab("", "事业发展性支出", "预算金额(万元)", "按预算级次划分", "预算金额(万元)"),
                _tab("", "财政专项资金", "0.00", "市本级使用资金" if rng.random() < 0.5 else "镇本级使用资金", ""),
                _tab("", "其他事业发展性支出", "0.00", "拟用于对下转移支付资金", "0.00"),
                _tab("总体绩效目标", self._dept_goal(), "", "", ""),
                _tab("年度重点工作任务", "名称", "主要实施内容", "拟投入的资金(元)", "期望达到的目标(概述)")]
        for name, content, amount, outcome in self._tasks(rng.randint(2, 6), from_projects=True):
            out.append(_tab("", name, content, amount, outcome))
            self.tasks += 1
        out += [_tab("其他需完成的任务(可选填)", "", "", "", ""), ""]
        header = _tab("", "一级指标", "二级指标", "三级指标", "实施周期指标值", "年度指标值")
        self.emit_indicators(self.pick_indicators(template, extra=2), 2, header, label_first_row=True)
        out.append("")

    def dept_table_shatian(self, template) -> None:
        rng, out = self.rng, self.lines
        basic, proj = self._budget_overview()
        total = basic + proj
        out += [_tab("部门名称", self.unit, "", "", ""),
                _tab("基本信息", "财政供养人员数", str(rng.randint(6, 80)), "下属二级单位数", "0"),
                _tab("预算整体情况", "部门预算支出", "预算金额（万元）", "收入来源", "预算金额（万元）"),
                _tab("", "基本支出", _wan2(basic, True), "财政拨款", _wan2(total, True)),
                _tab("", "项目支出", _wan2(proj, True), "其他资金", "0.00"),
                _tab("", "事业发展性支出", "预算金额（万元）", "按预算级次划分", "预算金额（万元）"),
                _tab("", "财政专项资金", "0.00", "镇本级使用资金", _wan2(total, True)),
                _tab("", "其他事业发展性支出", _wan2(rng.randint(0, proj), True), "拟用于对下转移支付资金", "0.00"),
                _tab("总体绩效目标", self._dept_goal(), "", "", ""),
                _tab("", "名称", "主要实施内容", "拟投入的资金（元）", "期望达到的目标（概述）")]
        tasks = self._tasks(rng.randint(3, 7), from_projects=False)
        middle = len(tasks) // 2
        for i, (name, content, amount, outcome) in enumerate(tasks):
            numbered = f"任务{'一二三四五六七八九十'[i]}：{name}"
            if i == middle and len(tasks) > 2:
                out += ["", _tab("年度重点工作任务", numbered, content, amount, outcome)]  # the merged label, mid-table
            else:
                out.append(_tab("", numbered, content, amount, outcome))
            self.tasks += 1
        out.append(_tab("其他需完成的任务（可选）", "名称", "目标内容", "", "拟投入的资金（元）"))
        if self.pools.optional_tasks and rng.random() < 0.6:
            t = rng.choice(self.pools.optional_tasks)
            content = _one_line(self.loc(t.content, t.year))
            name = self.loc(t.name, t.year)
            if rng.random() < 0.5 and len(content) > 40:
                cut = len(content) // 2  # wrapped over a page: the name comes with the second half
                out += [_tab("", "", content[:cut], "", ""), "", _tab("填)", name, content[cut:], "", "", "")]
            else:
                out.append(_tab("", name, content, "", ""))
            self.tasks += 1
        header = _tab("绩效指标", "一级指标", "二级指标", "三级指标", "实施周期指标值", "年度指标值")
        self.emit_indicators(self.pick_indicators(template, extra=2), 2, header)
        out.append("")

    # -- layouts ----------------------------------------------------------------------------------
    def template(self):
        new = self.year >= 2025
        return NEW if (new if self.rng.random() < 0.85 else not new) else OLD

    def dg_projects(self, n: int) -> None:
        template = self.template()
        nc = template is NEW
        self.plan_projects(n, "cents" if nc else "int")
        self.lines += ["", ""]
        for p in self.plans:
            self.project_table(p, "nc" if nc else "dk", template)

    def dg_dept_tasks(self, n: int) -> None:
        template = self.template()
        r = self.region
        if r.name.endswith("街道") and self.unit == r.unit(UNIT_TYPES[0]) and self.rng.random() < 0.5:
            self.unit = r.city + r.short + UNIT_TYPES[0]  # 南城: 东莞市南城政务服务中心, the title names the 街道
        self.plan_projects(n, "cents")
        self.lines += ["", "", f"{r.name}部门整体预算绩效目标申报表", "", f"({self.year}年)", ""]
        self.dept_table_nancheng(template)
        for p in self.plans:
            self.project_table(p, "nc" if template is NEW else "dk", template)

    def dg_dept_numbered(self, n: int) -> None:
        template = OLD if self.rng.random() < 0.8 else NEW
        self.plan_projects(n, "int")
        r = self.region
        self.lines += ["", "", f"{r.name}部门整体预算绩效目标表", ""]
        if self.rng.random() < 0.5:
            self.lines += [f"（{self.year}年）", ""]
        self.lines += [f"批复单位：东莞市财政局{r.short}分局", ""]
        self.dept_table_shatian(template)
        for p in self.plans:
            self.project_table(p, "dk", template)

    def yd_unit_budget(self, n: int) -> None:
        self.plan_projects(n, "wan")
        _YongdengBudget(self).write()

    def dg_budget(self, n: int) -> None:
        template = self.template()
        self.plan_projects(n, "cents")
        for p in self.plans:
            if self.rng.random() < 0.25:  # 清溪 prints some amounts as "432, 000. 00"
                p.printed = f"{p.yuan:,.2f}".replace(",", ", ").replace(".", ". ")
        _QingxiBudget(self).write()
        for p in self.plans:
            self.project_table(p, "qx", template)
            self.lines.append("")

    # -- coded budget rows ------------------------------------------------------------------------
    def coded(self, line: str) -> None:
        self.lines.append(line)
        self.budget_lines += 1


# --- 部门预算 (清溪) ------------------------------------------------------------------------------

_QX_FUNCTIONAL = (  # code, basic part comes from (economic codes), or "project"
    ("2080104", "project"), ("2080150", "rest"), ("2080502", ("30302",)),
    ("2080505", ("30108", "30109", "30112")), ("2210201", ("30113",)), ("2210202", ("30102",)),
)
_QX_PROJECT_ECON = ("30213", "30214", "30226", "30227", "30299", "31002", "31005")
_CN_NUM = "一二三四五六七八九十"


def _cn(n: int) -> str:
    if n <= 10:
        return _CN_NUM[n - 1]
    if n < 20:
        return "十" + _CN_NUM[n - 11]
    return _CN_NUM[n // 10 - 1] + "十" + (_CN_NUM[n % 10 - 1] if n % 10 else "")


class _QingxiBudget:
    def __init__(self, w: DocumentWriter):
        self.w = w
        self.names = dict(_EXTRA_CODES)
        self.names.update(w.pools.codes.get("qingxi", {}))

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def write(self) -> None:
        w, rng, y = self.w, self.w.rng, self.w.year
        unit = w.unit
        out = w.lines
        # --- amounts (0.01 万元) ---
        scale = rng.uniform(0.3, 3.0)
        basic_items: dict[str, int] = {}
        for code, cents in w.pools.qingxi_basic.items():
            if len(code) != 5:
                continue
            if code.startswith("302") and code != "30201" and rng.random() < 0.2:
                continue
            if code.startswith("303") and rng.random() < 0.4:
                continue
            basic_items[code] = max(1, int(cents * scale * rng.uniform(0.7, 1.3)))
        proj = sum(p.cents for p in w.plans)
        econ_proj: dict[str, int] = {}
        chosen = sorted(rng.sample(_QX_PROJECT_ECON, rng.randint(2, 5)))
        for code, part in zip(chosen, _partition(rng, proj, len(chosen))):
            econ_proj[code] = econ_proj.get(code, 0) + part
        basic = sum(basic_items.values())
        func: dict[str, tuple[int, int]] = {}  # 项 → (basic, project)
        explicit = 0
        for code, src in _QX_FUNCTIONAL:
            if isinstance(src, tuple):
                b = sum(basic_items.get(c, 0) for c in src)
                if b:
                    func[code] = (b, 0)
                    explicit += b
        func["2080150"] = (basic - explicit, 0)
        func["2080104"] = (0, proj)
        order = [c for c, _ in _QX_FUNCTIONAL]
        items = sorted((c for c in func), key=lambda c: (c[:3], c[:5], order.index(c) if c in order else 99))
        rows: list[tuple[str, int, int]] = []  # code, basic, project (类/款/项 in printing order)
        for lei in sorted({c[:3] for c in items}):
            kuan_codes = sorted({c[:5] for c in items if c.startswith(lei)})
            lb = sum(func[c][0] for c in items if c.startswith(lei))
            lp = sum(func[c][1] for c in items if c.startswith(lei))
            rows.append((lei, lb, lp))
            for kuan in kuan_codes:
                xs = [c for c in items if c.startswith(kuan)]
                rows.append((kuan, sum(func[c][0] for c in xs), sum(func[c][1] for c in xs)))
                rows += [(c, func[c][0], func[c][1]) for c in xs]
        total = basic + proj
        lei_total = {c: b + p for c, b, p in rows if len(c) == 3}
        # --- front matter ---
        out += ["", "", f"{y} 年  ", f"{unit}部门预算", "", "# 目 录", "", f"## 第一部分 {unit} 概况", "",
                "一、主要职责", "", "二、部门机构设置", "", "三、部门预算构成", "", f"## 第二部分 {y} 年部门预算表", ""]
        for i, t in enumerate(("收支总体情况表", "收入总体情况表", "支出总体情况表", "财政拨款收支总体情况表",
                               "一般公共预算支出情况表（按功能分类科目）", "一般公共预算基本支出情况表（按经济分类科目）",
                               "一般公共预算项目支出情况表（按经济分类科目）", "财政拨款安排的行政经费及“三公”经费预算表",
                               "政府性基金预算支出情况表", "国有资本经营预算支出情况表", "部门预算基本支出预算表",
                               "部门预算项目支出及其他支出预算表"), start=1):
            out += [f"{_cn(i)}、{t}", ""]
        out += [f"## 第三部分 {y} 年部门预算情况说明", "", "## 第四部分 名词解释", "", f"# 第一部分 {unit}概况", "",
                "## 一、主要职责", "",
                "承担政务服务办事大厅及网上办事大厅镇街办事站的具体综合管理等工作；负责进驻办事大厅窗口及人员的日常管理；"
                "指导村（社区）公共服务平台建设及开展相关工作；承办上级交办的其他任务。", "",
                "## 二、部门机构设置", "", "本部门无内设机构。", "", "## 三、部门预算构成", "",
                "本部门无下属单位，部门预算为办本级预算。", "", f"第二部分 {y}年部门预算表", ""]

        def head(no: str | None, title: str) -> None:
            if no:
                out.extend([f"表 {no}", ""])
            out.extend([title, "", f"单位名称：{unit}" if rng.random() < 0.7 else f"单位名称： {unit}", "", "单位：万元", ""])

        # 表1 收支总体情况表 (two pages, as in the seed)
        cats = ["一般公共服务支出", "外交支出", "国防支出", "公共安全支出", "教育支出", "科学技术支出",
                "文化旅游体育与传媒支出", "社会保障和就业支出", "卫生健康支出", "节能环保支出", "城乡社区支出",
                "农林水支出", "交通运输支出", "住房保障支出"]
        by_cat = {self.name(c): v for c, v in lei_total.items()}
        head("1", "收支总体情况表")
        out += [_tab("收 入", "", "支 出", ""), _tab("项 目", "预算", "项 目", "预算")]
        income = [("一、预算拨款", total), ("二、财政专户拨款", 0), ("三、其他资金", 0)]
        for i, cat in enumerate(cats[:11]):
            left = income[i] if i < len(income) else None
            out.append(_tab(left[0] if left else "", _wan2(left[1]) if left else "", f"{_cn(i + 1)}、{cat}", _wan2(by_cat.get(cat, 0))))
        out.append("")
        head("1", "收支总体情况表")
        out += [_tab("收 入", "", "支 出", ""), _tab("项 目", "预算", "项 目", "预算")]
        for i, cat in enumerate(cats[11:], start=12):
            out.append(_tab("", "", f"{_cn(i)}、{cat}", _wan2(by_cat.get(cat, 0))))
        out += [_tab("本年收入合计", _wan2(total), "本年支出合计", _wan2(total)),
                _tab("四、上级补助收入", "0.00", "十五、对附属单位补助支出", "0.00"),
                _tab("五、附属单位上缴收入", "0.00", "十六、上缴上级支出", "0.00"),
                _tab("六、用事业基金弥补收支差额", "0.00", "十七、结转下年", "0.00"),
                _tab("收入总计", _wan2(total), "支出总计", _wan2(total)), "",
                "注： 财政拨款收支情况包括一般公共预算、政府性基金预算、国有资本经营预算拨款收支情况。", "",
                "本套报表金额单位转换时可能存在尾数误差。", "", "", ""]
        # 表2 收入总体情况表 (项 lines)
        head("2", "收入总体情况表")
        out += [_tab("功能分类科目", "", "合计", "财政拨款收入", "", "", "财政专户拨款收入", "", "其他资金收入", "", "",
                     "上级补助收入", "附属单位上缴收入", "用事业基金弥补收支差额"),
                _tab("科目编码", "科目名称", "", "一般公共预算", "政府性基金预算", "国有资本经营预算", "教育收费",
                     "其他专户收入拨款", "事业收入", "经营收入", "其他收入", "", "", "")]
        for code, b, p in rows:
            if len(code) == 7:
                w.coded(_tab(code, self.name(code), _wan2(b + p), _wan2(b + p), *["0.00"] * 10))
        out += ["", "。", ""]
        # 表3 支出总体情况表
        head("3", "支出总体情况表")
        out += [_tab("功能分类科目", "", "合计", "基本支出", "项目支出", "事业单位经营支出", "对附属单位补助支出", "上缴上级支出", "结转下年"),
                _tab("科目编码", "科目名称", "", "", "", "", "", ""),
                _tab("", "合计", _wan2(total), _wan2(basic), _wan2(proj), *["0.00"] * 4)]
        for code, b, p in rows:
            w.coded(_tab(code, self.name(code), _wan2(b + p), _wan2(b), _wan2(p), *["0.00"] * 4))
        out += ["", "", ""]
        # 表4 财政拨款收支总体情况表
        head("4", "财政拨款收支总体情况表")
        out += [_tab("收 入", "", "支 出", ""), _tab("项 目", "预算", "项 目", "预算")]
        cats4 = ["一般公共服务支出", "外交支出", "国防支出", "公共安全支出", "社会保障和就业支出", "卫生健康支出", "住房保障支出", "其他支出"]
        income4 = [("一、一般公共预算", total), ("二、政府性基金预算", 0), ("三、国有资本经营预算", 0)]
        for i, cat in enumerate(cats4):
            left = income4[i] if i < len(income4) else None
            out.append(_tab(left[0] if left else "", _wan2(left[1]) if left else "", f"{_cn(i + 1)}、{cat}", _wan2(by_cat.get(cat, 0))))
        out += [_tab("本年收入合计", _wan2(total), "本年支出合计", _wan2(total)), _tab("", "", "九、结转下年", "0.00"),
                _tab("收入总计", _wan2(total), "支出总计", _wan2(total)), "",
                "注： 表中功能分类科目，根据部门实际预算编制情况编制。", ""]
        # 表5 一般公共预算支出情况表（按功能分类科目）
        head("5", "一般公共预算支出情况表（按功能分类科目）")
        out += [_tab("功能科目名称", "一般公共预算支出", "", ""), _tab("", "小计", "其中：基本支出", "项目支出"),
                _tab("合 计", _wan2(total), _wan2(basic), _wan2(proj))]
        for code, b, p in rows:
            w.coded(_tab(f"[{code}] {self.name(code)}", _wan2(b + p), _wan2(b), _wan2(p)))
        out.append("")
        # 表6 一般公共预算基本支出情况表（按经济分类科目）, continued on a second page when long
        econ_rows: list[tuple[str, int]] = []
        for lei in sorted({c[:3] for c in basic_items}):
            xs = sorted(c for c in basic_items if c.startswith(lei))
            econ_rows.append((lei, sum(basic_items[c] for c in xs)))
            econ_rows += [(c, basic_items[c]) for c in xs]
        title6 = "一般公共预算基本支出情况表（按经济分类科目）"
        head("6", title6)
        out += [_tab("部门预算支出经济科目", "预算"), _tab("合 计", _wan2(basic))]
        split = len(econ_rows) // 2 + rng.randint(-2, 2) if len(econ_rows) > 12 and rng.random() < 0.6 else None
        for i, (code, v) in enumerate(econ_rows):
            if i == split:
                out.append("")
                head("6", title6)
                out.append(_tab("部门预算支出经济科目", "预算"))
            w.coded(_tab(f"[{code}]{self.name(code)}", _wan2(v)))
        out.append("")
        # 表7 一般公共预算项目支出情况表（按经济分类科目）
        head("7", "一般公共预算项目支出情况表（按经济分类科目）")
        out += [_tab("部门预算支出经济科目", "预算"), _tab("合 计", _wan2(proj))]
        for lei in sorted({c[:3] for c in econ_proj}):
            xs = sorted(c for c in econ_proj if c.startswith(lei))
            w.coded(_tab(f"[{lei}]{self.name(lei)}", _wan2(sum(econ_proj[c] for c in xs))))
            for c in xs:
                w.coded(_tab(f"[{c}]{self.name(c)}", _wan2(econ_proj[c])))
        out.append("")
        # 表8 行政经费及“三公”经费 (none)
        head("8", "财政拨款安排的行政经费及“三公”经费预算表")
        out += [_tab("项 目", "合计", "一般公共预算", "政府性基金预算", "国有资本经营预算")]
        for label in ("行政经费", "“三公”经费", "其中：（一）因公出国（境）支出", "（二）公务用车购置及运行维护支出",
                      "1. 公务用车购置", "2. 公务用车运行维护费", "（三）公务接待费支出"):
            out.append(_tab(label, "0.00", "0.00", "0.00", "0.00"))
        out += ["", "注：本表本年无发生额", ""]
        # 表9 政府性基金 / 国有资本经营 (empty, coded lines at 0.00)
        head("9", "政府性基金预算支出情况表")
        out += [_tab("功能分类科目", "", "政府性基金预算支出", "", ""), _tab("科目编码", "科目名称", "小计", "其中：基本支出", "项目支出"),
                _tab("", "合 计", "0.00", "0.00", "0.00")]
        for code, name in (("229", "其他支出"), ("22960", "彩票公益金安排的支出"),
                           ("2296003", "用于体育事业的彩票公益金支出"), ("2296004", "用于教育事业的彩票公益金支出")):
            w.coded(_tab(code, name, "0.00", "0.00", "0.00"))
        out += ["", "注：本表本年无发生额", ""]
        head(None, "国有资本经营预算支出情况表")
        out += [_tab("功能分类科目", "", "国有资本经营预算支出", "", ""), _tab("科目编码", "科目名称", "小计", "其中：基本支出", "项目支出"),
                _tab("", "合 计", "0.00", "0.00", "0.00")]
        for code, name in (("223", "国有资本经营预算支出"), ("22301", "解决历史遗留问题及改革成本支出"), ("2230101", "厂办大集体改革支出")):
            w.coded(_tab(code, name, "0.00", "0.00", "0.00"))
        out += ["", "注：本表本年无发生额", "", "", ""]
        # 表11 基本支出 by kind, 表12 项目支出 by project type
        head(None, "部门预算基本支出预算表")
        kinds = [("在职人员经费", sum(v for c, v in basic_items.items() if c.startswith("301"))),
                 ("公用经费", sum(v for c, v in basic_items.items() if c.startswith("302"))),
                 ("离退休人员经费", sum(v for c, v in basic_items.items() if c.startswith("303")))]
        out += [_tab("支出项目类别（资金使用单位）", "总 计", "财政拨款", "", "", "", "财政专户拨款", "其他资金"),
                _tab("", "", "合计", "一般公共预算", "政府性基金预算", "国有资本经营预算", "", ""),
                _tab("合 计", *([_wan2(basic)] * 3), *["0.00"] * 4)]
        for label, v in kinds:
            if v:
                out.append(_tab(label, *([_wan2(v)] * 3), *["0.00"] * 4))
        out += ["", "表 12", ""]
        out += ["部门预算项目支出及其他支出预算表", "", f"单位名称：{unit}", "", "单位：万元", "",
                _tab("支出项目类别（资金使用单位）", "总 计", "财政拨款", "", "", "", "财政专户拨款", "其他资金", "绩效目标"),
                _tab("", "", "合计", "一般公共 预算", "政府性 基金预算", "国有资本 经营预算", "", "", ""),
                _tab("合 计", *([_wan2(proj)] * 3), *["0.00"] * 4, "")]
        by_type: dict[str, int] = {}
        for p in w.plans:
            by_type[p.project_type] = by_type.get(p.project_type, 0) + p.cents
        for t, v in by_type.items():
            out.append(_tab(t, *([_wan2(v)] * 3), *["0.00"] * 4, ""))
        # --- 第三部分 情况说明 ---
        last = int(total * rng.uniform(0.7, 1.1))
        diff = total - last
        verb = "增加" if diff >= 0 else "减少"
        pct = round(abs(diff) * 100 / last) if last else 0
        goods = econ_proj.get("31002", 0)
        works = econ_proj.get("31005", 0) + econ_proj.get("30213", 0)
        service = econ_proj.get("30227", 0)
        out += ["", f"## 第三部分 {y}年部门预算情况说明", "", "### 一、部门预算收支增减变化情况", "",
                f"{y}年本部门收入预算{_wan2(total)}万元，比上年{verb}{_wan2(abs(diff))}万元，"
                f"{'增长' if diff >= 0 else '下降'}{pct}%，主要原因是工作人员和项目支出变化；支出预算{_wan2(total)}万元，"
                f"比上年{verb}{_wan2(abs(diff))}万元，{'增长' if diff >= 0 else '下降'}{pct}%。", "",
                "### 二、“三公”经费安排情况", "", f"{y}年本部门财政拨款安排“三公”经费0万元，与上年持平，无增减变化。", "",
                "### 三、机关运行经费安排情况", "",
                "行政经费（机关运行经费）指用于维持行政（参公）单位机关运行的经费。本部门为非参照公务员法管理的事业单位，"
                "按照上述定义，本部门无机关运行经费。", "",
                "### 四、政府采购情况", "",
                f"{y}年本部门政府采购安排{_wan2(goods + works + service)}万元，其中：货物类采购预算{_wan2(goods)}万元，"
                f"工程类采购预算{_wan2(works)}万元，服务类采购预算{_wan2(service)}万元。", "",
                "五、国有资产占有使用情况", "",
                f"截至 {y - 1} 年 12 月 31 日,本部门固定资产金额 {_wan2(rng.randint(5000, 90000))} 万元,分布构成情况为:房屋 0 平方米,"
                f"车辆 0 辆,单价在 100 万元以上的设备 0 台等。本年度拟购置固定资产 {_wan2(goods)} 万元,主要是办公设备等。", "",
                "六、重点项目预算绩效目标情况", "", f"{y} 年,本部门重点项目绩效目标情况如下:", "",
                _tab("项目", "预算数(单位:万元)", "绩效目标")]
        for p in w.plans:
            name = p.name.replace("（", "(").replace("）", ")") if rng.random() < 0.5 else p.name
            out.append(_tab(name, _wan2(p.cents), "详见绩效目标批复表"))
        out += ["", "## 第四部分 名词解释", "",
                "**一、财政拨款收入：**指预算单位从本级财政部门取得的财政预算资金收入。", "",
                "**二、事业收入：**指事业单位开展专业业务活动及辅助活动所取得的收入。", "",
                "**六、基本支出：**指为保障机构正常运转、完成日常工作任务而发生的人员支出和公用支出。", "",
                "**七、项目支出：**指在基本支出之外为完成特定行政任务和事业发展目标所发生的支出。", "",
                "**十、“三公”经费:**“三公”经费指部门(单位)使用财政拨款安排的因公出国(境)费用、公务用车购置及运行维护费和公务接待费。", ""]


# --- 单位预算公开 (永登) ----------------------------------------------------------------------------

_YD_FUNCTIONAL = ("2010301", "2080505", "2089999", "2101102", "2210201")
_YD_CATEGORY = {"201": "一般公共服务支出", "208": "社会保障和就业支出", "210": "卫生健康支出", "221": "住房保障支出"}
_YD_CATS1 = ("一般公共服务支出", "外交支出", "国防支出", "公共安全支出", "教育支出", "科学技术支出", "文化旅游体育与传媒支出",
             "社会保障和就业支出", "社会保险基金支出", "卫生健康支出", "节能环保支出", "城乡社区支出", "农林水支出",
             "交通运输支出", "资源勘探工业信息等支出", "商业服务业等支出", "金融支出", "援助其他地区支出",
             "自然资源海洋气象等支出", "住房保障支出", "粮油物资储备支出", "国有资本经营预算支出",
             "灾害防治及应急管理支出", "预备费", "其他支出", "转移性支出", "债务还本支出", "债务付息支出",
             "债务发行费用支出", "抗疫特别国债还本支出")


class _YongdengBudget:
    def __init__(self, w: DocumentWriter):
        self.w = w
        self.names = dict(_EXTRA_CODES)
        self.names.update(w.pools.codes.get("yongdeng", {}))

    def write(self) -> None:
        w, rng, y = self.w, self.w.rng, self.w.year
        unit, region, out = w.unit, w.region, w.lines
        lw = region.level_word
        # --- amounts (0.01 万元) ---
        scale = rng.uniform(0.5, 4.0)
        basic: dict[str, tuple[int, int]] = {}
        for code in _YD_FUNCTIONAL:
            staff, public = w.pools.yd_basic.get(code, (100, 0))
            if code == "2089999" and rng.random() < 0.3:
                continue
            basic[code] = (max(1, int(staff * scale * rng.uniform(0.8, 1.2))), int(public * scale * rng.uniform(0.8, 1.2)))
        proj = sum(p.cents for p in w.plans)
        staff_total = sum(s for s, _ in basic.values())
        public_total = sum(p for _, p in basic.values())
        basic_total = staff_total + public_total
        total = basic_total + proj
        func = {c: (s + p + (proj if c == "2010301" else 0), s + p, proj if c == "2010301" else 0) for c, (s, p) in basic.items()}
        by_cat: dict[str, int] = {}
        for c, (t, _, _) in func.items():
            by_cat[_YD_CATEGORY[c[:3]]] = by_cat.get(_YD_CATEGORY[c[:3]], 0) + t
        running = [(c, 0) for c, _ in w.pools.yd_running]
        paid = [i for i in range(len(running)) if rng.random() < 0.45] or [0]
        for i, part in zip(paid, _partition(rng, max(len(paid), int(public_total * rng.uniform(0.3, 0.7))), len(paid))):
            running[i] = (running[i][0], part)
        running_total = sum(v for _, v in running)
        reception = rng.choice((0, 2, 4, 5, 10))
        # --- narrative ---
        province = region.province
        gov = "中共甘肃省委办公厅 甘肃省人民政府办公厅" if province == "甘肃省" else "中共上海市委办公厅 上海市人民政府办公厅"
        pct_basic = round(basic_total * 100 / total) if total else 0
        p0 = w.plans[0]
        p0_goal = _one_line(w.loc(p0.seed.overall_goal or p0.seed.annual_goal, p0.seed.year))
        out += ["", "", "附件 1", "", unit, f"{y} 年单位预算公开情况说明", "", "目 录", "", "第一部分 部门/单位基本概况", "",
                "- 一、部门/单位职责", "- 二、机构设置情况", "", f"第二部分 {y} 年部门/单位预算情况说明", "",
                "- 一、收支总体情况", "- 二、一般公共预算情况", "- 三、一般公共预算财政拨款“三公”经费、培训费、会议费等情况",
                "- 四、一般公共预算财政拨款机关运行经费情况", "- 五、政府采购安排情况", "- 六、国有资产占用情况",
                "- 七、其他重要事项情况说明", "- 八、预算绩效管理情况", "- 九、名词解释", "",
                f"第三部分 {y} 年部门（单位）预算公开表", "", "前言", "",
                f"按照《中华人民共和国预算法》《中华人民共和国预算法实施条例》以及财政部《地方预决算公开操作规程》"
                f"《关于推进部门所属单位预算公开的指导意见》和《{gov}关于进一步推进预算公开工作的实施方案》要求，"
                f"现将 {y} 年部门预算公开如下：", "",
                "一、单位职责", "",
                "贯彻执行行政审批制度改革的有关法律、法规和政策规定，研究制定落实政务大厅运行机制和各项规章制度，"
                "做好各驻入单位办理行政审批事项和其他行政服务事项的组织、协调工作。", "",
                "二、机构设置情况", "",
                f"{unit}为{lw}委、{lw}政府派出机构，事业性质，科级建制，财政全额拨款。现有编制 {rng.randint(4, 30)} 名。", "",
                "三、单位收支总体情况", "",
                f"{y} 年部门收支总预算 {_wan_plain(total)} 万元。按照综合预算的原则，单位所有收入和支出均纳入部门预算管理。", "",
                "（一）收入预算", "", f"{y} 年收入预算 {_wan_plain(total)} 万元（详见部门/单位预算公开表 1,2）。", "",
                "（二）支出预算", "",
                f"{y} 年支出预算 {_wan_plain(total)} 万元（详见部门/单位预算公开表 3）。其中：基本支出 {_wan_plain(basic_total)} 万元，"
                f"占 {pct_basic}%；项目支出 {_wan_plain(proj)} 万元，占 {100 - pct_basic}%；上年结转 0 万元，占 0%。", "",
                "四、一般公共预算情况", "",
                f"{y} 年一般公共预算当年支出 {_wan_plain(total)} 万元，包括："
                + "、".join(f"{k} {_wan_plain(v)} 万元" for k, v in by_cat.items()) + "。", "",
                "(一) 基本支出", "",
                f"其中：人员经费支出 {_wan_plain(staff_total)} 万元，公用经费支出 {_wan_plain(public_total)} 万元。", "",
                "（二）项目支出", "",
                f"{y} 年一般公共预算财政拨款项目支出预算 {_wan_plain(proj)} 万元。", "",
                f"保障运转经费 {len(w.plans)} 个，主要是" + "、".join(f"项目 {i + 1} {p.name}" for i, p in enumerate(w.plans)) + "。", "",
                "五、部门(单位)一般公共预算财政拨款“三公”经费、培训费、会议费等情况", "",
                f"“三公”经费预算 {_wan_plain(reception)} 万元, 较 {y - 1} 年预算增加 0 万元。", "",
                "六、一般公共预算财政拨款机关运行经费情况", "",
                f"机关运行经费 {_wan_plain(running_total)} 万元。", "",
                "九、其他重要事项情况说明", "",
                "(三) 重点项目情况", "", f"项目名称：{p0.name}", "", f"1、项目概况：{p0_goal}", "",
                f"3、实施主体：{unit}", "", f"4、实施周期：{y} 年 1 月 1 日-{y} 年 12 月 31 日", "",
                f"5、实施计划：{y} 年年底完成支付", "", f"6、年度预算安排：{p0.printed} 万元", "",
                f"7、预期总体目标：{p0_goal}", "",
                "（四）部门管理转移支付情况", "", "未安排预算，部门/单位管理转移支付表为空表。", "",
                "十一、名词解释", "", "1、**财政拨款**:指由一般公共预算、政府性基金预算、国有资本经营预算安排的财政拨款数。", "",
                unit, "", f"{y}年2月{rng.randint(1, 28)}日", "", "附件 1", ""]
        # --- 表一 … 表十二 ---
        def head(no: str, title: str) -> None:
            out.extend([f"表{no}、{title}", "", "单位：万元", ""])

        note = ["", "备注：无内容应公开空表并说明情况。", ""]
        head("一", "部门/单位收支总体情况表")
        out += [_tab("收 入", "", "支 出", ""), _tab("项目", "预算数", "项目", "预算数")]
        incomes = ["一、一般公共预算财政拨款收入", "二、政府性基金预算财政拨款收入", "三、国有资本经营预算收入", "四、教育专户核算",
                   "五、事业收入", "六、上级补助收入", "七、附属单位上缴收入", "八、经营收入", "九、其他收入"]
        for i, cat in enumerate(_YD_CATS1):
            left = incomes[i] if i < len(incomes) else ""
            lv = _wan_plain(total) if i == 0 else ""
            v = by_cat.get(cat)
            out.append(_tab(left, lv, f"{_cn(i + 1)}、{cat}", _wan_plain(v) if v else ""))
        out += [_tab("本年收入合计", _wan_plain(total), "本年支出合计", _wan_plain(total)),
                _tab("十、上年结转", "", "三十一、结转下年", ""), _tab("十一、上年结余", "", "", ""),
                _tab("收入总计", _wan_plain(total), "支出总计", _wan_plain(total))]
        out += note
        head("二", "部门/单位收入总体情况表")
        out += [_tab("项目", "预算数"), _tab("**", "1"), _tab(incomes[0], _wan_plain(total)), _tab(".....", "")]
        for label in incomes[1:]:
            out += [_tab(label, ""), _tab(".....", "")]
        out += [_tab("本年收入合计", _wan_plain(total)), _tab("十、上年结转", ""), _tab(".....", ""),
                _tab("十一、上年结余", ""), _tab(".....", ""), _tab("收入合计", _wan_plain(total))]
        out += note
        head("三", "部门/单位支出总体情况表")
        out += [_tab("功能分类科目", "支出合计", "基本支出", "项目支出", "上年结转"), _tab("**", "1", "2", "3", "4"),
                _tab("总计", _wan_plain(total), _wan_plain(basic_total), _wan_plain(proj), "")]
        for c, (t, b, p) in func.items():
            w.coded(_tab(c, _wan_plain(t), _wan_plain(b), _wan_plain(p) if p else "", ""))
        out += note
        head("四", "财政拨款收支总体情况表")
        out += [_tab("收 入", "", "支 出", ""), _tab("项目", "预算数", "项目", "合计"),
                _tab("一、本年收入", _wan_plain(total), "一、本年支出", _wan_plain(total)),
                _tab("（一）一般公共预算财政拨款", _wan_plain(total), "（一）一般公共服务支出", _wan_plain(by_cat.get("一般公共服务支出", 0))),
                _tab("（二）政府性基金预算财政拨款", "", "（二）外交支出", ""),
                _tab("（三）国有资本经营预算财政拨款", "", "（三）国防支出", "")]
        for i, cat in enumerate(_YD_CATS1[3:29], start=4):
            v = by_cat.get(cat)
            out.append(_tab("", "", f"（{_cn(i)}）{cat}", _wan_plain(v) if v else ""))
        out.append(_tab("收 入 总 计", _wan_plain(total), "支 出 总 计", _wan_plain(total)))
        out += note
        head("五", "财政拨款支出表")
        out += [_tab("单位名称", "总计", "一般公共预算支出", "", "", "政府性基金预算支出", "", "", "国有资本经营预算支出", "", ""),
                _tab("", "", "合计", "基本支出", "项目支出", "合计", "基本支出", "项目支出", "合计", "基本支出", "项目支出"),
                _tab("**", *map(str, range(1, 11))), _tab("总计", *[""] * 10),
                _tab(unit, _wan_plain(total), _wan_plain(total), _wan_plain(basic_total), _wan_plain(proj), *[""] * 6)]
        out += note
        head("六", "一般公共预算支出情况表")
        out += [_tab("功能分类科目", "", "一般公共预算支出", "", ""), _tab("科目编码", "科目名称", "合计", "基本支出", "项目支出"),
                _tab("**", "**", "1", "2", "3"),
                _tab("", "总计", _wan_plain(total), _wan_plain(basic_total), _wan_plain(proj))]
        for c, (t, b, p) in func.items():
            w.coded(_tab(c, self.names.get(c, c), _wan_plain(t), _wan_plain(b), _wan_plain(p) if p else ""))
        out += note
        head("七", "一般公共预算基本支出情况表")
        out += [_tab("经济分类科目", "", "一般公共预算基本支出", "", ""), _tab("科目编码", "科目名称", "合计", "人员经费", "公用经费"),
                _tab("**", "**", "1", "2", "3"),
                _tab("", "总计", _wan_plain(basic_total), _wan_plain(staff_total), _wan_plain(public_total))]
        for c, (s, p) in basic.items():
            w.coded(_tab(c, self.names.get(c, c), _wan_plain(s + p), _wan_plain(s), _wan_plain(p) if p else ""))
        out += note
        head("八", "一般公共预算财政拨款“三公”经费、会议费、培训费支出情况表")
        out += [_tab("单位名称", "“三公”经费", "", "", "", "", "会议费", "培训费"),
                _tab("", "合计", "因公出国（境）费用", "公务接待费", "公务用车购置和运行费", "", "", ""),
                _tab("", "", "", "", "公务用车购置费", "公务用车运行费", "", ""),
                _tab("**", *map(str, range(1, 8))), _tab("总计", *[""] * 7),
                _tab(unit, _wan_plain(reception) if reception else "", "", _wan_plain(reception) if reception else "", "", "", "", "")]
        out += note
        head("九", "一般公共预算财政拨款机关运行经费表")
        out += [_tab("序号", "项目", "合计", "基本支出", "项目支出"), _tab("**", "**", "1", "2", "3"),
                _tab("", "总计", _wan_plain(running_total), "", "")]
        for i, (c, v) in enumerate(running, start=1):
            w.coded(_tab(str(i), f"[{c}]{self.names.get(c, c)}", _wan_plain(v) if v else "", "", ""))
        out += note
        for no, title in (("十", "政府性基金预算支出情况表"), ("十二", "国有资本经营预算支出情况表")):
            if no == "十二":
                head("十一", "部门管理转移支付表")
                out += [_tab("单位名称", "合计", "一般公共预算 项目支出", "政府性基金预 算项目支出", "国有资本经营 预算项目支出"),
                        _tab("**", "1", "2", "3", "4"), _tab("总计", "", "", "", ""), _tab(".....", "", "", "", "")]
                out += note
            head(no, title)
            out += [_tab("项目", "预算数"), _tab("**", "1"), _tab("总计", ""), _tab(".....", "")]
            out += note
        # --- 附件 2: 整体支出绩效目标表 + 项目支出绩效目标表 ---
        goals = [g for g, _ in w.pools.dept_goals if g.startswith("目标 1")]
        goal_lines = [w.loc(x, 2024) for x in (goals[0].split("\n") if goals else [])]
        out += ["附件 2", "", "部门/单位整体支出绩效目标表", f"({y} 年度)", "",
                _tab("部门(单位)名称", "", unit, "", "", "")]
        for i, g in enumerate(goal_lines or ["保障单位正常运转，完成各项工作任务。"]):
            out.append(_tab("总体目标" if i == 0 else "", g, "", "", "", ""))
        out += [_tab("预算情况(万元)", "按支出类型分", "", "预算金额", "按来源类型分", "预算金额"),
                _tab("", "基本支出", "人员经费", _wan_plain(staff_total), "当年财政拨款", _wan_plain(basic_total)),
                _tab("", "", "公用经费", _wan_plain(public_total), "上年结转资金", ""),
                _tab("", "", "合计", _wan_plain(basic_total), "其他资金", ""),
                _tab("", "项目支出", "", _wan_plain(proj), "收入预算合计", _wan_plain(proj)),
                _tab("", "", "", "支出预算合计", _wan_plain(proj), "")]
        w.emit_indicators(w.pick_custom(), 1, "绩效指标\t一级指标\t二级指标\t三级指标\t指标值\t", placeholders=False, quirks=False)
        out.append("")
        for p in w.plans:
            w.yd_project_table(p)


# --- the corpus ---------------------------------------------------------------------------------

#: layout → (share of documents, regions it is written for with their weights)
LAYOUTS = {
    "dg-projects": (0.25, (("dongguan", 0.8), ("shanghai", 0.2))),
    "dg-dept-tasks": (0.15, (("dongguan", 1.0),)),
    "dg-dept-numbered": (0.10, (("dongguan", 1.0),)),
    "dg-budget": (0.25, (("dongguan", 1.0),)),
    "yd-unit-budget": (0.25, (("lanzhou", 0.6), ("shanghai", 0.4))),
}
_REGIONS = {"dongguan": DONGGUAN_TOWNS, "lanzhou": LANZHOU, "shanghai": SHANGHAI}


class _Units:
    """Budget units × years, each handed out once (then again as （本级） if a corpus needs more)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.queues: dict[str, list[tuple[Region, str, int, str]]] = {}
        self.rounds: dict[str, int] = {}

    def take(self, kind: str) -> tuple[Region, str, int]:
        q = self.queues.get(kind)
        if not q:
            n = self.rounds.get(kind, 0)
            self.rounds[kind] = n + 1
            suffix = "" if n == 0 else ("（本级）" if n == 1 else f"（本级{n}）")
            q = [(Region(kind, name), t, y, suffix) for name in _REGIONS[kind] for t in UNIT_TYPES for y in YEARS]
            self.rng.shuffle(q)
            # units of the samples' own type first (popped from the end), so small corpora look like them
            q.sort(key=lambda x: x[1] == UNIT_TYPES[0])
            self.queues[kind] = q
        region, unit_type, year, suffix = q.pop()
        return region, region.unit(unit_type) + suffix, year


def iter_documents(projects: int, seed: int = 0):
    """The documents of a corpus with ``projects`` projects, in order (deterministic in ``seed``)."""
    rng = random.Random(seed)
    pl = pools()
    units = _Units(rng)
    names = list(LAYOUTS)
    weights = [LAYOUTS[n][0] for n in names]
    order = names[:]
    rng.shuffle(order)  # the first documents cover every layout
    left, n = projects, 0
    while left > 0:
        layout = order[n] if n < len(order) else rng.choices(names, weights)[0]
        kinds = LAYOUTS[layout][1]
        kind = rng.choices([k for k, _ in kinds], [wt for _, wt in kinds])[0]
        region, unit, year = units.take(kind)
        k = min(left, rng.randint(3, 15))
        w = DocumentWriter(rng, pl, layout, region, unit, year)
        getattr(w, layout.replace("-", "_"))(k)
        n += 1
        left -= len(w.plans)
        text = "\n".join(w.lines).rstrip("\n") + "\n"
        yield GeneratedDocument(
            filename=f"{n:06d}-{layout}-{year}.txt", layout=layout, unit=w.unit, region=region.name, year=year,
            text=text, projects=[(p.name, p.yuan) for p in w.plans], indicators=w.indicators,
            key_tasks=w.tasks, budget_lines=w.budget_lines)


def generate(out_dir: Path, projects: int, seed: int = 0) -> dict:
    """Write a corpus of documents holding ``projects`` projects into ``out_dir``; return the exact
    counts written: documents, projects, indicators (project + department-wide), key_tasks
    (年度重点工作任务, optional ones included) and budget_lines (coded lines of budget tables)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = {"documents": 0, "projects": 0, "indicators": 0, "key_tasks": 0, "budget_lines": 0}
    for doc in iter_documents(projects, seed):
        (out_dir / doc.filename).write_text(doc.text, encoding="utf-8")
        stats["documents"] += 1
        stats["projects"] += len(doc.projects)
        stats["indicators"] += doc.indicators
        stats["key_tasks"] += doc.key_tasks
        stats["budget_lines"] += doc.budget_lines
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, required=True, help="number of projects to write")
    ap.add_argument("--out", type=Path, required=True, help="directory to write the documents into")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    stats = generate(args.out, args.projects, args.seed)
    print(json.dumps(stats, ensure_ascii=False))
    print(f"{stats['projects']} projects in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
