"""Query understanding: filters written in a researcher's question, and the text left to rank by.

``understand("清溪镇2024年的租赁项目", lexicon)`` gives the filters region 清溪镇, year 2024 and
kind project, and the text 租赁. It is deterministic and fast (no model; well under a millisecond
per query once the :class:`Lexicon` is built), and knows only what the graph knows: regions,
units and classification codes come from the store (:meth:`Lexicon.from_store`), relative years
(近两年, 今年) are counted from the newest fiscal year in the graph.

What is recognised (``Filter.kind``):

``region``  a region of the graph at any level, with or without its suffix (清溪 / 清溪镇, 南城 /
            南城街道, 永登 / 永登县, 普陀区, 东莞 / 东莞市, 上海). A region covers itself and every
            region ``bkg:partOf`` it, transitively (东莞 → 东莞市, 东坑镇, 南城街道, 沙田镇, 清溪镇).
            Attached filler is dropped with it: 东莞各镇 / 东莞市各镇街 / 普陀区下属, 在清溪镇, 清溪镇的,
            清溪镇有哪些.
``unit``    a budget unit by its full name (东莞市清溪镇政务服务中心) or the name without its
            higher regions (清溪镇政务服务中心, 清溪政务服务中心, 普陀区司法局, 普陀司法局, 普陀区石泉路街道办事处). A name that is also
            a region's name (石泉路街道办事处) is the region.
            A name that is only generic (政务服务中心, 司法局) is not a unit filter.
``year``    2024年, 2024年度, 24年 (only within 5 years before the oldest … 2 after the newest year
            of the graph: 服务12年 is a duration), 2024 (bare, only within 10 years of the graph's
            years and not part of a bigger number or an amount: 预算2000 is no year); ranges
            2023-2024年, 2023年至2024年, 2023到2024, 23-24年, 从2023年到2024年;
            open ranges 2024年以来/以后/之后/起/至今 (to the newest year), 2024年以前 (inclusive) /
            之前 (exclusive); relative to the newest year in the graph: 近两年/近三年/最近两年/
            过去3年 (newest-n+1 … newest), 近几年/近年来 (three years), 今年/本年度 (newest),
            去年/上年度/上一年 (newest-1), 前年 (newest-2), 明年/下一年度 (newest+1).
``amount``  in 元 (Decimal), with units 元/块, 万/万元, 亿/亿元, 千/千元, 百万, 千万, w/k (only with 元
            or a comparator: 4k显示器 is no amount), and
            arabic (100, 1,000,000, 1.5) or Chinese (五十万, 一百万, 两百万, 十万, 一点五亿) numbers.
            > : 超过/大于/高于/多于/超出;  ≥ : 不少于/不低于/不小于/至少/最少/大于等于/…以上;
            < : 低于/小于/少于/不到/不足;  ≤ : 不超过/不高于/不大于/最多/至多/小于等于/…以下/…以内;
            between (inclusive): 100万到200万, 100-200万元, 10万至50万, 介于10万和50万之间,
            在10万与50万之间; about (±10 %): 100万左右, 约100万, 大约/大概/将近/接近100万, and a
            bare amount with a unit (100万元的项目). 超过10万且低于50万 / 10万以上50万以下 merge
            into one range. 金额/预算/资金/总额/预算金额… (+ 在/为/是/达到) before it are filler.
            A number needs a money unit, a magnitude (万, 亿 …) or a comparator to be an amount;
            with a comparator only, the number must be at least 1000 or follow 金额/预算/资金/经费.
            Numbers followed by %, 人, 个, 次, 年 … are never amounts.
``kind``    项目/重点项目 → project, 指标/绩效指标/三级指标 → indicator, 任务/重点任务/重点工作/工作任务/
            年度重点工作任务 → task. Only as a standalone word (see :func:`_right_boundary`): at the
            end, before a particle (的, 有哪些, 吗 …), punctuation, another recognised filter, or
            预算/金额/列表 …; after anything. So 停车场项目 / 哪些项目 / 项目有哪些 are kind words, while
            政务信息化项目运维费用 / 项目支出 / 任务一 / 指标值 are not. When a question names several,
            the last one (the head noun) wins and the others stay text (停车场项目的指标 → indicator,
            text 停车场项目), unless they are joined by 和/与/及/、 (项目和任务 → both).
``code``    a classification concept of 支出功能分类/支出经济分类: its notation (2080104, 30213,
            [30213], 【208】, 科目2080104) or exactly its prefLabel/altLabel (住房保障支出, 办公费,
            维修(护)费). Names must stand alone (start/end, spaces, punctuation, particles, another
            filter, or 科目/预算/支出/金额 after it), so 专用设备租赁费支出 is text, not 租赁费.

Everything else is text. Characters are claimed once, in this order: amounts, years, codes by
notation, units and regions, kind words, codes by name — so a year inside an amount or an amount
inside a code is never counted twice. Filters of the same kind are alternatives (OR), except
amounts, which are all conditions (AND); different kinds combine with AND.

Notes (Chinese, for the researcher) explain relative years, approximate amounts, years absent
from the graph and unknown bracketed codes. ``Interpretation.as_dict()`` is
``{"filters": [Filter.as_dict() …], "text", "notes"}``; see :meth:`Filter.as_dict` for each kind.

Bounds: a question with a number of more than :data:`MAX_NUMBER_DIGITS` digits (or a run of more
than :data:`MAX_CN_NUMERAL_CHARS` Chinese numerals), or an amount above :data:`MAX_AMOUNT` 元, raises
:class:`QuestionError` (the API answers 400): no budget is that large, and reading such numbers cost
time that grows with the square of their length.

Ambiguity and fallback: a region/unit/code word that also occurs inside some project, indicator
or task label of the graph (南城 in 南城办事大厅…, 租赁费 in 专用设备租赁费支出) gives a filter with
``ambiguous=True``. The search layer, which alone can see results, calls :func:`relax` to turn a
filter back into text when it empties the results.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from ingest.regions import short_name

LEXICON_VERSION = 1
#: digits of one number at most (10^15 元 — a thousand trillion — is beyond any budget)
MAX_NUMBER_DIGITS = 15
#: Chinese numeral characters in a row at most (一千二百三十四万五千六百七十八 is 15)
MAX_CN_NUMERAL_CHARS = 24
#: an amount above this many 元 is no budget amount (China's whole budget is ~3 × 10^13 元)
MAX_AMOUNT = Decimal(10) ** 16


class QuestionError(ValueError):
    """A question that cannot be read: too long, or a number out of bounds. ``message`` says why in
    Chinese, for the researcher; ``detail`` in English."""

    def __init__(self, message: str, detail: str):
        super().__init__(f"{message} ({detail})")
        self.message = message
        self.detail = detail

# ---------------------------------------------------------------------------------------------
# normalisation (1:1 per character, so spans in the normalised query are spans in the query)
# ---------------------------------------------------------------------------------------------

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_FULLWIDTH[ord("【")] = ord("[")
_FULLWIDTH[ord("】")] = ord("]")
_FULLWIDTH[ord("—")] = ord("-")
_FULLWIDTH[ord("–")] = ord("-")
_FULLWIDTH[ord("〜")] = ord("~")


def _norm(s: str) -> str:
    s = s.translate(_FULLWIDTH)
    low = s.lower()
    if len(low) == len(s):
        return low
    # a few letters lower-case to two characters (İ → i̇): they stay as they are, so that every
    # span found in the normalised query is the same span of the query
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in s)


def _norm_name(s: str) -> str:
    return re.sub(r"\s+", "", _norm(s))


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def _is_word(c: str) -> bool:
    return _is_cjk(c) or c.isalnum()


# ---------------------------------------------------------------------------------------------
# data classes
# ---------------------------------------------------------------------------------------------

@dataclass
class Filter:
    """One filter recognised in a query.

    ``value`` by kind: region → list of the region labels it covers (itself first, then every
    region partOf it); unit → unit IRI; year → (from, to) inclusive ints; amount → (min 元
    Decimal|None, max 元 Decimal|None, inclusive_min, inclusive_max); kind → "project" |
    "indicator" | "task"; code → list of {"iri", "notation", "scheme"} (one name may be several
    concepts, e.g. 一般行政管理事务 under several 款, or 住房公积金 in both schemes; a notation is
    one concept). ``iris`` are the graph IRIs it resolves to (regions covered, the unit, the
    concepts). ``span`` is where ``source`` sits in the query; ``extent`` adds the filler that
    went with it (的, 各镇, 金额 …).
    """

    kind: str
    value: object
    label: str
    source: str
    ambiguous: bool = False
    level: str | None = None  # region filters: admin level of the region named (town, county …)
    iris: list[str] = field(default_factory=list)
    span: tuple[int, int] = (0, 0)
    extent: tuple[int, int] = (0, 0)

    def as_dict(self) -> dict:
        """``{"kind", "value", "label", "from"}`` (+ ``"ambiguous": true`` when it is). By kind:
        town/region → value is the region's label, ``covers`` the labels it covers
        (``{"kind": "town", "value": "清溪镇", "label": "清溪镇", "from": "清溪镇", "covers": ["清溪镇"]}``);
        unit → IRI; year → [from, to]; amount → {"min", "max", "min_inclusive", "max_inclusive"}
        (numbers in 元 or null); kind → "project" | "indicator" | "task"; code → [{"iri",
        "notation", "scheme"}]."""
        d: dict = {"kind": self.kind, "value": None, "label": self.label, "from": self.source}
        if self.kind == "region":
            d["kind"] = "town" if self.level == "town" else "region"
            d["value"] = self.label
            d["covers"] = list(self.value)  # type: ignore[arg-type]
        elif self.kind == "year":
            d["value"] = list(self.value)  # type: ignore[arg-type]
        elif self.kind == "amount":
            lo, hi, inc_lo, inc_hi = self.value  # type: ignore[misc]
            d["value"] = {"min": _json_num(lo), "max": _json_num(hi),
                          "min_inclusive": inc_lo, "max_inclusive": inc_hi}
        elif self.kind == "code":
            d["value"] = [dict(c) for c in self.value]  # type: ignore[union-attr]
        else:
            d["value"] = self.value
        if self.ambiguous:
            d["ambiguous"] = True
        return d


@dataclass
class Interpretation:
    filters: list[Filter]
    text: str
    notes: list[str] = field(default_factory=list)
    query: str = ""

    def as_dict(self) -> dict:
        return {"filters": [f.as_dict() for f in self.filters], "text": self.text, "notes": list(self.notes)}


def _json_num(d: Decimal | None) -> int | float | None:
    if d is None:
        return None
    return int(d) if d == d.to_integral_value() else float(d)


# ---------------------------------------------------------------------------------------------
# lexicon
# ---------------------------------------------------------------------------------------------

_LABELLED_CLASSES = ("bkg:Project", "bkg:PerformanceIndicator", "bkg:KeyTask",
                     "bkg:KeyProjectEntry", "bkg:ProjectDescription")
_SCHEMES = {"https://w3id.org/budgetkg/def#FunctionalClassification": "functional",
            "https://w3id.org/budgetkg/def#EconomicClassification": "economic"}
_UNIT_NOISE = re.compile(r"[（(]本级[)）]")
_REGION_ALT_SUFFIX = {"街道": ("街道办", "街道办事处")}


class _Matcher:
    """Exact-substring dictionary: surface form → payload list, longest match first."""

    def __init__(self) -> None:
        self.names: dict[str, list] = {}
        self.lengths: dict[str, list[int]] = {}

    def add(self, name: str, payload) -> None:
        if len(name) < 2:
            return
        lst = self.names.setdefault(name, [])
        if payload not in lst:
            lst.append(payload)
        ls = self.lengths.setdefault(name[0], [])
        if len(name) not in ls:
            ls.append(len(name))
            ls.sort(reverse=True)

    def longest_at(self, s: str, i: int) -> str | None:
        for n in self.lengths.get(s[i], ()):
            cand = s[i:i + n]
            if len(cand) == n and cand in self.names:
                return cand
        return None


class Lexicon:
    """What the parser knows from the graph: regions, units, fiscal years, classification codes,
    and the region/unit/code words that also occur inside project, indicator or task labels.

    Persist with :meth:`to_json` / :meth:`from_json`; rebuild with :meth:`from_store` whenever
    documents are ingested.
    """

    def __init__(self, regions: dict[str, dict], units: dict[str, dict], years: Iterable[int],
                 concepts: dict[str, dict], label_words: Iterable[str] = ()):
        # regions: iri → {"label", "level", "parents": [iri]}; units: iri → {"label", "region"}
        # concepts: iri → {"notation", "scheme", "labels": [pref, alt…]}
        self.regions = regions
        self.units = units
        self.years = sorted({int(y) for y in years})
        self.concepts = concepts
        self.label_words: set[str] = set(label_words)
        self._build()

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_store(cls, store) -> Lexicon:
        from ingest.regions import region_graph

        regions = region_graph(store)
        units: dict[str, dict] = {}
        for r in store.select("SELECT ?u ?l ?r WHERE { ?u a bkg:BudgetUnit ; rdfs:label ?l . "
                              "OPTIONAL { ?u bkg:region ?r } }"):
            units.setdefault(r["u"], {"label": r["l"], "region": r["r"]})
        years = []
        for r in store.select("SELECT DISTINCT ?y WHERE { ?s bkg:fiscalYear ?y }"):
            try:
                years.append(int(r["y"]))
            except (TypeError, ValueError):
                pass
        concepts: dict[str, dict] = {}
        for r in store.select("SELECT ?c ?s ?n ?pl ?al WHERE { ?c skos:inScheme ?s . "
                              "FILTER(?s IN (bkg:FunctionalClassification, bkg:EconomicClassification)) "
                              "OPTIONAL { ?c skos:notation ?n } OPTIONAL { ?c skos:prefLabel ?pl } "
                              "OPTIONAL { ?c skos:altLabel ?al } }"):
            e = concepts.setdefault(r["c"], {"notation": r["n"], "scheme": _SCHEMES.get(r["s"], r["s"]),
                                             "labels": []})
            for lab in (r["pl"], r["al"]):
                if lab and lab not in e["labels"]:
                    e["labels"].append(lab)
        lex = cls(regions, units, years, concepts)
        values = " ".join(_LABELLED_CLASSES)
        labels = {r["l"] for r in store.select(
            f"SELECT DISTINCT ?l WHERE {{ VALUES ?t {{ {values} }} ?x a ?t ; rdfs:label ?l }}") if r["l"]}
        lex.label_words = lex._words_in(labels)
        return lex

    def to_json(self) -> dict:
        return {"version": LEXICON_VERSION, "regions": self.regions, "units": self.units,
                "years": self.years, "concepts": self.concepts, "label_words": sorted(self.label_words)}

    @classmethod
    def from_json(cls, d: dict) -> Lexicon:
        if d.get("version", LEXICON_VERSION) != LEXICON_VERSION:
            raise ValueError(f"lexicon version {d.get('version')} is not {LEXICON_VERSION}: rebuild it from the store")
        return cls(d.get("regions", {}), d.get("units", {}), d.get("years", []), d.get("concepts", {}),
                   d.get("label_words", []))

    # -- derived indexes --------------------------------------------------------------------------
    @property
    def newest_year(self) -> int:
        return self.years[-1] if self.years else date.today().year

    @property
    def oldest_year(self) -> int:
        return self.years[0] if self.years else self.newest_year

    def _ancestors(self, iri: str) -> list[str]:
        from ingest.regions import ancestors

        return ancestors(self.regions, iri)

    def _build(self) -> None:
        children: dict[str, list[str]] = {}
        for iri, r in self.regions.items():
            for p in r.get("parents", []):
                children.setdefault(p, []).append(iri)
        self.covers: dict[str, list[str]] = {}
        for iri in self.regions:
            below: list[str] = []
            todo = list(children.get(iri, []))
            while todo:
                c = todo.pop()
                if c != iri and c not in below:
                    below.append(c)
                    todo.extend(children.get(c, []))
            self.covers[iri] = [iri] + sorted(below, key=lambda r: self.regions[r]["label"])
        self.entities = _Matcher()  # regions and units
        region_forms: set[str] = set()
        for iri, r in self.regions.items():
            for form in self._region_forms(r["label"]):
                self.entities.add(form, ("region", iri))
                region_forms.add(form)
        for iri, u in self.units.items():
            for form in self._unit_forms(u["label"], u.get("region")):
                if form not in region_forms:
                    self.entities.add(form, ("unit", iri))
        self.code_names = _Matcher()
        self.notations: dict[str, list[str]] = {}
        for iri, c in self.concepts.items():
            for lab in c.get("labels", []):
                self.code_names.add(_norm_name(lab), iri)
            if c.get("notation"):
                self.notations.setdefault(c["notation"], []).append(iri)

    @staticmethod
    def _region_forms(label: str) -> set[str]:
        label = _norm_name(label)
        forms = {label, short_name(label)}
        for suf, alts in _REGION_ALT_SUFFIX.items():
            if label.endswith(suf):
                forms.update(label + a[len(suf):] for a in alts)
        return {f for f in forms if len(f) >= 2}

    def _unit_forms(self, label: str, region: str | None) -> set[str]:
        """东莞市清溪镇政务服务中心 → also 东莞清溪镇政务服务中心, 清溪镇政务服务中心, 清溪政务服务中心;
        上海市普陀区司法局 → 普陀区司法局, 普陀司法局 (never the bare 司法局)."""
        full = _norm_name(label)
        base = _norm_name(_UNIT_NOISE.sub("", label)).replace("人民政府", "")
        forms = {full, base}
        chain = [region] + self._ancestors(region) if region in self.regions else []
        owner: dict[str, list[str]] = {}  # region form → all forms of that region
        for r in chain:
            rf = sorted(self._region_forms(self.regions[r]["label"]), key=len, reverse=True)
            for f in rf:
                owner[f] = rf
        prefixes = sorted(owner, key=len, reverse=True)
        s = base
        while True:
            hit = next((p for p in prefixes if s.startswith(p)), None)
            if hit is None or hit == s:
                break
            rest = s[len(hit):]
            forms.update(f + rest for f in owner[hit])  # 南城政务服务中心 ⇄ 南城街道政务服务中心
            s = rest
            forms.add(s)
        if s != base:
            forms.discard(s)  # 政务服务中心, 司法局: says nothing about which unit
        return {f for f in forms if len(f) >= 4}

    def _words_in(self, labels: Iterable[str]) -> set[str]:
        text = "\x00".join(_norm_name(lab) for lab in labels)
        return {n for m in (self.entities, self.code_names) for n in m.names if n in text}

    # -- lookups ----------------------------------------------------------------------------------
    def region_label(self, iri: str) -> str:
        return self.regions[iri]["label"]

    def concept_label(self, iri: str) -> str:
        labels = self.concepts[iri].get("labels") or [""]
        return labels[0]


# ---------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_MAGNITUDE = {"千万": 10_000_000, "百万": 1_000_000, "十万": 100_000, "万": 10_000, "亿": 100_000_000,
              "千": 1000, "百": 100, "w": 10_000, "k": 1000}


def cn_number(s: str) -> Decimal:
    """五十万 → 500000, 一百万 → 1000000, 一亿五千万 → 150000000, 一点五亿 → 150000000, 十 → 10."""
    if "点" in s:
        head, tail = s.split("点", 1)
        frac_digits = ""
        i = 0
        while i < len(tail) and tail[i] in _CN_DIGITS:
            frac_digits += str(_CN_DIGITS[tail[i]])
            i += 1
        mult = Decimal(1)
        for ch in tail[i:]:
            mult *= _CN_SMALL.get(ch) or _CN_BIG.get(ch) or 1
        return (cn_number(head) + Decimal("0." + (frac_digits or "0"))) * mult
    total = section = num = 0
    for ch in s:
        if ch in _CN_DIGITS:
            num = _CN_DIGITS[ch]
        elif ch in _CN_SMALL:
            section += (num if num or ch != "十" else 1) * _CN_SMALL[ch]
            num = 0
        elif ch == "万":
            total += (section + num) * 10_000
            section = num = 0
        elif ch == "亿":
            total = (total + section + num) * 100_000_000
            section = num = 0
    return Decimal(total + section + num)


def _int_or(d: Decimal) -> Decimal:
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def fmt_yuan(d: Decimal) -> str:
    d = _int_or(d)
    return f"{d:,}"


# ---------------------------------------------------------------------------------------------
# patterns
# ---------------------------------------------------------------------------------------------

_CN_NUM = r"[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*(?:点[零〇一二两三四五六七八九]+[十百千万亿]*)?"
_AR_NUM = r"\d+(?:[,，]\d{3}(?!\d))*(?:\.\d+)?"
_MAG = r"千万|百万|十万|万|亿|千|百|w|k"
_CUR = r"元|块钱|块|人民币"


def _amount(tag: str) -> str:
    return (rf"(?:(?P<{tag}ar>{_AR_NUM})(?:\s*(?P<{tag}mag>{_MAG}))?|(?P<{tag}cn>{_CN_NUM}))"
            rf"(?:\s*(?P<{tag}cur>{_CUR}))?")


_GT = ["大于或等于", "大于等于", "不少于", "不低于", "不小于", "至少", "最少", "起码", ">=", "≥",
       "超过", "大于", "高于", "多于", "超出", ">"]
_LT = ["小于或等于", "小于等于", "不超过", "不高于", "不大于", "不多于", "未超过", "最多", "至多", "<=", "≤",
       "低于", "小于", "少于", "不到", "不足", "<"]
_INCLUSIVE = {"大于或等于", "大于等于", "不少于", "不低于", "不小于", "至少", "最少", "起码", ">=", "≥",
              "小于或等于", "小于等于", "不超过", "不高于", "不大于", "不多于", "未超过", "最多", "至多", "<=", "≤"}
_APPROX_PRE = ["大约", "大概", "将近", "接近", "约"]
_POST_GE = ["及以上", "或以上", "以上"]
_POST_LE = ["及以下", "或以下", "以下", "以内", "之内"]
_POST_APPROX = ["左右", "上下"]


def _alt(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_BETWEEN = re.compile(
    rf"(?:(?P<pre>介于|在|从)\s*)?{_amount('a')}\s*(?P<sep>到|至|和|与|-|~)\s*{_amount('b')}"
    rf"(?:\s*(?P<post>之间|之内|以内|范围内))?")
_SINGLE = re.compile(
    rf"(?:(?:(?P<cmp>{_alt(_GT + _LT)})|(?P<approx>{_alt(_APPROX_PRE)}))\s*)?{_amount('a')}"
    rf"(?:\s*(?P<post>{_alt(_POST_GE + _POST_LE + _POST_APPROX)}))?")
# what may not follow a number that is an amount (95%, 10万人, 3年, 2024年 …)
_NOT_AFTER_AMOUNT = set("%％个人次项件天日时分秒米家户台套份名岁倍年月号条辆间座所张本册篇场位期级度")
_AMOUNT_CONTEXT = ("金额", "预算", "资金", "经费", "投入", "总额")

_YEAR4 = r"(?:19|20)\d{2}"
_SEP = r"(?:-|~|至|到)"
_YEAR_RANGE = re.compile(
    rf"(?<![\d.])(?P<a>{_YEAR4})\s*(?:年度|年)?\s*{_SEP}\s*(?P<b>{_YEAR4})(?!\d)(?:\s*(?:年度|年))?")
_YEAR_RANGE2 = re.compile(rf"(?<![\d.])(?P<a>\d{{2}})\s*(?:年度|年)?\s*{_SEP}\s*(?P<b>\d{{2}})\s*(?:年度|年)(?!\d)")
_YEAR_MODS = {"以来": "from", "以后": "from", "之后": "from", "起": "from", "开始": "from", "至今": "from",
              "以前": "to", "之前": "until"}
_YEAR_SINGLE = re.compile(
    rf"(?<![\d.])(?P<y>{_YEAR4}|\d{{2}})(?!\d)(?:\s*(?P<suf>年度|年))?(?P<mod>{_alt(_YEAR_MODS)})?")
_CN_COUNT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_YEAR_RECENT = re.compile(r"(?:最近|近|过去)(?P<n>\d{1,2}|[一二两三四五六七八九十])个?年(?:度)?(?:以来|来)?")
_YEAR_FEW = re.compile(r"(?:最近|近)几年(?:来)?|近年来|近些年")
_YEAR_NAMED = {"今年": 0, "本年度": 0, "本年": 0, "去年": -1, "上年度": -1, "上一年度": -1, "上一年": -1,
               "前年": -2, "明年": 1, "下一年度": 1, "下年度": 1}
_YEAR_NAMED_RE = re.compile(_alt(_YEAR_NAMED))

_CODE = re.compile(r"(?:(?P<open>\[)\s*)?(?<![\d.])(?P<code>\d{3}(?: ?\d{2}){0,2})(?![\d.])(?:\s*(?P<close>\]))?")
_NOT_AFTER_CODE = set("万亿千百元块年%") | _NOT_AFTER_AMOUNT

_KINDS = {
    "项目": "project", "重点项目": "project",
    "指标": "indicator", "绩效指标": "indicator", "三级指标": "indicator",
    "任务": "task", "重点任务": "task", "重点工作": "task", "工作任务": "task",
    "重点工作任务": "task", "年度重点工作任务": "task",
}
_KIND_LABEL = {"project": "项目", "indicator": "绩效指标", "task": "重点任务"}
_KIND_RE = re.compile(_alt(_KINDS))
# a kind word right after these is one whatever follows (哪些项目涉及网络安全)
_DETERMINERS = ("哪些", "哪个", "什么", "所有", "全部", "各个", "每个")

# a kind word / classification name must be followed by one of these (or end, space, punctuation,
# another recognised filter)
_PARTICLES_AFTER = set("的有吗呢是都和与及或中里等、")
_WORDS_AFTER_KIND = ("列表", "清单", "情况", "一览", "汇总", "名单", "预算", "金额", "资金")
_WORDS_AFTER_CODE = _WORDS_AFTER_KIND + ("科目", "支出", "多少", "合计")
_PARTICLES_BEFORE = set("的和与及或在是、")
_WORDS_BEFORE = ("科目", "分类")
_CONNECTORS = re.compile(r"^[\s和与及或、,，;；]*(?:以及|并且|而且|且|并|但)?[\s和与及或、,，;；]*$")
_DROP_SEGMENT = re.compile(r"^[\s的了和与及或、,，。.？?！!；;：:\"'“”‘’()（）\[\]【】]*$")
_EDGE = " \t\r\n,，。.？?！!；;：:、"

# filler that goes with a recognised word (checked repeatedly, longest first)
_TRAIL_ANY = ["都有哪些", "有哪些", "有什么", "是哪些", "哪些", "的", "了"]
_LEAD_ANY = ["有哪些", "哪些", "所有", "全部", "关于", "有关"]
_TRAIL = {
    "region": ["各镇街", "各乡镇", "各街道", "各镇", "各区县", "各区", "各县", "各市", "各地", "各单位",
               "各部门", "所有", "全部", "下属", "下辖", "辖区内", "辖区", "范围内", "各"],
    "unit": ["所有", "全部"],
    "year": [],
    "amount": ["之间", "范围内", "区间"],
    "kind": ["列表", "清单", "一览", "中的", "里的", "当中", "中", "吗", "呢"],
    "code": ["科目"],
}
_LEAD = {
    "region": ["在", "位于", "属于", "来自"],
    "unit": ["在", "属于", "来自"],
    "year": ["从", "在"],
    "amount": ["预算金额", "资金总额", "总金额", "项目金额", "预算资金", "金额", "总额", "预算", "资金", "投入",
               "在", "为", "是", "达到", "达"],
    "kind": ["的", "什么", "相关", "哪个", "哪一个"],
    "code": ["功能分类科目", "经济分类科目", "功能分类", "经济分类", "分类科目", "科目", "分类"],
}


# ---------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------

class _State:
    def __init__(self, query: str):
        self.query = query
        self.q = _norm(query)
        self.claimed = [False] * len(self.q)
        self.filters: list[Filter] = []
        self.notes: list[str] = []

    def free(self, a: int, b: int) -> bool:
        return not any(self.claimed[a:b])

    def claim(self, a: int, b: int) -> None:
        for i in range(a, b):
            self.claimed[i] = True

    def add(self, f: Filter) -> None:
        self.claim(*f.span)
        f.extent = f.span
        self.filters.append(f)


_LONG_NUMBER = re.compile(rf"\d{{{MAX_NUMBER_DIGITS + 1},}}")
_LONG_CN_NUMBER = re.compile(rf"[零〇一二两三四五六七八九十百千万亿点]{{{MAX_CN_NUMERAL_CHARS + 1},}}")


def check_numbers(q: str) -> None:
    """Raise :class:`QuestionError` for a number too long to be read (in the normalised query)."""
    m = _LONG_NUMBER.search(q) or _LONG_CN_NUMBER.search(q)
    if m:
        shown = m.group()[:20] + ("…" if len(m.group()) > 20 else "")
        raise QuestionError(f"问题中的数字“{shown}”过长（{len(m.group())} 位），无法作为金额或年份理解",
                            f"a number of {len(m.group())} characters in the question; at most {MAX_NUMBER_DIGITS} digits "
                            f"or {MAX_CN_NUMERAL_CHARS} Chinese numerals")


def understand(query: str, lexicon: Lexicon) -> Interpretation:
    """The filters written in ``query`` and the text left to rank by. Raises :class:`QuestionError`
    for numbers out of bounds."""
    st = _State(query)
    if not st.q.strip():
        return Interpretation([], query.strip(), [], query)
    check_numbers(st.q)
    try:
        return _understand(st, query, lexicon)
    except InvalidOperation as exc:  # bounded numbers never get here; a decimal error must not be a 500
        raise QuestionError("问题中的数字无法理解", f"decimal arithmetic failed: {exc!r}") from exc


def _understand(st: _State, query: str, lexicon: Lexicon) -> Interpretation:
    _amounts(st)
    _years(st, lexicon)
    _codes_by_notation(st, lexicon)
    _entities(st, lexicon)
    _kinds(st)
    _codes_by_name(st, lexicon)
    if not st.filters:
        return Interpretation([], query.strip(), st.notes, query)
    st.filters.sort(key=lambda f: f.span)
    _merge_amounts(st)
    _merge_same(st)
    _attach_filler(st)
    return Interpretation(st.filters, _rest(query, st.filters), st.notes, query)


def relax(interp: Interpretation, filter_index: int, note: str | None = None) -> Interpretation:
    """The interpretation without filter ``filter_index``: its words (with the filler that went
    with them) go back into the text, where they stood in the query. ``note`` is appended to the
    notes when given (the search layer explains why it relaxed)."""
    if not 0 <= filter_index < len(interp.filters):
        raise IndexError(f"no filter {filter_index} (the interpretation has {len(interp.filters)})")
    filters = [replace(f) for i, f in enumerate(interp.filters) if i != filter_index]
    notes = list(interp.notes) + ([note] if note else [])
    query = interp.query
    if not filters:
        return Interpretation([], query.strip(), notes, query)
    return Interpretation(filters, _rest(query, filters), notes, query)


def text_without(query: str, filters: list[Filter]) -> str:
    """The words of ``query`` that are not part of ``filters`` (with their filler): the text to rank by."""
    return _rest(query, filters)


def _rest(query: str, filters: list[Filter]) -> str:
    taken = [False] * len(query)
    for f in filters:
        for i in range(*f.extent):
            taken[i] = True
    segments: list[str] = []
    cur: list[str] = []
    for i, ch in enumerate(query):
        if taken[i]:
            if cur:
                segments.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        segments.append("".join(cur))
    out = [s.strip() for s in segments if not _DROP_SEGMENT.match(s)]
    return " ".join(s for s in out if s).strip(_EDGE)


# -- amounts ------------------------------------------------------------------------------------

def _amount_value(m: re.Match, tag: str) -> tuple[Decimal, bool, bool] | None:
    """(value in 元, has a money unit or magnitude, is arabic) of one number of a match."""
    ar, mag, cn, cur = m.group(tag + "ar"), m.group(tag + "mag"), m.group(tag + "cn"), m.group(tag + "cur")
    try:
        if ar is not None:
            v = Decimal(ar.replace(",", "").replace("，", ""))
            if mag:
                v *= _MAGNITUDE[mag]
            # 100w / 5k count as magnitudes only with 元 or a comparator (4k显示器 is no amount)
            out = v, bool(cur or (mag and mag not in ("w", "k"))), True
        elif cn is not None:
            v = cn_number(cn)
            out = v, bool(cur) or any(c in cn for c in "万亿"), False
        else:
            return None
    except (InvalidOperation, KeyError):
        return None
    if v > MAX_AMOUNT:
        raise QuestionError(f"问题中的金额“{m.group(tag + 'ar') or cn}{mag or ''}”过大（超过 {fmt_yuan(MAX_AMOUNT)} 元）",
                            f"an amount above {MAX_AMOUNT:.0e} yuan in the question")
    return out


def _has_magnitude(m: re.Match, tag: str) -> bool:
    return bool(m.group(tag + "mag")) or any(c in (m.group(tag + "cn") or "") for c in "万亿千百")


def _followed_ok(q: str, end: int) -> bool:
    return end >= len(q) or q[end] not in _NOT_AFTER_AMOUNT


def _preceded_ok(q: str, start: int) -> bool:
    return start == 0 or not (q[start - 1].isdigit() or q[start - 1] == ".")


def _context(q: str, start: int) -> bool:
    return any(w in q[max(0, start - 8):start] for w in _AMOUNT_CONTEXT)


def _amounts(st: _State) -> None:
    q = st.q
    for m in _BETWEEN.finditer(q):
        a, b = _amount_value(m, "a"), _amount_value(m, "b")
        if a is None or b is None:
            continue
        sep, post = m.group("sep"), m.group("post")
        if sep in ("和", "与") and post is None:
            continue
        if not (a[1] or b[1]) and not _context(q, m.start()):
            continue
        start = m.start("pre") if m.group("pre") else m.start()
        num_start = m.start("aar") if m.group("aar") is not None else m.start("acn")
        if not (_preceded_ok(q, num_start) and _followed_ok(q, m.end()) and st.free(start, m.end())):
            continue
        lo, hi = a[0], b[0]
        # 100-200万元, 十到五十万: the first number takes the second's magnitude
        if not _has_magnitude(m, "a") and _has_magnitude(m, "b"):
            if m.group("bar") is not None and m.group("bmag"):
                lo *= _MAGNITUDE[m.group("bmag")]
            elif m.group("bcn") is not None:
                for big in ("亿", "万"):
                    if m.group("bcn").endswith(big):
                        lo *= _CN_BIG[big]
                        break
        elif _has_magnitude(m, "a") and not _has_magnitude(m, "b") and m.group("amag") and m.group("bar"):
            hi *= _MAGNITUDE[m.group("amag")]
        if lo > hi:
            lo, hi = hi, lo
        lo, hi = _int_or(lo), _int_or(hi)
        st.add(Filter("amount", (lo, hi, True, True), f"{fmt_yuan(lo)} – {fmt_yuan(hi)} 元",
                      st.query[start:m.end()], span=(start, m.end())))
    for m in _SINGLE.finditer(q):
        a = _amount_value(m, "a")
        if a is None:
            continue
        v, has_unit, arabic = a
        cmp_, post = m.group("cmp"), m.group("post")
        if not has_unit:
            if not (cmp_ or post in _POST_GE + _POST_LE):
                continue
            if arabic and not (v >= 1000 or _context(q, m.start())):
                continue
            if not arabic and not _has_magnitude(m, "a"):
                continue
        start = m.start()
        num_start = m.start("aar") if m.group("aar") is not None else m.start("acn")
        if not (_preceded_ok(q, num_start) and _followed_ok(q, m.end()) and st.free(start, m.end())):
            continue
        v = _int_or(v)
        if cmp_:
            inclusive = cmp_ in _INCLUSIVE
            if cmp_ in _GT:
                value = (v, None, inclusive, False)
            else:
                value = (None, v, False, inclusive)
        elif post in _POST_GE:
            value = (v, None, True, False)
        elif post in _POST_LE:
            value = (None, v, False, True)
        else:  # about: 100万左右, 约100万, or a bare 100万元
            lo, hi = _int_or(v * Decimal("0.9")), _int_or(v * Decimal("1.1"))
            value = (lo, hi, True, True)
            st.notes.append(f"“{st.query[start:m.end()]}”按约数理解：{fmt_yuan(lo)}–{fmt_yuan(hi)} 元（±10%）")
        st.add(Filter("amount", value, _amount_label(value, approx=cmp_ is None and post not in _POST_GE + _POST_LE),
                      st.query[start:m.end()], span=(start, m.end())))


def _amount_label(value, approx: bool = False) -> str:
    lo, hi, inc_lo, inc_hi = value
    if approx and lo is not None and hi is not None:
        return f"≈ {fmt_yuan((lo + hi) / 2)} 元"
    if lo is not None and hi is not None:
        return f"{fmt_yuan(lo)} – {fmt_yuan(hi)} 元"
    if lo is not None:
        return f"{'≥' if inc_lo else '>'} {fmt_yuan(lo)} 元"
    return f"{'≤' if inc_hi else '<'} {fmt_yuan(hi)} 元"


def _merge_amounts(st: _State) -> None:
    """超过10万且低于50万, 10万以上50万以下: one range."""
    out: list[Filter] = []
    for f in st.filters:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind == "amount" and f.kind == "amount"
                and _CONNECTORS.match(st.q[prev.span[1]:f.span[0]])):
            lo1, hi1, il1, ih1 = prev.value  # type: ignore[misc]
            lo2, hi2, il2, ih2 = f.value  # type: ignore[misc]
            if (lo1 is not None and hi1 is None and lo2 is None and hi2 is not None) or \
               (lo1 is None and hi1 is not None and lo2 is not None and hi2 is None):
                lo, il = (lo1, il1) if lo1 is not None else (lo2, il2)
                hi, ih = (hi1, ih1) if hi1 is not None else (hi2, ih2)
                value = (lo, hi, il, ih)
                a, b = prev.span[0], f.span[1]
                lab = f"{fmt_yuan(lo)} {'≤' if il else '<'} 金额 {'≤' if ih else '<'} {fmt_yuan(hi)} 元"
                merged = Filter("amount", value, lab, st.query[a:b], span=(a, b), extent=(a, b))
                st.claim(a, b)
                out[-1] = merged
                continue
        out.append(f)
    st.filters = out


def _merge_same(st: _State) -> None:
    """【208】社会保障和就业支出, 2080104 综合业务管理: one filter, not two."""
    out: list[Filter] = []
    for f in st.filters:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind == f.kind and f.kind in ("code", "region", "unit")
                and set(prev.iris) == set(f.iris) and not st.q[prev.span[1]:f.span[0]].strip()):
            a, b = prev.span[0], f.span[1]
            keep = f if f.kind == "code" and not _CODE.fullmatch(f.source.strip()) else prev
            out[-1] = replace(keep, source=st.query[a:b], span=(a, b), extent=(a, b),
                              ambiguous=prev.ambiguous and f.ambiguous)
            continue
        out.append(f)
    st.filters = out


# -- years --------------------------------------------------------------------------------------

def _two_digit_ok(y: int, lex: Lexicon) -> bool:
    """24年 is 2024 only near the years of the graph (服务12年 is a duration)."""
    return lex.oldest_year - 5 <= 2000 + y <= lex.newest_year + 2


def _bare_year_ok(y: int, lex: Lexicon) -> bool:
    """A 4-digit number without 年 is a year only near the years of the graph (预算2000 is not)."""
    return lex.oldest_year - 10 <= y <= lex.newest_year + 5


def _year_filter(st: _State, lex: Lexicon, a: int, b: int, start: int, end: int, label: str | None = None,
                 note: str | None = None) -> None:
    if a > b:
        a, b = b, a
    if label is None:
        label = f"{a}年" if a == b else f"{a}–{b}年"
    st.add(Filter("year", (a, b), label, st.query[start:end], span=(start, end)))
    if note:
        st.notes.append(note)
    if lex.years and not any(a <= y <= b for y in lex.years):
        st.notes.append(f"{label}：图谱中没有这一年度的文件（现有年度：{'、'.join(map(str, lex.years))}）")


def _years(st: _State, lex: Lexicon) -> None:
    q, newest = st.q, lex.newest_year
    for m in _YEAR_RANGE.finditer(q):
        if st.free(m.start(), m.end()) and _followed_ok_year(q, m.end()):
            _year_filter(st, lex, int(m.group("a")), int(m.group("b")), m.start(), m.end())
    for m in _YEAR_RANGE2.finditer(q):
        a, b = int(m.group("a")), int(m.group("b"))
        if st.free(m.start(), m.end()) and _two_digit_ok(a, lex) and _two_digit_ok(b, lex):
            _year_filter(st, lex, 2000 + a, 2000 + b, m.start(), m.end())
    for m in _YEAR_RECENT.finditer(q):
        if not st.free(m.start(), m.end()):
            continue
        n = int(m.group("n")) if m.group("n").isdigit() else _CN_COUNT[m.group("n")]
        if not 1 <= n <= 30:
            continue
        _year_filter(st, lex, newest - n + 1, newest, m.start(), m.end(),
                     note=f"“{st.query[m.start():m.end()]}”按图谱中最新年度 {newest} 年计算：{newest - n + 1}–{newest}年")
    for m in _YEAR_FEW.finditer(q):
        if st.free(m.start(), m.end()):
            _year_filter(st, lex, newest - 2, newest, m.start(), m.end(),
                         note=f"“{st.query[m.start():m.end()]}”按近三年理解：{newest - 2}–{newest}年")
    for m in _YEAR_NAMED_RE.finditer(q):
        word = m.group(0)
        if word.startswith("上年") and q[m.end():m.end() + 2] in ("结转", "结余"):
            continue  # 上年结转 is a kind of fund, not a year
        if st.free(m.start(), m.end()):
            y = newest + _YEAR_NAMED[word]
            _year_filter(st, lex, y, y, m.start(), m.end(),
                         note=f"“{st.query[m.start():m.end()]}”按图谱中最新年度 {newest} 年计算：{y}年")
    for m in _YEAR_SINGLE.finditer(q):
        ys, suf, mod = m.group("y"), m.group("suf"), m.group("mod")
        if not st.free(m.start(), m.end()):
            continue
        if len(ys) == 2:
            if not suf or not _two_digit_ok(int(ys), lex):
                continue
            if m.start() > 0 and q[m.start() - 1] in "近前后第满每过去共约":
                continue
            y = 2000 + int(ys)
        else:
            y = int(ys)
            if not suf and not mod and not (_followed_ok_year(q, m.end()) and _bare_year_ok(y, lex)):
                continue
        kind = _YEAR_MODS.get(mod) if mod else None
        if kind == "from":
            a, b = y, max(y, newest)
        elif kind == "to":
            a, b = min(y, lex.oldest_year), y
        elif kind == "until":
            a, b = min(y - 1, lex.oldest_year), y - 1
        else:
            a = b = y
        label = None if kind is None else (f"{y}年{mod}（{a}–{b}年）" if a != b else f"{a}年")
        _year_filter(st, lex, a, b, m.start(), m.end(), label)


def _followed_ok_year(q: str, end: int) -> bool:
    return end >= len(q) or not (q[end] in _NOT_AFTER_CODE or q[end] == "." or q[end].isdigit())


# -- codes --------------------------------------------------------------------------------------

def _code_value(lex: Lexicon, iris: list[str]) -> list[dict]:
    return [{"iri": i, "notation": lex.concepts[i].get("notation"), "scheme": lex.concepts[i].get("scheme")}
            for i in sorted(iris, key=lambda i: lex.concepts[i].get("notation") or "")]


def _code_label(lex: Lexicon, iris: list[str], name: str | None = None) -> str:
    vals = _code_value(lex, iris)
    notes = [v["notation"] for v in vals if v["notation"]]
    shown = "/".join(notes[:3]) + ("/…" if len(notes) > 3 else "")
    return f"[{shown}] {name or lex.concept_label(vals[0]['iri'])}"


def _codes_by_notation(st: _State, lex: Lexicon) -> None:
    q = st.q
    for m in _CODE.finditer(q):
        code = re.sub(r"\s", "", m.group("code"))
        bracketed = bool(m.group("open") and m.group("close"))
        if not bracketed and m.end() < len(q) and q[m.end()] in _NOT_AFTER_CODE:
            continue
        start, end = (m.start(), m.end()) if bracketed else (m.start("code"), m.end("code"))
        if not st.free(start, end):
            continue
        iris = lex.notations.get(code)
        if not iris:
            if bracketed:
                st.notes.append(f"科目编码 {code} 不在图谱中，按普通文字检索")
            continue
        st.add(Filter("code", _code_value(lex, iris), _code_label(lex, iris), st.query[start:end],
                      iris=list(iris), span=(start, end)))


def _left_ok(st: _State, i: int) -> bool:
    q = st.q
    if i == 0 or st.claimed[i - 1] or not _is_word(q[i - 1]) or q[i - 1] in _PARTICLES_BEFORE:
        return True
    return any(q.endswith(w, 0, i) for w in _WORDS_BEFORE)


def _right_boundary(st: _State, j: int, words: tuple[str, ...] = _WORDS_AFTER_KIND) -> bool:
    """A kind word or classification name ends here: end of the query, a space or punctuation,
    another recognised filter, a particle (的 有 吗 …) or 列表/预算/金额/科目 …"""
    q = st.q
    if j >= len(q) or st.claimed[j] or not _is_word(q[j]) or q[j] in _PARTICLES_AFTER:
        return True
    return q.startswith(words, j)


def _codes_by_name(st: _State, lex: Lexicon) -> None:
    q, i = st.q, 0
    while i < len(q):
        name = None if st.claimed[i] else lex.code_names.longest_at(q, i)
        if (name and st.free(i, i + len(name)) and _left_ok(st, i)
                and _right_boundary(st, i + len(name), _WORDS_AFTER_CODE)):
            iris = lex.code_names.names[name]
            st.add(Filter("code", _code_value(lex, iris), _code_label(lex, iris, st.query[i:i + len(name)]),
                          st.query[i:i + len(name)], ambiguous=name in lex.label_words,
                          iris=list(iris), span=(i, i + len(name))))
            i += len(name)
        else:
            i += 1


# -- regions and units --------------------------------------------------------------------------

def _entities(st: _State, lex: Lexicon) -> None:
    q, i = st.q, 0
    while i < len(q):
        name = None if st.claimed[i] else lex.entities.longest_at(q, i)
        if not name or not st.free(i, i + len(name)):
            i += 1
            continue
        hits = lex.entities.names[name]
        src = st.query[i:i + len(name)]
        amb = name in lex.label_words
        units = [iri for k, iri in hits if k == "unit"]
        regions = [iri for k, iri in hits if k == "region"]
        if units and not regions:
            # one name, one unit (two units sharing an alias: keep the first, note it)
            iri = sorted(units)[0]
            st.add(Filter("unit", iri, lex.units[iri]["label"], src, ambiguous=amb, iris=[iri],
                          span=(i, i + len(name))))
            if len(units) > 1:
                st.notes.append(f"“{src}”对应多个预算单位，只取了 {lex.units[iri]['label']}")
        else:
            covered: list[str] = []
            for r in sorted(regions, key=lambda r: lex.region_label(r)):
                covered.extend(x for x in lex.covers[r] if x not in covered)
            labels: list[str] = []
            for x in covered:
                lab = lex.region_label(x)
                if lab not in labels:
                    labels.append(lab)
            head = sorted({lex.region_label(r) for r in regions})
            levels = {lex.regions[r].get("level") for r in regions}
            st.add(Filter("region", labels, "、".join(head), src, ambiguous=amb,
                          level=levels.pop() if len(levels) == 1 else None, iris=covered,
                          span=(i, i + len(name))))
        i += len(name)


# -- kind words ---------------------------------------------------------------------------------

def _kinds(st: _State) -> None:
    cands: list[tuple[int, int, str]] = []
    for m in _KIND_RE.finditer(st.q):
        if st.free(m.start(), m.end()) and (_right_boundary(st, m.end()) or st.q.endswith(_DETERMINERS, 0, m.start())):
            cands.append((m.start(), m.end(), m.group(0)))
    if not cands:
        return
    # the head noun is the last kind word; ones joined to it by 和/与/及/、 count too
    keep = [cands[-1]]
    for c in reversed(cands[:-1]):
        if _CONNECTORS.match(st.q[c[1]:keep[0][0]]) and st.q[c[1]:keep[0][0]].strip():
            keep.insert(0, c)
        else:
            break
    for a, b, word in keep:
        kind = _KINDS[word]
        st.add(Filter("kind", kind, _KIND_LABEL[kind], st.query[a:b], span=(a, b)))


# -- filler -------------------------------------------------------------------------------------

def _attach_filler(st: _State) -> None:
    q = st.q
    taken = [False] * len(q)
    for f in st.filters:
        for i in range(*f.extent):
            taken[i] = True
    for f in st.filters:
        a, b = f.extent
        trail = _TRAIL.get(f.kind, []) + _TRAIL_ANY
        lead = _LEAD.get(f.kind, []) + _LEAD_ANY
        trail.sort(key=len, reverse=True)
        lead.sort(key=len, reverse=True)
        grown = True
        while grown:
            grown = False
            for w in trail:
                if q.startswith(w, b) and not any(taken[b:b + len(w)]):
                    for i in range(b, b + len(w)):
                        taken[i] = True
                    b += len(w)
                    grown = True
                    break
        grown = True
        while grown:
            grown = False
            for w in lead:
                if a >= len(w) and q.endswith(w, 0, a) and not any(taken[a - len(w):a]):
                    for i in range(a - len(w), a):
                        taken[i] = True
                    a -= len(w)
                    grown = True
                    break
        f.extent = (a, b)
