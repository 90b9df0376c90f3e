"""Procedures files: the built-in sets load, bad files are errors that name the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deconflict.errors import InputError
from deconflict.montecarlo.procedures import (
    BUILTIN_PROCEDURES,
    Distribution,
    load_procedures,
    parse_procedures,
)

GOOD = """
[procedures]
name = "p"
standard = "icao-5nm"
alert_lead_time_s = 120
identification_deadline_s = 300
hotline_response_time_s = { distribution = "lognormal", median_s = 60, sigma = 0.5 }
"""


def test_builtin_sets_load_and_round_trip() -> None:
    for name in BUILTIN_PROCEDURES:
        p = load_procedures(name)
        assert p.name == name
        again = parse_procedures(
            "[procedures]\n" + "\n".join(f"{k} = {_toml(v)}" for k, v in p.to_dict().items())
        )
        assert again == p


def _toml(v: object) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("alert_lead_time_s = 120", ""), "alert_lead_time_s"),
        (("alert_lead_time_s = 120", 'alert_lead_time_s = "soon"'), "alert_lead_time_s"),
        (("alert_lead_time_s = 120", "alert_lead_time_s = -5"), "alert_lead_time_s"),
        (('standard = "icao-5nm"', 'standard = "icao-9nm"'), "standard"),
        (("median_s = 60", "median = 60"), "hotline_response_time_s"),
        (('"lognormal"', '"weibull"'), "hotline_response_time_s.distribution"),
        (("median_s = 60", "median_s = 0"), "hotline_response_time_s.median_s"),
        (('name = "p"', 'name = "p"\ncompliance = "sometimes"'), "compliance"),
        (('name = "p"', 'name = "p"\nalert_lead_s = 3'), "alert_lead_s"),
    ],
)
def test_bad_field_is_named(change: tuple[str, str], field: str) -> None:
    text = GOOD.replace(*change)
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        parse_procedures(text, source="bad.toml")


def test_unknown_field_suggests_the_right_one() -> None:
    with pytest.raises(InputError, match="did you mean 'alert_lead_time_s'"):
        parse_procedures(GOOD.replace("alert_lead_time_s", "alert_leadtime_s"))


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_bytes(b"[procedures\nname = ")
    with pytest.raises(InputError, match="not valid TOML"):
        load_procedures(bad)
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match=r"p\.toml"):
        load_procedures(bad)
    with pytest.raises(InputError, match="cannot read procedures file"):
        load_procedures(tmp_path / "nope.toml")
    bad.write_text("[other]\nx = 1\n")
    with pytest.raises(InputError, match=r"no \[procedures\] table"):
        load_procedures(bad)


def test_lognormal_draws_have_the_stated_median() -> None:
    rng = np.random.default_rng(7)
    d = Distribution("lognormal", 90.0, 0.6)
    x = d.sample(rng, 40_000)
    assert abs(np.median(x) / 90.0 - 1.0) < 0.02
    # the log of the draws has the stated sigma
    assert abs(np.std(np.log(x)) - 0.6) < 0.01
    u = Distribution("uniform", 10.0, 20.0).sample(rng, 1000)
    assert u.min() >= 10.0 and u.max() <= 20.0
