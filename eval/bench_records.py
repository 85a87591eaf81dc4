"""Where the LLM benches keep their per-question records (`.docqa/bench/`, not committed): each
record as soon as it is made, and each run's records in one file named by model and sets."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROGRESS = ROOT / ".docqa" / "bench" / "llm-progress.jsonl"


def progress(rec: dict) -> None:
    """Each record as soon as it is made (a long run stopped early keeps what it measured)."""
    PROGRESS.parent.mkdir(parents=True, exist_ok=True)
    with open(PROGRESS, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def write_records(recs: list[dict], stem: str) -> Path:
    """A run's records, written whole (a temporary file, then renamed); the path."""
    sets = "+".join(dict.fromkeys(r["set"] for r in recs)) or "none"
    out = ROOT / ".docqa" / "bench" / f"llm-{stem}-{sets}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
    tmp.replace(out)
    return out
