"""The model as a judge of answerability: its probability that the passages answer.

The constrained reply (answer/grounded.py) begins `{"answerable": `, then `true` or `false`.
The model's sampled word is nearly useless (the small local models write `true` almost
always, issue #12), but its *probability* of `true` there separates answerable questions from
unanswerable ones better than the extractive reader's answerability (issue #10's note:
AUC 0.745 against 0.672 on 300 SQuAD questions, Qwen2.5-Coder-1.5B). It costs nothing more:
it is read from the same call, at the first generated positions (`Usage.positions`).

A probability means something only for the model it was calibrated on: `answer/data/
judges.json` holds, per model file (its size and the SHA-256 of its first MiB, which holds
the GGUF header: architecture, quantisation, tokenizer), the threshold fitted on the SQuAD
articles by eval/calibrate_judge.py, with the held-out figures it was chosen by.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from answer.llm import Position

JUDGES = Path(__file__).resolve().parent / "data" / "judges.json"
HEAD_BYTES = 1 << 20
# The text generated before the boolean: the schema's first key (grammar whitespace allowed).
_BEFORE_VALUE = re.compile(r'\s*\{\s*"answerable"\s*:\s*')


def answerable_probability(positions: Sequence[Position]) -> float | None:
    """P(true) against P(false) at the first position where the model writes the value of
    `answerable`, from the likeliest tokens kept there (tokens that begin either word, any
    leading space); None when no such position was kept or neither word is among them."""
    for pos in positions:
        if not _BEFORE_VALUE.fullmatch(pos.before):
            continue
        yes = sum(math.exp(lp) for tok, lp in pos.top if _begins("true", tok))
        no = sum(math.exp(lp) for tok, lp in pos.top if _begins("false", tok))
        if yes + no > 0:
            return yes / (yes + no)
    return None


def _begins(word: str, token: str) -> bool:
    t = token.strip()
    return bool(t) and word.startswith(t)


@dataclass(frozen=True)
class Judge:
    """A model's calibration: abstain when its P(answerable) is under `threshold`."""

    model: str  # the file name it was fitted with (informative; matching is by content)
    size: int
    head_sha256: str
    threshold: float


def fingerprint(path: Path) -> tuple[int, str]:
    """A model file's size and the SHA-256 of its first MiB: cheap (no 1 GB hash at every
    start) and different for another model, quantisation or tokenizer."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    return path.stat().st_size, hashlib.sha256(head).hexdigest()


@lru_cache(maxsize=4)
def _judges(path: Path, stamp: tuple[int, int]) -> tuple[Judge, ...]:
    """The calibrations in `path`, read again when its (mtime, size) `stamp` changes."""
    if stamp == (0, 0):
        return ()
    raw = json.loads(path.read_text("utf-8"))
    return tuple(
        Judge(j["model"], int(j["size"]), str(j["head_sha256"]), float(j["threshold"]))
        for j in raw.get("judges", [])
    )


def calibrated(path: Path | None, judges: Path | None = None) -> Judge | None:
    """The calibration fitted for this model file, if any (None: the file is not there, or
    no calibration was fitted for it), from `judges` (default: the shipped JUDGES)."""
    judges = judges or JUDGES
    if path is None:
        return None
    p = Path(path).expanduser()
    try:
        size, head = fingerprint(p)
    except OSError:
        return None
    st = judges.stat() if judges.is_file() else None
    found = _judges(judges, (st.st_mtime_ns, st.st_size) if st else (0, 0))
    return next((j for j in found if j.size == size and j.head_sha256 == head), None)
