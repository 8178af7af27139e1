"""The engine's cheaper forms against the reference kernels: k-of-n trial by trial (with its
products for k = n and k = 1) against enumeration for every k of small n, lenses by repeated
squaring against ``np.power``, the running minimum against ``min_padded``, and a whole map's
float32 pass against its float64 pass, which keeps the reference forms bit for bit."""

import itertools
import math

import numpy as np
import pytest

import capgraph
from capgraph.engine import kofn, lensing
from capgraph.engine.plan import _min_of_trials, evaluate
from capgraph.kernels import lenses, rules

from .conftest import ROOT


def enumerate_tail(ps: list[float], k: int) -> float:
    """P(at least k successes) by summing over all 2^n outcomes."""
    return sum(math.prod(p if b else 1 - p for p, b in zip(ps, bits, strict=True))
               for bits in itertools.product((0, 1), repeat=len(ps)) if sum(bits) >= k)


def end_aligned(sequences: list[list[int]]) -> np.ndarray:
    """Trial sequences (longest first) as the (N, nodes) array the trial kernels take."""
    trials = np.full((len(sequences[0]), len(sequences)), -1)
    for j, seq in enumerate(sequences):
        trials[len(trials) - len(seq):, j] = seq
    return trials


@pytest.mark.parametrize("n", range(1, 8))
def test_tail_by_trials_matches_enumeration_for_every_k(n):
    rng = np.random.default_rng(n)
    values = np.vstack([rng.uniform(0, 1, (4, 6)), [0.0] * 6, [1.0] * 6])  # and certain failure, success
    for k in range(1, n + 1):
        # one node of n trials, shorter ones sharing k (each still has k ≤ its n), longest first
        lengths = sorted([n, *rng.integers(k, n + 1, 4).tolist()], reverse=True)
        seqs = [sorted(rng.integers(0, len(values), m).tolist()) for m in lengths]
        trials = end_aligned(seqs)
        tail = rules.k_of_n_window(values, trials, k)
        every = rules.trial_product(values, trials)
        none = rules.trial_product(values, trials, complement=True)
        for j, seq in enumerate(seqs):
            for col in range(values.shape[1]):
                ps = [values[c, col] for c in seq]
                assert tail[j, col] == pytest.approx(enumerate_tail(ps, k), abs=1e-14)
                assert every[j, col] == pytest.approx(enumerate_tail(ps, len(ps)), abs=1e-14)
                assert 1 - none[j, col] == pytest.approx(enumerate_tail(ps, 1), abs=1e-14)
    assert not rules.k_of_n_window(values, end_aligned([[0, 1]]), 3).any()  # k > n: never


def test_engine_block_by_trials_matches_the_exact_programme():
    rng = np.random.default_rng(7)
    values = rng.uniform(0, 1, (6, 50))
    requires, ks = [], []
    for n_kids in (1, 2, 3, 4):  # every k, k = 1 and k = n included, of parents of 1–4 children
        for _ in range(6):
            kids = rng.choice(6, n_kids, replace=False)
            req = {int(c): int(rng.integers(1, 4)) for c in kids}
            requires.append(req)
            ks.append(int(rng.integers(1, sum(req.values()) + 1)))
    for _, block in kofn.compile_block(requires, ks):
        if not block.exact:
            continue
        assert len(block.buckets) > 1  # the programme's buckets by state size, all in one block
        reference = np.empty((len(block.ks), values.shape[1]))
        for positions, bucket in block.buckets:
            reference[positions] = rules.k_of_n_exact(values, bucket.children, bucket.counts, bucket.ks)
        single = kofn.apply(block, values.astype(np.float32))  # float32: by trials
        assert single.dtype == np.float32
        np.testing.assert_allclose(single, reference, atol=2e-6)
        np.testing.assert_array_equal(kofn.apply(block, values), reference)  # float64: the programme's buckets


@pytest.mark.parametrize("kind", ["exact_match", "pass_at"])
def test_float32_powers_stay_within_a_few_roundings_of_the_kernel(kind):
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 1, (12, 4, 9)).astype(np.float32)
    values[0, 0, :3] = [0.0, 1.0, 1e-30]
    nodes = np.array([0, 2, 3, 5, 7, 8, 11])
    params = np.array([1, 2, 3, 7, 10, 2.5, 100])  # whole and not, past the squaring limit
    lens = lenses.LENSES[kind]
    expected = values.copy()
    expected[nodes] = lens.kernel(values[nodes].astype(float), params[:, None, None])
    lensing.apply(kind, values, nodes, params)
    np.testing.assert_allclose(values, expected, rtol=2e-6, atol=2e-7)
    assert values[[1, 4]].tolist() == expected[[1, 4]].astype(np.float32).tolist()  # others untouched


def test_float64_lenses_are_the_kernels_bit_for_bit():
    rng = np.random.default_rng(4)
    values = rng.uniform(0, 1, (5, 3, 7))
    nodes = np.array([0, 3, 4])
    for kind, params in (("exact_match", [2.0, 3.0, 7.5]), ("pass_at", [1, 4, 9]), ("multiple_choice", [2, 4, 5])):
        lens = lenses.LENSES[kind]
        got = values.copy()
        lensing.apply(kind, got, nodes, np.array(params))
        want = lens.kernel(values[nodes], np.array(params, dtype=float)[:, None, None])
        assert got[nodes].tobytes() == want.tobytes()
        single = values.astype(np.float32)
        lensing.apply(kind, single, nodes, np.array(params))
        np.testing.assert_allclose(single[nodes], want, rtol=3e-6)


def test_running_minimum_is_min_padded():
    rng = np.random.default_rng(5)
    values = rng.uniform(0, 1, (7, 3, 4))
    trials = np.array([[0, 1, 2, 6], [3, -1, 4, 5], [5, -1, -1, 2]])  # (T, parents), −1 pads
    padded = np.where((trials < 0)[:, :, None, None], 1.0, values[np.maximum(trials, 0)])
    assert _min_of_trials(trials, values).tobytes() == rules.min_padded(padded).tobytes()


def test_a_whole_maps_float32_pass_stays_near_its_float64_pass():
    cmap = capgraph.load(ROOT / "graphs" / "arithmetic_lenses.yaml")
    generated = capgraph.loads({
        "scale": {"range": [1e6, 1e14]},
        "skills": {name: {"curve": {"logistic": {"midpoint": mid, "slope": 1.2}}}
                   for name, mid in (("a", 1e9), ("b", 3e9), ("c", 1e10), ("d", 5e10))},
        "capabilities": {
            **{f"k{k}": {"requires": {"a": 2, "b": 1, "c": 3, "d": 1}, "combine": "k_of_n", "k": k,
                         "metric": {"pass_at": {"k": 3}} if k % 2 else {"exact_match": {"length": k}}}
               for k in range(1, 8)},
            "weakest": {"requires": {"k2": 1, "k5": 1, "a": 1}, "combine": "min",
                        "metric": {"multiple_choice": {"options": 4}}},
        },
    })
    for m in (cmap, generated):
        log_x = np.linspace(*m.log_range, 97)
        double = evaluate(m.plan, log_x)
        single = evaluate(m.plan, log_x, dtype=np.float32)
        np.testing.assert_allclose(single, double, atol=5e-6)
