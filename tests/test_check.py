"""The citation checker (verify/), with the real embedding model and the real article.

Every changed claim below is made from a real sentence of the article; each kind of change a
careful reader would catch has its own case, and paraphrases must stay supported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from answer.pipeline import Pipeline
from core.errors import BadInput
from core.types import AnswerSentence, Citation
from retrieval.embed import Embedder
from retrieval.index import DocIndex, IndexSettings, build
from retrieval.store import save
from verify.checker import Checker
from verify.nli import NliModel
from verify.report import check_cited, check_report, verify_sentences
from verify.segment import split_input
from verify.types import CheckSettings, EvidenceSpan

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "data" / "india-japan-strategic-partnership.txt"
SUPPORT = {"supported", "partial", "unsupported"}


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("check-index") / "index"


@pytest.fixture(scope="session")
def index(embedder: Embedder, index_dir: Path) -> DocIndex:
    idx = build([ARTICLE], index_dir, embedder, IndexSettings())
    save(idx, index_dir)  # for the command-line test
    return idx


@pytest.fixture(scope="session")
def checker(embedder: Embedder, index: DocIndex) -> Checker:
    return Checker(embedder, index)


@pytest.fixture(scope="session")
def doc_text(index: DocIndex) -> str:
    return index.documents[0].text


def span_of(index: DocIndex, quote: str) -> EvidenceSpan:
    doc = index.documents[0]
    start = doc.text.index(quote)
    return EvidenceSpan(doc.source, start, start + len(quote), quote)


def assert_offsets(index: DocIndex, spans) -> None:
    for e in spans:
        doc = index.document(e.source)
        assert doc is not None, e.source
        assert doc.text[e.start : e.end] == e.quote


# Each: (kind, changed claim, the prefix of the reason that must be given; "" = any reason).
CHANGED = [
    ("number", "About 15,000 Indians live in Japan.", "number"),
    ("number", "The India-Japan Corridor envisages cooperation in three African countries.",
     "number"),
    ("date", "After World War II, India and Japan established diplomatic relations in 1962.",
     "date"),
    ("date", "The Indian External Affairs Minister visited Japan in October 2024.", "date"),
    ("amount", "Japan's foreign investment in India was $4.1 billion in 2023-24.", "amount"),
    ("percentage", "Indian visitors to Japan are expected to reach 233,000 in 2024, a 25% "
     "increase.", "percentage"),
    ("rank", "India has emerged as the largest destination for Japanese investment in Asia.",
     "rank"),
    ("rank", "Japan is the biggest foreign investor in India.", "rank"),
    ("name", "In 2025, Indian External Affairs Minister Subrahmanyam Jaishankar visited Tokyo "
     "to meet senior Japanese officials.", "name"),
    ("place", "The Quadrilateral Summit in October 2024 took place in Sydney, Australia.",
     "name"),
    ("place", "In May 2023, Indian Prime Minister Modi visited Japan to attend the G7 Summit "
     "in Kyoto.", "name"),
    ("swapped roles", "Japanese visitors to India are expected to reach 233,000 in 2024.",
     "roles"),
    ("swapped roles", "About 51,000 Japanese live in India.", "roles"),
    ("swapped roles", "India is one of the largest foreign investors in Japan.", "roles"),
    ("negation", "Japan's legal restrictions do not limit the partnership.", "negation"),
    ("negation", "Many see Washington as a reliable partner on security and counterterrorism "
     "issues.", "negation"),
    ("relation", "The India-Japan Corridor is part of China's Belt and Road Initiative.",
     "relation"),
    ("relation", "Japan's legal restrictions led to the India-Japan-Bangladesh trilateral "
     "cooperation being shaken.", "relation"),
    # A relation between two parties (ally, enemy, rival...) must be stated, not inferred from
    # a passage that names both of them (issue 11: "closest ally" against border disputes).
    ("relation noun", "China is India's closest ally.", "relation"),
    ("relation noun", "China is Japan's main enemy.", "relation"),
    ("relation noun", "Japan and India are rivals in the Indo-Pacific region.", "relation"),
    ("absent", "India and Japan launched a joint lunar rover mission with Russia in 2019.", ""),
    ("absent", "Japanese carmakers such as Toyota run large factories in Chennai.", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "claim", "reason"), CHANGED, ids=[f"{k}-{i}" for i, (k, *_) in enumerate(CHANGED)]
)
def test_changed_claims_are_unsupported(
    checker: Checker, index: DocIndex, kind: str, claim: str, reason: str
) -> None:
    v = checker.find_support(claim)
    assert v.support == "unsupported", (kind, v)
    assert v.reasons
    if reason:
        assert any(r.startswith(reason) for r in v.reasons), (kind, v.reasons)
    assert v.score < CheckSettings().supported
    assert_offsets(index, v.evidence)  # the nearest evidence is shown even when it disagrees


PARAPHRASES = [
    "Japanese investment in India is more than 35 billion US dollars.",
    "Roughly 51,000 Indians live in Japan.",
    "Modi travelled to Hiroshima in May 2023 for the G7 Summit.",
    "Diplomatic relations between India and Japan were established in 1952, after the Second "
    "World War.",
    "India and Japan work closely together in the G4 on UN Security Council reform.",
    "The India-Japan Corridor is viewed as an alternative to China's BRI.",
    'Over the past twenty years the bilateral relationship was upgraded to a "Special Strategic '
    'and Global Partnership".',
    "Tokyo revised its National Security Strategy in 2022.",
    "Many Indians doubt that Washington is a reliable security partner.",
    "The article was published on 4 June 2025.",
]


@pytest.mark.parametrize("claim", PARAPHRASES)
def test_paraphrases_stay_supported(checker: Checker, index: DocIndex, claim: str) -> None:
    v = checker.find_support(claim)
    assert v.support == "supported", v
    assert v.evidence
    assert_offsets(index, v.evidence)


def test_an_unstated_alliance_is_refused_against_the_border_dispute_passage(
    checker: Checker, index: DocIndex
) -> None:
    """The issue's case, checked against the very passage it was wrongly supported by."""
    passage = (
        "In the geopolitical dimension, both India and Japan have border or political disputes "
        "with China, and countering China’s growing influence in the Indo-Pacific region has "
        "brought India and Japan closer together."
    )
    ev = span_of(index, passage)
    report = checker.check_cited("China is India's closest ally [1].", {1: ev})
    [s] = report.sentences
    assert s.verdict.support == "unsupported", s.verdict
    assert any("'alliance' relation" in r for r in s.verdict.reasons), s.verdict.reasons
    # The same relation stated in the evidence still passes.
    stated = span_of(index, "Japan’s position as India’s main partner")
    ok = checker.check_cited("Japan could be India's main partner [1].", {1: stated})
    assert ok.sentences[0].verdict.support != "unsupported", ok.sentences[0].verdict


def test_straight_and_curly_quotes_match(checker: Checker) -> None:
    straight = "Japan's revised National Security Strategy (NSS) document in 2022 has guided it."
    curly = straight.replace("'", "’")
    a, b = checker.find_support(straight), checker.find_support(curly)
    assert a.support == b.support == "supported"
    assert a.evidence == b.evidence


@pytest.mark.parametrize("text", ["", "   \n\t ", "\n\n"])
def test_empty_input_is_bad_input(checker: Checker, text: str) -> None:
    with pytest.raises(BadInput, match="empty"):
        checker.check_text(text)
    with pytest.raises(BadInput, match="empty"):
        checker.check_cited(text, {1: EvidenceSpan.of_text("anything")})


def test_markup_only_sentence_gets_a_verdict(checker: Checker) -> None:
    report = checker.check_text("[1] ... ---")
    assert all(s.verdict.support == "unsupported" for s in report.sentences)


@pytest.mark.timeout(180)
def test_ten_thousand_sentences_in_bounded_time_and_memory(
    checker: Checker, index: DocIndex
) -> None:
    sentences = [s.text for s in index.sentences if s.text.endswith(".")]
    n = 10_000
    text = " ".join((sentences * (n // len(sentences) + 1))[:n])
    tracemalloc.start()
    try:
        report = checker.check_text(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(report.sentences) == n
    assert all(s.verdict.support == "supported" for s in report.sentences[:50])
    assert peak < 300 * 2**20  # the input is ~1.9 MB; the checker works in batches
    last = report.sentences[-1]
    assert text[last.start : last.end] == last.text


def test_a_sentence_too_long_to_be_a_claim_gets_a_verdict(checker: Checker) -> None:
    report = checker.check_text("India and Japan " * 3000)
    assert report.sentences
    for s in report.sentences:
        assert s.verdict.support == "unsupported"
        assert "too long" in s.verdict.reasons[0]


def test_too_long_input_is_bad_input(embedder: Embedder, index: DocIndex) -> None:
    small = Checker(embedder, index, CheckSettings(max_chars=100))
    with pytest.raises(BadInput, match="characters"):
        small.check_text("Japan is one of the largest foreign investors in India. " * 5)


@pytest.mark.parametrize(
    "text",
    [
        "日本はインドにおける最大の外国投資国の一つです。インドの経済改革は遅い。",
        "Япония является одним из крупнейших иностранных инвесторов в Индии.",
        "Japan is one of the largest foreign investors in India. Индия — партнёр Японии.",
        "🙂🙂🙂 ¿Qué? ٣٥ مليار دولار",
    ],
)
def test_other_languages_and_scripts_get_a_verdict(checker: Checker, text: str) -> None:
    report = checker.check_text(text)
    assert report.sentences
    for s in report.sentences:
        assert s.verdict.support in SUPPORT
        assert 0.0 <= s.verdict.score <= 1.0
        assert text[s.start : s.end] == s.text


def test_offsets_hold_everywhere(checker: Checker, index: DocIndex) -> None:
    text = (
        "Japan is one of the largest foreign investors in India. Japan's foreign investment in "
        "India was $3.1 billion in 2023-24 [1]. About 15,000 Indians live in Japan. India and "
        "Japan cooperate on trade and defence, with Japanese investment exceeding $35 billion."
    )
    report = checker.check_text(text)
    assert len(report.sentences) == 4
    for s in report.sentences:
        assert text[s.start : s.end] == s.text
        assert_offsets(index, s.verdict.evidence)
    for c in index.chunks[:4]:  # judging against a whole chunk tightens to its sentences
        v = checker.judge(c.sentences[0].text, [EvidenceSpan(c.source, c.start, c.end, c.text)])
        assert_offsets(index, v.evidence)
        assert all(c.start <= e.start and e.end <= c.end for e in v.evidence)
        assert all(e.end - e.start < len(c.text) for e in v.evidence) or len(c.sentences) == 1


def test_evidence_span_checks_its_quote() -> None:
    with pytest.raises(BadInput, match="quote"):
        EvidenceSpan("x.txt", 0, 10, "short")


def test_judge_tightens_a_cited_chunk_to_the_supporting_sentence(
    checker: Checker, index: DocIndex
) -> None:
    chunk = next(c for c in index.chunks if "fighter jet" in c.text)
    v = checker.judge(
        "Tokyo has simplified its defence export guidelines.",
        [EvidenceSpan(chunk.source, chunk.start, chunk.end, chunk.text)],
    )
    assert v.support == "supported"
    assert len(v.evidence) == 1
    assert v.evidence[0].quote.startswith("Tokyo has also simplified")
    assert_offsets(index, v.evidence)


def test_alce_precision_with_a_redundant_citation(checker: Checker, index: DocIndex) -> None:
    invest = span_of(index, "Japan’s foreign investment in India was $3.1 billion in 2023-24.")
    buddhism = span_of(
        index,
        "Relations between Japan and India began with the arrival of Buddhism in Japan in the "
        "6th century.",
    )
    trade = span_of(
        index,
        "Also, Japan’s bilateral trade with India during the financial year 2023-24 amounted to "
        "US$ $22.85 billion.",
    )
    text = (
        # [2] is redundant: it alone does not support the sentence, and [1] does without it.
        "Japan's foreign investment in India was $3.1 billion in 2023-24 [1][2]. "
        "Relations between the two countries began with the arrival of Buddhism in Japan in the "
        "6th century [2]. "
        # Both needed: neither alone has both amounts, together they do.
        "In 2023-24 Japan invested $3.1 billion in India and bilateral trade reached $22.85 "
        "billion [1][3]."
    )
    report = check_cited(text, {1: invest, 2: buddhism, 3: trade}, checker)
    s1, s2, s3 = report.sentences
    assert [s.recall for s in report.sentences] == [1, 1, 1]
    assert [(c.id, c.relevant) for c in s1.cited] == [(1, True), (2, False)]
    assert [(c.id, c.alone) for c in s1.cited] == [(1, "supported"), (2, "unsupported")]
    assert [(c.id, c.relevant) for c in s2.cited] == [(2, True)]
    assert [(c.id, c.relevant, c.alone) for c in s3.cited] == [
        (1, True, "unsupported"),
        (3, True, "unsupported"),
    ]
    assert {e.quote for e in s3.verdict.evidence} == {invest.quote, trade.quote}
    assert report.citation_recall == 1.0
    assert report.citation_precision == pytest.approx(4 / 5)  # 5 citations, [2] in s1 not needed


def test_cited_sentence_that_its_citation_does_not_support(
    checker: Checker, index: DocIndex
) -> None:
    invest = span_of(index, "Japan’s foreign investment in India was $3.1 billion in 2023-24.")
    report = checker.check_cited(
        "Japan's foreign investment in India was $13.1 billion [1]. "
        "Japan focuses on India for tourism [7].",
        {1: invest},
    )
    first, second = report.sentences
    assert first.verdict.support == "unsupported" and first.recall == 0
    assert first.cited[0].relevant is False
    assert second.recall == 0 and second.cited[0].alone == "unsupported"  # [7] is unknown
    assert report.citation_recall == 0.0 and report.citation_precision == 0.0


def test_verify_sentences_of_an_answer(checker: Checker, index: DocIndex) -> None:
    invest = span_of(index, "Japan’s foreign investment in India was $3.1 billion in 2023-24.")
    cite = Citation(1, invest.source, invest.start, invest.end, invest.quote, "c0")
    sentences = (
        AnswerSentence("Japan invested $3.1 billion in India in 2023-24 [1].", (1,), "supported"),
        AnswerSentence("Japan invested $9 billion in India in 2023-24 [1].", (1,), "supported"),
        AnswerSentence("It was a good year.", (), "supported"),
    )
    checked = verify_sentences(sentences, (cite,), checker)
    assert [s.support for s in checked] == ["supported", "unsupported", "unsupported"]
    assert [s.citations for s in checked] == [s.citations for s in sentences]


def test_markers_without_a_mapping_fall_back_to_the_document(checker: Checker) -> None:
    report = checker.check_text(
        "Japan's foreign investment in India was $3.1 billion in 2023-24 [1]."
    )
    assert not report.cited and report.notes
    (s,) = report.sentences
    assert s.citations == (1,)
    assert s.verdict.support == "supported"
    assert checker.check_cited(s.text, {}).to_json()["mode"] == "document"


def test_split_input_moves_leading_markers_back() -> None:
    text = "Japan grew. [1] India rose [2][3]. Then it fell."
    parts = split_input(text)
    assert [ids for _, ids in parts] == [(1,), (2, 3), ()]
    assert parts[0][0].text == "Japan grew. [1]"


def test_supports_matches_the_eval_judge_signature(checker: Checker) -> None:
    quote = "Japan focuses on India as a major growth market for tourism."
    assert checker.supports([quote], "Japan sees India as a major growth market for tourism.")
    assert not checker.supports([quote], "Japan sees India as its main growth market for tourism.")


def test_check_report_shape(embedder: Embedder, index: DocIndex) -> None:
    pipe = Pipeline(index, embedder)
    out = check_report("Japan focuses on India as a major growth market for tourism.", pipe.checker)
    assert pipe.checker is pipe.checker
    (s,) = out["sentences"]
    assert {"text", "support", "score", "evidence"} <= set(s)
    # DESIGN.md's four fields, and the document it is in (collections, issue #14)
    assert {"source", "start", "end", "quote", "doc_id", "title", "page"} == set(s["evidence"][0])
    json.dumps(out)


def test_settings_are_validated() -> None:
    with pytest.raises(BadInput, match="supported"):
        CheckSettings(supported=1.5)
    with pytest.raises(BadInput, match="partial"):
        CheckSettings(supported=0.5, partial=0.6)
    with pytest.raises(BadInput, match="candidates"):
        CheckSettings(candidates=0)
    assert CheckSettings().replace(sim_weight=0.4).sim_weight == 0.4


def test_nli_model_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"config\.json"):
        NliModel(tmp_path / "nowhere")


def test_a_local_nli_model_is_read_and_used(
    tmp_path: Path, embedder: Embedder, index: DocIndex
) -> None:
    """A tiny three-label model written here (random weights, the bundled tokenizer) stands
    for a user's NLI model folder: it is loaded from disk only, and its scores enter verdicts."""
    import shutil

    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from retrieval.embed import bundled_model_dir

    torch.manual_seed(0)
    labels = {0: "contradiction", 1: "entailment", 2: "neutral"}
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=37, num_labels=3, id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (bundled_model_dir() / name).exists():
            shutil.copy(bundled_model_dir() / name, tmp_path / name)
    entail, contra = NliModel(tmp_path).scores("Japan invests in India.", "Japan invests.")
    assert 0.0 <= entail <= 1.0 and 0.0 <= contra <= 1.0 and entail + contra <= 1.0 + 1e-6
    with_nli = Checker(embedder, index, nli_model_dir=tmp_path)
    v = with_nli.find_support("Japan focuses on India as a major growth market for tourism.")
    assert v.support in SUPPORT and v.evidence
    assert with_nli.find_support("About 15,000 Indians live in Japan.").support == "unsupported"


def _docqa(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    exe = Path(sys.executable).with_name("docqa")
    return subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=300,
    )  # fmt: skip


@pytest.mark.timeout(300)
def test_cli_check_json(index: DocIndex, index_dir: Path) -> None:
    text = (
        "Japan is one of the largest foreign investors in India. "
        "About 15,000 Indians live in Japan."
    )
    r = _docqa("check", "--json", "--index-dir", str(index_dir), text)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [s["support"] for s in out["sentences"]] == ["supported", "unsupported"]
    for s in out["sentences"]:
        assert {"text", "support", "score", "evidence"} <= set(s)
        spans = [EvidenceSpan(e["source"], e["start"], e["end"], e["quote"]) for e in s["evidence"]]
        assert_offsets(index, spans)
        assert all(e["doc_id"] and e["page"] is None for e in s["evidence"])


def test_cli_check_empty_input_exits_2(index_dir: Path) -> None:
    r = _docqa("check", "--json", "--index-dir", str(index_dir), "-", stdin="  \n")
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty" in lines[0]
