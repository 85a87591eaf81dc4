"""The reader's training data as arrays: each SQuAD question's candidates with their features
(`prepare`), and the answer-removed negatives (`without_answer`). Used by eval/train_reader.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from answer.reader.features import (
    SENTENCE_FEATURES,
    QuestionView,
    SentenceStats,
    answer_spans,
    phrase_features,
    sentence_features,
)
from answer.reader.nlp import LABEL_INDEX, LABELS, Analysis, Nlp
from eval.metrics import token_f1

_NEUTRAL = np.full(len(LABELS), 1.0 / len(LABELS))


@dataclass
class Q:
    rec: dict
    qvec: np.ndarray
    q: Analysis
    view: QuestionView  # with neutral type probabilities; the fold's come in by `patch`
    sents: list[Analysis]
    span_x: list[np.ndarray]  # per candidate: (n_spans, n_span_features)
    span_lab: list[np.ndarray]  # per candidate: label index of each span
    span_y: list[np.ndarray]  # per candidate: each span's F1 against the gold answers (0 if
    # the candidate holds no gold span)
    span_text: list[list[str]]
    sent_x: np.ndarray  # (n_cands, n_sentence_features)
    sent_masks: np.ndarray  # (n_cands, n_labels): which labels its answer spans have
    sent_y: np.ndarray
    type_y: int  # label index of the gold answer, -1 when unknown or unanswerable


def prepare(recs: list[dict], qvecs: np.ndarray, nlp: Nlp, index_info: dict) -> list[Q]:
    qs_an = nlp.analyze([r["question"] for r in recs])
    out: list[Q] = []
    for r, qv_vec, qa in zip(recs, qvecs, qs_an, strict=True):
        ents, nums = index_info[r["id"]]
        view = QuestionView(qa, _NEUTRAL, r["unseen_share"], ents, nums)
        sents = nlp.analyze([c["text"] for c in r["cands"]])
        span_x, span_lab, span_y, span_text, sx, masks = [], [], [], [], [], []
        type_y = -1
        for c, s in zip(r["cands"], sents, strict=True):
            spans = answer_spans(qa, s)
            texts = [s.text[sp.start : sp.end] for sp in spans]
            xs = phrase_features(view, s, spans)
            span_x.append(xs)
            span_lab.append(np.array([LABEL_INDEX[sp.label] for sp in spans], dtype=int))
            golds = r["golds"]
            span_y.append(np.array([token_f1(t, golds) if c["label"] else 0.0 for t in texts]))
            span_text.append(texts)
            m = np.zeros(len(LABELS))
            for sp in spans:
                m[LABEL_INDEX[sp.label]] = 1
            masks.append(m)
            sx.append(sentence_features(view, SentenceStats(**c["stats"]), s, spans, 0.0))
            if c["label"] and type_y < 0:
                type_y = _gold_label(r, c, s)
        out.append(Q(r, qv_vec, qa, view, sents, span_x, span_lab, span_y, span_text,
                     np.stack(sx) if sx else np.zeros((0, len(SENTENCE_FEATURES))),
                     np.stack(masks) if masks else np.zeros((0, len(LABELS))),
                     np.array([c["label"] for c in r["cands"]], dtype=bool), type_y))  # fmt: skip
    return out


def _gold_label(r: dict, c: dict, s: Analysis) -> int:
    """The entity label of the gold answer in its sentence, OTHER when it is no entity."""
    for gs, ge in r["gold_spans"]:
        if not (c["start"] <= gs and ge <= c["end"]):
            continue
        gs, ge = gs - c["start"], ge - c["start"]
        for e in s.entities:
            inter = min(ge, e.end) - max(gs, e.start)
            if inter > 0 and inter >= 0.5 * (ge - gs) and inter >= 0.5 * (e.end - e.start):
                return LABEL_INDEX[e.label]
        return LABEL_INDEX["OTHER"]
    return -1


def without_answer(q: Q) -> Q | None:
    """The question asked of its document as if the sentences holding the answer were gone:
    an unanswerable question about something the document does discuss.

    SQuAD's own unanswerable questions were written to copy the paragraph's words, so on them
    alone the answerability model learns that missing words mean an answer (content_missing
    weighed for answering). Real users' unanswerable questions mostly ask what a document
    touches on but does not state; these negatives teach that case from every answerable
    question, with the candidates' relative statistics recomputed over what is left."""
    keep = [i for i, y in enumerate(q.sent_y) if not y]
    if not q.rec["answerable"] or not q.sent_y.any() or not keep:
        return None
    cands = [q.rec["cands"][i] for i in keep]
    stats = [SentenceStats(**c["stats"]) for c in cands]
    dense_best = max(st.dense for st in stats)
    lex_best = max(st.lexical for st in stats)
    bm_best = max(st.bm25_rel for st in stats) or 1.0
    order = sorted(range(len(stats)), key=lambda i: -stats[i].dense)
    rank = {i: r + 1 for r, i in enumerate(order)}
    stats = [
        replace(st, dense_best=dense_best, lexical_best=lex_best, dense_rank=rank[i],
                bm25_rel=st.bm25_rel / bm_best)
        for i, st in enumerate(stats)
    ]  # fmt: skip
    sents = [q.sents[i] for i in keep]
    sx = [
        sentence_features(q.view, st, s, answer_spans(q.q, s), 0.0)
        for st, s in zip(stats, sents, strict=True)
    ]
    rec = {**q.rec, "answerable": False, "golds": [], "gold_spans": [], "cands": cands}
    return Q(
        rec, q.qvec, q.q, q.view, sents, [q.span_x[i] for i in keep],
        [q.span_lab[i] for i in keep], [np.zeros(len(q.span_y[i])) for i in keep],
        [q.span_text[i] for i in keep], np.stack(sx), q.sent_masks[keep],
        np.zeros(len(keep), bool), -1,
    )  # fmt: skip
