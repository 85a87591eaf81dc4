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


# Where each part of a phrase's row starts (SPAN_FEATURES' order).
_N_PLAIN = 19
_DEP_COL = {d: _N_PLAIN + i for i, d in enumerate(_DEPS)}
_POS_COL = {p: _N_PLAIN + len(_DEPS) + i for i, p in enumerate(_POS)}
_POS_OTHER = _N_PLAIN + len(_DEPS) + len(_POS)
_WH_COL = {w: _POS_OTHER + 1 + k * len(_WH_CROSS) for k, w in enumerate(_WH_KINDS)}


def phrase_features(qv: QuestionView, s: Analysis, spans: list[SpanCand]) -> np.ndarray:
    """What makes a phrase the answer, one row per phrase of `s`: its answer type against the
    question's, where the question's words sit around it (in the text and in the parse), and
    its shape. Built as one matrix: the reader scores ~200 phrases per question, and a row
    assembled from small arrays each cost a third of a warm ask."""
    out = np.zeros((len(spans), len(SPAN_FEATURES)))
    if not spans:
        return out
    q = qv.analysis
    sh = _shared(q, s)
    n, qc, lemmas, heads, pos_tags = len(s.lemmas), q.content, s.lemmas, s.heads, s.pos
    wh_col = _WH_COL.get(q.wh, _WH_COL[""])
    plain = []
    ups: dict[int, list[int]] = {}
    for r, sp in enumerate(spans):
        a, b, root = sp.tok_start, sp.tok_end, sp.root
        words = set(lemmas[a:b]) & s.content
        overlap = len(words & qc) / len(words) if words else 0.0
        matches = [i for i in sh.positions if not a <= i < b]
        if matches:
            dist = min(min(abs(i - a), abs(i - (b - 1))) for i in matches)
            near = 1.0 / (1.0 + dist)
            after = float(a > matches[0])
        else:
            near, after = 0.0, 0.0
        head = heads[root]
        grand = heads[head]
        type_p = float(qv.type_probs[LABEL_INDEX[sp.label]])
        n_tok = b - a
        number = any(ch.isdigit() for ch in s.text[sp.start : sp.end])
        pos = pos_tags[root]
        if root not in ups:
            ups[root] = _ancestors(heads, root)
        hops = _tree_distance(heads, root, matches, sh.depths, ups[root])
        plain.append((
            type_p, sp.label != "OTHER", overlap, overlap > 0, math.log1p(len(lemmas[a:b])),
            near, bool(matches), after, number, 1.0 / (1.0 + hops),
            head != root and lemmas[head] in qc, lemmas[grand] in qc and grand != head,
            # a question word outside the phrase that hangs from the phrase's own head
            any(heads[i] == head and i != head for i in matches),
            a / max(n, 1), a > 0 and pos_tags[a - 1] == "PUNCT", b < n and pos_tags[b] == "PUNCT",
            type_p * near, n_tok == 1, n_tok >= 5,
        ))  # fmt: skip
        if sp.dep in _DEP_COL:
            out[r, _DEP_COL[sp.dep]] = 1.0
        out[r, _POS_COL.get(pos, _POS_OTHER)] = 1.0
        out[r, wh_col : wh_col + len(_WH_CROSS)] = (
            sp.label != "OTHER", pos == "VERB", math.log1p(n_tok), pos == "NUM" or number,
        )  # fmt: skip
    out[:, :_N_PLAIN] = plain
    return out


def span_features(qv: QuestionView, s: Analysis, sp: SpanCand) -> np.ndarray:
    """`phrase_features` of one phrase."""
    return phrase_features(qv, s, [sp])[0]


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
    up: list[int] | None = None,
) -> int:
    """Dependency hops from `root` to the nearest of `targets` (capped at _TREE_FAR);
    `depths`: the targets' `_depths`, and `up`: `root`'s ancestors, when already known."""
    up = up if up is not None else _ancestors(heads, root)
    best = _TREE_FAR
    for t in targets[:20]:
        depth = depths[t] if depths is not None else _depths(heads, t)
        for k, a in enumerate(up):
            if a in depth:
                best = min(best, k + depth[a])
                break
    return best
