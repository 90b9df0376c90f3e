"""Aircraft performance: built-in figures, and openap's where the optional extra is installed."""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import pytest

from deconflict.errors import UnknownNameError
from deconflict.sim.performance import BUILTIN, performance
from deconflict.units import FPM, KT


def test_builtin_figures_are_plausible() -> None:
    for p in BUILTIN.values():
        assert p.min_mps < p.cruise_mps <= p.max_mps
        assert 500 * FPM <= p.climb_mps <= 20000 * FPM
        # the bank limit caps the turn rate at g tan(bank) / v: finite and positive below 90°
        assert p.turn_rate_rad_s > 0
        assert 0 < p.max_bank_rad < math.pi / 2
    assert performance("a320", use_openap=False) is BUILTIN["A320"]
    with pytest.raises(UnknownNameError, match="no performance figures"):
        performance("ZZZZ", use_openap=False)


def test_openap_figures_replace_builtin_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in with openap 2.x's interface (prop.aircraft, WRAP(...).climb_vs_concas, ...):
    # the adapter must take its climb/descent rates (m/s), cruise Mach and ceiling (m).
    fake = types.ModuleType("openap")
    prop = types.SimpleNamespace(
        available_aircraft=lambda: ["a320"],
        aircraft=lambda t: {"mmo": 0.82, "ceiling": 12000.0},
    )

    class Wrap:
        def __init__(self, t: str) -> None:
            assert t == "a320"

        def climb_vs_concas(self) -> dict[str, Any]:
            return {"default": 8.43}

        def descent_vs_concas(self) -> dict[str, Any]:
            return {"default": -10.03}

        def cruise_mach(self) -> dict[str, Any]:
            return {"default": 0.78}

    fake.prop = prop  # type: ignore[attr-defined]
    fake.WRAP = Wrap  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "openap", fake)
    performance.cache_clear()
    try:
        p = performance("A320")
        assert p.source == "openap"
        assert p.climb_mps == pytest.approx(8.43) and p.descent_mps == pytest.approx(10.03)
        assert p.cruise_mps == pytest.approx(0.78 * 295.07)
        assert p.ceiling_m == 12000.0
        assert p.turn_rate_rad_s == BUILTIN["A320"].turn_rate_rad_s  # not in openap: built-in
        assert performance("F16").source == "built-in"  # openap does not know it
        assert 400 * KT < p.cruise_mps < 500 * KT
    finally:
        performance.cache_clear()


def test_real_openap_figures_are_used_and_plausible() -> None:
    """With the real openap (LGPL; installed by the test extra, optional for users), the A320's
    figures come from it and agree with the built-in ones to within their known spread."""
    pytest.importorskip("openap")
    p = performance("A320", use_openap=True)
    assert p.source == "openap"
    builtin = BUILTIN["A320"]
    assert abs(p.cruise_mps - builtin.cruise_mps) / builtin.cruise_mps < 0.1
    assert 5.0 < p.climb_mps < 20.0 and 5.0 < p.descent_mps < 20.0
    assert 10_000.0 < p.ceiling_m < 13_500.0
