"""Ingest time against input size (issue #11): one-line files of 0.25 to 2 MB, without any
sentence break and as one long line of prose, so that a superlinear step shows as a growing
time per MB. Run alone: `python -m eval.bench_ingest [--embed]`.

Two figures per file: reading, segmenting and chunking (where pysbd's superlinear cost used to
be), and with `--embed` the whole build of the unbroken line, embedding included (linear, and
most of the time).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from ingest.chunk import chunk_document
from ingest.load import read_source
from retrieval.embed import Embedder
from retrieval.index import IndexSettings, build

SIZES_MB = (0.25, 0.5, 1.0, 2.0)
_WORDS = [
    "harbour",
    "crane",
    "ship",
    "terminal",
    "grain",
    "container",
    "port",
    "city",
    "trade",
    "record",
    "officials",
]


def one_line(n_bytes: int, prose: bool, seed: int = 0) -> str:
    """`n_bytes` of ASCII on one line: words only, or sentences of 8 to 20 words."""
    rnd = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < n_bytes:
        n = rnd.randint(8, 20)
        words = [rnd.choice(_WORDS) for _ in range(n)]
        piece = (
            (words[0].capitalize() + " " + " ".join(words[1:]) + ".") if prose else " ".join(words)
        )
        out.append(piece)
        size += len(piece) + 1
    return " ".join(out)[:n_bytes] + "\n"


def ingest_scaling(
    embedder: Embedder | None = None, sizes: tuple[float, ...] = SIZES_MB
) -> list[str]:
    """Report lines: seconds and seconds per MB for each size, and each size's s/MB over the
    smallest one's (about 1.0 all the way down when ingest is linear)."""
    lines = [
        f"{'input':<22} {'MB':>5} {'segment+chunk s':>16} {'s/MB':>6} {'ratio':>6}"
        + (f" {'full build s':>13} {'s/MB':>6} {'ratio':>6}" if embedder else "")
    ]
    with tempfile.TemporaryDirectory(prefix="docqa-ingest-bench-") as tmp:
        warm = Path(tmp) / "warm.txt"  # tokenizer and segmenter load outside the timings
        warm.write_text(one_line(5000, True), encoding="utf-8")
        chunk_document(read_source(warm, Path(tmp) / "x").doc)
        for prose in (False, True):
            base: list[float] = []
            for mb in sizes:
                path = Path(tmp) / f"line-{mb}-{prose}.txt"
                path.write_text(one_line(int(mb * 1_000_000), prose), encoding="utf-8")
                t = time.perf_counter()
                doc = read_source(path, Path(tmp) / "x").doc
                chunk_document(doc)
                seg = time.perf_counter() - t
                row = [seg / mb]
                if embedder is not None and not prose:  # prose embeds alike, twice as long
                    t = time.perf_counter()
                    build([path], Path(tmp) / "index", embedder, IndexSettings())
                    row.append((time.perf_counter() - t) / mb)
                base = base or row
                name = "one line of prose" if prose else "one line, no sentence"
                cells = (
                    f"{name:<22} {mb:>5.2f} {seg:>16.2f} {row[0]:>6.2f} {row[0] / base[0]:>6.2f}"
                )
                if len(row) > 1:
                    cells += f" {row[1] * mb:>13.2f} {row[1]:>6.2f} {row[1] / base[1]:>6.2f}"
                lines.append(cells)
                path.unlink()
    return lines
