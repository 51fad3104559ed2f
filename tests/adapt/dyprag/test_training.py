"""Teachers and translator training: a tiny real run (1 teacher step, 2 translator steps), resume, data split."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from adapt.dyprag.teachers import TeacherConfig, TrainItem, build_teachers, load_items, load_teacher, teacher_file
from adapt.dyprag.train import TrainConfig, train_translator
from rag.translator import TranslatorError, load_translator

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
ITEMS = [
    TrainItem("t:1", "t", "Oulu is a city in Finland. Aarno Maliniemi was born in Oulu.", "In what city was Aarno "
              "Maliniemi born?", "Oulu"),
    TrainItem("t:2", "t", "Kate Brian wrote the novel Private.", "Who is the author of Private?", "Kate Brian"),
]


def test_teachers_then_translator_smoke(base, spec, tmp_path):
    model, tok = base
    before = {k: v.clone() for k, v in list(model.state_dict().items())[:5]}
    summary = build_teachers(model, tok, ITEMS, tmp_path, TeacherConfig(steps=2), progress=False)
    assert summary["trained"] == 2 and summary["mean_qa_loss_last"] < summary["mean_qa_loss_before"]
    item, emb, weights, _stats = load_teacher(teacher_file(tmp_path, "t:1"))
    assert item == ITEMS[0] and emb.shape == (576,) and len(weights) == 90
    a, b = weights["model.layers.0.mlp.down_proj"]
    assert a.shape == (2, 1536) and b.shape == (576, 2) and b.abs().sum() > 0
    again = build_teachers(model, tok, ITEMS, tmp_path, TeacherConfig(steps=2), progress=False)
    assert again["trained"] == 0 and again["skipped_existing"] == 2  # resumable: nothing redone

    out = tmp_path / "translator.safetensors"
    cfg = TrainConfig(epochs=1, val_fraction=0.0, checkpoint_every=1)
    manifest = train_translator(model, tok, tmp_path, out, cfg, "smollm2-135m", spec.base_sha256, progress=False)
    assert manifest.metrics["steps"] == 2 and manifest.training["teachers"] == 2
    assert manifest.metrics["last_epoch_mean"]["mse"] > 0
    _translator, loaded = load_translator(out, expect_sha256=spec.base_sha256)
    assert loaded.spec == manifest.spec
    # A finished run resumes from its checkpoint without training again.
    resumed = train_translator(model, tok, tmp_path, out, cfg, "smollm2-135m", spec.base_sha256, progress=False)
    assert resumed.metrics["steps"] == 2
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # base model untouched
    assert not any(m._forward_hooks for m in model.modules())


def test_training_without_teachers_fails_clearly(base, tmp_path):
    model, tok = base
    with pytest.raises(TranslatorError, match="no teacher LoRAs.*build-teachers"):
        train_translator(model, tok, tmp_path, tmp_path / "t.safetensors", TrainConfig(), "smollm2-135m", "")


@pytest.mark.skipif(not (DATA / "popqa" / "dev.jsonl").exists(), reason="shared data folder not present")
def test_training_items_never_come_from_popqa_eval_half():
    from evals.data import popqa_split

    items = load_items(DATA, ("squad", "nq", "popqa"), seed=0)
    popqa = [it for it in items if it.source == "popqa"]
    assert popqa and all(popqa_split(it.id.split(":", 1)[1]) == "train" for it in popqa)
    assert all(it.answer.lower() in it.passage.lower() for it in popqa)
    assert [it.source for it in items[:3]] == ["squad", "nq", "popqa"]  # interleaved
    assert load_items(DATA, ("squad", "nq", "popqa"), limit=10, seed=0) == items[:10]  # deterministic


def test_cli_registers_the_dyprag_group():
    from adapt.dyprag.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["dyprag", "build-teachers", "--data", "d", "--work", "w", "--limit", "3"])
    assert args.limit == 3 and args.func.__name__ == "cmd_build_teachers"
    args = parser.parse_args(["dyprag", "train", "--work", "w", "--epochs", "1"])
    assert args.epochs == 1 and args.func.__name__ == "cmd_train"
    assert json.dumps(vars(parser.parse_args(["dyprag", "bench", "--data", "d"])), default=str)
