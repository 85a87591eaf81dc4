"""The model as a judge of answerability (answer/judge.py) and its calibration
(eval/calibrate_judge.py): the probability is read where the model writes `answerable`, a
calibration applies only to the file it was fitted on, and the held-out threshold of an
article is fitted without that article."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from answer.judge import answerable_probability, calibrated, fingerprint
from answer.llm import LlmOptions, Position
from core.errors import BadInput
from eval.bench_llm import NEVER
from eval.calibrate_judge import (
    MAX_FALSE_ABSTENTION,
    Rec,
    accuracy,
    best_threshold,
    correct,
    false_abstention,
    fit,
    write_judge,
)
from eval.llm_policy import shown


def _pos(before: str, **lp: float) -> Position:
    return Position(before, tuple(lp.items()))


def test_the_probability_is_read_where_the_model_writes_answerable() -> None:
    positions = [
        _pos("", **{'{"': -0.1}),
        _pos('{"', answer=-0.01),
        _pos('{"answerable', **{'":': -0.01}),
        _pos('{"answerable":', **{" true": math.log(0.6), " false": math.log(0.2), " ": -3.0}),
        _pos('{"answerable": true', **{",": -0.01, " false": math.log(0.9)}),
    ]
    assert answerable_probability(positions) == pytest.approx(0.75)
    # Any token that begins either word counts, spaces or not; other tokens do not.
    split = [_pos('{ "answerable" : ', t=math.log(0.1), tr=math.log(0.1), fa=math.log(0.3),
                  truth=-0.1, **{"\n": -0.5})]  # fmt: skip
    assert answerable_probability(split) == pytest.approx(0.2 / 0.5)


def test_no_probability_when_the_value_was_not_watched() -> None:
    assert answerable_probability([]) is None
    assert answerable_probability([_pos('{"', answer=-0.1)]) is None
    # The key seen, but neither word among the likeliest tokens there.
    assert answerable_probability([_pos('{"answerable":', **{'"': -0.1})]) is None
    # A reply that does not start with the key (another schema) is not read.
    assert answerable_probability([_pos('{"answer":', true=-0.1)]) is None


def test_judge_mode_needs_a_threshold_in_the_open_unit_interval() -> None:
    for bad in (None, 0.0, 1.0, 1.5, "0.5"):
        with pytest.raises(BadInput) as e:
            LlmOptions(abstain="judge", judge_threshold=bad)  # type: ignore[arg-type]
        assert repr(bad) in str(e.value)
    assert LlmOptions(abstain="judge", judge_threshold=0.8).judge_threshold == 0.8


def test_a_calibration_applies_only_to_the_file_it_was_fitted_on(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(range(256)) * 5000)
    other = tmp_path / "other.gguf"  # same size, another header (another quantisation, say)
    other.write_bytes(b"GGUF" + bytes(256) + bytes(range(256)) * 4999)
    judges = tmp_path / "judges.json"
    assert calibrated(model, judges) is None  # no file of calibrations yet
    recs = [Rec("a", True, 0.9, True, False, True, True, True),
            Rec("a", False, 0.2, True, False, False, True, False)]  # fmt: skip
    write_judge(model, fit(recs), 0, judges)
    got = calibrated(model, judges)
    assert got is not None and got.size == model.stat().st_size
    assert 0.2 < got.threshold < 0.9
    assert calibrated(other, judges) is None and calibrated(tmp_path / "gone", judges) is None
    # Refitting the same file replaces its entry instead of adding one.
    write_judge(model, fit(recs), 0, judges)
    assert len(json.loads(judges.read_text())["judges"]) == 1
    assert fingerprint(model) != fingerprint(other)


R = Rec  # article, answerable, p, said_answerable, instant_abstained, instant_contained,
# model_answered, model_contained


def test_each_policy_decides_from_the_same_replies() -> None:
    unans_reader_no = R("a", False, 0.3, True, True, False, True, False)
    assert correct(unans_reader_no, "reader") and correct(unans_reader_no, "judge", 0.5)
    assert not correct(unans_reader_no, "judge", 0.2)  # the judge overrules the reader
    ans_model_no = R("a", True, 0.7, False, False, True, False, False)
    assert correct(ans_model_no, "reader") and not correct(ans_model_no, "reader+model")
    assert correct(ans_model_no, "judge", 0.5)  # the model's answer failed: the reader's stands
    assert not correct(ans_model_no, "judge", 0.8)
    no_p = R("a", True, None, True, False, False, True, True)
    assert correct(no_p, "judge", 0.99)  # no probability read: the reader decides
    assert correct(R("a", False, 0.9, True, False, False, True, False), "nothing")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0.01, 0.99), st.booleans()), min_size=1,
                max_size=40), st.floats(0.0, 1.0))  # fmt: skip
def test_the_fitted_threshold_is_the_most_accurate_within_the_cap(rows, t) -> None:
    recs = [R("a", ans, p, True, False, ok, True, ok) for ans, p, ok in rows]
    best = best_threshold(recs)
    assert best == NEVER or false_abstention(recs, "judge", best) <= MAX_FALSE_ABSTENTION
    if false_abstention(recs, "judge", t) <= MAX_FALSE_ABSTENTION:
        assert accuracy(recs, "judge", best) >= accuracy(recs, "judge", t)
    # Without the cap, the most accurate of all.
    assert accuracy(recs, "judge", best_threshold(recs, 1.0)) >= accuracy(recs, "judge", t)


def test_an_articles_threshold_is_fitted_without_it() -> None:
    # Article b's unanswerable questions score high: fitted on b itself the threshold would
    # rise over them; held out, b gets the threshold the others give.
    a = [R("a", True, 0.9, True, False, True, True, True),
         R("a", False, 0.4, True, False, False, True, False)]  # fmt: skip
    b = [R("b", True, 0.95, True, False, True, True, True),
         R("b", False, 0.8, True, False, False, True, False)]  # fmt: skip
    f = fit(a + b)
    assert f.per_article["b"][1] == pytest.approx(best_threshold(a))
    assert f.per_article["b"][2] == 0.5  # b's unanswerable question is answered there
    assert f.threshold == pytest.approx(best_threshold(a + b))
    assert f.held_out["judge"] < accuracy(a + b, "judge", f.threshold)


def test_the_shipped_threshold_is_the_fit_of_the_shipped_replies() -> None:
    """answer/data/judges.json is what `python -m app.bench judge --refit` makes of the kept
    replies (eval/judge_records/): no threshold or figure in it was set by hand."""
    from answer.judge import JUDGES
    from eval.calibrate_judge import ROOT, read_records

    shipped = json.loads(JUDGES.read_text("utf-8"))["judges"]
    assert shipped, "no calibration shipped"
    for j in shipped:
        recs = read_records(ROOT / "eval" / "judge_records" / f"{Path(j['model']).stem}.jsonl")
        f = fit(recs)
        assert round(f.threshold, 4) == j["threshold"]
        assert {k: round(v, 3) for k, v in f.held_out.items()} == j["held_out_accuracy"]
        assert f.n == len(recs) >= 400 and len({r.article for r in recs}) == 8


def _shown(policy: str, **kw: object) -> str:
    args = {"instant_abstained": False, "model_answered": True, "said_answerable": True,
            "p": 0.9, "threshold": 0.5, **kw}  # fmt: skip
    return shown(policy, **args)  # type: ignore[arg-type]


def test_each_policy_shows_what_its_rule_says() -> None:
    # The reader's abstention stands under the reader's policies, whatever the model said...
    assert _shown("reader", instant_abstained=True, said_answerable=False) == "reader_abstains"
    assert _shown("reader+model", instant_abstained=True) == "reader_abstains"
    # ...and the model's written "no" abstains only under reader+model, and only where unsure.
    assert _shown("reader", said_answerable=False) == "model"
    assert _shown("reader+model", said_answerable=False) == "abstains"
    assert _shown("reader+model", said_answerable=False, unsure=False) == "model"
    assert _shown("reader+model", said_answerable=None) == "model"
    # The judge's probability overrides the reader both ways; without one the reader decides.
    assert _shown("judge", p=0.4) == "abstains"
    assert _shown("judge", p=0.6, instant_abstained=True) == "model"
    assert _shown("judge", p=0.6, instant_abstained=True, model_answered=False) == "instant"
    assert _shown("judge", p=None, instant_abstained=True) == "reader_abstains"
    assert _shown("judge", p=None, said_answerable=False) == "model"
    assert _shown("reader", model_answered=False) == "instant"


def test_an_unknown_policy_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'readr'"):
        _shown("readr")
