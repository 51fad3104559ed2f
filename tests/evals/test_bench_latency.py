"""evals/bench_latency.py --merge: runs of one backend each united into one table, agreement from stored outputs."""

from __future__ import annotations

import json

import pytest

from evals import bench_latency


def _run(path, backend, texts, logprobs, load):
    stats = {"total_ms": {"p50": 100.0, "p95": 200.0}, "prompt_ms": {"p50": 60.0}, "decode_ms": {"p50": 40.0},
             "prompt_tokens_per_s": 500.0, "decode_tokens_per_s": 20.0, "memory_mb": 900.0, "accuracy": 0.5,
             "outputs": [{"text": t, "first_logprob": lp} for t, lp in zip(texts, logprobs)]}
    path.write_text(json.dumps({"data": "dev.jsonl", "n": 2, "max_new_tokens": 32, "cpus": 2,
                                "load_avg_1m_start": load, "load_avg_1m_end": load,
                                "models": {"m": {backend: stats}}}))
    return path


def test_merge_unites_backends_and_computes_agreement(tmp_path, capsys):
    hf = _run(tmp_path / "hf.json", "hf", ["Paris", "Tokyo"], [-0.1, -0.5], 1.0)
    vllm = _run(tmp_path / "vllm.json", "vllm", ["Paris", "Kyoto"], [-0.1004, -0.2], 2.0)
    out = tmp_path / "merged.json"
    assert bench_latency.main(["--merge", str(hf), str(vllm), "--out", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert set(merged["models"]["m"]) == {"hf", "vllm", "agreement"}
    assert merged["models"]["m"]["agreement"]["same_text"] == 0.5
    assert merged["models"]["m"]["agreement"]["first_logprob_max_abs_diff"] == pytest.approx(0.3)
    assert [r["load_avg_1m_start"] for r in merged["runs"]] == [1.0, 2.0]
    assert "| m | hf vs vLLM | same text 50%" in capsys.readouterr().out


def test_merge_refuses_runs_over_different_questions(tmp_path):
    hf = _run(tmp_path / "hf.json", "hf", ["a"], [-1.0], 1.0)
    other = json.loads(hf.read_text()) | {"n": 3}
    (tmp_path / "other.json").write_text(json.dumps(other))
    with pytest.raises(SystemExit, match="same --data, --n"):
        bench_latency.main(["--merge", str(hf), str(tmp_path / "other.json")])
