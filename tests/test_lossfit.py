"""fit-loss: the Chinchilla refit inside Besiroglu et al.'s intervals, exact recovery, located errors."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.core.errors import MapError
from capgraph.evidence import lossfit
from capgraph.world.allocation import ComputeOptimal, LossLaw

from .conftest import shared_data

CHINCHILLA = "chinchilla_fig4_epoch_extracted.csv"
COLUMNS = ("model_size_N", "training_tokens_D_derived", "loss")
#: Besiroglu et al. 2024, 95% intervals of their refit (SCIENCE.md §4).
PUBLISHED = {"A": (285, 744), "B": (1042, 5810), "E": (1.769, 1.871), "alpha": (0.317, 0.373),
             "beta": (0.331, 0.415)}


def test_chinchilla_refit_lands_inside_the_published_intervals():
    runs = lossfit.read_runs(shared_data(CHINCHILLA), *COLUMNS)
    assert len(runs) == 245
    fit = lossfit.fit_loss(runs, resamples=10)
    assert fit.n_used == 240
    # the five runs on under half a token a parameter: file lines 2-6 (0.04 to 0.40 tokens/param)
    assert fit.dropped == [2, 3, 4, 5, 6]
    for name, (lo, hi) in PUBLISHED.items():
        assert lo < fit.law.as_dict()[name] < hi, name
    # and close to their point estimates: E = 1.8172, α = 0.3478, β = 0.3658
    assert fit.law.E == pytest.approx(1.8172, abs=0.005)
    assert fit.law.alpha == pytest.approx(0.3478, abs=0.005)
    assert fit.law.beta == pytest.approx(0.3658, abs=0.005)
    for name, (lo, hi) in fit.intervals.items():
        assert lo <= fit.law.as_dict()[name] <= hi, name


def synthetic_csv(tmp_path, law, noise=0.0):
    rng = np.random.default_rng(1)
    n = 10 ** rng.uniform(7, 10.5, 120)
    d = n * 10 ** rng.uniform(0, 2.5, 120)
    loss = law.loss(np.log10(n), np.log10(d)) * np.exp(noise * rng.standard_normal(120))
    path = tmp_path / "runs.csv"
    lines = ["N,D,L"] + [f"{float(a)!r},{float(b)!r},{float(c)!r}" for a, b, c in zip(n, d, loss, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_exact_data_recovers_the_law(tmp_path):
    truth = LossLaw(E=1.7, A=300.0, B=900.0, alpha=0.32, beta=0.29)
    runs = lossfit.read_runs(synthetic_csv(tmp_path, truth), "N", "D", "L")
    law = lossfit.fit_law(runs.params, runs.tokens, runs.loss)
    for name, value in truth.as_dict().items():
        assert law.as_dict()[name] == pytest.approx(value, rel=1e-3), name


def test_cli_json_and_snippet(tmp_path):
    truth = LossLaw(E=1.7, A=300.0, B=900.0, alpha=0.32, beta=0.29)
    path = synthetic_csv(tmp_path, truth, noise=0.01)
    runner = CliRunner()
    args = ["fit-loss", str(path), "--params", "N", "--tokens", "D", "--loss", "L", "--resamples", "5"]
    first = runner.invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.output
    assert first.output == runner.invoke(app, [*args, "--json"]).output  # fixed seed: same bytes
    result = json.loads(first.output)
    assert set(result) >= {"law", "intervals", "n_used", "dropped"}
    assert set(result["law"]) == set(result["intervals"]) == {"E", "A", "B", "alpha", "beta"}
    assert result["n_used"] == 120 and result["dropped"] == []
    text = runner.invoke(app, args).output
    snippet = text[text.index("scale:"):]
    # the snippet pasted into a map gives that law's compute-optimal allocation
    m = capgraph.loads(snippet + "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n")
    law = m.units.law
    assert isinstance(m.units, ComputeOptimal)
    assert law.E == pytest.approx(result["law"]["E"], rel=1e-3)
    assert law.beta == pytest.approx(result["law"]["beta"], rel=1e-3)


def test_read_errors_are_located(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("N,D,L\n1e9,2e10,2.5\n1e9,lots,2.4\n2e9,4e10,-1\n")
    with pytest.raises(MapError) as info:
        lossfit.read_runs(path, "N", "D", "L")
    assert [(p.line, p.col, p.message) for p in info.value.problems] == [
        (3, 5, "D: 'lots' is not a number"),
        (4, 10, "L: must be a positive number, got -1"),
    ]
    with pytest.raises(MapError, match=r"no column 'LL' \(--loss\).*did you mean 'L'"):
        lossfit.read_runs(path, "N", "D", "LL")
    result = CliRunner().invoke(app, ["fit-loss", str(path), "--params", "N", "--tokens", "D",
                                      "--loss", "L"])
    assert result.exit_code == 1 and f"{path}:3:5: D: 'lots' is not a number" in result.output


def test_runs_that_do_not_determine_the_law(tmp_path):
    path = tmp_path / "same.csv"
    path.write_text("N,D,L\n" + "1e9,1e10,2\n" * 7)
    result = CliRunner().invoke(app, ["fit-loss", str(path), "--params", "N", "--tokens", "D",
                                      "--loss", "L"])
    assert result.exit_code == 1 and "do not determine the law" in result.output
