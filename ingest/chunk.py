"""Chunks: runs of whole sentences within one section, token-bounded, one sentence of overlap."""

from __future__ import annotations

from pathlib import PurePath

from core.errors import BadInput
from core.types import Chunk, Document, Sentence
from ingest.tokens import count_tokens, encoding


def _split_long(doc: Document, sent: Sentence, max_tokens: int) -> list[Sentence]:
    """A sentence longer than a chunk is cut at token boundaries mapped back to characters."""
    ids = encoding().encode(sent.text, disallowed_special=())
    pieces: list[Sentence] = []
    pos = 0
    for i in range(0, len(ids), max_tokens):
        piece = encoding().decode(ids[i : i + max_tokens])
        if i + max_tokens >= len(ids):
            end = len(sent.text)
        elif sent.text.startswith(piece, pos):
            end = pos + len(piece)
        else:  # decoding split a multibyte character: cut proportionally instead
            end = min(len(sent.text), pos + max(1, len(sent.text) * max_tokens // len(ids)))
        s, e = sent.start + pos, sent.start + end
        if e > s:
            pieces.append(Sentence(s, e, doc.text[s:e]))
        pos = end
    return pieces


def chunk_document(doc: Document, max_tokens: int = 200, overlap: int = 1) -> list[Chunk]:
    """Greedy packing of each section's sentences into chunks of at most `max_tokens`."""
    if max_tokens < 16:
        raise BadInput(f"chunk size {max_tokens} tokens is too small", "use at least 16")
    if overlap < 0:
        raise BadInput(f"chunk overlap {overlap} is negative", "use 0 or more sentences")
    stem = PurePath(doc.source).stem
    chunks: list[Chunk] = []
    for sec in doc.sections:
        sents: list[Sentence] = []
        for s in doc.sentences:
            if sec.start <= s.start and s.end <= sec.end:
                if count_tokens(s.text) > max_tokens:
                    sents.extend(_split_long(doc, s, max_tokens))
                else:
                    sents.append(s)
        i = 0
        while i < len(sents):
            j = i + 1
            while j < len(sents):
                if count_tokens(doc.text[sents[i].start : sents[j].end]) > max_tokens:
                    break
                j += 1
            group = sents[i:j]
            start, end = group[0].start, group[-1].end
            text = doc.text[start:end]
            chunks.append(
                Chunk(
                    chunk_id=f"{stem}:{start}-{end}",
                    source=doc.source,
                    start=start,
                    end=end,
                    text=text,
                    section=sec.heading,
                    n_tokens=count_tokens(text),
                    sentences=tuple(group),
                )
            )
            if j >= len(sents):
                break
            # Step back by `overlap` sentences, but always move forward.
            i = max(i + 1, j - overlap)
    return chunks
