"""The checker's word lists (verify/words/): read once, checked, shipped as package data."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from core.errors import DocqaError
from verify import lexicon

ROOT = Path(__file__).resolve().parents[1]


def test_lists_are_loaded() -> None:
    assert "the" in lexicon.FUNCTION_WORDS and "not" in lexicon.NEGATION_CUES
    assert lexicon.MONTHS["september"] == 9 and lexicon.MONTH_NAMES[5] == "May"
    assert lexicon.SCALES["million"] == 1e6
    assert lexicon.RELATIONS["cause"][0] == "led to"
    assert lexicon.spelling("organise") == "organize"


@pytest.mark.parametrize(
    ("name", "text", "load"),
    [
        ("w.txt", None, lambda: lexicon.word_set("w.txt")),
        ("w.txt", "# only a comment\n", lambda: lexicon.word_set("w.txt")),
        ("m.json", '{"may": 5,', lambda: lexicon.word_map("m.json", lambda v: True, "x")),
        ("m.json", '{"may": "five"}', lambda: lexicon.word_map("m.json", lexicon._ints, "ints")),
        ("a.json", '[["(", "X"]]', lambda: lexicon._aliases("a.json")),
        ("a.json", '[["US"]]', lambda: lexicon._aliases("a.json")),
    ],
)
def test_a_bad_file_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str | None, load
) -> None:
    (tmp_path / lexicon.LANGUAGE).mkdir()
    if text is not None:
        (tmp_path / lexicon.LANGUAGE / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(lexicon, "WORDS_DIR", tmp_path)
    with pytest.raises(DocqaError) as e:
        load()
    msg = str(e.value)
    assert name in msg and "\n" not in msg


def test_word_files_are_package_data() -> None:
    """A non-editable install gets every word list (setuptools package-data globs)."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert "verify" in conf["setuptools"]["packages"]
    globs = conf["setuptools"]["package-data"]["verify"]
    files = [
        p.relative_to(ROOT / "verify").as_posix() for p in (ROOT / "verify" / "words").rglob("*.*")
    ]
    assert files
    for f in files:
        assert any(fnmatch(f, g) for g in globs), f"{f} is not in verify's package-data"
