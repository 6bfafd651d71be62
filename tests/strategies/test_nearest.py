"""Lazy nearest-centre distances: the same picks as the eager greedy algorithm."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from strategies import nearest as nearest_module
from strategies.nearest import NearestCentre, distance


def _brute(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    return ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).min(axis=1)


def _eager_k_center(x: np.ndarray, labeled: np.ndarray, k: int) -> list[int]:
    """The textbook greedy with a full update after every pick."""
    d2 = _brute(x, labeled)
    picks = []
    for _ in range(k):
        i = int(np.argmax(d2))
        picks.append(i)
        d2 = np.minimum(d2, ((x - x[i]) ** 2).sum(axis=1))
    return picks


def _lazy_k_center(near: NearestCentre, n: int, k: int) -> list[int]:
    """``k`` farthest-first picks through :meth:`NearestCentre.farthest`."""
    allowed = np.ones(n, dtype=bool)
    picks = []
    for _ in range(k):
        i = near.farthest(allowed, distance, np.zeros(n))
        picks.append(i)
        allowed[i] = False
        near.add(i)
    return picks


@pytest.mark.parametrize("sparse", [False, True])
def test_distances_to_labeled_rows_match_brute_force(sparse: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((30, 8)) * (rng.random((30, 8)) < 0.4)
    c = rng.random((5, 8))
    near = NearestCentre(sp.csr_matrix(x) if sparse else x, sp.csr_matrix(c) if sparse else c)
    assert np.allclose(near.dist2, _brute(x, c))
    assert near.has_centres


@pytest.mark.parametrize("sparse", [False, True])
def test_settle_brings_every_row_up_to_date(sparse: bool) -> None:
    x = np.random.default_rng(1).random((25, 6))
    near = NearestCentre(sp.csr_matrix(x) if sparse else x)
    assert np.isinf(near.dist2).all() and not near.has_centres
    near.add(3)
    near.add(10)
    assert np.allclose(near.settle(), _brute(x, x[[3, 10]]))
    assert near.dist2[3] == 0.0


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sparse", [False, True])
def test_lazy_picks_equal_eager_picks(seed: int, sparse: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nearest_module, "FIRST_BLOCK", 4)  # force several refresh rounds
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((300, 10))
    labeled = rng.standard_normal((7, 10))
    near = NearestCentre(sp.csr_matrix(x) if sparse else x, sp.csr_matrix(labeled) if sparse else labeled)
    picks = _lazy_k_center(near, 300, 15)
    assert picks == _eager_k_center(x, labeled, 15)
    assert np.allclose(near.settle(), _brute(x, np.vstack([labeled, x[picks]])))


def test_most_rows_stay_untouched_between_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of laziness: a pick refreshes a block, not the pool."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5000, 16))
    near = NearestCentre(x, x[:3])
    allowed = np.ones(5000, dtype=bool)
    touched = []
    original = near.refresh

    def counting(rows: np.ndarray) -> None:
        touched.append(rows.size)
        original(rows)

    monkeypatch.setattr(near, "refresh", counting)
    for _ in range(20):
        i = near.farthest(allowed, distance, np.zeros(5000))
        allowed[i] = False
        near.add(i)
    assert np.mean(touched) < 1000


def test_many_labeled_rows_are_subsampled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nearest_module, "MAX_CENTRES", 3)
    x = np.arange(10.0)[:, None]
    near = NearestCentre(x, x, np.random.default_rng(0))
    assert (near.dist2 == 0).sum() == 3


def test_nothing_allowed_gives_minus_one() -> None:
    near = NearestCentre(np.eye(3), np.eye(3)[:1])
    assert near.farthest(np.zeros(3, dtype=bool), distance, np.zeros(3)) == -1


@pytest.mark.parametrize("sparse", [False, True])
def test_labeled_rows_beyond_the_first_sample_still_count(sparse: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nearest_module, "FIRST_LABELED", 2)
    monkeypatch.setattr(nearest_module, "FIRST_BLOCK", 4)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 10))
    labeled = rng.standard_normal((40, 10))
    near = NearestCentre(sp.csr_matrix(x) if sparse else x, sp.csr_matrix(labeled) if sparse else labeled)
    exact = _brute(x, labeled)
    assert np.all(near.dist2 >= exact - 1e-9) and not np.allclose(near.dist2, exact)
    picks = _lazy_k_center(near, 300, 10)
    assert picks == _eager_k_center(x, labeled, 10)
    everything = _brute(x, np.vstack([labeled, x[picks]]))
    tail = near.settle(labeled=False).copy()
    assert np.all(tail >= everything - 1e-9)  # the cheap tail: upper bounds...
    assert np.sum(np.isclose(tail, everything)) < 300  # ...not all of them measured
    assert np.allclose(near.settle(), everything)


def test_the_first_labeled_sample_does_not_consume_the_callers_random_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the sample only changes costs, so strategies draw the same random numbers as before
    monkeypatch.setattr(nearest_module, "FIRST_LABELED", 5)
    x = np.random.default_rng(0).standard_normal((50, 4))
    rng = np.random.default_rng(1)
    NearestCentre(x, x[:30], rng)
    assert rng.random() == np.random.default_rng(1).random()


@pytest.mark.parametrize("shortlist", [1, 2, 100])
def test_picks_do_not_depend_on_the_shortlist_length(shortlist: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nearest_module, "FIRST_BLOCK", 4)
    monkeypatch.setattr(nearest_module, "SHORTLIST", shortlist)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 6))
    labeled = rng.standard_normal((5, 6))
    assert _lazy_k_center(NearestCentre(x, labeled), 400, 25) == _eager_k_center(x, labeled, 25)


def test_the_shortlist_spares_a_full_partition_on_most_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds only shrink, so one threshold serves several picks."""
    monkeypatch.setattr(nearest_module, "FIRST_BLOCK", 16)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20_000, 8))
    partitions = []
    original = np.partition

    def counting(a: np.ndarray, kth: int, *args: object, **kwargs: object) -> np.ndarray:
        partitions.append(a.size)
        return original(a, kth, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(nearest_module.np, "partition", counting)
    _lazy_k_center(NearestCentre(x, x[:3]), 20_000, 40)
    assert 0 < len(partitions) < 20


@pytest.mark.parametrize("seed", range(4))
def test_ties_between_duplicates_go_to_the_tiebreak(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact duplicates are equally far from every centre: the tie-break, not the
    position in a partition, must choose between them."""
    monkeypatch.setattr(nearest_module, "FIRST_BLOCK", 2)
    rng = np.random.default_rng(seed)
    far = rng.standard_normal((1, 4)) * 50
    x = np.vstack([rng.standard_normal((40, 4)), np.repeat(far, 6, axis=0)])
    tiebreak = rng.random(len(x))
    near = NearestCentre(x, x[:2])
    winner = near.farthest(np.ones(len(x), dtype=bool), distance, tiebreak)
    assert winner == 40 + int(np.argmax(tiebreak[40:]))
