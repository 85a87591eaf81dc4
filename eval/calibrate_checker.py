"""Calibrate the citation checker's weights and thresholds on the labelled claims.

    python -m eval.calibrate_checker [--dev eval/datasets/claims_dev.jsonl]
                                     [--holdout eval/datasets/claims_holdout.jsonl]

Grid-searches `CheckSettings.sim_weight`, `contradiction_margin` and the `supported`
threshold on the dev claims, each checked against the whole document (no citations, as
`docqa check` does), and prints accuracy, precision and recall of `unsupported` there and on
the holdout with the chosen values. Those values are the defaults of `CheckSettings` in
answer/check.py: when this script chooses others, copy them there.

A claim counts as flagged when its verdict is not `supported` (`partial` is a flag: a reader is
told to look). The objective is dev accuracy, subject to a recall of `unsupported` of at least
0.90; ties go to the setting whose threshold lies furthest from any claim's score (the widest
margin), then to the one nearest the current defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from answer.check import Checker, CheckSettings, Verdict  # noqa: E402
from core.errors import BadInput  # noqa: E402
from retrieval.embed import Embedder  # noqa: E402
from retrieval.index import DocIndex, IndexSettings, build  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "datasets" / "claims_dev.jsonl"
HOLDOUT = ROOT / "eval" / "datasets" / "claims_holdout.jsonl"
ARTICLE = ROOT / "data" / "india-japan-strategic-partnership.txt"

SIM_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 1.0)
THRESHOLDS = tuple(round(0.40 + 0.01 * i, 2) for i in range(46))  # 0.40 .. 0.85
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


def calibrate(
    checker: Checker, claims: list[Claim], log=print
) -> tuple[CheckSettings, Scores, float]:
    """The best settings on `claims`, their scores, and the margin of their threshold."""
    base = checker.settings
    best = None
    for w in SIM_WEIGHTS:
        for m in MARGINS:
            # The threshold plays no part in choosing the evidence: sweep it afterwards.
            s = base.replace(sim_weight=w, contradiction_margin=m, supported=1.0, partial=0.0)
            checker.settings = s
            vs = verdicts(checker, claims)
            raw = [(v.score, _vetoed(v)) for v in vs]
            for t in THRESHOLDS:
                flags = [vetoed or score < t for score, vetoed in raw]
                sc = scores(flags, claims)
                free = [score for score, vetoed in raw if not vetoed]
                gap = min((abs(score - t) for score in free), default=1.0)
                dist = abs(w - base.sim_weight) + abs(m - base.contradiction_margin)
                key = (sc.recall >= MIN_RECALL, round(sc.accuracy, 6), round(gap, 4), -dist)
                if best is None or key > best[0]:
                    best = (key, w, m, t, sc, gap)
    assert best is not None
    _, w, m, t, sc, gap = best
    partial = max(0.0, round(t - 0.12, 2))
    chosen = base.replace(sim_weight=w, contradiction_margin=m, supported=t, partial=partial)
    checker.settings = chosen
    log(f"chosen: sim_weight={w} contradiction_margin={m} supported={t} partial={partial}")
    return chosen, sc, gap


def _vetoed(v: Verdict) -> bool:
    """Whether a lexical check (not the score) made this verdict unsupported."""
    return v.support == "unsupported" and bool(v.reasons) and not v.reasons[0].startswith(
        "not stated"
    )


def by_kind(claims: list[Claim], vs: list[Verdict]) -> dict[str, tuple[int, int]]:
    """Per kind of claim: (right, total)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c, v in zip(claims, vs, strict=True):
        out[c.kind][0] += flagged(v) == (c.label == "unsupported")
        out[c.kind][1] += 1
    return {k: (a, b) for k, (a, b) in sorted(out.items())}


def report(name: str, checker: Checker, claims: list[Claim], show_errors: bool) -> Scores:
    vs = verdicts(checker, claims)
    sc = scores([flagged(v) for v in vs], claims)
    print(f"{name}: {sc.line()}")
    kinds = by_kind(claims, vs)
    print("  by kind: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in kinds.items()))
    if show_errors:
        for c, v in zip(claims, vs, strict=True):
            if flagged(v) != (c.label == "unsupported"):
                why = "; ".join(v.reasons) or f"score {v.score:.2f}"
                print(f"  miss {c.id} ({c.label}, {c.kind}): {v.support} {v.score:.2f}: {why}")
    return sc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.calibrate_checker")
    ap.add_argument("--dev", type=Path, default=DEV)
    ap.add_argument("--holdout", type=Path, default=HOLDOUT)
    ap.add_argument("--errors", action="store_true", help="list the misclassified claims")
    args = ap.parse_args(argv)
    embedder = Embedder()
    checker = Checker(embedder, build_index(embedder))
    dev, held = load_claims(args.dev), load_claims(args.holdout)
    print(f"defaults: {checker.settings}")
    report("dev (defaults)", checker, dev, False)
    chosen, sc, gap = calibrate(checker, dev)
    print(f"threshold margin to the nearest dev claim: {gap:.3f}")
    report("dev (chosen)", checker, dev, args.errors)
    report("holdout (chosen)", checker, held, args.errors)
    if chosen != CheckSettings():
        print("note: the chosen values differ from CheckSettings' defaults; copy them there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
