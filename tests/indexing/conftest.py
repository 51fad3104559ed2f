"""Fixtures for index tests: a config pointing at a fresh index folder, and small real documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Config, load_config


def make_config(index: Path, **overrides) -> Config:
    # no DyPRAG translator inputs (auto would follow whatever translator ~/.local/share holds);
    # tests/indexing/test_translator_inputs.py tests them
    values = {"index.path": str(index), "inject.index_inputs": "off"}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_config(env={}, overrides=values)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return make_config(tmp_path / "index")


DOCS = {
    "paris.txt": "Paris is the capital of France. The Seine river flows through Paris. "
                 "The Eiffel Tower was completed in 1889.",
    "berlin.md": "# Berlin\n\nBerlin is the capital of Germany.\n\n## History\n\nThe Berlin Wall fell in 1989. "
                 "Germany was reunified in 1990.",
    "rome.html": "<html><head><title>Rome</title><script>var secret = 'scriptword';</script>"
                 "<style>.x{color:red}</style></head><body><h1>Rome</h1><p>Rome is the capital of Italy. "
                 "The Colosseum is an ancient amphitheatre.</p></body></html>",
    "more.jsonl": '{"id": "madrid", "title": "Madrid", "text": "Madrid is the capital of Spain. '
                  'The Prado is a museum."}\n'
                  '{"id": "lisbon", "text": "Lisbon is the capital of Portugal. Trams climb its hills.", '
                  '"source": "https://example.org/lisbon"}\n',
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
