"""Which questions a model's answerability threshold was fitted on: its calibration's kept
replies (`eval/judge_records/<model>.jsonl`, written by eval/calibrate_judge.py). The LLM bench
leaves those questions out of its SQuAD sample, so no figure it prints scores a question the
shipped threshold was fitted on."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def records_path(model: Path) -> Path:
    """Where a calibration's replies are kept, beside the code: the shipped threshold can be
    checked (and refitted with --refit) without running the model."""
    return ROOT / "eval" / "judge_records" / f"{model.stem}.jsonl"


def fitted_qids(model: Path) -> frozenset[str]:
    """The SQuAD question ids of the model's calibration (none when it has no records)."""
    path = records_path(model)
    if not path.is_file():
        return frozenset()
    lines = path.read_text("utf-8").splitlines()
    return frozenset(json.loads(line).get("qid", "") for line in lines if line) - {""}
