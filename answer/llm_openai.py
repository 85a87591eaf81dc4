"""The `openai` backend: any OpenAI-compatible chat endpoint, through langchain-openai.

One backend serves OpenAI itself, vLLM, Ollama's `/v1`, llama.cpp's `llama-server`,
llama-cpp-python's server and LM Studio: they differ only in base URL, model name and key.

- Everything is passed explicitly (URL, key, model, timeout, retries), so that nothing here
  falls back to the process environment; the key stays a `SecretStr` and is never logged,
  and it is scrubbed from any server message we repeat.
- Retries are the OpenAI client's own (connection errors, 408/409/429/5xx, with backoff),
  bounded by `max_retries`; once tokens are streaming nothing is retried.
- Before the first request the server's `/models` list is read once: several servers
  (llama.cpp's among them) silently answer with whatever they have loaded when asked for a
  model they do not serve, and a user should learn that the name is wrong, not get answers from
  another model. A server without `/models` is taken at its word.
- Every failure becomes one `BackendError` line that says what to do.
- A JSON schema (the constrained answer) is sent as `response_format`: first the OpenAI form
  (`{"type": "json_schema", …}`: OpenAI, vLLM, llama.cpp's llama-server, Ollama), and when the
  server refuses that before generating (HTTP 400/422, or llama-cpp-python's 500 naming
  `response_format`), llama-cpp-python's server form
  (`{"type": "json_object", "schema": …}`). A server that refuses both raises
  `StructuredOutputRefused` (the pipeline then asks for free text); what worked, or that
  nothing did, is remembered for the backend's later calls.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from pydantic import SecretStr

from answer.llm import Message, StructuredOutputRefused, Usage
from core.errors import BackendError

OPENAI_URL = "https://api.openai.com/v1"
# Servers that need no key still want the header; this placeholder is what we send then.
NO_KEY = "no-key"
# How a JSON schema may be sent; "auto" tries them in this order.
RESPONSE_FORMATS: tuple[str, ...] = ("json_schema", "json_object")


@dataclass(frozen=True)
class OpenAIConfig:
    base_url: str | None = None  # None: OpenAI itself
    model: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    context_tokens: int | None = None  # unknown unless configured: whole-document mode off
    temperature: float = 0.0
    response_format: str = "auto"  # "auto", one of RESPONSE_FORMATS, or "none" (free text only)

    @property
    def url(self) -> str:
        return (self.base_url or OPENAI_URL).rstrip("/")

    @property
    def is_openai(self) -> bool:
        return (urlparse(self.url).hostname or "").endswith("openai.com")


class OpenAIModel:
    name = "openai"

    def __init__(self, config: OpenAIConfig) -> None:
        self.config = config
        self._chat: Any = None
        self._checked = False
        self._lock = threading.Lock()  # guards the lazy set-up only; requests run in parallel
        fmt = config.response_format
        self._formats: list[str] = (
            list(RESPONSE_FORMATS) if fmt == "auto" else [] if fmt == "none" else [fmt]
        )

    @property
    def context_tokens(self) -> int | None:
        return self.config.context_tokens

    def _client(self) -> Any:
        with self._lock:
            if self._chat is None:
                cfg = self.config
                if not cfg.model:
                    raise BackendError(
                        "no model name is set for the OpenAI-compatible backend",
                        "set DOCQA_OPENAI_MODEL (e.g. gpt-4o-mini, or the name your server serves)",
                    )
                from langchain_openai import ChatOpenAI

                key = cfg.api_key if cfg.api_key is not None else SecretStr(NO_KEY)
                self._chat = ChatOpenAI(
                    model=cfg.model, base_url=cfg.url, api_key=key, timeout=cfg.timeout_s,
                    max_retries=cfg.max_retries, temperature=cfg.temperature, stream_usage=True,
                    openai_proxy=None,
                )  # fmt: skip
            return self._chat

    def _check_model(self, chat: Any) -> None:
        """Is the configured model one the server serves? Once per backend."""
        if self._checked:
            return
        import openai

        try:
            ids = [m.id for m in chat.root_client.models.list().data]
        except (openai.NotFoundError, openai.UnprocessableEntityError):
            ids = []  # no /models endpoint: nothing to check against
        except openai.OpenAIError as e:
            raise self._error(e) from None
        model = self.config.model or ""
        # Ollama lists "llama3:latest" and accepts "llama3".
        if ids and model not in ids and f"{model}:latest" not in ids:
            shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
            raise BackendError(
                f"the server at {self.config.url} does not serve a model named {model!r} "
                f"(it serves: {shown})",
                "set DOCQA_OPENAI_MODEL to one of those",
            )
        self._checked = True

    def check(self) -> None:
        """Raise the BackendError a first question would meet (no model name, server down,
        wrong key or model name): one `/models` request, once per backend."""
        self._check_model(self._client())

    def count_tokens(self, messages: Sequence[Message]) -> int:
        # The server's tokenizer is unknown: cl100k_base is a fair estimate for most models.
        # (Imported here: tiktoken is loaded only by a backend that counts tokens.)
        from ingest.tokens import count_tokens

        return sum(count_tokens(m.content) + 4 for m in messages) + 3

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        schema: dict | None = None,
        logprobs: int = 0,
    ) -> Generator[str, None, Usage]:
        # `logprobs` is not sent yet: servers differ in whether their log-probabilities come
        # before or after the schema's constraint, so no position is reported (the judge then
        # falls back to the reader, answer/llm_answer.py).
        del logprobs
        import httpx
        import openai
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        chat = self._client()
        self._check_model(chat)
        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        lc = [kinds[m.role](content=m.content) for m in messages]
        kwargs: dict[str, Any] = {"max_tokens": max_tokens}
        body: dict[str, Any] = {}
        if not self.config.is_openai:
            # langchain-openai sends `max_completion_tokens`, which llama.cpp, older vLLM and
            # Ollama ignore (they would generate to the end of the context): send both.
            body["max_tokens"] = max_tokens
        fmt = ""
        chunks: Any = None
        if schema is not None:
            fmt, chunks = self._open_constrained(chat, lc, kwargs, body, schema)
        elif body:
            kwargs["extra_body"] = body
        parts: list[str] = []
        usage: dict[str, int] = {}
        finish = ""
        try:
            for chunk in chunks if chunks is not None else chat.stream(lc, **kwargs):
                text = chunk.content if isinstance(chunk.content, str) else ""
                if chunk.usage_metadata:
                    usage = dict(chunk.usage_metadata)
                finish = (chunk.response_metadata or {}).get("finish_reason") or finish
                if text:
                    parts.append(text)
                    yield text
        except openai.OpenAIError as e:
            raise self._error(e) from None
        except ValueError as e:
            if "No generation chunks" not in str(e):
                raise
            raise self._empty_stream(chat, lc, kwargs) from None
        except httpx.HTTPError as e:  # the connection broke mid-stream
            raise BackendError(
                f"the connection to {self.config.url} broke while answering ({type(e).__name__})",
                "check that the server is still running, then ask again",
            ) from None
        if usage.get("input_tokens"):
            return Usage(usage["input_tokens"], usage.get("output_tokens", 0), True, finish, fmt)
        from ingest.tokens import count_tokens  # tiktoken, only when the server gave no usage

        n_out = count_tokens("".join(parts))
        return Usage(self.count_tokens(messages), n_out, False, finish, fmt)

    def _open_constrained(
        self, chat: Any, lc: list, kwargs: dict[str, Any], body: dict[str, Any], schema: dict
    ) -> tuple[str, Any]:
        """The stream of the first response format the server accepts, with its first chunk
        already read (a refusal comes before it), and the format's name."""
        import itertools

        import openai

        for fmt in list(self._formats):
            rf: dict[str, Any] = (
                {"type": "json_schema", "json_schema": {"name": "cited_answer", "strict": True,
                                                        "schema": _strict_schema(schema)}}
                if fmt == "json_schema" else {"type": "json_object", "schema": schema}
            )  # fmt: skip
            it = iter(chat.stream(lc, **kwargs, extra_body={**body, "response_format": rf}))
            try:
                first = next(it)
            except StopIteration:
                return fmt, iter(())
            except openai.APIStatusError as e:
                # 400/422 say no to the format; llama-cpp-python's server says it with a 500
                # whose message names the field.
                refused = e.status_code in (400, 422) or (
                    e.status_code == 500 and "response_format" in _message(e)
                )
                if not refused or _is_context_error(e, _message(e)):
                    raise self._error(e) from None
                with self._lock:  # refused: never sent again by this backend
                    if fmt in self._formats:
                        self._formats.remove(fmt)
                continue
            except openai.OpenAIError as e:
                raise self._error(e) from None
            except ValueError as e:
                if "No generation chunks" not in str(e):
                    raise
                raise self._empty_stream(chat, lc, {**kwargs, "extra_body": body}) from None
            with self._lock:  # accepted: the one to send from now on
                self._formats = [fmt]
            return fmt, itertools.chain([first], it)
        raise StructuredOutputRefused(
            f"the server at {self.config.url} does not accept a JSON schema as response_format",
            "the answer is parsed from free text instead",
        )

    def _empty_stream(self, chat: Any, lc: list, kwargs: dict[str, Any]) -> BackendError:
        """A stream that ended before its first chunk. llama-cpp-python's server does that
        when the prompt exceeds its context (the error happens after the 200 is sent): the
        same request without streaming, capped at one token, gets the real error back."""
        import openai

        probe = {**kwargs, "max_tokens": 1}
        if "extra_body" in probe:
            probe["extra_body"] = {"max_tokens": 1}
        for attempt in range(2):
            try:
                chat.invoke(lc, **probe)
                break
            except openai.APIConnectionError as e:
                # The server drops the kept-alive connection after a failed stream: once more.
                if attempt or isinstance(e, openai.APITimeoutError):
                    return self._error(e)
            except openai.OpenAIError as e:
                return self._error(e)
            except ValueError:
                break
        return BackendError(
            f"the server at {self.config.url} ended the answer stream without sending anything",
            "check the server's log",
        )

    def _error(self, e: Exception) -> BackendError:
        import openai

        cfg = self.config
        where = cfg.url
        if isinstance(e, openai.APITimeoutError):
            return BackendError(
                f"the server at {where} did not answer within {cfg.timeout_s:g} s "
                f"({cfg.max_retries} retries)",
                "raise DOCQA_REQUEST_TIMEOUT_S, ask with fewer passages (-k) or use a faster model",
            )
        if isinstance(e, openai.APIConnectionError):
            return BackendError(
                f"cannot reach the OpenAI-compatible server at {where}",
                "start the server, or fix DOCQA_OPENAI_BASE_URL (host, port and /v1)",
            )
        if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
            # The server's message may quote part of the key: it is not repeated.
            return BackendError(
                f"the server at {where} refused the API key (HTTP {e.status_code})",
                "set DOCQA_OPENAI_API_KEY (or OPENAI_API_KEY) to a valid key",
            )
        if isinstance(e, openai.NotFoundError):
            return BackendError(
                f"the server at {where} has no model {cfg.model!r} or no chat endpoint (HTTP 404)",
                "check DOCQA_OPENAI_MODEL and that DOCQA_OPENAI_BASE_URL ends in /v1",
            )
        if isinstance(e, openai.RateLimitError):
            return BackendError(
                f"the server at {where} is rate-limiting requests (HTTP 429, after "
                f"{cfg.max_retries} retries)",
                "wait and ask again, or raise DOCQA_MAX_RETRIES",
            )
        if isinstance(e, openai.APIStatusError):
            msg = self._scrub(_message(e))
            if e.status_code == 400 and _is_context_error(e, msg):
                return BackendError(
                    f"the prompt is longer than the model's context ({msg})",
                    "ask with fewer passages (-k), or use a model with a longer context",
                )
            return BackendError(
                f"the server at {where} answered HTTP {e.status_code}: {msg}",
                "check the server's log and the DOCQA_OPENAI_* settings",
            )
        return BackendError(
            f"the OpenAI-compatible backend failed: {self._scrub(str(e))[:200]}",
            "check the server and the DOCQA_OPENAI_* settings",
        )

    def _scrub(self, text: str) -> str:
        key = self.config.api_key.get_secret_value() if self.config.api_key else ""
        text = " ".join(text.split())
        if key and len(key) >= 4:
            text = text.replace(key, "***")
        return text[:200]


# Keywords OpenAI's strict structured outputs refuse; the length caps they carry are kept by
# max_tokens and by the pipeline (it reads at most MAX_IDS ids).
_NOT_STRICT = frozenset({"maxLength", "minLength", "maxItems", "minItems"})


def _strict_schema(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strict_schema(v) for k, v in schema.items() if k not in _NOT_STRICT}
    if isinstance(schema, list):
        return [_strict_schema(v) for v in schema]
    return schema


def _message(e: Any) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("detail"):
            return str(body["detail"])
    return str(getattr(e, "message", "") or e)


def _is_context_error(e: Any, msg: str) -> bool:
    code = getattr(e, "code", None) or ""
    low = msg.lower()
    return code == "context_length_exceeded" or any(
        s in low for s in ("context length", "context window", "maximum context", "too long")
    )
