"""The OpenAI-compatible shapes of `docqa serve`: `/v1/chat/completions` and `/v1/models`.

A chat request's last message is the question; the earlier user/assistant messages are the
conversation, passed to the pipeline as (question, answer) pairs: an LLM backend rewrites a
follow-up into a standalone question from them, as in the app; the extractive backend answers
each question on its own, and the answer's notes say that the earlier messages were not used.
A system or developer message is not used either (docqa keeps its own instructions, so that a
prompt cannot turn off the citations), and a note says so: no message is dropped silently.

The reply is a standard `chat.completion` (the answer text with its [n] markers as the
message content) plus one extra top-level key, `docqa`: the `ask --json` document of the
answer (citations with source, start, end and quote; sentences with their support;
short_answer; abstained; passages). OpenAI clients ignore the key and keep it
(`completion.model_extra["docqa"]` in the Python client). `usage` counts cl100k_base tokens of
the messages' text and of the answer, not a backend model's own tokens.

Streamed (`"stream": true`), the same answer comes as `chat.completion.chunk` events once it is
verified: the role, then the content in word pieces (their concatenation is the non-streamed
content), then a last chunk with `finish_reason` and the `docqa` key, then `data: [DONE]`. An
LLM backend's raw tokens are not sent as they are written: its [n] markers are renumbered
after verification and an unsupported answer is replaced by the extractive one, and text once
sent cannot be taken back.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from app.settings import BackendName, Settings
from core.errors import BadInput
from core.types import Answer
from ingest.tokens import count_tokens

# The model ids a client may ask for: "docqa" answers with the server's backend.
MODEL = "docqa"
PREFIX = "docqa-"
BACKENDS: tuple[str, ...] = get_args(BackendName)


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls…: accepted, not used
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None


class ChatRequest(BaseModel):
    """OpenAI's request. Its sampling parameters (temperature, max_tokens, top_p, stop…) are
    accepted and not used: the answer is the verified one. docqa's own fields (k, collection,
    docs, context, fallback) go beside them (`extra_body` in the Python client)."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int | None = None
    k: int | None = None
    collection: str | None = None
    docs: list[str] | None = None
    context: str | None = None
    fallback: bool = False


def model_ids(s: Settings) -> list[str]:
    """ "docqa", "docqa-extractive", and each LLM backend that the settings configure."""
    ids = [MODEL, PREFIX + "extractive"]
    if s.llamacpp_model:
        ids.append(PREFIX + "llamacpp")
    if s.openai_model or s.openai_base_url:
        ids.append(PREFIX + "openai")
    return ids


def models_doc(s: Settings, created: int) -> dict[str, Any]:
    return {"object": "list", "data": [model_doc(m, created) for m in model_ids(s)]}


def model_doc(model: str, created: int) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": created, "owned_by": "docqa"}


def backend_of(model: str) -> str | None:
    """The backend a model id names (None: the server's own)."""
    if model == MODEL:
        return None
    name = model.removeprefix(PREFIX)
    if model.startswith(PREFIX) and name in BACKENDS:
        return name
    known = ", ".join([MODEL, *(PREFIX + b for b in BACKENDS)])
    raise BadInput(f"unknown model {model!r}", f"use one of {known} (GET /v1/models)")


def text_of(m: ChatMessage) -> str:
    if m.content is None:
        return ""
    if isinstance(m.content, str):
        return m.content
    parts = []
    for p in m.content:
        if p.type != "text" or p.text is None:
            raise BadInput(
                f"a {m.role} message holds a {p.type!r} part",
                "send text only: docqa answers from the documents' text",
            )
        parts.append(p.text)
    return "\n".join(parts)


def conversation(req: ChatRequest) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(the question, the earlier (question, answer) pairs, notes on what was not used)."""
    if req.n not in (None, 1):
        raise BadInput(f"n={req.n} answers asked for", "ask for one (n=1): docqa gives one")
    *earlier, last = req.messages
    if last.role != "user":
        raise BadInput(
            f"the last message is the {last.role}'s",
            "end the messages with the user's question",
        )
    pairs: list[tuple[str, str]] = []
    notes: list[str] = []
    waiting: str | None = None  # a user message not yet answered
    for m in earlier:
        if m.role in ("system", "developer"):
            notes.append(f"the {m.role} message was not used: docqa keeps its own instructions")
        elif m.role == "user":
            if waiting is not None:
                pairs.append((waiting, ""))  # asked twice in a row: the first had no answer
            waiting = text_of(m)
        else:
            pairs.append((waiting or "", text_of(m)))
            waiting = None
    if waiting is not None:
        pairs.append((waiting, ""))
    return text_of(last), [(q, a) for q, a in pairs if q.strip() or a.strip()], notes


def history_note(backend: str, pairs: list[tuple[str, str]]) -> list[str]:
    if not pairs or backend != "extractive":
        return []
    n = len(pairs)
    return [
        f"the extractive backend answers each question on its own: the {n} earlier "
        f"exchange{'' if n == 1 else 's'} of the conversation {'was' if n == 1 else 'were'} "
        "not used (an LLM backend rewrites a follow-up from them)"
    ]


def with_notes(ans: Answer, notes: list[str]) -> Answer:
    return replace(ans, notes=(*ans.notes, *notes)) if notes else ans


def usage(req: ChatRequest, ans: Answer) -> dict[str, int]:
    prompt = sum(count_tokens(text_of(m)) for m in req.messages)
    completion = count_tokens(ans.answer)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion(req: ChatRequest, ans: Answer) -> dict[str, Any]:
    return {
        "id": _id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ans.answer},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(req, ans),
        "docqa": ans.to_json(),
    }


def pieces(text: str) -> list[str]:
    """The text in word pieces, each with the spaces after it: joined, they are the text."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def chunks(req: ChatRequest, ans: Answer) -> Iterator[str]:
    """The Server-Sent Events of a streamed answer, `data: [DONE]` last."""
    head = {"id": _id(), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": req.model}  # fmt: skip

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        doc = {**head, "choices": [choice], **extra}
        return f"data: {json.dumps(doc, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in pieces(ans.answer):
        yield event({"content": piece})
    yield event({}, "stop", docqa=ans.to_json())
    if (req.stream_options or {}).get("include_usage"):
        doc = {**head, "choices": [], "usage": usage(req, ans)}
        yield f"data: {json.dumps(doc)}\n\n"
    yield "data: [DONE]\n\n"


def _id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"
