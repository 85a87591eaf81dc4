"""The one settings object: flags, then DOCQA_* environment variables, then `docqa.toml`.

Read once, here in `app/`, and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import BadInput
from data import DEFAULT_ARTICLE
from retrieval.names import check_name

BackendName = Literal["extractive", "llamacpp", "openai"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOCQA_", toml_file="docqa.toml", extra="ignore", frozen=True
    )

    backend: BackendName = "extractive"
    index_dir: Path = Path(".docqa/index")
    # The collection commands work on: "default" is the index dir itself, any other name a
    # folder of its own under <index_dir>/collections/ (retrieval/collection.py).
    collection: str = "default"
    sources: list[Path] = Field(default_factory=lambda: [DEFAULT_ARTICLE])
    k: int = Field(5, ge=1, le=50)
    chunk_tokens: int = Field(200, ge=16, le=2000)
    chunk_overlap: int = Field(1, ge=0, le=5)
    fusion: Literal["rrf", "weighted", "dense", "bm25"] = "weighted"
    threads: int = Field(1, ge=1, le=64)
    # `docqa ingest`'s embedding threads; None: every core (up to 8). A process that only
    # ingests has no question waiting: 150 documents, 912 sentences embedded in 28 s on one
    # thread, 17 s on two (2 quiet cores). Questions keep `threads` (default 1).
    ingest_threads: int | None = Field(None, ge=1, le=64)
    # onnx (default): ONNX Runtime, no torch in a query's process; torch: sentence-transformers.
    embed_backend: Literal["onnx", "torch"] = "onnx"
    # Where the one-time ONNX export of the embedding model is kept (None: ~/.cache/docqa/onnx).
    model_cache_dir: Path | None = None
    max_upload_bytes: int = Field(5_000_000, ge=1)
    llamacpp_model: Path | None = None
    llamacpp_ctx: int = Field(4096, ge=512)
    # The local model's CPU threads; None: every core (up to 8). A question's prompt is read
    # at about half the time on two threads as on one (dev set: first token 13.4 s -> 6.8 s).
    llamacpp_threads: int | None = Field(None, ge=1, le=64)
    # Candidate sentences the model reads, numbered, for a constrained answer. 3 is the
    # shorter prompt (first token sooner, 152 prompt tokens p50 on the dev set); 6 gives the
    # model more to choose from (SQuAD sample, issue #12's note: contained 0.88 vs 0.82, same
    # accuracy) at about twice the prompt reading.
    llm_sentences: int = Field(3, ge=1, le=12)
    # The local model judges answerability with its own probability, where a calibration was
    # fitted for its file (answer/data/judges.json, `python -m app.bench judge`); False: the
    # reader decides, and the model's written "no" also abstains.
    llm_judge: bool = True
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api_key: SecretStr | None = None
    request_timeout_s: float = Field(60.0, gt=0)
    # A running `docqa serve` that `docqa ask` sends its question to, instead of loading the
    # models itself (a one-shot ask is then a Python start and one HTTP call).
    server_url: str | None = None
    max_retries: int = Field(2, ge=0, le=10)

    @field_validator("collection")
    @classmethod
    def _collection(cls, v: str) -> str:
        return check_name(v)  # its own one-line BadInput, not pydantic's

    @field_validator("openai_base_url", "server_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {v!r}")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(**flags: Any) -> Settings:
    """Settings from flags (None means "not given"), the environment and docqa.toml."""
    given = {k: v for k, v in flags.items() if v is not None}
    if (
        "openai_api_key" not in given
        and not os.environ.get("DOCQA_OPENAI_API_KEY")
        and os.environ.get("OPENAI_API_KEY")
    ):
        given["openai_api_key"] = os.environ["OPENAI_API_KEY"]
    try:
        return Settings(**given)
    except tomllib.TOMLDecodeError as e:
        raise BadInput(
            f"docqa.toml is not valid TOML ({_one_line(str(e))})", "fix or remove docqa.toml"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        problem = f"cannot read docqa.toml ({_one_line(str(e))})"
        raise BadInput(problem, "fix or remove it") from None
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise BadInput(
            f"bad setting {where}={err.get('input')!r}: {err['msg']}",
            f"fix the flag, DOCQA_{where.upper()} or docqa.toml",
        ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())
