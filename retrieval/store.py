"""The index on disk: versioned folders and a pointer, so that no crash ever loses an index.

Layout of an index dir (no pickle anywhere):
  CURRENT           the name of the live version folder; replaced atomically (os.replace)
  .lock             held (flock) while a save writes or leftovers are cleaned
  v-…/              one complete, never modified version:
    manifest.json   sources and their hashes, model, chunk settings, versions, and the sha256
                    of every other file of the folder (a corrupt file is detected)
    sources.json    the sources' paths and hashes again, so that one damaged file cannot take
                    away what the index was built from (it is rebuilt from them)
    chunks.jsonl    one Chunk per line
    chunks.faiss    chunk vectors; sentences.faiss: the distinct sentences' vectors, in order
    extracted/      text extracted from HTML (or decoded from UTF-16); offsets refer to these
  .tmp-v-…/         a version being written; renamed to v-… once complete

A save writes `.tmp-v-X`, renames it to `v-X`, then replaces CURRENT: killed before the last
step, CURRENT still names the previous version, which opens; the leftovers are removed on the
next open or save. Readers never see half a version.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from core.errors import BadInput, IndexProblem
from retrieval.index import EXTRACTED, DocIndex, new_version
from retrieval.manifest import MANIFEST, SOURCES
from retrieval.store_read import read_version
from retrieval.store_write import fsync_dir, write_version

POINTER = "CURRENT"
LOCK = ".lock"
_VERSION = re.compile(r"^v-[0-9T]+-[0-9a-f]+$")
# What a format-1 index kept directly in the index dir; removed once a version replaces it.
_LEGACY = (MANIFEST, "chunks.jsonl", "chunks.faiss", "sentences.faiss", "clauses.faiss")
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def check_dir(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise BadInput(
            f"the index dir {index_dir} is a file, not a folder",
            "point --index-dir or DOCQA_INDEX_DIR at a folder (it is created if missing)",
        )


def not_writable(index_dir: Path, e: OSError) -> BadInput:
    return BadInput(
        f"the index dir {index_dir} is not writable ({e.strerror})",
        "make it writable, or point --index-dir or DOCQA_INDEX_DIR at a writable folder",
    )


# ---- finding the live version --------------------------------------------------------------


def _pointer(index_dir: Path) -> str:
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return name if _VERSION.match(name) else ""


def current_version(index_dir: Path) -> str:
    """The name CURRENT holds ("" without one): what `save(..., expect=)` compares."""
    return _pointer(index_dir)


def _versions(index_dir: Path) -> list[Path]:
    """Complete version folders, oldest first (their names sort by time)."""
    try:
        return sorted(p for p in index_dir.iterdir() if _VERSION.match(p.name) and p.is_dir())
    except OSError:
        return []


def live_folder(index_dir: Path) -> Path | None:
    """The folder of the index in use: CURRENT's; without a usable pointer (killed before the
    first one was written, or damaged) the newest complete version; else a format-1 index
    kept in the index dir itself; None when there is no index."""
    name = _pointer(index_dir)
    if name and (index_dir / name).is_dir():
        return index_dir / name
    versions = _versions(index_dir)
    if versions:
        return versions[-1]
    if any((index_dir / n).exists() for n in _LEGACY):
        return index_dir
    return None


def has_index(index_dir: Path) -> bool:
    """Whether an index was ever completed here (as opposed to nothing, or a killed first
    save): a pointer left without its folder still says one was."""
    return index_dir.is_dir() and (
        (index_dir / POINTER).exists() or live_folder(index_dir) is not None
    )


def recorded_sources(index_dir: Path) -> list[Path] | None:
    """The paths the index was built from, from sources.json or else the manifest (of the live
    version, or of any other complete one); None when no readable record of them is left."""
    live = live_folder(index_dir)
    folders = [live] if live is not None else []
    folders += [v for v in reversed(_versions(index_dir)) if v != live]
    for folder in folders:
        for name in (SOURCES, MANIFEST):
            try:
                doc = json.loads((folder / name).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            srcs = doc.get("sources") if isinstance(doc, dict) else None
            if (
                isinstance(srcs, list)
                and srcs
                and all(isinstance(s, dict) and isinstance(s.get("path"), str) for s in srcs)
            ):
                return [Path(s["path"]) for s in srcs]
    return None


# ---- cleaning up ---------------------------------------------------------------------------


@contextlib.contextmanager
def _lock(index_dir: Path, wait: bool) -> Iterator[bool]:
    """An exclusive lock on the index dir; yields False when not taken (busy, or read-only)."""
    try:
        fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _clean(index_dir: Path, keep: Path | None) -> None:
    """Remove what a killed or finished save left behind: unfinished and replaced versions, and
    a format-1 index once a version supersedes it."""
    legacy = keep != index_dir and _is_legacy(index_dir)
    for p in index_dir.iterdir():
        if p == keep or p.name in (POINTER, LOCK):
            continue
        leftover = p.name.startswith((".tmp-v-", f".{POINTER}.")) or _VERSION.match(p.name)
        if leftover or (legacy and p.name in (*_LEGACY, EXTRACTED)):
            _remove(p)


def _is_legacy(index_dir: Path) -> bool:
    """Whether the dir holds a format-1 index of ours: only then are those names removed (an
    index dir pointed at a folder of the user's keeps a manifest.json of theirs)."""
    try:
        m = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(m, dict) and m.get("format") == 1 and "files" in m


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink()


def _recover_legacy_swap(index_dir: Path) -> None:
    """A format-1 save killed between its two renames left the index dir missing and the old
    index at `.NAME-old-*` beside it: put it back (it is then rebuilt in the new format)."""
    parent = index_dir.parent
    if index_dir.exists() or not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{index_dir.name}-old-*"))
    for old in reversed(olds):
        if (old / MANIFEST).exists():
            with contextlib.suppress(OSError):
                os.replace(old, index_dir)
                return


def tidy(index_dir: Path) -> None:
    """Best effort, on open: recover a legacy swap and remove leftovers, unless a save is
    running (it holds the lock) or the folder is read-only."""
    _recover_legacy_swap(index_dir)
    if not index_dir.is_dir():
        return
    with _lock(index_dir, wait=False) as locked:
        if locked:
            live = live_folder(index_dir)
            if live is not None:
                _clean(index_dir, live)


# ---- saving --------------------------------------------------------------------------------


def save(index: DocIndex, index_dir: Path, expect: str | None = None) -> None:
    """Write `index` as a new version of `index_dir` and switch CURRENT to it atomically.

    `expect`: the version the index was made from ("" for none); when another save switched
    CURRENT since, nothing is written and BadInput says so (two ingests into one collection at
    once would otherwise lose the first one's documents)."""
    check_dir(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with _lock(index_dir, wait=True) as locked:
            if not locked:
                raise PermissionError(errno.EACCES, "cannot create its lock file")
            if expect is not None and _pointer(index_dir) != expect:
                raise BadInput(
                    f"the collection in {index_dir} changed while this ran",
                    "run the command again",
                )
            _save_locked(index, index_dir)
    except OSError as e:
        if e.errno in _NOT_WRITABLE:
            raise not_writable(index_dir, e) from None
        raise


def _save_locked(index: DocIndex, index_dir: Path) -> None:
    if not index.version:  # an index read from a format-1 dir, or made by hand
        index.version = new_version()
    final = index_dir / index.version
    if final.is_dir() and _pointer(index_dir) == index.version:
        return  # versions never change: this one is saved and live already
    if final.exists():
        _remove(final)
    tmp = index_dir / f".tmp-{index.version}"
    _remove(tmp)
    try:
        manifest = write_version(index, tmp)
        os.rename(tmp, final)
    except BaseException:
        _remove(tmp)
        raise
    pointer_tmp = index_dir / f".{POINTER}.{index.version}"
    with open(pointer_tmp, "w", encoding="utf-8") as f:
        f.write(index.version + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / POINTER)  # the switch: atomic
    fsync_dir(index_dir)
    index.manifest = manifest
    _clean(index_dir, final)


# ---- loading -------------------------------------------------------------------------------


def load(index_dir: Path) -> DocIndex:
    """Read the live version; any inconsistency is an `IndexProblem` (callers rebuild it from
    `recorded_sources`)."""
    check_dir(index_dir)
    tidy(index_dir)
    folder = live_folder(index_dir) if index_dir.is_dir() else None
    if folder is None:
        raise IndexProblem(f"no index in {index_dir}", "run `docqa ingest` to build it")
    try:
        return read_version(index_dir, folder)
    except IndexProblem:
        # Another process may have switched versions and removed this one while it was read.
        now = live_folder(index_dir)
        if now is None or now == folder:
            raise
        return read_version(index_dir, now)


def remove_index(index_dir: Path) -> None:
    """Empty `index_dir` of its index (a collection whose last document was removed). CURRENT
    goes first, while the live version still opens without it; the version folder, renamed to
    a leftover, goes next: killed at any point, either the whole index or none is left."""
    if not index_dir.is_dir():
        return
    with _lock(index_dir, wait=True) as locked:
        if not locked:
            raise not_writable(index_dir, PermissionError(errno.EACCES, "cannot lock it"))
        live = live_folder(index_dir)
        _clean(index_dir, live)  # one version left, so that no older one takes its place
        with contextlib.suppress(FileNotFoundError):
            os.unlink(index_dir / POINTER)
        fsync_dir(index_dir)
        if live is not None and live != index_dir:
            doomed = index_dir / f".tmp-{live.name}"
            os.rename(live, doomed)
            fsync_dir(index_dir)
            _remove(doomed)
