"""The PDF bench (issue #14): the two readable shared PDFs in one index, their Q&A set
(eval/datasets/pdfs.jsonl), and what only PDFs have: pages and boxes.

- contained, accuracy, abstention recall, hit@3: `docqa eval`'s own figures;
- offsets: every citation and passage, `source[start:end] == quote`;
- page correct: each citation's page (`page_at(doc.pages, start)`) is the page its quote is
  printed on, checked against pypdfium2's own text of that page (another extraction than ours);
- gold page: answered questions whose citation's page is the page of their evidence;
- placed: citations whose characters are boxed on their page (ingest/pdf_place.py), inside it;
- de-hyphenation: the hyphens taken out at line ends, and how many of the joined words the same
  document writes whole elsewhere, or with the hyphen (a real compound broken);
- extraction time per page (wall and CPU; reading, layout, structure and sentences).

Run alone: `python -m app.bench pdf`.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from answer.pipeline import Pipeline
from core.types import page_at
from eval.bench_reader import DATASETS, ROOT
from eval.evaluate import evaluate
from eval.pdfium_check import letters_and_digits, page_sizes, pdfium_pages
from eval.qa import read_qa
from ingest.load import read_source
from ingest.pdf import open_pdf, page_texts, raw_pages
from ingest.pdf_place import QuoteBox, place_quote
from retrieval.embed import Embedder
from retrieval.index import IndexSettings, build

PDF_DIR = ROOT.parent / "shared" / "pdfs"
PDFS = ("federal-register-2020-17221.pdf", "scotus-transcript-p1.pdf")
QA = DATASETS / "pdfs.jsonl"
PLACE_AT_MOST = 3  # placing re-reads up to five pages (seconds): a few show it works


def _inside(b: QuoteBox, sizes: list[tuple[float, float]]) -> bool:
    width, height = sizes[b.page - 1]
    return 0 <= b.x0 < b.x1 <= width and 0 <= b.top < b.bottom <= height


def _printed_on(quote: str, pages: list[str], page: int) -> bool:
    """The quote's first words are on that page in pypdfium2's text (hyphens, spaces and
    punctuation aside: only letters and digits are compared)."""
    head = letters_and_digits(quote)[:24]
    return bool(head) and head in pages[page - 1]


def dehyphenation(path: Path) -> dict[str, int]:
    """Line ends inside a word (the next line goes on without a space): hyphens `kept` (a
    compound) and `removed`, and of the joined words, how many the document also writes
    `whole` elsewhere or `hyphenated` elsewhere (a compound broken)."""
    with open_pdf(path) as pdf:
        texts = page_texts(raw_pages(pdf, path))
    low = " ".join(t.text for t in texts).lower()
    out = {"kept": 0, "removed": 0, "whole": 0, "hyphenated": 0}
    for t in texts:
        for k in range(1, len(t.text)):
            a, b = t.boxes[k - 1], t.boxes[k]
            if a is None or b is None or abs(b[1] - a[1]) < 0.5 * (a[3] - a[1]):
                continue  # a space between, or the same line
            if t.text[k - 1] == "-" and t.text[k].islower():
                out["kept"] += 1
            elif t.text[k - 1].isalpha() and t.text[k].islower():
                lo, hi = k, k
                while lo > 0 and t.text[lo - 1].isalpha():
                    lo -= 1
                while hi < len(t.text) and t.text[hi].isalpha():
                    hi += 1
                word, cut = t.text[lo:hi].lower(), k - lo
                out["removed"] += 1
                out["whole"] += len(re.findall(rf"\b{re.escape(word)}\b", low)) > 1
                out["hyphenated"] += f"{word[:cut]}-{word[cut:]}" in low
    return out


def bench_pdf(
    embedder: Embedder, make_pipeline: Callable[[object, Embedder], Pipeline]
) -> Iterator[str]:
    files = [PDF_DIR / n for n in PDFS]
    missing = [str(p) for p in [*files, QA] if not p.exists()]
    if missing:
        yield f"pdf: skipped ({', '.join(missing)} missing)"
        return
    tmp = Path(tempfile.mkdtemp(prefix="docqa-bench-pdf-"))
    t0, c0 = time.perf_counter(), time.process_time()
    n_pages = sum(len(read_source(p, tmp / "x").doc.pages) for p in files)
    per_page = (time.perf_counter() - t0) / n_pages
    cpu_page = (time.process_time() - c0) / n_pages  # the machine may be shared: CPU too
    index = build(files, tmp / "index", embedder, IndexSettings())
    items, _ = read_qa(QA)
    gold = {str(r["id"]): r.get("page") for r in map(json.loads, QA.read_text().splitlines()) if r}
    recs = evaluate(make_pipeline(index, embedder), items, qa_file=QA)["questions"]
    docs = {d.source: (d, path) for d, path in zip(index.documents, files, strict=True)}
    printed = {d.source: pdfium_pages(path) for d, path in docs.values()}
    sizes = {d.source: page_sizes(path) for d, path in docs.values()}

    cites = [c for r in recs for c in r["citations"]]
    spans = cites + [p for r in recs for p in r["passages"]]
    offsets_ok = sum(
        docs[s["source"]][0].text[s["start"] : s["end"]] == s.get("quote", s.get("text"))
        for s in spans
    )
    page_ok = sum(
        _printed_on(
            c["quote"], printed[c["source"]], page_at(docs[c["source"]][0].pages, c["start"])
        )
        for c in cites
    )
    answered = [r for r in recs if r["answerable"] and r["citations"]]
    gold_page = sum(
        page_at(docs[r["citations"][0]["source"]][0].pages, r["citations"][0]["start"])
        == gold[str(r["id"])]
        for r in answered
    )
    ans = [r for r in recs if r["answerable"]]
    un = [r for r in recs if not r["answerable"]]
    contained = sum(r["metrics"]["answer_contained"] for r in ans) / len(ans)
    hit3 = sum(r["metrics"].get("retrieval_hit@3", 0) for r in ans) / len(ans)
    placed = inside = 0
    tried = cites[:PLACE_AT_MOST]
    t1 = time.perf_counter()
    for c in tried:
        doc, path = docs[c["source"]]
        boxes = place_quote(path, doc.text, doc.pages, c["start"], c["end"])
        placed += boxes is not None
        inside += boxes is not None and all(_inside(b, sizes[c["source"]]) for b in boxes)
    place_s = (time.perf_counter() - t1) / max(1, len(tried))
    dh = dehyphenation(files[0])
    yield (
        f"pdf set ({len(recs)} q, {len(un)} unanswerable, {n_pages} pages): contained "
        f"{contained:.3f} (target >= 0.85), accuracy "
        f"{sum(r['correct'] for r in recs) / len(recs):.3f}, abstention recall "
        f"{sum(r['abstained'] for r in un) / max(1, len(un)):.3f}, hit@3 {hit3:.3f}"
    )
    yield (
        f"pdf citations: page correct {page_ok}/{len(cites)} (target all), offsets hold "
        f"{offsets_ok}/{len(cites)} (target all), gold page "
        f"{gold_page}/{len(answered)} answered, placed on page {placed}/{len(tried)} "
        f"({inside} inside it, {place_s:.1f} s each)"
    )
    yield (
        f"pdf extraction {per_page * 1000:.0f} ms/page ({cpu_page * 1000:.0f} ms CPU, text and "
        f"sentences); line-end hyphens in {PDFS[0]}: "
        f"{dh['kept']} kept (compounds), {dh['removed']} taken out ({dh['whole']} of those words "
        f"also written whole elsewhere, {dh['hyphenated']} with a hyphen elsewhere)"
    )
