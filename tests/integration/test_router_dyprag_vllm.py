"""The <RET> router and DyPRAG in one question through vLLM: one LoRA per request.

vLLM applies one LoRA adapter per request, so the answer path splits the work: the router call (for a question
the documents do not name) runs with the router adapter, the answer call with the question's own DyPRAG adapter (the translated passages,
exported as a PEFT folder, loaded for that request and unloaded after it). Everything is real: the vLLM
server, an index built by `index add` (which stores each chunk's translator input), SmolLM2's router; the
translator is random (untrained): this checks the plumbing, not the answer.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

TEST_MODEL = "smollm2-135m"
DOCS = {
    "kenya.txt": "Kenya is a country in East Africa. Its capital is Nairobi. Kenya borders Tanzania and Uganda.",
    "japan.txt": "Japan is an island country in East Asia. Its capital is Tokyo. The currency of Japan is the yen.",
}


@pytest.fixture
def generator(vllm_server):
    """A private openai-backend generator, so recording its requests touches no other test's client."""
    from rag.config import ModelConfig
    from rag.generators import make_generator

    gen = make_generator(ModelConfig(name=TEST_MODEL, backend="openai", base_url=vllm_server.base_url,
                                     timeout_s=300, max_retries=1))
    yield gen
    gen.close()


def _random_translator(folder, path):
    from transformers import AutoConfig

    from rag.generators.hidden_states import base_model_sha256
    from rag.translator import ParameterTranslator, TranslatorSpec, save_translator

    spec = TranslatorSpec.from_hf_config(AutoConfig.from_pretrained(str(folder)), TEST_MODEL,
                                         base_model_sha256(TEST_MODEL))
    save_translator(ParameterTranslator(spec, seed=0), path)
    return path


def test_router_adapter_decides_and_a_per_question_dyprag_adapter_answers(generator, vllm_server, embedder,
                                                                         tmp_path, monkeypatch):
    from indexing.index import Index
    from indexing.translator_inputs import TranslatorInputs, inputs_path_for
    from rag.attribute import Attributor
    from rag.config import load_config
    from rag.decide import ROUTER_ADAPTER, Decider, find_router
    from rag.generators import hidden_states
    from rag.generators.openai_backend import BASE_ZERO
    from rag.pipeline import Pipeline

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    cfg = load_config(env={}, overrides={
        "model.name": TEST_MODEL, "model.backend": "openai", "model.base_url": vllm_server.base_url,
        "index.path": str(tmp_path / "index"), "retrieval.top_k": 2, "conflict.enabled": False,
        "inject.translator": str(_random_translator(generator.folder, tmp_path / "translator.safetensors")),
        "decide.threshold": 0.0,  # the router runs and reports P(<RET>), and this question surely retrieves
    })
    assert find_router(cfg) is not None, "no router adapter is shipped for smollm2-135m"
    report = Index.open(cfg, embedder=embedder).add([docs], progress=False)  # loads the base model itself
    assert report.translator_inputs == report.chunks_added > 0

    seen: list[tuple[str, set[str] | None]] = []  # (model of each completion request, served models meanwhile)
    client = generator._client
    create = client.completions.create

    def recording(**kwargs):
        model = kwargs["model"]
        served = {m.id for m in client.models.list().data} if model.startswith("dyprag") else None
        seen.append((model, served))
        return create(**kwargs)

    encoded: list[int] = []
    embed = hidden_states.passage_embeddings
    monkeypatch.setattr(client.completions, "create", recording)
    monkeypatch.setattr(hidden_states, "passage_embeddings", lambda m, t, texts, batch_size=8:
                        encoded.append(len(texts)) or embed(m, t, texts, batch_size))

    pipeline = Pipeline(cfg, generator, decider=Decider(generator, cfg), conflict=None,
                        attributor=Attributor(embedder))
    # nothing in the documents names Swedish bakeries and memory is unsure: after the closed-book answer the router
    # decides (its adapter is served from now on)
    unknown = pipeline.answer("How many bakeries were there in Sweden in 1710?", mode="adaptive", dyprag="combine")
    assert unknown.ret_probability is not None and 0.0 <= unknown.ret_probability <= 1.0
    models = [m for m, _ in seen]
    assert ROUTER_ADAPTER in models and models.index(ROUTER_ADAPTER) > models.index(BASE_ZERO), models
    seen.clear()
    # the documents name Kenya's capital: they are read without the router, and DyPRAG answers
    answer = pipeline.answer("What is the capital of Kenya?", mode="adaptive", dyprag="combine")

    assert answer.mode == "adaptive" and answer.retrieved and answer.dyprag == "combine"
    assert answer.ret_probability is None  # no router call: the index said the documents could answer
    assert answer.passages and answer.answer
    models = [m for m, _ in seen]
    assert ROUTER_ADAPTER not in models, models
    per_question = [(m, served) for m, served in seen if m.startswith("dyprag-")]
    assert len(per_question) == 1, models  # the answer call: the question's own DyPRAG adapter
    name, served = per_question[0]
    assert name in served and ROUTER_ADAPTER in served
    # the evidence batch on the base model (the all-zero adapter on a LoRA server), then the answer
    assert set(models) <= {BASE_ZERO, name} and models.index(name) > 0
    assert encoded == []  # the passages' translator inputs came from the index

    after = {m.id for m in client.models.list().data}
    assert name not in after and not any(m.startswith("dyprag-") for m in after)  # unloaded afterwards
    assert name not in generator.info.adapters
    assert not list(generator._scratch.glob("dyprag-*"))  # and its exported folder deleted
    stored = TranslatorInputs(inputs_path_for(cfg))
    assert all(p.id in stored for p in answer.passages)
