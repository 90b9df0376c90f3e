"""The closed-form cylinder intervals against dense sampling of the relative motion."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.predict.cylinder import cylinder_interval

H_M, V_M, TOL_M = 9260.0, 304.8, 0.3048


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(*[st.floats(-30_000, 30_000) for _ in range(2)]),
    st.floats(-900, 900),
    st.tuples(st.sampled_from([0.0, 1.0]), st.floats(-400, 400), st.floats(-400, 400)),
    st.sampled_from([0.0, 0.0, 5.0, -12.0, 30.0]),
)
def test_interval_equals_dense_sampling(
    s: tuple[float, float], sz: float, v: tuple[float, float, float], vz: float
) -> None:
    moving, vx, vy = v
    vx, vy = vx * moving, vy * moving  # a third of the draws: not moving horizontally
    t = np.linspace(-300.0, 300.0, 120_001)  # 5 ms
    inside = (np.hypot(s[0] + vx * t, s[1] + vy * t) < H_M) & (np.abs(sz + vz * t) < V_M - TOL_M)
    t_in, t_out = cylinder_interval(s[0], s[1], sz, vx, vy, vz, H_M, V_M, TOL_M)
    if not inside.any():
        assert not (max(float(t_in), -300.0) < min(float(t_out), 300.0) - 0.01)
        return
    assert float(t_in) <= t[inside][0] + 1e-9 and float(t_out) >= t[inside][-1] - 1e-9
    assert float(t_in) >= t[inside][0] - 0.006 or t[inside][0] == t[0]
    assert float(t_out) <= t[inside][-1] + 0.006 or t[inside][-1] == t[-1]
