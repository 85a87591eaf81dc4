"""The `llamacpp` backend: a local GGUF model run in this process by llama-cpp-python.

llama-cpp-python is an optional extra (`make install-llm`, or `pip install '.[llm]'`); it is
imported on first use, so the default install never needs it. The model is loaded once, lazily,
and shared by every `LlamaCppModel` naming the same file and settings. A llama.cpp context is
not thread-safe: every use of a loaded model (tokenizing included) holds its lock, and a
streaming generation holds it until the stream ends or is closed.

The prompt is formatted with the GGUF's own chat template and tokenized here, so that its
length is known exactly before generation: a prompt that does not fit the context is refused
with a clear message instead of failing inside llama.cpp.
"""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from answer.llm import Message, Position, StructuredOutputRefused, Usage, context_error
from core.errors import BackendError
from core.text import common_prefix

CTX_SETTING = "DOCQA_LLAMACPP_CTX"
INSTALL_HINT = "run `make install-llm` (or pip install '.[llm]')"


@dataclass
class _Loaded:
    llm: Any  # llama_cpp.Llama
    lock: threading.Lock
    formatter: Any  # llama_cpp Jinja2ChatFormatter, or None when the GGUF has no template


_LOADED: dict[tuple, _Loaded] = {}  # one loaded model per file and settings, for the process
_LOADING = threading.Lock()


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise BackendError("llama-cpp-python is not installed", INSTALL_HINT) from None
    return llama_cpp


def check_model_file(path: Path | None) -> Path:
    if path is None:
        raise BackendError(
            "no local model file is set", "set DOCQA_LLAMACPP_MODEL to the path of a .gguf file"
        )
    p = Path(path).expanduser()
    if not p.is_file():
        raise BackendError(
            f"local model file {p} does not exist",
            "set DOCQA_LLAMACPP_MODEL to an existing .gguf file (make install-llm fetches one)",
        )
    try:
        with open(p, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise BackendError(
            f"cannot read local model file {p}: {e.strerror}", "fix its permissions"
        ) from None
    if magic != b"GGUF":
        raise BackendError(
            f"{p.name} is not a GGUF model file", "point DOCQA_LLAMACPP_MODEL at a .gguf file"
        )
    return p


def _load(path: Path, n_ctx: int, threads: int, seed: int) -> _Loaded:
    st = path.stat()  # a file replaced at the same path is loaded afresh
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, n_ctx, threads, seed)
    with _LOADING:
        got = _LOADED.get(key)
        if got is not None:
            return got
        llama_cpp = _import_llama()
        try:
            # One thread for prompt and generation alike by default: on a shared 2-core
            # machine two OpenMP threads fighting other work measured 3x slower.
            llm = llama_cpp.Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                seed=seed, verbose=False,
            )  # fmt: skip
        except (ValueError, RuntimeError, OSError) as e:
            raise BackendError(
                f"llama.cpp could not load {path.name} ({type(e).__name__}: {e})",
                "check that it is a complete GGUF model (make install-llm rebuilds the test one)",
            ) from None
        got = _Loaded(llm, threading.Lock(), _formatter(llama_cpp, llm))
        if not _LOADED:
            atexit.register(_close_all)
        _LOADED[key] = got
        return got


def _close_all() -> None:
    """Free the models before the interpreter tears its modules down: left to `Llama.__del__`
    at that point, llama-cpp-python prints a TypeError on every exit."""
    for m in list(_LOADED.values()):
        if m.lock.acquire(timeout=5):  # never hang an exit on a stream left open
            try:
                m.llm.close()
            finally:
                m.lock.release()
    _LOADED.clear()


_GRAMMARS: dict[str, Any] = {}  # schema JSON -> LlamaGrammar (a GBNF text; reusable)


def grammar_for(schema: dict) -> Any:
    """The llama.cpp grammar that holds generation to a JSON schema (llama-cpp-python's own
    schema-to-GBNF converter)."""
    key = json.dumps(schema, sort_keys=True)
    got = _GRAMMARS.get(key)
    if got is None:
        from llama_cpp import LlamaGrammar

        try:
            got = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        except Exception as e:  # the converter raises bare Exceptions on what it cannot map
            raise StructuredOutputRefused(
                f"llama.cpp cannot turn the answer schema into a grammar ({e})",
                "the answer is parsed from free text instead",
            ) from None
        if len(_GRAMMARS) > 64:  # one per number of sentences shown: a handful in practice
            _GRAMMARS.clear()
        _GRAMMARS[key] = got
    return got


def _formatter(llama_cpp: Any, llm: Any) -> Any:
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp import llama_chat_format

    eos_id, bos_id = llm.token_eos(), llm.token_bos()
    eos = llm._model.token_get_text(eos_id) if eos_id != -1 else ""
    bos = llm._model.token_get_text(bos_id) if bos_id != -1 else ""
    return llama_chat_format.Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)


class LlamaCppModel:
    """A GGUF model file, loaded on first use."""

    name = "llamacpp"

    def __init__(self, model_path: Path | None, n_ctx: int = 4096, threads: int = 1,
                 seed: int = 0) -> None:  # fmt: skip
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.threads = threads
        self.seed = seed

    @property
    def context_tokens(self) -> int | None:
        return self.n_ctx

    def check(self) -> None:
        """Raise the BackendError a first question would meet (no package, no file), without
        loading the model: the constrained flow may not need the model for this question.
        In the order loading meets them (`loaded`): the file, then the package."""
        check_model_file(self.model_path)
        _import_llama()

    def loaded(self) -> _Loaded:
        path = check_model_file(self.model_path)
        return _load(path, self.n_ctx, self.threads, self.seed)

    def _prompt_tokens(self, m: _Loaded, messages: Sequence[Message]) -> list[int] | None:
        """The exact prompt tokens, via the model's chat template (None: no template)."""
        if m.formatter is None:
            return None
        prompt = m.formatter(messages=[x.to_json() for x in messages]).prompt
        # special=True: the template's control tokens must be read as such. Data inside the
        # messages was defused by answer/prompting.py, so only the template's own ones remain.
        return m.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        m = self.loaded()
        with m.lock:
            toks = self._prompt_tokens(m, messages)
            if toks is not None:
                return len(toks)
            # No template in the file: llama-cpp-python's fallback format adds a few tokens.
            return sum(len(m.llm.tokenize(x.content.encode("utf-8"))) + 8 for x in messages)

    def warm(self, samples: Sequence[Sequence[Message]]) -> int:
        """Load the model and evaluate the prompt prefix that all `samples` share (the system
        prompt and what the user message starts with), so that the first question finds it in
        the KV cache (llama-cpp-python reuses the longest cached prefix of the next prompt)
        instead of paying for it. Returns the number of prefix tokens now held."""
        m = self.loaded()
        with m.lock:
            toks = [self._prompt_tokens(m, s) for s in samples]
            if not toks or any(t is None for t in toks):
                return 0
            prefix = toks[0]
            for t in toks[1:]:
                prefix = prefix[: common_prefix(prefix, t)]
            held = common_prefix(_held(m), prefix)
            if held < len(prefix):
                m.llm.n_tokens = held  # eval() drops the cache from here on, then extends it
                try:
                    m.llm.eval(prefix[held:])
                except (ValueError, RuntimeError) as e:
                    raise BackendError(
                        f"llama.cpp failed while reading the prompt ({type(e).__name__}: {e})",
                        "see the log; try another model file",
                    ) from None
            return len(prefix)

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        schema: dict | None = None,
        logprobs: int = 0,
    ) -> Generator[str, None, Usage]:
        m = self.loaded()
        grammar = grammar_for(schema) if schema is not None else None
        watch: _Watch | None = None
        with m.lock:
            toks = self._prompt_tokens(m, messages)
            n_prompt = len(toks) if toks is not None else None
            # What llama-cpp-python will reuse: the cached tokens this prompt starts with (all
            # but the last when the whole prompt is cached: it is read again for its logits).
            cached = (
                None if toks is None else min(common_prefix(_held(m), toks), max(len(toks) - 1, 0))
            )
            if n_prompt is not None and n_prompt + max_tokens > self.n_ctx:
                raise context_error(n_prompt, max_tokens, self.n_ctx, CTX_SETTING)
            try:
                if toks is not None:
                    if logprobs > 0:
                        watch = _Watch(m.llm, len(toks), logprobs)
                    chunks = m.llm.create_completion(
                        toks, max_tokens=max_tokens, temperature=0.0, stream=True,
                        grammar=grammar, logits_processor=[watch] if watch else None,
                    )  # fmt: skip
                else:
                    chunks = m.llm.create_chat_completion(
                        [x.to_json() for x in messages], max_tokens=max_tokens, temperature=0.0,
                        stream=True, grammar=grammar,
                    )  # fmt: skip
                parts: list[str] = []
                finish = ""
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    delta = choice.get("text")
                    if delta is None:
                        delta = (choice.get("delta") or {}).get("content")
                    finish = choice.get("finish_reason") or finish
                    if delta:
                        parts.append(delta)
                        yield delta
            except (ValueError, RuntimeError) as e:
                if "exceed context window" in str(e):
                    n = n_prompt or 0
                    raise context_error(n, max_tokens, self.n_ctx, CTX_SETTING) from None
                raise BackendError(
                    f"llama.cpp failed while generating ({type(e).__name__}: {e})",
                    "see the log; try a smaller -k or another model file",
                ) from None
            # A streamed chunk may hold several tokens (held back at a possible stop string or
            # an unfinished UTF-8 character): count the answer with the tokenizer instead.
            n_out = len(m.llm.tokenize("".join(parts).encode("utf-8"), add_bos=False))
            if n_prompt is None:
                n_prompt = max(0, m.llm.n_tokens - n_out)
            return Usage(n_prompt, n_out, toks is not None, finish, "grammar" if grammar else "",
                         cached, tuple(watch.positions) if watch else ())  # fmt: skip


TOP = 8  # likeliest tokens kept per watched position


class _Watch:
    """A llama.cpp logits processor that changes nothing: at each of the first `n` generated
    positions it keeps the likeliest tokens of the model's distribution and their
    log-probabilities. llama-cpp-python runs it first in the sampler chain, on the raw logits
    in vocabulary order, before the grammar masks what the schema forbids: the probability of
    `false` where the grammar allows `true` or `false` is the model's own."""

    def __init__(self, llm: Any, n_prompt: int, n: int) -> None:
        self.llm, self.n_prompt, self.n = llm, n_prompt, n
        self.positions: list[Position] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if len(self.positions) < self.n:
            import numpy as np

            s = np.asarray(scores, dtype=np.float64)
            hi = float(s.max())
            lse = hi + float(np.log(np.exp(s - hi).sum()))
            top = np.argpartition(s, -TOP)[-TOP:]
            top = top[np.argsort(-s[top])]
            before = self._text(list(input_ids[self.n_prompt :]))
            self.positions.append(
                Position(before, tuple((self._text([int(i)]), float(s[i]) - lse) for i in top))
            )
        return scores

    def _text(self, ids: list[int]) -> str:
        return self.llm.detokenize(ids).decode("utf-8", errors="replace")


def _held(m: _Loaded) -> list[int]:
    """The tokens whose keys and values the model's context holds now."""
    return m.llm.input_ids[: m.llm.n_tokens].tolist()
