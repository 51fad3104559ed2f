"""The base model as an encoder: the translator input is the last token's final hidden state."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rag.generators.hidden_states import passage_embedding, passage_embeddings


def test_passage_embedding_is_the_last_token_state(base):
    model, tok = base
    gen = SimpleNamespace(model=model, tokenizer=tok)
    texts = ["Paris is the capital of France.", "Oulu is a city in Finland, on the Gulf of Bothnia coast."]
    one = passage_embedding(gen, texts[0])
    assert one.shape == (576,) and one.dtype == np.float32
    both = passage_embeddings(model, tok, texts)  # batched with right padding: same vectors
    assert np.allclose(both[0], one, atol=1e-4)
    assert not np.allclose(both[0], both[1], atol=1e-2)
