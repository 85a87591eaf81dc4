"""The one-time export of the packaged all-MiniLM-L6-v2 to ONNX, by sentence-transformers itself.

This is the only module of the embedding path that imports torch and sentence-transformers; it
runs once per machine (per weights file), and the query path then needs neither. The graph is
the model's own modules (Transformer, mean Pooling, Normalize, as listed in its modules.json),
traced as they are, so its output is what `SentenceTransformer.encode` returns.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"
# Bumped when the export itself changes, so an old cache entry is not mistaken for a new one.
EXPORT_VERSION = 2
# mkstemp makes files only their owner can read; the cache may be shared by the users of a machine.
_MODE = 0o644


@dataclass(frozen=True)
class Exported:
    onnx_path: Path
    weights_sha256: str


def weights_file(model_dir: Path) -> Path:
    return model_dir / "model.safetensors"


def _fingerprint(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _names(cache_dir: Path, sha: str) -> tuple[Path, Path]:
    stem = f"all-MiniLM-L6-v2-{sha[:16]}-v{EXPORT_VERSION}"
    return cache_dir / f"{stem}.onnx", cache_dir / f"{stem}.json"


def data_file(onnx_path: Path) -> Path:
    """The weights beside the graph (ONNX external data), named in the graph itself."""
    return onnx_path.with_name(onnx_path.name + ".data")


def _complete(onnx_path: Path) -> bool:
    return onnx_path.exists() and data_file(onnx_path).exists()


def cached_export(model_dir: Path, cache_dir: Path) -> Exported | None:
    """The cached export of these weights, or None. Hashing 90 MB costs ~0.2 s, so a sidecar
    whose file fingerprint (path, size, mtime) still matches is trusted without rehashing."""
    weights = weights_file(model_dir)
    fp = _fingerprint(weights)
    for side in sorted(cache_dir.glob(f"*-v{EXPORT_VERSION}.json")):
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        onnx_path = side.with_suffix(".onnx")
        if meta.get("fingerprint") == fp and _complete(onnx_path):
            return Exported(onnx_path, meta["weights_sha256"])
    if not cache_dir.exists():
        return None
    sha = _sha256(weights)
    onnx_path, side = _names(cache_dir, sha)
    if not _complete(onnx_path):
        return None
    # Same weights, moved or touched: remember the new fingerprint so the next run skips the hash.
    _write_atomic(side, json.dumps(_sidecar(sha, fp), indent=1).encode())
    return Exported(onnx_path, sha)


def _sidecar(sha: str, fp: dict[str, Any]) -> dict[str, Any]:
    return {"weights_sha256": sha, "fingerprint": fp, "export_version": EXPORT_VERSION}


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same folder, then rename: a reader never sees half a file, and two
    processes exporting at once both end with a whole one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(model_dir: Path, cache_dir: Path) -> Exported:
    """Trace the sentence-transformers model into `cache_dir` (several seconds, imports torch)."""
    import torch
    from sentence_transformers import SentenceTransformer

    weights = weights_file(model_dir)
    fp = _fingerprint(weights)
    sha = _sha256(weights)
    onnx_path, side = _names(cache_dir, sha)
    st = SentenceTransformer(str(model_dir), device="cpu")

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            feats = dict(zip(INPUTS, (input_ids, attention_mask, token_type_ids), strict=True))
            return self.st(feats)[OUTPUT]

    # Two texts of different lengths, so the traced graph has a real padding mask in it.
    feats = st.preprocess(["a short one", "a somewhat longer example sentence to pad against"])
    args = tuple(feats[n] for n in INPUTS)
    axes = {n: {0: "batch", 1: "tokens"} for n in INPUTS} | {OUTPUT: {0: "batch"}}
    cache_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        traced = stage / "traced.onnx"
        # The tracer's warnings are about shape checks that hold for every input we give it (the
        # mask always spans the tokens); the test against sentence-transformers is the proof.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The TorchScript exporter: the dynamo one needs onnxscript, which nothing else uses.
            torch.onnx.export(
                Graph().eval(), args, str(traced), input_names=list(INPUTS),
                output_names=[OUTPUT], dynamic_axes=axes, opset_version=17, dynamo=False,
            )  # fmt: skip
        _save_external(traced, stage / onnx_path.name, data_file(onnx_path).name)
        # The weights first: a graph on disk always finds its weights beside it.
        for name in (data_file(onnx_path).name, onnx_path.name):
            os.chmod(stage / name, _MODE)
            os.replace(stage / name, cache_dir / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    _write_atomic(side, json.dumps(_sidecar(sha, fp), indent=1).encode())
    return Exported(onnx_path, sha)


def _save_external(traced: Path, graph: Path, data_name: str) -> None:
    """The weights as ONNX external data: ONNX Runtime maps that file rather than copying it, so
    the 47 MB word-embedding table is only paged in where a query's tokens look (measured: the
    session's RSS +53 MiB instead of +126 MiB, its load 0.13 s CPU instead of 0.29 s)."""
    import onnx

    model = onnx.load(str(traced))
    onnx.save_model(
        model, str(graph), save_as_external_data=True, all_tensors_to_one_file=True,
        location=data_name, size_threshold=1024,
    )  # fmt: skip
