"""evals/bench_speed.py: tokens/s arithmetic, argument checks, and one tiny real run (slow)."""

from __future__ import annotations

import json

import pytest

from evals import bench_speed
from rag.types import Generation


def test_rates_count_the_first_new_token_with_the_prompt():
    gens = [
        Generation("a", tokens=("x",) * 5, prompt_tokens=100, timings_ms={"prompt": 500.0, "decode": 400.0}),
        Generation("b", tokens=("y",) * 3, prompt_tokens=300, timings_ms={"prompt": 1500.0, "decode": 100.0}),
    ]
    r = bench_speed.rates(gens)
    assert r["prompt_tokens_per_s"] == pytest.approx(400 / 2.0)
    assert r["decode_tokens_per_s"] == pytest.approx((4 + 2) / 0.5)
    assert (r["prompt_tokens_mean"], r["new_tokens_mean"]) == (200, 4)


def test_bad_arguments_name_the_flag(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench_speed.main(["--data", str(tmp_path / "x.jsonl"), "--batch", "0"])
    assert "--batch must be > 0, got 0" in capsys.readouterr().err


@pytest.mark.slow  # loads the model twice (float32, bfloat16) and runs every setting
def test_tiny_run_reports_every_setting(tmp_path, capsys):
    data = tmp_path / "popqa.jsonl"
    rows = [{"question": f"Who is person {i}?", "passage": f"Person {i} is a painter born in Lyon. " * 8,
             "answers": ["painter"]} for i in range(2)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "speed.json"
    assert bench_speed.main(["--data", str(data), "--prompt-tokens", "80", "--max-new-tokens", "3", "--batch", "1",
                             "--rounds", "2", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {k.split("/")[0] for k in report["settings"]} == {"float32", "bfloat16"}
    assert "1t" in {k.split("/")[1] for k in report["settings"]}
    for v in report["settings"].values():
        assert v["prompt_tokens_per_s"] > 0 and v["batched_s_mean"] > 0 and 60 < v["prompt_tokens_mean"] < 120
        assert v["prompts"] == 2  # --batch 1 x --rounds 2: each prompt once per setting
    assert "| float32/1t |" in capsys.readouterr().out
