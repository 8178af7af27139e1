"""Data limits and dates: flags at the boundary, the cheapest run on limited data, dates from a trend."""

import datetime as dt
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.core.errors import MapError
from capgraph.world.allocation import PRESETS
from capgraph.world.timeline import flops_to_dates, flops_to_years, iso_dates

LAW = PRESETS["besiroglu2024"]


def flops_map(allocation="besiroglu2024", limit=None, timeline="", midpoint="1e24"):
    limit_line = f"  data_limit: {limit}\n" if limit is not None else ""
    return capgraph.loads(f"""
scale:
  axis: flops
  allocation: {allocation}
{limit_line}{timeline}
skills:
  s: {{curve: {{logistic: {{midpoint: {midpoint}, slope: 2}}}}, threshold: 0.5}}
""")


def only(m):
    (p,) = m.predict()
    return p, m.outlook(p)


def test_data_limit_flag_at_the_boundary():
    p, _ = only(flops_map())
    needed = p.crossing.tokens
    for factor, exceeds in ((1 + 1e-6, False), (1 - 1e-6, True)):
        q, extra = only(flops_map(limit=needed * factor))
        assert q.data_limited is exceeds
        assert extra["data_limit"]["exceeds"] is exceeds
        assert extra["data_limit"]["needed_tokens"] == pytest.approx(needed, rel=1e-12)


def test_cheapest_run_on_limited_data_reaches_the_same_loss():
    p, _ = only(flops_map())
    limit = p.crossing.tokens / 4
    _, extra = only(flops_map(limit=limit))
    check = extra["data_limit"]
    assert check["reachable"] is True
    n = check["min_params"]
    # a larger model on exactly the data there is: same loss, 6·N·D FLOPs, more than the optimum
    assert float(LAW.loss(math.log10(n), math.log10(limit))) == pytest.approx(p.crossing.loss, rel=1e-12)
    assert check["min_flops"] == pytest.approx(6 * n * limit, rel=1e-12)
    assert check["min_flops"] > p.crossing.flops and n > p.crossing.params


def test_unreachable_when_the_data_term_alone_exceeds_the_target():
    p, _ = only(flops_map())
    # E + B/D^β ≥ target loss: no model size gets there on this little data
    limit = (LAW.B / (p.crossing.loss - LAW.E)) ** (1 / LAW.beta) * 0.99
    _, extra = only(flops_map(limit=limit))
    assert extra["data_limit"]["reachable"] is False
    assert extra["data_limit"]["min_flops"] is None
    assert extra["date"] is None


def test_without_a_law_reachability_is_unknown():
    p, _ = only(flops_map(allocation="{tokens_per_param: 20}"))
    _, extra = only(flops_map(allocation="{tokens_per_param: 20}", limit=p.crossing.tokens / 2))
    assert extra["data_limit"]["exceeds"] is True
    assert extra["data_limit"]["reachable"] is None


def test_overtrained_ratio_can_fit_the_data_at_the_optimal_split():
    # r = 2000 needs far more data than the compute-optimal split for the same loss; when that
    # split fits the limit, the cheapest run is the optimum itself, cheaper than the r = 2000 run
    alloc = "{tokens_per_param: 2000, loss_law: besiroglu2024}"
    p, _ = only(flops_map(allocation=alloc))
    _, extra = only(flops_map(allocation=alloc, limit=p.crossing.tokens / 10))
    check = extra["data_limit"]
    optimum = 10 ** ((LAW.log_k - math.log10(p.crossing.loss - LAW.E)) / LAW.gamma) * 6
    assert check["reachable"] is True
    assert check["min_flops"] == pytest.approx(optimum, rel=1e-9)
    assert check["min_flops"] < p.crossing.flops


# --- dates -----------------------------------------------------------------------------------------

START = dt.date(2026, 1, 1)


def test_dates_from_a_known_trend():
    flops = np.array([[5e26, 2e27], [8e27, 5e26 / 4]])
    years = flops_to_years(flops, 5e26, 4.0)
    np.testing.assert_allclose(years, [[0, 1], [2, -1]], atol=1e-12)
    dates = flops_to_dates(flops, START, 5e26, 4.0)
    assert dates.shape == (2, 2)
    assert iso_dates(dates.ravel()) == ["2026-01-01", "2027-01-01", "2028-01-01", "2025-01-01"]
    # half a year of 4x growth is 2x compute: 182.6 days later, rounded to 183
    assert iso_dates(flops_to_dates([1e27], START, 5e26, 4.0)) == ["2026-07-03"]
    far = START + dt.timedelta(days=round(math.log(1e300 / 5e26, 4) * 365.2425))
    assert iso_dates(flops_to_dates([np.nan, 1e300], START, 5e26, 4.0)) == [None, far.isoformat()]
    # beyond year 9999 a trend says nothing
    assert iso_dates(flops_to_dates([1e300], START, 5e26, 1.01)) == [None]


TIMELINE = "timeline: {start: 2026-01-01, flops: 5e26, growth_per_year: 4}\n"


def test_predict_dates_a_crossing_and_not_a_data_limited_one():
    _, extra = only(flops_map(timeline=TIMELINE, midpoint="2e27"))
    assert extra["date"] == "2027-01-01"
    p, _ = only(flops_map(timeline=TIMELINE, midpoint="2e27"))
    _, extra = only(flops_map(timeline=TIMELINE, midpoint="2e27", limit=p.crossing.tokens / 2))
    assert extra["date"] is None


@pytest.mark.parametrize("timeline, fragment", [
    ("{start: 2026-13-01, flops: 5e26, growth_per_year: 4}", "start"),
    ("{start: 2026-01-01, flops: 5e26, growth_per_year: 1}", "must be greater than 1"),
    ("{start: 2026-01-01, flops: 5e26}", "missing required key 'growth_per_year'"),
])
def test_timeline_errors(write_map, timeline, fragment):
    path = write_map(f"timeline: {timeline}\nskills:\n  s: {{curve: {{logistic: {{midpoint: 2, slope: 1}}}}}}\n")
    with pytest.raises(MapError) as info:
        capgraph.load(path)
    assert any(fragment in str(p) and p.line == 1 for p in info.value.problems), info.value.problems


def test_cli_data_limit_override(write_map):
    path = write_map("scale: {axis: flops, allocation: besiroglu2024, data_limit: 1e12}\n" + TIMELINE
                     + "skills:\n  s: {curve: {logistic: {midpoint: 2e27, slope: 2}}, threshold: 0.5}\n")
    runner = CliRunner()
    limited = json.loads(runner.invoke(app, ["predict", str(path), "--json"]).output)
    lifted = json.loads(runner.invoke(app, ["predict", str(path), "--json", "--data-limit", "1e16"]).output)
    assert limited["capabilities"][0]["data_limit"]["exceeds"] is True
    assert limited["capabilities"][0]["date"] is None
    assert lifted["capabilities"][0]["data_limit"]["limit"] == 1e16
    assert lifted["capabilities"][0]["date"] == "2027-01-01"
    bad = runner.invoke(app, ["predict", str(path), "--data-limit", "lots"])
    assert bad.exit_code == 2 and "--data-limit" in bad.output  # a bad option value: usage error


def test_frontier_outlook_story():
    from .conftest import ROOT

    m = capgraph.load(ROOT / "graphs" / "frontier_outlook.yaml")
    rows = {r["name"]: r["crossings"] for r in m.compare()["capabilities"]}
    hundred = rows["hundred_step_problem"]
    assert hundred["baseline"]["data_limited"] and hundred["baseline"]["date"] is None
    # efficiency needs fewer tokens for the same loss; more data lifts the limit: both date it
    assert not hundred["efficient"]["data_limited"] and hundred["efficient"]["date"] is not None
    assert not hundred["synthetic_data"]["data_limited"] and hundred["synthetic_data"]["date"] is not None
    assert all(c["date"] for c in rows["ten_step_problem"].values())
