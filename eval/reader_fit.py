"""The reader's three kinds of fit, over arrays from eval/reader_prep.py: the answer-type
softmax, a logistic scorer, and the phrase model's choice among a group (a conditional logit).
"""

from __future__ import annotations

import numpy as np

from answer.reader.linear import Logistic, Softmax
from answer.reader.nlp import LABELS
from eval.reader_prep import Q


def fit_types(qs: list[Q]) -> Softmax:
    from sklearn.linear_model import LogisticRegression

    xs = np.stack([q.qvec for q in qs if q.type_y >= 0]).astype(np.float64)
    ys = np.array([q.type_y for q in qs if q.type_y >= 0])
    lr = LogisticRegression(C=4.0, max_iter=2000).fit(xs, ys)
    coef = np.zeros((len(LABELS), xs.shape[1]))
    inter = np.full(len(LABELS), -30.0)  # a label never seen as an answer gets ~0
    for i, lab in enumerate(lr.classes_):
        coef[lab], inter[lab] = lr.coef_[i], lr.intercept_[i]
    return Softmax(LABELS, coef, inter)


def fit_logistic(
    x: np.ndarray, y: np.ndarray, names: tuple[str, ...], c: float, w: np.ndarray | None = None
) -> Logistic:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=c, max_iter=3000).fit((x - mean) / scale, y, sample_weight=w)
    return Logistic(names, mean, scale, lr.coef_[0].copy(), float(lr.intercept_[0]))


def fit_choice(
    groups: list[np.ndarray], chosen: list[np.ndarray], names: tuple[str, ...], l2: float = 1.0
) -> Logistic:
    """A linear scorer fitted so that the softmax over each group puts its mass on the chosen
    rows (a conditional logit): the phrase model picks one phrase of a sentence, so it is
    fitted to rank phrases within a sentence rather than to judge each alone."""
    from scipy.optimize import minimize

    x = np.concatenate(groups)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = (x - mean) / scale
    sizes = np.array([len(g) for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = np.repeat(np.arange(len(groups)), sizes)
    target = np.concatenate([c / c.sum() for c in chosen])
    n = len(groups)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        z = z - np.maximum.reduceat(z, starts)[group]
        e = np.exp(z)
        log_norm = np.log(np.add.reduceat(e, starts))
        p = e / np.exp(log_norm)[group]
        value = -(target * (z - log_norm[group])).sum() + 0.5 * l2 * w @ w
        return value / n, (x.T @ (p - target) + l2 * w) / n

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B",
                 options={"maxiter": 500}).x  # fmt: skip
    return Logistic(names, mean, scale, w, 0.0)
