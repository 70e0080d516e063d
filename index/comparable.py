"""Comparable items (``/api/similar``): projects alike in name, goal and indicators, with the reason;
indicators and tasks alike in text.
"""
from __future__ import annotations

import numpy as np

from .build import FIELDS
from .loading import IndexData, Item
from .rankers import DenseRanker
from .weights import WEIGHTS, Weights


def _bigrams(text: str) -> set[str]:
    from .lexical import search_key

    k = search_key(text).replace(" ", "")
    return {k[i : i + 2] for i in range(len(k) - 1)}


class Comparables:
    def __init__(self, data: IndexData, dense: DenseRanker, weights: Weights = WEIGHTS):
        self.data = data
        self.dense = dense
        self.weights = weights
        self._profile_pos = {int(x): k for k, x in enumerate(data.profile_items)}

    def meaning(self, k0: int) -> np.ndarray:
        """Shared meaning of profile ``k0`` with every project: the weighted cosines of their name,
        goal and indicator profiles."""
        w, p = self.weights, self.data.profiles
        return (w.profile_name * (p["name"] @ p["name"][k0]) + w.profile_goal * (p["goal"] @ p["goal"][k0])
                + w.profile_indicator * (p["indicator"] @ p["indicator"][k0]))

    def meaning_z(self, a: int, b: int) -> float:
        """How far above the usual the meaning items ``a`` and ``b`` share is: the similarity of one to
        the other standardised against its similarities to every other project, the lower of the
        two sides (raw profile cosines of e5 crowd near 0.95 for any two projects)."""
        ka, kb = self._profile_pos[a], self._profile_pos[b]
        return min(self._z(self.meaning(ka), ka)[kb], self._z(self.meaning(kb), kb)[ka])

    @staticmethod
    def _z(sim: np.ndarray, k0: int) -> np.ndarray:
        others = np.delete(sim, k0)
        sd = others.std() if len(others) > 1 else 0.0
        return (sim - others.mean()) / (sd if sd > 1e-9 else 1.0)

    def similar(self, iri: str, other_towns: bool = False, top: int = 10) -> list[dict]:
        d = self.data
        if iri not in d.by_iri:
            raise KeyError(iri)
        n = d.by_iri[iri]
        it = d.items[n]
        if it.kind != "project":
            return self._similar_texts(n, other_towns, top)
        w = self.weights
        k0 = self._profile_pos[n]
        name, goal = d.profiles["name"], d.profiles["goal"]
        sim = self.meaning(k0)
        z = self._z(sim, k0)
        amounts = d.amounts[d.profile_items]
        a0 = d.amounts[n]
        ratio = np.where(np.isnan(amounts) | np.isnan(a0), w.amount_unknown_ratio,
                         np.minimum(amounts, a0) / np.maximum(np.maximum(amounts, a0), 1e-9))
        score = sim * ((1 - w.amount_share) + w.amount_share * ratio)
        out = []
        for k in np.argsort(-score):
            m = int(d.profile_items[k])
            other = d.items[m]
            if m == n or (other_towns and other.town == it.town):
                continue
            # comparable only by shared meaning, measured from both sides: the amount orders, never qualifies
            if z[k] < w.comparable_min_z or self._z(self.meaning(k), k)[k0] < w.comparable_min_z:
                continue
            res = d.result(m, float(score[k]), float(sim[k]), 0.0, -1)
            res["reason"] = self.reason(it, other, float(name[k] @ name[k0]), float(goal[k] @ goal[k0]))
            res["reason"]["meaning_z"] = round(float(min(z[k], self._z(self.meaning(k), k)[k0])), 3)
            if not res["reason"]["summary_meaning"]:
                res["reason"]["summary"] = f"名称、目标与指标整体相近（高于平均 {res['reason']['meaning_z']:.1f} 个标准差）；" \
                                           + res["reason"]["summary"]
            out.append(res)
            if len(out) >= top:
                break
        return out

    def _similar_texts(self, n: int, other_towns: bool, top: int) -> list[dict]:
        d = self.data
        it = d.items[n]
        tids = d.p_text[d.p_item == n]
        qv = np.asarray(d.vectors[tids]).mean(axis=0)
        qv /= np.linalg.norm(qv) or 1
        mask = (d.kinds == it.kind)
        mask[n] = False
        if other_towns:
            mask &= np.asarray([x.town != it.town for x in d.items])
        dense, best = self.dense.item_scores(qv.astype(np.float32), mask)
        order = np.nonzero(mask)[0]
        order = order[np.argsort(-dense[order])][:top]
        out = []
        for m in order:
            res = d.result(int(m), float(dense[m]), float(dense[m]), 0.0, int(best[m]))
            res["reason"] = {"summary": f"文本相似度 {dense[m]:.2f}", "similarity": round(float(dense[m]), 4)}
            out.append(res)
        return out

    def reason(self, a: Item, b: Item, name_sim: float, goal_sim: float) -> dict:
        """Why two projects are comparable: alike indicators (by meaning), names, goals, scale."""
        w = self.weights
        ia = [t for f, t in a.fields if f == "indicator"]
        ib = [t for f, t in b.fields if f == "indicator"]
        shared: list[list[str]] = []
        if ia and ib:
            va = self.vectors_for(a, "indicator")
            vb = self.vectors_for(b, "indicator")
            m = va @ vb.T
            used: set[int] = set()
            for i in np.argsort(-m.max(axis=1)):
                j = int(m[i].argmax())
                # e5 cosines crowd near 0.85 even for unrelated texts: only near-paraphrases count
                if m[i, j] < w.shared_indicator_cos or len(shared) >= w.shared_indicators_max:
                    break
                # e5 also pairs texts that merely share a "(%)": a shared theme shares words too
                if j not in used and _bigrams(ia[i]) & _bigrams(ib[j]):
                    used.add(j)
                    shared.append([ia[i], ib[j]])
        ratio = None
        if a.amount and b.amount and float(a.amount) > 0:
            ratio = round(float(b.amount) / float(a.amount), 2)
        parts = []
        if name_sim >= w.similar_name_cos:
            parts.append("项目名称相同" if a.name == b.name else "项目名称相近")
        if goal_sim >= w.similar_goal_cos:
            parts.append("绩效目标相近")
        if shared:
            parts.append("共同指标：" + "、".join(x[1] if x[0] == x[1] else f"{x[0]}≈{x[1]}" for x in shared))
        meaning = bool(parts)
        if ratio is not None:
            parts.append(f"金额为本项目的 {ratio:g} 倍")
        return {"summary": "；".join(parts) or "文本相似", "summary_meaning": meaning, "shared_indicators": shared,
                "amount_ratio": ratio,
                "name_similarity": round(name_sim, 4), "goal_similarity": round(goal_sim, 4)}

    def vectors_for(self, item: Item, field: str) -> np.ndarray:
        d = self.data
        n = d.by_iri[item.iri]
        sel = (d.p_item == n) & (d.p_field == FIELDS.index(field))
        return np.asarray(d.vectors[d.p_text[sel]])
