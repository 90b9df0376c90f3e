"""W84 ellipsoidal heights ↔ barometric altitudes: the model in force and its arithmetic."""

from __future__ import annotations

import pytest

from deconflict.strategic import heights


def test_round_trip_and_feet() -> None:
    for lat, lon, h in [(46.5, 7.4, 605.0), (-33.9, 151.2, 0.0), (37.2, -80.6, 3048.0)]:
        ft = heights.w84_to_barometric_ft(h, lat, lon)
        assert heights.barometric_ft_to_w84_m(ft, lat, lon) == pytest.approx(h, abs=1e-6)
        # 1 ft = 0.3048 m exactly; the geoid only shifts the origin
        n = heights.undulation_m(lat, lon)
        assert ft == pytest.approx((h - n) / 0.3048, abs=1e-6)


def test_the_model_states_its_geoid_and_error() -> None:
    model = heights.height_model()
    assert "ISA" in model.atmosphere and "1013.25" in model.atmosphere
    if model.geoid.startswith("none"):
        # no EGM96 grid: N = 0 everywhere and the bound is EGM96's whole range
        assert heights.undulation_m(46.5, 7.4) == 0.0
        assert model.geoid_error_m == heights.EGM96_MAX_ABS_UNDULATION_M
    else:
        # with the grid: EGM96 at 0°N 0°E is +17.16 m (NGA's published value), within 0.1 m
        assert heights.undulation_m(0.0, 0.0) == pytest.approx(17.16, abs=0.1)
        assert model.geoid_error_m <= 1.0
