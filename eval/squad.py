"""SQuAD 2.0 articles as whole documents (../shared/squad2/README.md).

Each article becomes one text: the title, a blank line, then its paragraphs separated by blank
lines. Each question keeps its gold answers as offsets into that text, so a candidate sentence
can be labelled by whether it holds a gold span, not by string search (a "1973" may occur in
many sentences; only one holds the answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput

SHARED = Path(__file__).resolve().parents[2] / "shared" / "squad2"
DEV_FILE = SHARED / "dev-v2.0-8-articles.json"
TRAIN_FILE = SHARED / "train-v2.0-10-articles.json"


@dataclass(frozen=True)
class Gold:
    text: str
    start: int  # into the article's joined text
    end: int


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    golds: tuple[Gold, ...]  # empty: unanswerable

    @property
    def answerable(self) -> bool:
        return bool(self.golds)


@dataclass(frozen=True)
class Article:
    name: str  # a file-safe name ("Huguenot")
    title: str
    text: str
    questions: tuple[SquadQuestion, ...]
    split: str  # "dev" or "train"


def _article(raw: dict, split: str) -> Article:
    name = str(raw["title"])
    title = name.replace("_", " ")
    parts = [title]
    offset = len(title) + 2
    questions: list[SquadQuestion] = []
    for para in raw["paragraphs"]:
        ctx = para["context"]
        for q in para["qas"]:
            golds: list[Gold] = []
            seen: set[tuple[int, int]] = set()
            for a in q.get("answers", []) if not q.get("is_impossible") else []:
                s = offset + int(a["answer_start"])
                e = s + len(a["text"])
                if (s, e) not in seen and ctx[s - offset : e - offset] == a["text"]:
                    seen.add((s, e))
                    golds.append(Gold(a["text"], s, e))
            if q.get("is_impossible") or golds:
                questions.append(SquadQuestion(str(q["id"]), str(q["question"]), tuple(golds)))
        parts.append(ctx)
        offset += len(ctx) + 2
    text = "\n\n".join(parts) + "\n"
    return Article(_safe(name), title, text, tuple(questions), split)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def load_articles(path: Path, split: str) -> list[Article]:
    if not path.exists():
        raise BadInput(f"{path}: no such file", "the SQuAD articles live in ../shared/squad2/")
    data = json.loads(path.read_text(encoding="utf-8"))
    return [_article(a, split) for a in data["data"]]


def all_articles() -> list[Article]:
    return load_articles(DEV_FILE, "dev") + load_articles(TRAIN_FILE, "train")


def write_text(article: Article, folder: Path) -> Path:
    """The article as a .txt file a person would ingest (written once, atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{article.name}.txt"
    if not path.exists() or path.read_text(encoding="utf-8") != article.text:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(article.text)
        tmp.replace(path)
    return path
