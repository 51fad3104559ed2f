"""evals/bench_clients.py: client-count parsing, disjoint question sets, the summary row and the table (no server)."""

from __future__ import annotations

import pytest

from evals import bench_clients
from evals.bench_clients import Asked
from evals.data import QAExample


def test_clients_parse_in_order_without_duplicates():
    assert bench_clients.parse_clients("1,4,8") == (1, 4, 8)
    assert bench_clients.parse_clients(" 8, 1,,8 ") == (8, 1)


@pytest.mark.parametrize("text", ["0", "1,-4", "two", "1.5", "", " , "])
def test_bad_client_counts_are_refused_naming_the_entry(text):
    with pytest.raises(ValueError, match="--clients"):
        bench_clients.parse_clients(text)


def test_bad_flags_fail_before_any_server_starts(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench_clients.main(["--data", str(tmp_path / "none.jsonl"), "--clients", "1,0"])
    assert "got '0' in '1,0'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_clients.main(["--data", str(tmp_path / "none.jsonl"), "--n", "0"])
    assert "--n must be > 0, got 0" in capsys.readouterr().err


def test_too_few_questions_fail_before_any_server_starts(popqa_tiny):
    with pytest.raises(SystemExit, match="needs 501 questions; the data has 4"):
        bench_clients.main(["--data", str(popqa_tiny), "--clients", "1,4", "--n", "500"])


def test_the_warm_up_question_is_not_one_of_the_measured():
    examples = [QAExample(str(i), f"q{i}?", ("a",)) for i in range(8)]
    warmup, questions = bench_clients.split_questions(examples, 3)
    assert (warmup.id, [e.id for e in questions]) == ("0", ["1", "2", "3"])


def test_same_share_compares_only_questions_answered_in_both_runs():
    one = [Asked(1.0, text="Paris"), Asked(1.0, text="Oulu"), Asked(1.0, text="x"), Asked(1.0, error="timeout")]
    other = [Asked(1.0, text="Paris"), Asked(1.0, text="Oulu."), Asked(1.0, error="timeout"), Asked(1.0, text="y")]
    assert bench_clients.same_share(one, other) == pytest.approx(0.5)
    assert bench_clients.same_share(one[2:], other[2:]) is None


def test_summary_throughput_is_over_wall_time_and_latency_over_successful_answers():
    asked = [Asked(float(s), prompt_tokens=100 * s, correct=s % 2 == 0) for s in range(1, 11)]  # 1..10 s
    asked.append(Asked(99.0, error="GeneratorError: timed out"))
    row = bench_clients.summarize(asked, wall_s=20.0, clients=4, load_1m=1.5)
    assert (row["answers"], row["errors"], row["clients"]) == (10, 1, 4)
    assert row["answers_per_s"] == pytest.approx(0.5)  # 10 answers in 20 s; the failed one does not count
    assert row["p50_s"] == pytest.approx(5.5)
    assert row["p95_s"] == pytest.approx(9.55)  # linear interpolation between 9 and 10 s, not the 99 s failure
    assert row["prompt_tokens_mean"] == pytest.approx(550)
    assert row["accuracy"] == pytest.approx(0.5)
    assert row["first_errors"] == ["GeneratorError: timed out"]


def test_summary_of_a_run_where_every_answer_failed_has_no_latency():
    row = bench_clients.summarize([Asked(1.0, error="x")], wall_s=1.0, clients=1, load_1m=0.0)
    assert (row["answers"], row["answers_per_s"], row["p50_s"], row["accuracy"]) == (0, 0.0, None, None)


def test_table_has_one_row_per_backend_and_client_count():
    row = bench_clients.summarize([Asked(2.0, 600, True)], wall_s=2.0, clients=1, load_1m=3.5)
    failed = bench_clients.summarize([Asked(1.0, error="x")], wall_s=1.0, clients=8, load_1m=3.0)
    report = {"backends": [{"backend": "vllm", "runs": [row | {"same_as_first": 1.0}, failed]},
                           {"backend": "hf", "threads": 2, "runs": [row | {"same_as_first": 0.75}]}]}
    lines = bench_clients.markdown(report).splitlines()
    assert len(lines) == 2 + 3
    assert lines[2] == "| vLLM | 1 | 1 | 0.500 | 2.0 | 2.0 | 2.0 | 600 | 1.00 | 100% | 3.5 |"
    assert lines[3].startswith("| vLLM | 8 | 0 (1 failed) | 0.000 | - |")
    assert lines[4].startswith("| hf in-process (2 threads) | 1 |")
    assert lines[4].endswith("| 75% | 3.5 |")
