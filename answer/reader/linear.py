"""Linear models with their weights in JSON: a logistic scorer and a softmax classifier.

Weights are learned by `make train-reader` (eval/train_reader.py) and stored as plain JSON
numbers: no pickle is ever loaded, and inference is one matrix product in NumPy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import BadInput


@dataclass(frozen=True)
class Logistic:
    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (n_features,)
    intercept: float

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def choice_proba(self, x: np.ndarray) -> np.ndarray:
        """P(each row is the one chosen among the rows of `x`): a softmax of the scores, for a
        model fitted to choose one of a group (the phrase model)."""
        z = ((x - self.mean) / self.scale) @ self.coef
        e = np.exp(z - z.max())
        return e / e.sum()

    def to_json(self) -> dict:
        return {
            "names": list(self.names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": float(self.intercept),
        }

    @staticmethod
    def from_json(d: dict, names: tuple[str, ...]) -> Logistic:
        if tuple(d.get("names", ())) != names:
            raise BadInput(
                "the reader's weights were trained on other features",
                "retrain them with `make train-reader`",
            )
        m = Logistic(
            names,
            np.asarray(d["mean"], dtype=np.float64),
            np.asarray(d["scale"], dtype=np.float64),
            np.asarray(d["coef"], dtype=np.float64),
            float(d["intercept"]),
        )
        if not (m.mean.shape == m.scale.shape == m.coef.shape == (len(names),)):
            raise BadInput("the reader's weights have the wrong shape", "retrain them")
        return m


@dataclass(frozen=True)
class Softmax:
    labels: tuple[str, ...]
    coef: np.ndarray  # (n_labels, dim)
    intercept: np.ndarray  # (n_labels,)

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = x @ self.coef.T + self.intercept
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def to_json(self) -> dict:
        return {
            "labels": list(self.labels),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
        }

    @staticmethod
    def from_json(d: dict, labels: tuple[str, ...]) -> Softmax:
        if tuple(d.get("labels", ())) != labels:
            raise BadInput("the answer-type weights name other labels", "retrain them")
        return Softmax(
            labels,
            np.asarray(d["coef"], dtype=np.float64),
            np.asarray(d["intercept"], dtype=np.float64),
        )


def read_weights(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(
            f"{path}: the reader's weights are missing", "run `make train-reader`"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(
            f"{path}: the reader's weights are not valid JSON ({e})", "retrain"
        ) from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: the reader's weights are not a JSON object", "retrain them")
    return data
