"""General features of a (question, sentence) pair and of a (question, phrase) pair.

Nothing here names a word of any document: similarity and overlap come from the index, answer
types from spaCy's entity labels weighted by the learned answer-type model, grammar from
spaCy's dependency labels. The models that weigh these features are learned across documents
(eval/train_reader.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from answer.reader.nlp import LABEL_INDEX, QUESTION_WORDS, Analysis, SpanCand

SENTENCE_FEATURES = (
    "dense", "dense_gap", "dense_rank_inv", "lexical", "lexical_gap", "bm25_rel",
    "passage_rank_inv", "content_missing", "q_terms_unseen_in_doc", "q_ents_missing",
    "q_ents_missing_doc", "q_nums_missing", "q_nums_missing_doc", "type_mass", "type_max",
    "type_other", "negation_mismatch", "q_negated", "log_len", "lexical_with_prev",
    "best_span",
)  # fmt: skip
_DEPS = ("nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "conj", "compound", "ROOT",
         "npadvmod", "dative", "oprd", "amod", "nummod", "advcl", "xcomp", "ccomp", "relcl",
         "acl", "prep")  # fmt: skip
_POS = ("NOUN", "PROPN", "NUM", "VERB", "ADJ", "ADV", "ADP")
# Per kind of question word (and none): what kind of phrase it tends to ask for.
_WH_CROSS = ("entity", "verb", "log_len", "number")
_WH_KINDS = (*QUESTION_WORDS, "")
SPAN_FEATURES = (
    "type_p", "is_entity", "q_overlap", "in_question", "log_len", "near_match", "has_match",
    "after_match", "is_number", "tree_near", "head_in_q", "grandhead_in_q", "sibling_in_q",
    "rel_position", "punct_before", "punct_after", "type_p_x_near", "one_token", "long",
    *(f"dep_{d}" for d in _DEPS), *(f"pos_{p}" for p in _POS), "pos_other",
    *(f"wh_{w or 'none'}_x_{c}" for w in _WH_KINDS for c in _WH_CROSS),
)  # fmt: skip
_TREE_FAR = 9  # dependency hops beyond which a question word is as good as absent


# Whether anything answers is judged from the best candidates together: how sure the sentence
# model is of the best one, how far ahead of the next it is, and what the best one lacks.
ANSWERABILITY_FEATURES = (
    "p_best", "p_second", "p_gap", "n_close",
    *(f"top_{n}" for n in SENTENCE_FEATURES),
)  # fmt: skip


def answerability_features(ps: np.ndarray, top: np.ndarray) -> np.ndarray:
    """`ps`: the candidates' probabilities, best first; `top`: the best one's features."""
    p1 = float(ps[0])
    p2 = float(ps[1]) if len(ps) > 1 else 0.0
    close = float(np.sum(ps >= 0.5 * p1)) if p1 > 0 else 0.0
    return np.concatenate([[p1, p2, p1 - p2, math.log1p(close)], top])


@dataclass(frozen=True)
class QuestionView:
    """A question as the reader sees it, computed once per question."""

    analysis: Analysis
    type_probs: np.ndarray  # P(answer label | question), in LABELS order
    unseen_share: float  # IDF-weighted share of its terms the document never uses
    ents_missing_doc: int  # its entities the document never mentions
    nums_missing_doc: int  # its numbers the document never writes


@dataclass(frozen=True)
class SentenceStats:
    """What retrieval and the index say about one candidate sentence."""

    dense: float
    dense_best: float
    dense_rank: int  # 1-based among the candidates
    lexical: float
    lexical_best: float
    bm25_rel: float  # sentence BM25 over the best candidate's
    passage_rank: int
    lexical_with_prev: float


def _entity_words(a: Analysis, e: SpanCand) -> frozenset[str]:
    return frozenset(a.lemmas[e.tok_start : e.tok_end]) & a.content or frozenset(
        a.lemmas[e.tok_start : e.tok_end]
    )


def missing_entities(q: Analysis, lemmas: frozenset[str]) -> int:
    """Entities of the question none of whose words occur in `lemmas`."""
    return sum(1 for e in q.entities if e.label != "OTHER" and not (_entity_words(q, e) & lemmas))


def answer_spans(q: Analysis, s: Analysis) -> list[SpanCand]:
    """Phrases of the sentence that could answer: not made only of the question's words (its
    content words, or every token where it has none, as a date or a number the question
    already names)."""
    asked = frozenset(q.lemmas)
    out = []
    for sp in s.spans:
        toks = [i for i in range(sp.tok_start, sp.tok_end) if s.pos[i] != "PUNCT"]
        words = {s.lemmas[i] for i in toks} & s.content
        repeated = words <= q.content if words else all(s.lemmas[i] in asked for i in toks)
        if repeated:
            continue
        out.append(sp)
    return out


def sentence_features(
    qv: QuestionView, st: SentenceStats, s: Analysis, spans: list[SpanCand], best_span: float
) -> np.ndarray:
    """`spans`: the sentence's `answer_spans`; `best_span`: the phrase model's best of them."""
    q = qv.analysis
    slem = frozenset(s.lemmas)
    content_missing = len(q.content - slem) / len(q.content) if q.content else 0.0
    labels = {sp.label for sp in spans}
    probs = [float(qv.type_probs[LABEL_INDEX[lab]]) for lab in labels]
    return np.array(
        [
            st.dense,
            st.dense - st.dense_best,
            1.0 / st.dense_rank,
            st.lexical,
            st.lexical - st.lexical_best,
            st.bm25_rel,
            1.0 / st.passage_rank,
            content_missing,
            qv.unseen_share,
            min(missing_entities(q, slem), 3),
            min(qv.ents_missing_doc, 3),
            min(len(q.numbers - s.numbers), 3),
            min(qv.nums_missing_doc, 3),
            sum(probs),
            max(probs, default=0.0),
            float(qv.type_probs[LABEL_INDEX["OTHER"]]),
            float(q.negated != s.negated),
            float(q.negated),
            math.log1p(len(s.lemmas)),
            st.lexical_with_prev,
            best_span,
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class _Shared:
    """What every phrase of one sentence shares against one question, computed once."""

    positions: tuple[int, ...]  # tokens whose lemma is one of the question's content words
    depths: dict[int, dict[int, int]]  # for each of those: its ancestors, with their hops


def _shared(q: Analysis, s: Analysis) -> _Shared:
    positions = tuple(s.content_positions(q.content))
    return _Shared(positions, {i: _depths(s.heads, i) for i in positions})


def phrase_features(qv: QuestionView, s: Analysis, spans: list[SpanCand]) -> np.ndarray:
    """`span_features` of each phrase of `s`, one row each."""
    if not spans:
        return np.zeros((0, len(SPAN_FEATURES)))
    shared = _shared(qv.analysis, s)
    return np.stack([span_features(qv, s, sp, shared) for sp in spans])


def span_features(
    qv: QuestionView, s: Analysis, sp: SpanCand, shared: _Shared | None = None
) -> np.ndarray:
    """What makes a phrase the answer: its answer type against the question's, where the
    question's words sit around it (in the text and in the parse), and its shape."""
    q = qv.analysis
    sh = shared or _shared(q, s)
    n = len(s.lemmas)
    toks = s.lemmas[sp.tok_start : sp.tok_end]
    words = set(toks) & s.content
    overlap = len(words & q.content) / len(words) if words else 0.0
    matches = [i for i in sh.positions if not sp.tok_start <= i < sp.tok_end]
    if matches:
        dist = min(min(abs(i - sp.tok_start), abs(i - (sp.tok_end - 1))) for i in matches)
        near = 1.0 / (1.0 + dist)
        after = float(sp.tok_start > min(matches))
    else:
        near, after = 0.0, 0.0
    root = sp.root
    head = s.heads[root]
    grand = s.heads[head]
    type_p = float(qv.type_probs[LABEL_INDEX[sp.label]])
    n_tok = sp.tok_end - sp.tok_start
    is_number = float(any(ch.isdigit() for ch in s.text[sp.start : sp.end]))
    pos = s.pos[root]
    cross = np.zeros((len(_WH_KINDS), len(_WH_CROSS)))
    cross[_WH_KINDS.index(q.wh) if q.wh in _WH_KINDS else -1] = (
        float(sp.label != "OTHER"), float(pos == "VERB"), math.log1p(n_tok),
        float(pos == "NUM" or is_number > 0),
    )  # fmt: skip
    return np.concatenate(
        [
            [
                type_p,
                float(sp.label != "OTHER"),
                overlap,
                float(overlap > 0),
                math.log1p(len(toks)),
                near,
                float(bool(matches)),
                after,
                is_number,
                1.0 / (1.0 + _tree_distance(s.heads, root, matches, sh.depths)),
                float(head != root and s.lemmas[head] in q.content),
                float(s.lemmas[grand] in q.content and grand != head),
                # a question word outside the phrase that hangs from the phrase's own head
                float(any(s.heads[i] == head and i != head for i in matches)),
                sp.tok_start / max(n, 1),
                float(sp.tok_start > 0 and s.pos[sp.tok_start - 1] == "PUNCT"),
                float(sp.tok_end < n and s.pos[sp.tok_end] == "PUNCT"),
                type_p * near,
                float(n_tok == 1),
                float(n_tok >= 5),
            ],
            [float(sp.dep == d) for d in _DEPS],
            [float(pos == p) for p in _POS],
            [float(pos not in _POS)],
            cross.ravel(),
        ]
    )


def _ancestors(heads: tuple[int, ...], i: int) -> list[int]:
    out = [i]
    while heads[out[-1]] != out[-1] and len(out) <= _TREE_FAR:
        out.append(heads[out[-1]])
    return out


def _depths(heads: tuple[int, ...], i: int) -> dict[int, int]:
    return {a: k for k, a in enumerate(_ancestors(heads, i))}


def _tree_distance(
    heads: tuple[int, ...],
    root: int,
    targets: list[int],
    depths: dict[int, dict[int, int]] | None = None,
) -> int:
    """Dependency hops from `root` to the nearest of `targets` (capped at _TREE_FAR);
    `depths`: the targets' `_depths`, when already known."""
    up = _ancestors(heads, root)
    best = _TREE_FAR
    for t in targets[:20]:
        depth = depths[t] if depths is not None else _depths(heads, t)
        for k, a in enumerate(up):
            if a in depth:
                best = min(best, k + depth[a])
                break
    return best
