"""The metric functions of eval/, against examples worked by hand (no model, no index)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from core.errors import BackendError, BadInput
from core.types import Answer, AnswerSentence, Chunk, Citation, Document, Passage
from eval import retrieval_metrics as rm
from eval.citations import CitationScorer, alce_score, quote_containment
from eval.compare import compare, render_compare_md
from eval.fmt import md_cell
from eval.gate import check_gates, parse_gates
from eval.html import render_html
from eval.metrics import (
    abstention_scores,
    answer_contained,
    exact_match,
    normalize_answer,
    percentile,
    strip_markers,
    token_f1,
)
from eval.qa import LineError, QAItem
from eval.report import build_report, render_md
from eval.runner import Outcome, run_questions
from eval.score import METRICS, RATES, SourceSpans, aggregate, score_outcome
from eval.select import filter_items, select_items

# --- SQuAD normalisation, exact match, F1 ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Cat's  hat!", "cats hat"),  # articles, apostrophe and "!" dropped, spaces folded
        ("An apple, a day", "apple day"),
        ("theory of the atom", "theory of atom"),  # "the" only as a whole word
        ("“Soft power”", "soft power"),  # curly quotes are punctuation too
        ("Japan’s", "japans"),  # same as "Japan's"
        ("US$ 22.85 billion", "us 2285 billion"),  # SQuAD drops "$" and "." alike
        ("Mumbai–Ahmedabad", "mumbaiahmedabad"),  # en dash folded to "-" then dropped
        ("東京。", "東京"),  # CJK full stop is Unicode punctuation
        ("Café", "café"),  # accents are kept: they are letters
        ("", ""),
        ("  the  ", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_exact_match_max_over_golds_and_empty() -> None:
    assert exact_match("The G7 Summit.", ["G7 summit", "Hiroshima"]) == 1.0
    assert exact_match("G7 Summit in Hiroshima", ["G7 summit", "Hiroshima"]) == 0.0
    assert exact_match("", ["x"]) == 0.0
    assert exact_match("anything", []) == 0.0  # no gold: not an answerable question
    assert exact_match("CAFÉ", ["café"]) == 1.0
    assert exact_match("Japan's legal restrictions", ["Japan’s legal restrictions"]) == 1.0


def test_token_f1_worked_examples() -> None:
    # pred [6th, century, ad] vs gold [sixth, century]: P 1/3, R 1/2 -> F1 0.4
    assert token_f1("the 6th century AD", ["sixth century"]) == pytest.approx(0.4)
    # vs [6th, century]: P 2/3, R 1 -> 0.8; the max over golds is taken
    assert token_f1("the 6th century AD", ["sixth century", "6th century"]) == pytest.approx(0.8)
    # repeated tokens count with multiplicity: common {x:1, y:1} -> P 2/3, R 2/3
    assert token_f1("x x y", ["x y y"]) == pytest.approx(2 / 3)
    assert token_f1("", ["Rostami"]) == 0.0
    assert token_f1("Rostami", []) == 0.0
    # SQuAD: when a side normalises to nothing, F1 is whether both do
    assert token_f1("", ["the"]) == 1.0
    assert token_f1("an", ["the"]) == 1.0
    assert token_f1("x", ["the"]) == 0.0
    assert token_f1("東京 大阪", ["東京"]) == pytest.approx(2 / 3)


def test_answer_contained_whole_tokens() -> None:
    assert answer_contained("It began in the 6th century.", ["the 6th century"]) == 1.0
    assert answer_contained("In its 22nd year", ["2nd"]) == 0.0  # not inside a token
    assert answer_contained("Japan’s legal restrictions prevent it", ["Japan's legal"]) == 1.0
    assert answer_contained("Trump’s approach drew criticism.", ["Trump"]) == 1.0
    assert answer_contained("Japan's share", ["Japan’s share"]) == 1.0
    assert answer_contained("", ["x"]) == 0.0
    assert answer_contained("x", []) == 0.0
    assert answer_contained("the", ["the"]) == 0.0  # a gold that normalises to nothing


def test_strip_markers() -> None:
    assert strip_markers("A was so [1]. B too [2, 3].") == "A was so. B too."
    assert strip_markers("No markers") == "No markers"


# --- abstention and latency ------------------------------------------------------------------


def test_abstention_precision_recall() -> None:
    # (abstained, unanswerable): one TP, one FP, one FN, one TN
    p, r = abstention_scores([(True, True), (True, False), (False, True), (False, False)])
    assert (p, r) == (0.5, 0.5)
    assert abstention_scores([(False, False)]) == (None, None)  # nothing to divide by
    assert abstention_scores([(False, True)]) == (None, 0.0)
    assert abstention_scores([]) == (None, None)


def test_percentile_linear_interpolation() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # 1 + 0.95 * 3 = 2.85 -> 3.85
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


# --- retrieval -------------------------------------------------------------------------------


def test_ndcg_never_exceeds_one_with_overlapping_chunks() -> None:
    ev = [(10, 20)]
    both = [(0, 20), (5, 25)]  # overlapping chunks, both cover the span
    assert rm.ndcg_at_k(both, ev, 5, n_relevant=2) == pytest.approx(1.0)
    assert rm.ndcg_at_k(both, ev, 5) == pytest.approx(1.0)  # was 1.63 before the fix
    # relevant at rank 2 of 1 relevant: 1/log2(3)
    assert rm.ndcg_at_k([(100, 200), (0, 20)], ev, 5, 1) == pytest.approx(1 / math.log2(3))
    assert rm.n_relevant([(0, 20), (5, 25), (15, 40), (16, 40)], ev) == 3  # 5 of 10 is half


def test_source_spans_keep_documents_apart() -> None:
    d1 = Document("a.txt", "alpha beta gamma")
    d2 = Document("b.txt", "delta epsilon")
    spans = SourceSpans([d1, d2])
    found, missing = spans.locate(["epsilon", "zeta"])
    assert missing == ["zeta"]
    assert found == [(len(d1.text) + 1 + 6, len(d1.text) + 1 + 13)]
    ev = found
    in_b = spans.passage_span("b.txt", 0, 13)
    same_offsets_in_a = spans.passage_span("a.txt", 6, 13)
    assert rm.hit_at_k([in_b], ev, 1) == 1.0
    assert rm.hit_at_k([same_offsets_in_a], ev, 1) == 0.0
    assert rm.hit_at_k([spans.passage_span("unknown.txt", 0, 99)], ev, 1) == 0.0


# --- citations (ALCE) ------------------------------------------------------------------------


def _words_judge(cited: list[str] | tuple[str, ...], sentence: str) -> bool:
    """Supported when every word of the sentence is in the cited text: easy to work by hand."""
    have = set(" ".join(cited).split())
    return set(strip_markers(sentence).split()) <= have


def test_alce_recall_and_precision_worked_example() -> None:
    quotes = {1: "alpha beta", 2: "gamma", 3: "delta"}
    sentences = [
        ("alpha beta [1][2]", (1, 2)),  # 1 alone supports; 2 is not needed -> 2 irrelevant
        ("gamma delta [2][3]", (2, 3)),  # neither alone, both needed -> both relevant
        ("epsilon", ()),  # cites nothing -> unsupported
    ]
    s = alce_score(sentences, quotes, _words_judge)
    assert s.recall == pytest.approx(2 / 3)
    assert s.precision == pytest.approx(3 / 4)  # relevant 1, 2, 3 of 4 citations
    assert [v.relevant for v in s.sentences] == [(1,), (2, 3), ()]
    assert [v.supported for v in s.sentences] == [True, True, False]


def test_alce_unsupported_sentence_citations_all_irrelevant() -> None:
    s = alce_score([("zeta eta", (1, 2))], {1: "zeta", 2: "theta"}, _words_judge)
    assert (s.recall, s.precision) == (0.0, 0.0)
    s = alce_score([("zeta", (9,))], {1: "zeta"}, _words_judge)  # unknown id supports nothing
    assert (s.recall, s.precision) == (0.0, 0.0)
    assert alce_score([], {}, _words_judge).recall is None


def test_quote_containment_fallback() -> None:
    assert quote_containment(["x Japan's  share grew. y"], "Japan’s share grew. [1]")
    assert not quote_containment(["Japan's share grew."], "Japan's share fell.")
    assert not quote_containment(["anything"], " [1]")  # an empty claim supports nothing
    assert quote_containment(["Part one.", "Part two."], "Part one. Part two.")


def test_citation_scorer_skips_abstentions() -> None:
    scorer = CitationScorer(quote_containment, "test")
    abst = Answer("q?", "The article does not say.", True, "extractive")
    assert (scorer.score(abst).recall, scorer.score(abst).precision) == (None, None)
    cit = Citation(1, "a.txt", 0, 5, "Hello", "a:0-5")
    ans = Answer(
        "q?", "Hello [1]", False, "x", (cit,), (AnswerSentence("Hello [1]", (1,), "supported"),)
    )
    assert (scorer.score(ans).recall, scorer.score(ans).precision) == (1.0, 1.0)
    bare = Answer("q?", "Goodbye.", False, "x")  # no sentence split, no citation
    assert (scorer.score(bare).recall, scorer.score(bare).precision) == (0.0, 0.0)


# --- gates -----------------------------------------------------------------------------------


def test_parse_gates() -> None:
    assert parse_gates(["f1=0.5", "retrieval_hit@5 = 0.9"]) == [
        ("f1", 0.5),
        ("retrieval_hit@5", 0.9),
    ]
    with pytest.raises(BadInput, match=r"unknown metric 'bogus'.*exact_match"):
        parse_gates(["bogus=1"])
    with pytest.raises(BadInput, match="METRIC=VALUE"):
        parse_gates(["f1"])
    with pytest.raises(BadInput, match="not a number"):
        parse_gates(["f1=high"])
    with pytest.raises(BadInput, match="unknown metric"):
        parse_gates(["latency_ms_p95=100"])  # lower is better: no floor
    assert "latency_ms_p50" not in RATES and "exact_match" in RATES


def test_check_gates_none_fails() -> None:
    res = check_gates(
        {"f1": 0.5, "abstention_recall": None}, [("f1", 0.5), ("abstention_recall", 0)]
    )
    assert [g["passed"] for g in res] == [True, False]


# --- reading and selecting -------------------------------------------------------------------


def _item(i: str, line: int, type_: str = "factoid", answers: tuple[str, ...] = ("x",)) -> QAItem:
    return QAItem(i, f"question {i}?", answers, (), type_, line)


def test_select_items_reports_each_skipped_line_and_strict() -> None:
    items = [_item("a", 1), _item("b", 2), _item("a", 4)]
    errors = [LineError(3, "not valid JSON (Expecting value)"), LineError(1, "duplicate id 'a'"),
              LineError(4, "duplicate id 'a'")]  # fmt: skip
    logged: list[str] = []
    keep, skipped = select_items(items, errors, Path("s.jsonl"), False, logged.append)
    assert [i.line for i in keep] == [1, 2]  # the first of a repeated id stays
    assert [e.line for e in skipped] == [3, 4]
    assert logged[0].startswith("s.jsonl:3: skipped: not valid JSON")
    with pytest.raises(BadInput, match=r"s\.jsonl:3: not valid JSON.*\(and 1 more\)"):
        select_items(items, errors, Path("s.jsonl"), True, logged.append)


def test_filter_items_types_and_limit() -> None:
    items = [_item("a", 1), _item("b", 2, "list"), _item("c", 3, "unanswerable", ())]
    assert [i.id for i in filter_items(items, ["factoid,unanswerable"], None)] == ["a", "c"]
    assert [i.id for i in filter_items(items, ["list", "factoid"], 1)] == ["a"]
    with pytest.raises(BadInput, match="no question of type 'nope'"):
        filter_items(items, ["nope"], None)


# --- runner with a fake pipeline -------------------------------------------------------------


class _FakePipe:
    def __init__(self, fail: set[str] | None = None, bad: bool = False) -> None:
        self.fail = fail or set()
        self.bad = bad

    def ask(self, question: str, k: int = 5, backend: str = "extractive") -> Answer:
        if self.bad:
            raise BadInput("unknown backend", "use extractive")
        if question in self.fail:
            raise TimeoutError("server took too long")
        return Answer(question, f"answer to {question}", False, backend)


def test_runner_keeps_order_records_errors_and_aborts_early() -> None:
    items = [_item(str(n), n) for n in range(1, 7)]
    out = run_questions(_FakePipe({"question 2?"}), items, 5, "openai", 3)
    assert [o.item.id for o in out] == [str(n) for n in range(1, 7)]
    assert [o.error is not None for o in out] == [False, True, False, False, False, False]
    assert "TimeoutError" in (out[1].error or "")
    every = {i.question for i in items}
    with pytest.raises(BackendError, match="first 3 questions all failed"):
        run_questions(_FakePipe(every), items, 5, "extractive")
    with pytest.raises(BadInput):
        run_questions(_FakePipe(bad=True), items, 5, "extractive")


# --- records, aggregation, reports, compare --------------------------------------------------

SOURCE = "Tokyo is big. <b>Osaka</b> & Kyoto are old. Nara is small."


def _records() -> list[dict]:
    doc = Document("s.txt", SOURCE)
    chunk = Chunk("s:0-44", "s.txt", 0, 44, SOURCE[:44], "<i>sec</i>", 10)
    passage = Passage(chunk, 1.0, 1)
    spans = SourceSpans([doc], [chunk])
    scorer = CitationScorer(quote_containment, "test")
    quote = SOURCE[14:44]
    cit = Citation(1, "s.txt", 14, 44, quote, "s:0-44")
    good = Answer("q", f"{quote} [1]", False, "x", (cit,),
                  (AnswerSentence(f"{quote} [1]", (1,), "supported"),), (passage,),
                  {"total": 10.0})  # fmt: skip
    abst = Answer("q", "The article does not say.", True, "x", passages=(passage,))
    items = [
        QAItem("q1", "Which <script>alert(1)</script> cities are old?", ("Kyoto",),
               ("<b>Osaka</b> & Kyoto are old.",), "list", 1),
        QAItem("q2", "Is Nara big?", ("no",), ("Nara is small.",), "factoid", 2),
        QAItem("q3", "Who rules Nara?", (), (), "unanswerable", 3),
        QAItem("q4", "Broken?", ("x",), (), "factoid", 4),
    ]  # fmt: skip
    outcomes = [
        Outcome(items[0], good, None, 10.0),
        Outcome(items[1], abst, None, 20.0),
        Outcome(items[2], abst, None, 30.0),
        Outcome(items[3], None, "TimeoutError: slow", 40.0),
    ]
    return [score_outcome(o, spans, scorer) for o in outcomes]


def test_score_outcome_and_aggregate() -> None:
    r = _records()
    q1, q2, q3, q4 = r
    assert q1["metrics"]["answer_contained"] == 1.0  # "kyoto" in the normalised quote
    assert q1["metrics"]["exact_match"] == 0.0
    assert q1["metrics"]["retrieval_hit@1"] == 1.0
    assert (q1["metrics"]["citation_recall"], q1["metrics"]["citation_precision"]) == (1.0, 1.0)
    assert q1["correct"] and q1["failures"] == []
    assert q2["failures"][0] == "abstained on an answerable question"
    assert q2["metrics"]["retrieval_hit@5"] == 0.0  # "Nara is small." lies outside the chunk
    assert q3["correct"] and q3["metrics"]["citation_recall"] is None
    assert q4["failures"] == ["error"] and q4["metrics"]["f1"] == 0.0
    m = aggregate(r)
    assert list(m)[: len(METRICS)] == list(METRICS)
    assert m["answer_contained"] == pytest.approx(1 / 3, abs=1e-4)  # q1 of q1, q2, q4
    assert m["accuracy"] == 0.5
    assert m["retrieval_hit@5"] == 0.5  # q1 and q2 have evidence
    assert (m["abstention_precision"], m["abstention_recall"]) == (0.5, 1.0)
    assert m["latency_ms_p50"] == 20.0  # the error's 40 ms does not count
    assert m["counts"]["errors"] == 1


def _doc(records: list[dict]) -> dict:
    return build_report(
        records, qa_file=Path(__file__), skipped=[LineError(5, "not valid JSON <x>")],
        backend="extractive", settings={"k": 5}, versions_used={"python": "3.11"},
        citation_judge="test", run={"wall_s": 1.0},
    )  # fmt: skip


def test_reports_escape_every_text_and_put_failures_first() -> None:
    doc = _doc(_records())
    page = render_html(doc)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Osaka</b>" not in page and "&lt;i&gt;sec&lt;/i&gt;" in page
    assert "<script" not in page and "http://" not in page.replace(
        '"http://www.w3.org/2000/svg"', ""
    )
    assert page.index("q4") < page.index("q2") < page.index("q1")  # error, wrong, then correct
    md = render_md(doc)
    assert "<script>" not in md and "line 5: not valid JSON &lt;x&gt;" in md
    assert md_cell("a|b\n<c>") == "a\\|b &lt;c&gt;"
    assert md.index("| q4 |") < md.index("| q2 |")


def test_compare_flips_and_deltas() -> None:
    a = _doc(_records())
    b = _doc(_records())
    q2 = b["questions"][1]
    q2.update(correct=True, failures=[])
    q2["metrics"]["retrieval_hit@5"] = 1.0
    b["questions"][0].update(correct=False, failures=["wrong answer"])
    b["metrics"]["f1"] = (a["metrics"]["f1"] or 0) + 0.25
    b["questions"].append({**b["questions"][2], "id": "q9"})
    c = compare(a, b, Path("A"), Path("B"))
    assert [e["id"] for e in c["flipped"]["fixed"]] == ["q2"]
    assert [e["id"] for e in c["flipped"]["broken"]] == ["q1"]
    assert [e["id"] for e in c["retrieval_flips"]["gained"]] == ["q2"]
    assert c["only_in_b"] == ["q9"] and c["only_in_a"] == []
    f1 = next(r for r in c["metrics"] if r["metric"] == "f1")
    assert f1["delta"] == pytest.approx(0.25) and f1["change"] == "better"
    md = render_compare_md(c)
    assert "Fixed (wrong in A, correct in B): 1" in md and "| f1 |" in md
