"""Threshold tuning and policy metrics of adapt/router/measure.py on hand-made records."""

from __future__ import annotations

from adapt.router.measure import metrics, policies, tune


def rec(qid, closed, grounded, p_ret, s_pop=10.0, router=None):
    return {"id": qid, "answers": ["yes"], "s_pop": s_pop,
            "closed": {"text": closed, "mean_logprob": -1.0}, "grounded": {"text": grounded},
            "router": {"text": router if router is not None else closed, "p_ret": p_ret}}


RECORDS = [
    rec("a", "yes", "no", 0.1),   # known: retrieving would hurt
    rec("b", "no", "yes", 0.9),   # unknown: retrieval helps
    rec("c", "no", "yes", 0.6),
    rec("d", "no", "no", 0.2),    # nothing helps: not retrieving is free
]


def test_tune_picks_best_accuracy_and_then_fewest_retrievals():
    t = tune(RECORDS, lambda r: r["router"]["p_ret"], retrieve_if_high=True, memory="router")
    assert t == 0.6  # retrieves b, c (3/4 right); 0.2 would also be 3/4 but retrieve d too


def test_policy_metrics_and_oracle():
    pols = policies(t_pop=0.0, t_conf=-10.0, t_ret=0.6)
    assert metrics(RECORDS, pols["never"])["accuracy"] == 0.25
    assert metrics(RECORDS, pols["always"])["accuracy"] == 0.5
    adaptive = metrics(RECORDS, pols["adaptive"])
    assert adaptive["accuracy"] == 0.75 and adaptive["retrieval_rate"] == 0.5
    assert adaptive["accuracy_not_retrieved"] == 0.5
    oracle = metrics(RECORDS, pols["oracle"])
    assert oracle["accuracy"] == 0.75 and oracle["retrieval_rate"] == 0.75


def test_ranking_skill_is_the_auroc_of_knowing_closed_book():
    from adapt.router.calibrate import ranking_skill

    skill = ranking_skill(RECORDS)  # only "a" is known closed-book and it has the lowest P(<RET>)
    assert skill["router_p_ret"] == 1.0
    assert skill["confidence_mean_logprob"] == 0.5 and skill["popularity_s_pop"] == 0.5  # all tied: no skill
    assert ranking_skill([rec("x", "no", "no", 0.5)])["router_p_ret"] is None  # one class: undefined
