"""The files a list of paths names: files as given, folders walked recursively for every file
whose type `ingest.read.source_format` accepts (so a format added there is found here too)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput
from ingest.read import source_format


@dataclass(frozen=True)
class Found:
    files: tuple[Path, ...]
    skipped: tuple[tuple[Path, str], ...]  # (path, why) for what a folder held and we left out
    walked: frozenset[Path] = frozenset()  # the files (resolved) found inside a folder


def _accepted(path: Path) -> bool:
    try:
        source_format(path)
    except BadInput:
        return False
    return True


def discover(paths: list[Path]) -> Found:
    """Every file to ingest, in a stable order (folders sorted by path). A file named directly
    must exist (its reading says what is wrong with it otherwise); a folder's hidden entries,
    and files of types we do not read, are skipped and listed."""
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    walked: set[Path] = set()
    for p in paths:
        if not p.is_dir():
            if not p.exists():
                raise BadInput(f"{p}: no such file or folder", "check the path")
            files.append(p)
            continue
        for root, dirs, names in os.walk(p):
            here = Path(root)
            for d in sorted(dirs):
                if d.startswith("."):
                    skipped.append((here / d, "hidden folder"))
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                f = here / name
                if name.startswith("."):
                    skipped.append((f, "hidden file"))
                elif not _accepted(f):
                    skipped.append((f, f"type {f.suffix or '(none)'} not read"))
                else:
                    files.append(f)
                    walked.add(f.resolve())
    if not files:
        raise BadInput(
            f"no file to ingest in {', '.join(map(str, paths))}",
            "give .txt, .md, .html or .pdf files, or folders holding them",
        )
    return Found(tuple(files), tuple(skipped), frozenset(walked))
