"""`index add` stores each chunk's DyPRAG translator input in its generation; `index rm` drops it.

Real pieces throughout: the embedded index, MiniLM, SmolLM2-135M as the base model and a random (untrained)
translator file; only the Injector's fallback encoder is replaced, to count that it is never needed.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from indexing.generations import committed_generation
from indexing.index import Index
from indexing.translator_inputs import TranslatorInputs, index_translator_inputs, inputs_path_for
from rag.config import load_config
from rag.generators import hidden_states
from rag.generators.hidden_states import passage_embedding, passage_embeddings
from rag.inject import Injector
from rag.translator import ParameterTranslator, save_translator
from rag.types import Passage

DOCS = {
    "oulu.txt": "Oulu is a city in northern Finland on the coast of the Gulf of Bothnia. It is known for its "
                "technology industry and for the Oulu University. The Oulujoki river flows through the city "
                "into the sea. Oulu was founded in 1605 by King Charles IX of Sweden.",
    "kotka.txt": "Kotka is a town on the southern coast of Finland. Its harbour is the largest export port of "
                 "the country. The Maretarium aquarium shows the fish of the Baltic Sea.",
    "turku.md": "# Turku\n\nTurku is the oldest city of Finland. Turku Castle was founded in the 1280s.\n\n"
                "## Culture\n\nTurku was the European Capital of Culture in 2011.",
}


@pytest.fixture
def translator_file(spec, tmp_path):
    path = tmp_path / "translator.safetensors"
    save_translator(ParameterTranslator(spec, seed=0), path)
    return path


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _cfg(tmp_path, translator, **extra):
    return load_config(env={}, overrides={
        "index.path": str(tmp_path / "index"), "index.chunk_tokens": 24, "index.chunk_overlap": 4,  # several chunks a doc
        "inject.translator": str(translator), "inject.dyprag": "combine", **extra})


def _all_chunks(cfg, embedder):
    idx = Index.open(cfg, readonly=True, embedder=embedder)
    ids = [cid for cid, _ in idx.manifest.iter_chunk_texts()]
    return list(idx.chunks_by_id(ids).values())


@pytest.fixture
def encoder_calls(monkeypatch):
    """Count passage encodings at question time; a base-model load there would fail the test."""
    calls: list[int] = []
    real = hidden_states.passage_embeddings

    def counting(model, tok, texts, batch_size=8):
        calls.append(len(texts))
        return real(model, tok, texts, batch_size)

    def no_load(*args, **kwargs):
        raise AssertionError("the Injector loaded the base model: a passage had no stored translator input")

    monkeypatch.setattr(hidden_states, "passage_embeddings", counting)
    monkeypatch.setattr(hidden_states, "shared_base_model", no_load)
    return calls


def test_index_add_stores_every_chunks_input_and_rm_drops_it(base, embedder, translator_file, docs, tmp_path,
                                                              encoder_calls):
    model, tok = base
    cfg = _cfg(tmp_path, translator_file)  # inject.index_inputs = auto, and the translator file exists
    report = Index.open(cfg, embedder=embedder, translator_encoder=base).add([docs], progress=False)
    chunks = _all_chunks(cfg, embedder)
    assert len(chunks) > len(DOCS)
    assert report.translator_inputs == report.chunks_added == len(chunks)
    assert inputs_path_for(cfg).parent.parent == committed_generation(cfg.index_path())  # inside the generation
    encoder_calls.clear()  # count only what a question costs from here on

    injector = Injector(SimpleNamespace(model=None, tokenizer=None), cfg)  # like the openai backend
    passages = [Passage(c.id, c.source, c.title, c.text, c.start, c.end, 1.0) for c in chunks]
    stored = injector.embeddings(passages)
    assert encoder_calls == []  # every chunk's vector was found: no passage encoding at question time
    with_model = passage_embeddings(model, tok, [c.text for c in chunks])
    assert np.allclose(stored, with_model, atol=1e-4)  # and it is the vector the question would have computed
    encoder_calls.clear()
    assert injector.deltas(passages[:3]) is not None and encoder_calls == []

    removed = [c for c in chunks if c.source.endswith("kotka.txt")]
    assert removed
    Index.open(cfg, embedder=embedder, translator_encoder=base).remove([docs / "kotka.txt"])
    store = TranslatorInputs(inputs_path_for(cfg))
    assert not any(c.id in store for c in removed)  # a chunk removed from the index loses its vector
    assert sorted(store.ids()) == sorted(c.id for c in chunks if c not in removed)
    kept = [p for p in passages if not p.source.endswith("kotka.txt")]
    assert injector.embeddings(kept).shape == (len(kept), 576) and encoder_calls == []
    assert injector.inputs.path == inputs_path_for(cfg)  # the Injector follows the index's new generation

    (docs / "turku.md").write_text(DOCS["turku.md"] + "\n\nThe Aura river divides Turku.", encoding="utf-8")
    again = Index.open(cfg, embedder=embedder, translator_encoder=base).add([docs], progress=False)
    assert again.updated and 0 < again.translator_inputs < again.chunks_added  # unchanged chunks keep their vector
    assert sorted(TranslatorInputs(inputs_path_for(cfg)).ids()) == sorted(c.id for c in _all_chunks(cfg, embedder))


def test_an_interrupted_add_leaves_no_vectors(base, embedder, translator_file, docs, tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, translator_file)
    (docs / "kotka.txt").rename(tmp_path / "kotka.txt")
    Index.open(cfg, embedder=embedder, translator_encoder=base).add([docs], progress=False)
    before = sorted(TranslatorInputs(inputs_path_for(cfg)).ids())

    import indexing.writer

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(indexing.writer.BM25Index, "build", killed)  # dies after encoding, before the commit
    with pytest.raises(KeyboardInterrupt):
        Index.open(cfg, embedder=embedder, translator_encoder=base).add([tmp_path / "kotka.txt"], progress=False)
    assert sorted(TranslatorInputs(inputs_path_for(cfg)).ids()) == before
    assert [p.name for p in cfg.index_path().glob("gen-*")] == [committed_generation(cfg.index_path()).name]


def test_no_translator_no_model_load(embedder, docs, tmp_path, monkeypatch):
    def no_load(*args, **kwargs):
        raise AssertionError("the base model was loaded without a translator")

    monkeypatch.setattr(hidden_states, "shared_base_model", no_load)
    cfg = _cfg(tmp_path, tmp_path / "no-translator.safetensors")  # auto, but no translator file
    report = Index.open(cfg, embedder=embedder).add([docs], progress=False)
    assert report.chunks_added and report.translator_inputs == 0 and "dyprag" not in report.timings_s
    assert not (committed_generation(cfg.index_path()) / "dyprag").exists()
    off = _cfg(tmp_path, tmp_path / "no-translator.safetensors", **{"inject.index_inputs": "off"})
    (docs / "more.txt").write_text("Tampere lies between two lakes.", encoding="utf-8")
    assert Index.open(off, embedder=embedder).add([docs], progress=False).translator_inputs == 0


def test_index_translator_inputs_encodes_each_chunk_once(base, tmp_path):
    model, tok = base
    gen = SimpleNamespace(model=model, tokenizer=tok)
    chunks = [SimpleNamespace(id="c1", text="Oulu is a city in Finland."), SimpleNamespace(id="c2", text="Kotka.")]
    path = tmp_path / "inputs.npz"
    assert index_translator_inputs(gen, chunks, path) == 2
    assert index_translator_inputs(gen, chunks, path) == 0  # cached on disk
    store = TranslatorInputs(path)
    assert len(store) == 2 and np.allclose(store.get("c1"), passage_embedding(gen, chunks[0].text), atol=1e-4)
    store.remove(["c1"])
    store.save()
    assert "c1" not in TranslatorInputs(path) and "c2" in TranslatorInputs(path)
    path.write_bytes(b"garbage")
    assert len(TranslatorInputs(path)) == 0  # a damaged cache is rebuilt, not fatal
