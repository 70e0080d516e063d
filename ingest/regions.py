"""Regions (行政区划) of budget units: province › prefecture city › county/district › town/street.

Provinces, cities and counties come from the administrative-division table shipped in the ``cpca``
package (adcodes, MIT licence); towns and streets (镇/街道/乡) are not in it and are read from the
unit's name and the document's title.
"""
from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .records import RegionRef

LEVELS = {0: "province", 1: "prefecture", 2: "county"}
_TOWN = re.compile(r"([\u4e00-\u9fff]{1,6}?(?:街道办事处|街道|镇|乡))")
# 住房和城乡建设局 is not a 乡: a town name holds no conjunction and 城乡 is not a town
_NOT_TOWN = re.compile(r"[和及与]|城乡$|城镇$|乡镇$")
_PARTY_PREFIX = re.compile(r"^(中共|中国共产党|共青团|中国国民党革命委员会|中国民主同盟|九三学社)")
_CENTRAL = re.compile(r"^(国家|中央|中国|全国|国务院)")
COUNTRY = "全国"
# division names that are also common words inside organisations' names
_NOT_PLACE = {"城区", "新区", "矿区", "郊区", "市辖区", "开发区", "高新区"}
_SUFFIX = re.compile(r"(特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|地区|街道办事处|街道|新区|省|市|县|区|镇|乡|盟|旗)$")


@dataclass(frozen=True)
class Division:
    adcode: str  # 6 digits
    name: str
    level: str

    @property
    def parent_code(self) -> str | None:
        if self.level == "province":
            return None
        if self.level == "prefecture":
            return self.adcode[:2] + "0000"
        return self.adcode[:4] + "00"


def _adcodes_file() -> Path:
    # locate cpca's data without importing cpca (its __init__ pulls in pandas)
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package (administrative divisions) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"


@lru_cache(maxsize=1)
def divisions() -> dict[str, Division]:
    out: dict[str, Division] = {}
    with _adcodes_file().open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["adcode"][:6]
            name = row["name"]
            if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
                continue
            level = 0 if code[2:] == "0000" else (1 if code[4:] == "00" else 2)
            out[code] = Division(code, name, LEVELS[level])
    return out


@lru_cache(maxsize=1)
def by_name() -> dict[str, list[Division]]:
    idx: dict[str, list[Division]] = {}
    for d in divisions().values():
        idx.setdefault(d.name, []).append(d)
    return idx


def chain_of(div: Division) -> list[Division]:
    chain = [div]
    seen = {div.adcode}
    code = div.parent_code
    while code:
        parent = divisions().get(code)
        if parent is None:
            # municipalities: districts hang off 3101xx whose 3101 "市辖区" is skipped
            code = code[:2] + "0000" if code[2:] != "0000" else None
            continue
        if parent.adcode in seen:
            break
        seen.add(parent.adcode)
        chain.insert(0, parent)
        code = parent.parent_code
    return chain


def short_name(name: str) -> str:
    """清溪镇 → 清溪, 永登县 → 永登, 南城街道 → 南城 (for matching only)."""
    short = _SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


def resolve(unit_name: str, context: str) -> RegionRef:
    """The region chain of a unit, from its name, disambiguated by the document text.

    ``context`` is the document text (titles mention 上海市普陀区, 甘肃省 …) used to choose between
    same-named divisions (普陀区 of 上海市 vs 舟山市).
    """
    names = sorted(by_name(), key=len, reverse=True)
    found: list[Division] = []
    # party and state bodies print their prefix before the region: 中共江苏省委办公厅, 中共上海市普陀区委…
    rest = _PARTY_PREFIX.sub("", unit_name)
    pos = 0
    # walk the unit name left to right, taking the longest division name at each step
    while pos < len(rest):
        hit = next((n for n in names if rest.startswith(n, pos)), None)
        if hit is not None:
            found.append(_choose(by_name()[hit], found, context))
            pos += len(hit)
            continue
        # names printed without their suffix: 安徽金寨… = 安徽省 › 金寨县 (a province's short name first, then
        # the short names of what lies under the division already found)
        short = _short_hit(rest, pos, found[-1] if found else None)
        if short is None:
            break
        found.append(short[0])
        pos += short[1]
    chain: list[tuple[str, str, str | None]] = []
    if found:
        for d in chain_of(found[-1]):
            chain.append((d.name, d.level, d.adcode))
    remainder = rest[pos:].replace("人民政府", "")
    town = _TOWN.match(remainder)
    if town and _NOT_TOWN.search(town.group(1)):
        town = None
    if town:
        chain.append((_town_label(town.group(1)), "town", None))
    elif found and found[-1].level == "prefecture" and remainder:
        # 东莞市南城政务服务中心: the town's suffix is missing; the title says 南城街道
        for n in (3, 2):
            stem = remainder[:n]
            m = re.search(re.escape(stem) + r"(街道|镇|乡)", context)
            if m:
                chain.append((stem + m.group(1), "town", None))
                break
    if not chain:
        # a division inside the name (中国烟台SOS儿童村): the first one, longest name at its position
        for i in range(len(rest)):
            hit = next((n for n in names if len(n) >= 2 and rest.startswith(n, i) and n not in _NOT_PLACE), None)
            if hit is not None:
                d = _choose(by_name()[hit], [], context)
                chain = [(x.name, x.level, x.adcode) for x in chain_of(d)]
                break
    if not chain and _CENTRAL.match(rest):
        # central-level units (国家信访局, 中央…, 中国…): the whole country
        return RegionRef([(COUNTRY, "country", None)])
    if not chain:
        # no division in the name (e.g. a bare 政务服务中心): take the first one the text names
        for m in re.finditer(r"[\u4e00-\u9fff]{2,6}?(?:省|市|县|区)", context[:2000]):
            # the match may start early (中共江苏省): its longest tail that names a division
            word = m.group(0)
            cands = next((by_name()[word[k:]] for k in range(len(word) - 1) if word[k:] in by_name()), None)
            if cands:
                d = _choose(cands, [], context)
                chain = [(x.name, x.level, x.adcode) for x in chain_of(d)]
                break
    return RegionRef(chain)


@lru_cache(maxsize=1)
def _short_names() -> dict[str, list[Division]]:
    idx: dict[str, list[Division]] = {}
    for d in divisions().values():
        short = short_name(d.name)
        if short != d.name and len(short) >= 2:
            idx.setdefault(short, []).append(d)
    return idx


def _short_hit(text: str, pos: int, parent: Division | None) -> tuple[Division, int] | None:
    """A division printed by its short name at ``pos``: a province anywhere, else one under ``parent``."""
    for n in (3, 2):
        cands = _short_names().get(text[pos:pos + n], [])
        if parent is None:
            cands = [d for d in cands if d.level == "province"]
        else:
            cands = [d for d in cands if d.adcode != parent.adcode and parent in chain_of(d)[:-1]]
        if len(cands) == 1:
            return cands[0], n
    return None


def _town_label(name: str) -> str:
    return name.replace("街道办事处", "街道")


def _choose(cands: list[Division], found: list[Division], context: str) -> Division:
    if len(cands) == 1:
        return cands[0]
    if found:
        prefix = found[-1].adcode
        keep = prefix[:2] if found[-1].level == "province" else prefix[:4]
        scoped = [c for c in cands if c.adcode.startswith(keep)]
        if scoped:
            return scoped[0]
    # prefer the candidate whose ancestors the text names
    def score(d: Division) -> int:
        return sum(1 for a in chain_of(d)[:-1] if a.name in context)

    return max(cands, key=score)


def region_graph(store) -> dict[str, dict]:
    """Every region of the graph: IRI → ``{"label", "level", "parents": [IRI …]}`` (``bkg:partOf``)."""
    regions: dict[str, dict] = {}
    for r in store.select("SELECT ?r ?l ?lv ?p WHERE { ?r a bkg:Region ; rdfs:label ?l . "
                          "OPTIONAL { ?r bkg:adminLevel ?lv } OPTIONAL { ?r bkg:partOf ?p } }"):
        e = regions.setdefault(r["r"], {"label": r["l"], "level": r["lv"], "parents": []})
        if r["p"] and r["p"] not in e["parents"] and r["p"] != r["r"]:
            e["parents"].append(r["p"])
    return regions


def ancestors(regions: dict[str, dict], iri: str) -> list[str]:
    """The regions ``iri`` is part of, transitively, nearest first (cycles in the data are cut)."""
    out: list[str] = []
    todo = list(reversed(regions.get(iri, {}).get("parents", [])))
    while todo:
        p = todo.pop()
        if p in out or p == iri:
            continue
        out.append(p)
        todo.extend(reversed(regions.get(p, {}).get("parents", [])))
    return out


def region_chains(store) -> dict[str, list[dict]]:
    """Region IRI → its chain in the graph, most specific first: ``[{iri, label, level}, …]``
    (清溪镇 › 东莞市 › 广东省). The one way regions are walked up (bkg:partOf) by the index and the pages."""
    regions = region_graph(store)
    return {start: [{"iri": r, "label": regions[r]["label"], "level": regions[r]["level"]}
                    for r in [start] + ancestors(regions, start) if r in regions]
            for start in regions}
