"""`docqa serve`: the HTTP API (app/serve.py), with its models loaded once, at startup."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from app.cli_common import BackendOpt, CollectionOpt, IndexOpt
from app.cli_common import log as _log
from app.cli_common import settings as _settings
from core.errors import BadInput


def is_loopback(host: str) -> bool:
    """Only this machine can connect: localhost, 127.0.0.0/8 or ::1."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; one that is not loopback needs --allow-remote.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.", min=1, max=65535)] = 8000,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Bind a non-loopback address: anyone who reaches it can read the documents "
            "(the API has no authentication).",
        ),
    ] = False,
    collection: CollectionOpt = None,
    backend: BackendOpt = None,
    index_dir: IndexOpt = None,
    log_level: Annotated[
        str, typer.Option(help="uvicorn's log level (critical, error, warning, info, debug).")
    ] = "info",
) -> None:
    """Serve the HTTP API: /ask, /retrieve, /check, /docs, /health and an OpenAI-compatible
    /v1/chat/completions whose replies keep their citations (under the extra key "docqa")."""
    # Refused before anything is loaded: the documents are readable by whoever can connect.
    if not is_loopback(host) and not allow_remote:
        raise BadInput(
            f"--host {host} is reachable from other machines, and the API has no authentication",
            "add --allow-remote to mean it, or bind 127.0.0.1",
        )
    flags = {"index_dir": index_dir, "collection": collection, "backend": backend}
    _settings(**flags)  # a bad setting is told before the models and the server are imported
    # The address is taken now: a port in use is told at once, not after the models loaded.
    # A client that connects meanwhile waits (the listen backlog) for its answer.
    sock = bind(host, port)
    from app.serve import run
    from app.serve_state import Service

    service = Service(flags, _log)
    pipe = service.warm()
    s = service.settings
    where = f"[{host}]" if ":" in host else host
    _log(
        f"serving collection {s.collection} ({len(pipe.index.documents)} document(s), backend "
        f"{s.backend}) on http://{where}:{port} (POST /ask, /v1/chat/completions; GET /health)"
    )
    run(service, sock, log_level)


def bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        raise BadInput(f"cannot use the address {host} ({e})", "give --host an address") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind(addr)
        sock.listen(2048)  # uvicorn's backlog; on Linux a port in use may bind, never listen
    except OSError as e:
        sock.close()
        raise BadInput(
            f"cannot serve on {host}:{port} ({e.strerror or e})",
            "choose another --port, or stop what holds it",
        ) from None
    sock.set_inheritable(True)
    return sock
