"""What a person is shown under each answerability policy of the LLM backend, from one
question's replies: the one rule behind `python -m app.bench llm`'s columns (eval/bench_llm.py,
over live Outcomes) and the judge's calibration (eval/calibrate_judge.py, over kept records).

- reader: the reader's answerability decides (abstain="reader");
- reader+model: the model's written `answerable: false` also abstains, where `unsure`;
- judge: the model's P(answerable) under the threshold abstains; without a P read, the
  reader decides (as answer/llm_answer.py does).
"""

from __future__ import annotations

from typing import Literal

Policy = Literal["reader", "reader+model", "judge"]
# reader_abstains: the reader's own abstention; abstains: the model's verdict made it abstain;
# model: the model's verified answer; instant: the extractive answer (in judge mode, the
# reader's abstention when it abstained and the model's answer failed verification).
Shown = Literal["reader_abstains", "abstains", "model", "instant"]
POLICIES: tuple[Policy, ...] = ("reader", "reader+model", "judge")


def shown(
    policy: Policy,
    *,
    instant_abstained: bool,
    model_answered: bool,
    said_answerable: bool | None,
    p: float | None,
    threshold: float = 0.0,
    unsure: bool = True,
) -> Shown:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    if policy == "judge" and p is not None:
        if p < threshold:
            return "abstains"
        return "model" if model_answered else "instant"
    if instant_abstained:
        return "reader_abstains"
    if policy == "reader+model" and said_answerable is False and unsure:
        return "abstains"
    return "model" if model_answered else "instant"
