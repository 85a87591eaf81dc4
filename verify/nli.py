"""An optional local NLI / cross-encoder model that the checker blends into its score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.errors import BadInput


class NliModel:
    """A local NLI / cross-encoder model (a directory with config.json), loaded on first use.

    Its entailment probability is blended into the score; a confident contradiction vetoes.
    """

    def __init__(self, model_dir: Path) -> None:
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise BadInput(
                f"NLI model directory {model_dir} has no config.json",
                "point it at a local cross-encoder/NLI model folder, or leave it unset",
            )
        self.model_dir = model_dir
        self._model: Any = None
        self._labels: dict[str, int] = {}

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(str(self.model_dir), device="cpu", local_files_only=True)
            id2label = getattr(model.config, "id2label", None) or {}
            labels = {str(v).lower(): int(k) for k, v in id2label.items()}
            self._labels = {
                "entail": next((i for n, i in labels.items() if n.startswith("entail")), -1),
                "contra": next((i for n, i in labels.items() if n.startswith("contra")), -1),
            }
            self._model = model
        return self._model

    def scores(self, premise: str, hypothesis: str) -> tuple[float, float]:
        """(entailment, contradiction) probabilities; a one-logit model gives (p, 0)."""
        import torch

        model = self._load()
        logits = model.predict(
            [(premise, hypothesis)], activation_fn=torch.nn.Identity(), show_progress_bar=False
        )
        logits = np.asarray(logits, dtype=np.float64).reshape(-1)
        if logits.size == 1:  # a relevance cross-encoder: one score
            return float(1 / (1 + np.exp(-logits[0]))), 0.0
        p = np.exp(logits - logits.max())
        p /= p.sum()
        e, c = self._labels.get("entail", -1), self._labels.get("contra", -1)
        return (float(p[e]) if e >= 0 else float(p[-1]), float(p[c]) if c >= 0 else 0.0)
