"""k-means++ in the gradient space with lazy bounds: exact distances, exact draws."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from strategies.seeding import GradientSeeding


def _embedding(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The gradient embeddings themselves, ``a ⊗ [x, 1]``, built the slow way."""
    ones = np.hstack([x, np.ones((len(x), 1))])
    return np.stack([np.kron(a[i], ones[i]) for i in range(len(x))])


def _brute_sq_dist(x: np.ndarray, a: np.ndarray, centres: list[int]) -> np.ndarray:
    g = _embedding(x, a)
    return np.min(((g[:, None, :] - g[None, centres, :]) ** 2).sum(axis=2), axis=1)


def _problem(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    p = rng.dirichlet(np.ones(3), size=n)
    a = p.copy()
    a[np.arange(n), p.argmax(axis=1)] -= 1.0
    return x, a


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_settled_bounds_are_the_exact_distances(kind: str) -> None:
    x, a = _problem()
    space = GradientSeeding(sp.csr_matrix(x) if kind == "sparse" else x, a)
    for c in (3, 17):
        space.add(c)
    space.settle()
    space.add(29)  # the others learn of this one only on refresh
    rows = np.arange(10)
    space.refresh(rows)
    want = _brute_sq_dist(x, a, [3, 17, 29])
    np.testing.assert_allclose(space.bound[rows], want[rows], atol=1e-9)
    assert np.all(space.bound[10:] >= want[10:] - 1e-9)  # the rest: upper bounds
    space.settle()
    np.testing.assert_allclose(space.bound, want, atol=1e-9)


def test_draws_follow_the_kmeans_plus_plus_distribution_despite_stale_bounds() -> None:
    x, a = _problem(n=12, seed=1)
    centres = [0, 5, 9]
    want = _brute_sq_dist(x, a, centres)
    want /= want.sum()
    free = np.setdiff1d(np.arange(12), centres)
    draws = 6000
    counts = np.zeros(12)
    for seed in range(draws):
        space = GradientSeeding(x, a)
        space.add(0)
        space.settle()
        space.add(5)  # bounds of every row now ignore 5 and 9
        space.add(9)
        counts[space.sample(free, np.random.default_rng(seed))] += 1
    sigma = np.sqrt(want * (1 - want) / draws)
    assert counts[centres].sum() == 0
    assert np.all(np.abs(counts / draws - want) < 5 * sigma + 1e-12)


def test_loose_bounds_never_yield_a_row_already_covered() -> None:
    # 60 copies of one row and one row far away; once a copy is a centre, every other copy
    # is at distance 0 although its stale bound is large: only the far row may be drawn
    x = np.vstack([np.tile([1.0, 0.0], (60, 1)), [[0.0, 5.0]], [[0.0, -5.0]]])
    a = np.tile([0.5, -0.5], (62, 1))
    copies, with_far_row = np.arange(1, 60), np.arange(1, 61)

    def space_after_two_centres() -> GradientSeeding:
        space = GradientSeeding(x, a)
        space.add(61)
        space.settle()
        space.add(0)
        return space

    for seed in range(20):
        assert space_after_two_centres().sample(with_far_row, np.random.default_rng(seed)) == 60
        assert space_after_two_centres().sample(copies, np.random.default_rng(seed)) == -1


def test_no_draw_when_every_free_row_is_a_centre() -> None:
    x, a = _problem(n=5)
    space = GradientSeeding(x, a)
    for c in range(5):
        space.add(c)
    assert space.sample(np.arange(5), np.random.default_rng(0)) == -1
