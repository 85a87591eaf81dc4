"""Calibrate the citation checker's weights and thresholds on the labelled claims.

    python -m app.bench calibrate [--errors]

Grid-searches `CheckSettings.sim_weight`, `contradiction_margin` and the `supported`
threshold on the dev claims, each checked against the whole document (no citations, as
`docqa check` does), and reports accuracy, precision and recall of `unsupported` there and on
the holdout with the chosen values (`calibration()` yields the lines; app/ prints them). Those
values are the defaults of `CheckSettings` in verify/types.py; the report says so when it would
choose others (copy them there).

A claim counts as flagged when its verdict is not `supported` (`partial` is a flag: a reader is
told to look). The objective is dev accuracy, subject to a recall of `unsupported` of at least
0.90, then the share of off-topic sentences (other articles, from shared/realworld) flagged.
The lexical checks catch every unsupported dev claim, so the dev claims alone only bound the
threshold from above (the weakest paraphrase); the off-topic sentences bound it from below.
The threshold is the middle of the widest run of thresholds with the best objective, and the
weights are those whose run is widest (the most margin either side), then those nearest the
current defaults. `partial` is set 0.1 below `supported`: the labels are binary, so nothing
calibrates it.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput
from data import DEFAULT_ARTICLE
from ingest.load import load_document
from retrieval.embed import Embedder
from retrieval.index import DocIndex, IndexSettings, build
from verify.checker import Checker
from verify.types import CheckSettings, Verdict

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "datasets" / "claims_dev.jsonl"
HOLDOUT = ROOT / "eval" / "datasets" / "claims_holdout.jsonl"
ARTICLE = DEFAULT_ARTICLE  # the claims are about the shipped article

SIM_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 1.0)
THRESHOLDS = tuple(round(0.20 + 0.01 * i, 2) for i in range(71))  # 0.20 .. 0.90
MIN_RECALL = 0.90


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    label: str  # supported | unsupported
    kind: str


@dataclass(frozen=True)
class Scores:
    n: int
    accuracy: float
    precision: float  # of `unsupported` (flagged)
    recall: float  # of `unsupported`

    def line(self) -> str:
        return (
            f"accuracy {self.accuracy:.3f}  precision(unsupported) {self.precision:.3f}  "
            f"recall(unsupported) {self.recall:.3f}  (n={self.n})"
        )


def load_claims(path: Path) -> list[Claim]:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            d = json.loads(line)
            if d.get("label") not in ("supported", "unsupported"):
                raise BadInput(f"{path}:{n}: label {d.get('label')!r}", "supported|unsupported")
            out.append(Claim(str(d["id"]), d["claim"], d["label"], d.get("kind", "")))
    return out


def scores(flags: list[bool], claims: list[Claim]) -> Scores:
    """Accuracy, and precision and recall of `unsupported`, for flags (True = not supported)."""
    gold = [c.label == "unsupported" for c in claims]
    tp = sum(f and g for f, g in zip(flags, gold, strict=True))
    fp = sum(f and not g for f, g in zip(flags, gold, strict=True))
    fn = sum(g and not f for f, g in zip(flags, gold, strict=True))
    n = len(claims)
    acc = sum(f == g for f, g in zip(flags, gold, strict=True)) / n if n else 0.0
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return Scores(n, acc, prec, rec)


def flagged(v: Verdict) -> bool:
    return v.support != "supported"


def build_index(embedder: Embedder) -> DocIndex:
    """The shipped article, indexed in memory (nobody else's index is touched)."""
    with tempfile.TemporaryDirectory(prefix="docqa-calib-") as tmp:
        return build([ARTICLE], Path(tmp), embedder, IndexSettings())


def verdicts(checker: Checker, claims: list[Claim]) -> list[Verdict]:
    checker.reset()
    return [checker.find_support(c.claim) for c in claims]


def offtopic_sentences(limit: int = 120) -> list[str]:
    """Sentences of other articles (shared/realworld): claims the document cannot support.

    They give the score threshold its lower bound, which the dev claims alone leave open (all
    of their unsupported claims are caught by a lexical check, none by the score)."""
    folder = ROOT.parent / "shared" / "realworld"
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="docqa-calib-") as tmp:
        for path in sorted(folder.glob("*.htm*")):
            try:
                doc, _ = load_document(path, Path(tmp))
            except Exception:  # a page we cannot read only costs us some negatives
                continue
            out.extend(s.text for s in doc.sentences if 30 < len(s.text) < 300)
    return out[:limit]


def _plateau(flags_at: list[tuple[float, tuple]]) -> tuple[float, float, tuple]:
    """The widest run of consecutive thresholds with the best key: (low, high, key)."""
    best_key = max(k for _, k in flags_at)
    runs: list[tuple[float, float]] = []
    lo = None
    prev = None
    for t, k in flags_at:
        if k == best_key:
            lo = t if lo is None else lo
            prev = t
        elif lo is not None:
            runs.append((lo, prev))
            lo = None
    if lo is not None:
        runs.append((lo, prev))
    low, high = max(runs, key=lambda r: r[1] - r[0])
    return low, high, best_key


def calibrate(
    checker: Checker, claims: list[Claim], negatives: list[str]
) -> tuple[CheckSettings, Scores, float]:
    """The best settings on `claims` (plus off-topic `negatives`), their dev scores, and the
    width of the threshold plateau they were chosen from."""
    base = checker.settings
    best = None
    for w in SIM_WEIGHTS:
        for m in MARGINS:
            # The threshold plays no part in choosing the evidence: sweep it afterwards.
            checker.settings = base.replace(
                sim_weight=w, contradiction_margin=m, supported=1.0, partial=0.0
            )
            raw = [(v.score, _vetoed(v)) for v in verdicts(checker, claims)]
            neg = [(v.score, _vetoed(v)) for v in (checker.find_support(n) for n in negatives)]
            keyed = []
            for t in THRESHOLDS:
                sc = scores([vetoed or score < t for score, vetoed in raw], claims)
                neg_acc = sum(v or x < t for x, v in neg) / len(neg) if neg else 1.0
                keyed.append((t, (sc.recall >= MIN_RECALL, round(sc.accuracy, 6), neg_acc)))
            low, high, key = _plateau(keyed)
            t = round((low + high) / 2, 2)
            dist = abs(w - base.sim_weight) + abs(m - base.contradiction_margin)
            rank = (*key, round(high - low, 4), -dist)
            if best is None or rank > best[0]:
                sc = scores([vetoed or score < t for score, vetoed in raw], claims)
                best = (rank, w, m, t, sc, high - low)
    assert best is not None
    _, w, m, t, sc, width = best
    partial = max(0.0, round(t - 0.1, 2))
    chosen = base.replace(sim_weight=w, contradiction_margin=m, supported=t, partial=partial)
    checker.settings = chosen
    return chosen, sc, width


def _vetoed(v: Verdict) -> bool:
    """Whether a lexical check (not the score) made this verdict unsupported."""
    return (
        v.support == "unsupported" and bool(v.reasons) and not v.reasons[0].startswith("not stated")
    )


def by_kind(claims: list[Claim], vs: list[Verdict]) -> dict[str, tuple[int, int]]:
    """Per kind of claim: (right, total)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c, v in zip(claims, vs, strict=True):
        out[c.kind][0] += flagged(v) == (c.label == "unsupported")
        out[c.kind][1] += 1
    return {k: (a, b) for k, (a, b) in sorted(out.items())}


def report(name: str, checker: Checker, claims: list[Claim], show_errors: bool) -> list[str]:
    vs = verdicts(checker, claims)
    sc = scores([flagged(v) for v in vs], claims)
    kinds = by_kind(claims, vs)
    lines = [f"{name}: {sc.line()}"]
    lines.append("  by kind: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in kinds.items()))
    if show_errors:
        for c, v in zip(claims, vs, strict=True):
            if flagged(v) != (c.label == "unsupported"):
                why = "; ".join(v.reasons) or f"score {v.score:.2f}"
                lines.append(
                    f"  miss {c.id} ({c.label}, {c.kind}): {v.support} {v.score:.2f}: {why}"
                )
    return lines


def calibration(
    embedder: Embedder, dev_file: Path = DEV, holdout_file: Path = HOLDOUT, errors: bool = False
) -> Iterator[str]:
    """The calibration's report, line by line as it is computed; `errors` lists the
    misclassified claims."""
    checker = Checker(embedder, build_index(embedder))
    dev, held = load_claims(dev_file), load_claims(holdout_file)
    yield f"defaults: {checker.settings}"
    yield from report("dev (defaults)", checker, dev, False)
    negatives = offtopic_sentences()
    yield f"off-topic negatives (sentences of shared/realworld pages): {len(negatives)}"
    chosen, _, width = calibrate(checker, dev, negatives)
    c = chosen
    yield (f"chosen: sim_weight={c.sim_weight} contradiction_margin={c.contradiction_margin} "
           f"supported={c.supported} partial={c.partial}")  # fmt: skip
    yield f"the threshold is the middle of a plateau {width:.2f} wide"
    if negatives:
        vs = [checker.find_support(n) for n in negatives]
        caught = sum(flagged(v) for v in vs)
        yield f"off-topic sentences flagged: {caught}/{len(vs)}"
    yield from report("dev (chosen)", checker, dev, errors)
    yield from report("holdout (chosen)", checker, held, errors)
    if chosen != CheckSettings():
        yield "note: the chosen values differ from CheckSettings' defaults; copy them there"
