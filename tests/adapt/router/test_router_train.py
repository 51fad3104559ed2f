"""Router training: the shared-prefix loss equals the plain loss; a tiny run writes adapter + card."""

from __future__ import annotations

import json

import pytest

from adapt.router.data import Example
from adapt.router.train import TrainSettings, _shared_prefix_loss, encode_example, select_examples, train_router
from rag.prompts import closed_book

ROUTER = [{"role": m.role, "content": m.content} for m in closed_book("Who wrote Dracula?", router=True)]


def _examples():
    qs = ["Who wrote Dracula?", "What is the capital of France?", "Who painted the fixture mural?"]
    targets = ["Bram Stoker", "Paris", "<RET>"]
    return [Example(f"x{i}", "ret" if t == "<RET>" else "answer",
                    tuple({"role": m.role, "content": m.content} for m in closed_book(q, router=True)), t)
            for i, (q, t) in enumerate(zip(qs, targets))]


def test_shared_prefix_loss_matches_the_plain_loss(hf_generator_f32):
    hf_generator = hf_generator_f32  # training runs in float32 (adapt/cli.py)
    import torch

    tok = hf_generator.tokenizer
    enc = [encode_example(tok, hf_generator.render_chat, e, 256) for e in _examples()]
    assert all(e is not None for e in enc)
    # the target is "<RET>" as plain text followed by the end-of-turn token; only it carries labels
    _ids, labels = enc[2]
    assert tok.decode([t for t in labels if t != -100]) == "<RET>" + tok.eos_token
    with torch.no_grad():
        shared = float(_shared_prefix_loss(hf_generator.model, enc, tok.pad_token_id))
        total, n = 0.0, 0
        for x, y in enc:
            logits = hf_generator.model(input_ids=torch.tensor([x])).logits[0, :-1]
            lab = torch.tensor(y[1:])
            total += float(torch.nn.functional.cross_entropy(logits, lab, ignore_index=-100, reduction="sum"))
            n += int((lab != -100).sum())
    assert shared == pytest.approx(total / n, rel=1e-4)


def test_select_examples_keeps_answers_and_drops_context_on_request():
    ex = _examples() + [Example("c", "context", ({"role": "user", "content": "x"},), "y")]
    got = select_examples(ex, TrainSettings(max_examples=3, context_examples=False))
    assert len(got) == 3 and {e.kind for e in got} == {"answer", "ret"}
    assert sum(e.kind == "answer" for e in got) == 2


@pytest.mark.slow
def test_tiny_training_run_writes_adapter_and_card(tmp_path):
    import torch

    from rag.config import ModelConfig
    from rag.generators import make_generator

    gen = make_generator(ModelConfig(name="smollm2-135m", dtype="float32"))  # training runs in float32
    data = tmp_path / "data"
    data.mkdir()
    (data / "examples.jsonl").write_text("".join(
        json.dumps({"id": e.id, "kind": e.kind, "messages": list(e.messages), "target": e.target}) + "\n"
        for e in _examples()))
    prompt = torch.tensor([gen.tokenizer(gen.render_chat(closed_book("Who?")), add_special_tokens=False).input_ids])
    with torch.no_grad():
        before = gen.model(input_ids=prompt).logits[0, -1].clone()
    card = train_router(gen, data, tmp_path / "adapter", TrainSettings(epochs=1, batch_size=2, top_layers=2),
                        progress=False)
    assert (tmp_path / "adapter" / "adapter_config.json").exists()
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    saved = json.loads((tmp_path / "adapter" / "router_card.json").read_text())
    assert saved["base_model"] == "smollm2-135m" and saved["training"]["steps"] == 2
    assert saved["ret_first_token"] == "<" and card["settings"]["rank"] == 8
    with torch.no_grad():  # the generator's base model is unchanged by training
        assert torch.equal(gen.model(input_ids=prompt).logits[0, -1], before)
