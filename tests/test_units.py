import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capgraph.core.units import human, parse_number, parse_scale


@pytest.mark.parametrize(
    "text, expected",
    [
        (20, 20.0), (1.5, 1.5), ("1e10", 1e10), ("3E9", 3e9), ("70M", 7e7), ("7B", 7e9),
        ("1.4T", 1.4e12), ("12K", 12e3), ("70m", 7e7), (" 2.5e3 ", 2500.0), ("-3", -3.0),
        (".5", 0.5),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("bad", ["7Q", "", "1e", "B", "nan", "inf", True, None, [1], float("nan"),
                                 float("inf")])
def test_parse_number_rejects(bad):
    with pytest.raises(ValueError):
        parse_number(bad)


@pytest.mark.parametrize("bad", [0, -1, "-7B", "0"])
def test_scale_must_be_positive(bad):
    with pytest.raises(ValueError, match="positive"):
        parse_scale(bad)


def test_human():
    assert human(7e10) == "70B"
    assert human(1.4e12) == "1.4T"
    assert human(999.96e9) == "1T"  # rounding moves to the next suffix, never "1e+03B"
    assert human(5.88e23) == "5.88e+23"
    assert human(None) == "–"
    assert human(12) == "12"


@given(st.floats(min_value=1e3, max_value=1e14))
def test_human_round_trips_to_three_digits(x):
    assert parse_number(human(x)) == pytest.approx(x, rel=5e-3)
    assert not math.isnan(parse_number(human(x)))
