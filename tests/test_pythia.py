"""Real results (Pythia, ../shared/data): the numbers in graphs/pythia_lambada.yaml and docs/fitting.md."""

import math

import numpy as np
import pytest

import capgraph
from capgraph.evidence.backtest import backtest_table
from capgraph.evidence.data import read_table
from capgraph.evidence.fit import FitOptions, fit_with_intervals
from capgraph.evidence.fitmap import fit_table

from .conftest import ROOT, shared_data

FLOPS, ACC, PPL = "flops_6ND_total_params", "lambada_openai_acc", "lambada_openai_ppl"
FINAL = {"deduped": 0, "step": 143000}


@pytest.fixture(scope="module")
def pythia():
    return read_table(shared_data("pythia_zero_shot_evals.csv"))


def test_the_example_map_holds_the_fitted_numbers(pythia):
    cmap = capgraph.load(ROOT / "graphs" / "pythia_lambada.yaml")
    typed = {name: cmap.spec.skills[name].curve.logistic
             for name in ("lambada_accuracy", "lambada_target_probability")}
    acc = fit_table(pythia, FLOPS, ACC, where=FINAL)
    assert acc.fit.n_used == 8 and acc.n_skipped == 0
    cols = pythia.where(FINAL).numeric(FLOPS, PPL)
    prob = fit_with_intervals(np.log10(cols[FLOPS]), 1 / cols[PPL])
    for name, r in (("lambada_accuracy", acc), ("lambada_target_probability", prob)):
        assert typed[name].midpoint == pytest.approx(r.fit.params["midpoint"], rel=5e-3), name
        assert typed[name].slope == pytest.approx(r.fit.params["slope"], rel=5e-3), name
    # docs/fitting.md: same sharpness (4.56 and 4.59 decades), accuracy two decades ahead
    assert acc.fit.sharpness_decades == pytest.approx(4.56, abs=0.01)
    assert prob.fit.sharpness_decades == pytest.approx(4.59, abs=0.01)
    assert math.log10(prob.fit.params["midpoint"] / acc.fit.params["midpoint"]) == pytest.approx(2.22, abs=0.01)
    assert acc.intervals["midpoint"] == pytest.approx((5.16e20, 1.83e21), rel=5e-3)


def test_step_zero_checkpoints_are_skipped_not_fitted(pythia):
    """Step 0 has seen no tokens: 0 FLOPs, no logarithm. One such row per model, counted."""
    result = fit_table(pythia, FLOPS, ACC, FitOptions(ceiling=None), where={"deduped": 0}, n_bootstrap=0)
    assert (result.fit.n_used, result.n_skipped) == (208, 8)


def test_free_ceiling_and_the_back_test_table(pythia):
    free = fit_table(pythia, FLOPS, ACC, FitOptions(ceiling=None), where=FINAL, n_bootstrap=0)
    assert free.fit.params["ceiling"] == pytest.approx(0.693, abs=1e-3)
    assert free.fit.rmse == pytest.approx(0.0179, abs=1e-4)
    fixed = backtest_table(pythia, FLOPS, ACC, 6e21, where=FINAL, threshold=0.65)
    assert (fixed.n_train, fixed.n_test) == (6, 2)
    assert fixed.mae == pytest.approx(0.118, abs=1e-3)
    assert fixed.crossing_error_decades == pytest.approx(-0.54, abs=0.01)
    loose = backtest_table(pythia, FLOPS, ACC, 6e21, FitOptions(ceiling=None), where=FINAL, threshold=0.65)
    assert loose.mae == pytest.approx(0.038, abs=1e-3) and loose.coverage == 1.0
    assert loose.crossing_error_decades == pytest.approx(0.05, abs=0.01)
