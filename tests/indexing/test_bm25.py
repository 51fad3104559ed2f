"""bm25s (our BM25) agrees with rank-bm25 (the reference named in the design) on scores and rankings."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from indexing.bm25 import K1, B, BM25Index, tokenize

WORDS = (
    "river", "mountain", "castle", "harbour", "festival", "library", "railway", "bridge", "market", "cathedral",
    "museum", "garden", "island", "valley", "forest", "desert", "glacier", "canyon", "volcano", "lagoon", "meadow",
    "orchard", "vineyard", "quarry",
)


def corpus(n: int = 300, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    # Zipf-like word choice; every word stays in < half of the documents so both IDFs are positive
    return [" ".join(rng.choice(WORDS[: rng.randint(3, len(WORDS))]) for _ in range(rng.randint(5, 40)))
            for _ in range(n)]


class LuceneIdfBM25(BM25Okapi):
    """rank-bm25's BM25Okapi scoring with Lucene's IDF, the variant indexing/bm25.py uses."""

    def _calc_idf(self, nd):
        for word, freq in nd.items():
            self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))


def test_scores_and_rankings_match_rank_bm25(tmp_path: Path):
    texts = corpus()
    ids = [f"c{i}" for i in range(len(texts))]
    ours = BM25Index.build(ids, texts)
    ours.save(tmp_path / "bm25")
    ours = BM25Index.load(tmp_path / "bm25")  # what readers use
    ref = LuceneIdfBM25([tokenize(t) for t in texts], k1=K1, b=B)
    okapi = BM25Okapi([tokenize(t) for t in texts], k1=K1, b=B)
    overlaps = []
    dfs = {w: sum(w in tokenize(t) for t in texts) for w in WORDS}
    queries = [w for w in WORDS if 0 < dfs[w] < len(texts) / 2]
    queries += [f"{a} {b}" for a, b in itertools.pairwise(queries)]
    assert len(queries) > 10
    for q in queries:
        expected = ref.get_scores(tokenize(q))
        np.testing.assert_allclose(ours.scores(q), expected, rtol=1e-4, atol=1e-5)
        top = ours.search(q, 10)
        ref_top = sorted(range(len(texts)), key=lambda i: (-expected[i], i))[:10]
        assert [s for _, s in top] == pytest_approx([expected[i] for i in ref_top])
        assert {cid for cid, _ in top} == {ids[i] for i in ref_top if expected[i] > 0} or _ties(expected, ref_top)
        okapi_scores = okapi.get_scores(tokenize(q))
        okapi_top = sorted(range(len(texts)), key=lambda i: (-okapi_scores[i], i))[:10]
        overlaps.append(len({ids[i] for i in okapi_top} & {cid for cid, _ in top}) / 10)
    assert np.mean(overlaps) >= 0.9  # same ranking as the classic Okapi IDF up to ties/near-ties


def pytest_approx(values):
    import pytest

    return pytest.approx(values, rel=1e-4)


def _ties(scores, top) -> bool:
    return np.isclose(scores[top[-1]], np.sort(scores)[-len(top) - 1])


def test_tokenize_and_edge_cases(tmp_path: Path):
    assert tokenize("The Eiffel-Tower, in PARIS!") == ["eiffel", "tower", "paris"]
    empty = BM25Index.build([], [])
    assert empty.search("anything", 5) == []
    empty.save(tmp_path / "e")
    assert BM25Index.load(tmp_path / "e").search("anything", 5) == []
    idx = BM25Index.build(["a", "b"], ["red apple", "green pear"])  # Okapi's IDF would be 0 here
    assert idx.search("unknownword", 5) == []
    assert idx.search("pear", 5)[0][0] == "b"
