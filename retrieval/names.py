"""Collection names, checked without importing the index (FAISS, BM25): `app.settings`
validates `--collection` on every command, `docqa --help` and bad usage included."""

from __future__ import annotations

import re

from core.errors import BadInput

DEFAULT = "default"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_name(name: str) -> bool:
    return bool(_NAME.match(name))


def check_name(name: str) -> str:
    if not is_name(name):
        raise BadInput(
            f"bad collection name {name!r}",
            "use 1 to 64 letters, digits, - or _ (e.g. --collection my-papers)",
        )
    return name
