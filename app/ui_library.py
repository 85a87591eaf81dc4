"""A conversation's own documents: a collection of its uploads, and the ingest that adds to it.

Each conversation (the `?c=` id of its URL) gets a collection of its own, in its own folder
(`<index_dir>/../sessions/<id>/`), never the CLI's `default` one: an upload in one browser tab
changes neither what another person's tab is asked about nor what `docqa ask` answers from.
While it holds no document, the shipped article (the shared, cached index) answers.

An ingest runs in a worker thread (`Job`): the page keeps answering clicks while it reads and
embeds, polls the job (ui_docs.py, an `st.fragment(run_every=...)`), and applies its result on
the script thread (`poll`). Nothing here calls Streamlit, so the worker never touches a page.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from answer.pipeline import Pipeline
from app import engine
from app import ui_resources as RES
from app.settings import Settings
from core.errors import BadInput, Cancelled, DocqaError, NothingReadable
from ingest.load import display_path
from retrieval.collection import DocInfo, document_infos
from retrieval.embed import Embedder
from retrieval.index import sha256_bytes

COLLECTION = "uploads"  # the collection's name inside a conversation's folder
FILES = "files"


class Library:
    """The conversation's collection: its folder, settings and, once it holds documents, the
    pipeline over it. The folder goes when the conversation is dropped from memory."""

    def __init__(self, folder: Path, base: Settings) -> None:
        self.folder = folder.resolve()
        self.settings = base.model_copy(update={"index_dir": self.folder, "collection": COLLECTION})
        self.pipeline: Pipeline | None = None
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.folder, True)

    @property
    def infos(self) -> list[DocInfo]:
        return document_infos(self.pipeline.index) if self.pipeline is not None else []

    def file_dir(self) -> Path:
        """A new folder for one batch of uploads (a re-upload of a name never overwrites the
        file an indexed version still points at)."""
        d = self.folder / FILES / secrets.token_hex(6)
        d.mkdir(parents=True)
        return d


@dataclass(frozen=True)
class Refused:
    name: str
    reason: str  # one line: the problem and what to do


@dataclass
class Job:
    """One ingest of uploaded files, run in a thread; read by the page under `lock`."""

    names: tuple[str, ...]  # the files as the person named them
    paths: dict[str, Path]  # name -> where it was saved
    refused: list[Refused] = field(default_factory=list)
    unchanged: tuple[str, ...] = ()  # files already there with the same content: not redone
    stage: str = "check"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: bool = False
    cancelled: bool = False
    error: str = ""
    result: engine.Ingested | None = None
    dropped_files: tuple[Path, ...] = ()  # files of replaced documents, deleted once applied
    applied: bool = False
    cancel_event: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        with self.lock:
            self.stage, self.done, self.total = stage, done, total

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def running(self) -> bool:
        return not self.finished

    def fraction(self) -> float:
        """Reading documents fills the first 15%, embedding their sentences the rest."""
        with self.lock:
            stage, done, total = self.stage, self.done, self.total
        part = done / total if total else 0.0
        if stage == "read":
            return 0.02 + 0.13 * part
        if stage == "embed":
            return 0.15 + 0.83 * part
        return 1.0 if self.finished else 0.01

    def label(self) -> str:
        with self.lock:
            stage, done, total = self.stage, self.done, self.total
        what = describe(self.names)
        if stage == "read":
            return f"Reading {what}… document {min(done + 1, total)} of {total}"
        if stage == "embed":
            return f"Embedding sentences of {what}… {done:,} of {total:,}"
        return f"Indexing {what}…"

    def busy_line(self) -> str:
        """What a question asked now is told."""
        pct = round(100 * self.fraction())
        return f"Not answered: indexing {describe(self.names)}, {pct}% — ask when it is done."


def describe(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} documents"


def start(
    library: Library,
    files: list[tuple[str, bytes]],
    embedder: Embedder,
) -> Job | None:
    """Check each file (one line per refused one), save the others and start indexing them
    with the conversation's documents, each new name replacing a document of that name.
    None when every file was refused (then the refusals are all there is to say)."""
    s = library.settings
    current = library.pipeline.index if library.pipeline is not None else None
    have = {
        (Path(m["path"]).name, m["sha256"])
        for m in (current.manifest["sources"] if current is not None else [])
    }
    refused: list[Refused] = []
    accepted: list[tuple[str, bytes]] = []
    unchanged: list[str] = []
    for name, data in files:
        try:
            RES.check_upload(name, data, s.max_upload_bytes)
        except BadInput as e:
            refused.append(Refused(name, _line(e)))
            continue
        if (RES.safe_name(name), sha256_bytes(data)) in have:
            unchanged.append(name)
        else:
            accepted.append((name, data))
    job = Job(tuple(n for n, _ in accepted), {}, refused, tuple(unchanged))
    if not accepted:
        job.finished = True
        return job
    folder = library.file_dir()
    for name, data in accepted:
        p = folder / RES.safe_name(name)
        p.write_bytes(data)
        job.paths[name] = p
    new_names = {p.name for p in job.paths.values()}
    keep: list[Path] = []
    dropped: list[Path] = []
    for meta in current.manifest["sources"] if current is not None else []:
        old = Path(meta["path"])
        (dropped if old.name in new_names else keep).append(old)
    job.dropped_files = tuple(dropped)
    job.thread = threading.Thread(
        target=_work, args=(job, s, keep, folder, embedder), name="docqa-ingest", daemon=True
    )
    job.thread.start()
    return job


def _work(job: Job, s: Settings, keep: list[Path], folder: Path, embedder: Embedder) -> None:
    """The thread: add the files, dropping (with its one line) any that cannot be read."""
    _yield_cpu()
    todo = dict(job.paths)
    by_path = {p.resolve(): name for name, p in todo.items()}

    def refuse(unreadable: Iterable[tuple[Path, BadInput]]) -> None:
        for path, e in unreadable:
            name = by_path[path.resolve()]
            job.refused.append(Refused(name, _line(e, todo[name], name)))
            del todo[name]

    try:
        try:
            job.result = engine.add_documents(
                s,
                keep + list(todo.values()),
                replace=True,
                embedder=embedder,
                progress=job.progress,
                cancelled=job.cancel_event.is_set,
                skip_unreadable=True,  # each upload that cannot be read: one line, the rest go in
            )
            refuse(job.result.unreadable)
        except NothingReadable as e:
            refuse(e.unreadable)  # no upload could be read: the collection stays as it was
        job.names = tuple(todo)
    except Cancelled:
        job.cancelled = True
    except DocqaError as e:
        job.error = _line(e)
    except Exception as e:  # never a stack trace on the page; the log has it
        traceback.print_exc(file=sys.stderr)
        job.error = f"Could not index the upload ({type(e).__name__}: {e})."
    finally:
        if job.result is None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for name in set(job.paths) - set(todo):
                job.paths[name].unlink(missing_ok=True)
        with job.lock:
            job.finished = True


def _yield_cpu() -> None:
    """Run this thread at a lower priority (Linux schedules threads by their own nice value),
    so that on a busy machine the page's runs, answering a click or refusing a question,
    come before the next embedding batch."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _forms(p: Path) -> list[str]:
    """How a message may name a saved upload: its path in full or as JSON shows it."""
    return sorted({str(p), str(p.resolve()), display_path(p)}, key=len, reverse=True)


def _line(e: DocqaError, path: Path | None = None, name: str = "") -> str:
    problem = e.problem
    if path is not None:  # the person knows the file by its name, not our folder
        for form in _forms(path):
            problem = problem.replace(form, name)
    out = problem.rstrip(".") + "."
    if e.fix:
        out += " " + e.fix[:1].upper() + e.fix[1:].rstrip(".") + "."
    return out


def apply(library: Library, job: Job, embedder: Embedder, s: Settings) -> None:
    """On the script thread: make a finished job's collection the conversation's."""
    if job.applied or not job.finished:
        return
    job.applied = True
    if job.result is None:
        return
    library.pipeline = engine.make_pipeline(job.result.index, embedder, engine.search_settings(s))
    RES.preread(library.pipeline)
    for p in job.dropped_files:
        _unlink_batch(p, library)


def remove(library: Library, doc_id: str) -> None:
    """Remove one document (no embedding: a new version without it). The last one gone, the
    collection is empty and the shipped article answers again."""
    if library.pipeline is None:
        return
    info = next((d for d in library.infos if d.doc_id == doc_id), None)
    if info is None:
        return
    left = engine.remove_documents(library.settings, [doc_id], COLLECTION)
    library.pipeline = (
        engine.make_pipeline(left, library.pipeline.embedder, library.pipeline.search_settings)
        if left is not None
        else None
    )
    _unlink_batch(Path(info.path), library)


def _unlink_batch(path: Path, library: Library) -> None:
    """Delete an uploaded file no version points at any more, and its batch folder if empty."""
    if library.folder / FILES not in path.parents:
        return
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
