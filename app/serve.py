"""`docqa serve`: the HTTP API (DESIGN.md's command table), FastAPI on uvicorn.

Each endpoint answers with exactly the JSON document its CLI command prints with `--json`
(built by the same functions, app/payloads.py):

    POST /ask       {question, k?, backend?, collection?, docs?, history?, context?, fallback?}
    POST /retrieve  {question, k?, collection?, docs?}
    POST /check     {text, collection?, docs?}
    GET  /docs      ?collection=      (`docs list --json`)
    GET  /health    ?collection=      {ok, collection, documents, backend, index_dir}

and, OpenAI-compatible (app/serve_openai.py), `POST /v1/chat/completions` and `GET /v1/models`.

A failure is one JSON body, `{"error": {"message", "type", "problem", "fix"}}`, whose message
is the line the CLI prints after "docqa: error:": bad input is 400 (a body that is not the
request's shape: 422), anything else 500, never a traceback. FastAPI's own /docs page is off:
it loads its scripts from a CDN, and docqa runs offline (the schema is at /openapi.json).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from app import serve_openai as oai
from app.serve_state import Service
from core.errors import BadInput, DocqaError


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is told, not ignored
    question: str
    k: int | None = None
    backend: str | None = None
    collection: str | None = None
    docs: list[str] | None = None
    history: Any = None  # what `ask --history FILE` holds: [{question, answer}, …]
    context: str | None = None
    fallback: bool = False


class RetrieveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    k: int | None = None
    collection: str | None = None
    docs: list[str] | None = None


class CheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    collection: str | None = None
    docs: list[str] | None = None


def error(status: int, kind: str, message: str, problem: str = "", fix: str = "") -> JSONResponse:
    body = {"message": message, "type": kind, "problem": problem or message, "fix": fix}
    return JSONResponse({"error": body}, status_code=status)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def create_app(service: Service) -> FastAPI:
    api = FastAPI(
        title="docqa", summary="Cited answers about documents.", docs_url=None, redoc_url=None
    )
    started = int(time.time())

    @api.exception_handler(DocqaError)
    async def _docqa_error(_: Request, e: DocqaError) -> JSONResponse:
        if isinstance(e, BadInput):
            return error(400, "bad_input", _one_line(str(e)), e.problem, e.fix)
        service.log(f"error: {e}")
        kind = {"BackendError": "backend_error", "IndexProblem": "index_problem"}
        return error(500, kind.get(type(e).__name__, "error"), _one_line(str(e)), e.problem, e.fix)

    @api.exception_handler(RequestValidationError)
    async def _bad_body(_: Request, e: RequestValidationError) -> JSONResponse:
        errs = e.errors()
        first = errs[0] if errs else {"loc": (), "msg": "not understood"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        problem = f"bad request field {where}: {_one_line(first.get('msg', ''))}"
        fix = "send a JSON body of the shape in GET /openapi.json"
        return error(422, "invalid_request", f"{problem}: {fix}", problem, fix)

    @api.exception_handler(HTTPException)
    async def _http(request: Request, e: HTTPException) -> JSONResponse:
        problem = f"{_one_line(e.detail)}: {request.method} {request.url.path}"
        fix = "see the endpoints in GET /openapi.json"
        return error(e.status_code, "not_found" if e.status_code == 404 else "http", problem,
                     problem, fix)  # fmt: skip

    @api.middleware("http")
    async def _unexpected(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            return await call_next(request)
        except Exception as e:  # a bug: one line to the client and to the log, no traceback
            line = _one_line(f"{type(e).__name__}: {e}")
            service.log(f"error: {request.method} {request.url.path}: {line}")
            return error(500, "internal_error", line)

    @api.post("/ask")
    def ask(body: AskBody) -> dict[str, Any]:
        ans = service.ask(
            body.question, k=body.k, backend=body.backend, collection=body.collection,
            docs=body.docs, history=body.history, context=body.context, fallback=body.fallback,
        )  # fmt: skip
        return ans.to_json()

    @api.post("/retrieve")
    def retrieve(body: RetrieveBody) -> dict[str, Any]:
        return service.retrieve(body.question, k=body.k, collection=body.collection,
                                docs=body.docs)  # fmt: skip

    @api.post("/check")
    def check(body: CheckBody) -> dict[str, Any]:
        return service.check(body.text, collection=body.collection, docs=body.docs)

    @api.get("/docs")
    def docs(collection: str | None = None) -> dict[str, Any]:
        return service.documents(collection)

    @api.get("/health")
    def health(collection: str | None = None) -> dict[str, Any]:
        return service.health(collection)

    @api.get("/v1/models")
    def models() -> dict[str, Any]:
        return oai.models_doc(service.settings, started)

    @api.get("/v1/models/{model}")
    def model(model: str) -> dict[str, Any]:
        oai.backend_of(model)  # an unknown one is a 400 naming the known ones
        return oai.model_doc(model, started)

    @api.post("/v1/chat/completions", response_model=None)
    def chat(req: oai.ChatRequest) -> dict[str, Any] | StreamingResponse:
        backend = oai.backend_of(req.model)
        question, pairs, notes = oai.conversation(req)
        # The answer is made (and verified) before the response starts, so that a bad request
        # or a failing backend gets its status code rather than an error inside a stream.
        ans = service.ask(
            question, k=req.k, backend=backend, collection=req.collection, docs=req.docs,
            history=pairs, context=req.context, fallback=req.fallback,
        )  # fmt: skip
        asked = backend or service.settings.backend
        ans = oai.with_notes(ans, notes + oai.history_note(asked, pairs))
        if req.stream:
            return StreamingResponse(oai.chunks(req, ans), media_type="text/event-stream")
        return oai.completion(req, ans)

    return api


def run(service: Service, sock: socket.socket, log_level: str = "info") -> None:
    """Serve on a socket already bound (app/cli_serve.py) until interrupted."""
    import uvicorn

    config = uvicorn.Config(create_app(service), log_level=log_level)
    uvicorn.Server(config).run(sockets=[sock])
