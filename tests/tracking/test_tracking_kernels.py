"""Tracker kernels against textbook formulas and brute force: Kalman predict/update, the GNN
assignment, the local frame and OSPA."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.geo import local_xy_m
from deconflict.tracking import LocalFrame, kalman, ospa
from deconflict.tracking.assign import candidate_pairs, gnn_assign
from deconflict.tracking.kalman import cv_predict, kalman_update

KERNELS = ("numpy", "compiled")


@contextlib.contextmanager
def kernels(kind: str) -> Iterator[None]:
    """The Kalman kernels in numpy or compiled (numba), whatever the batch's size."""
    saved = kalman.JIT_MIN_ROWS
    kalman.JIT_MIN_ROWS = 0 if kind == "compiled" else 2**62
    try:
        yield
    finally:
        kalman.JIT_MIN_ROWS = saved


def spd(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    a = rng.normal(size=(n, n)) * scale
    return a @ a.T + np.eye(n) * scale**2


@pytest.mark.parametrize("kind", KERNELS)
@settings(deadline=None)  # the first example of "compiled" loads (or compiles) the kernels
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 30.0), st.floats(0.01, 50.0))
def test_cv_predict_is_f_p_ft_plus_q(kind: str, seed: int, dt: float, q: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=4) * 100
    p = spd(rng, 4, 10.0)
    # Bar-Shalom's discrete white-noise-acceleration model, state [e, n, ve, vn]
    f = np.array([[1, 0, dt, 0], [0, 1, 0, dt], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    q1 = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    qm = np.zeros((4, 4))
    qm[np.ix_([0, 2], [0, 2])] = q1
    qm[np.ix_([1, 3], [1, 3])] = q1
    with kernels(kind):
        xp, pp = cv_predict(x[None], p[None], np.array([dt]), np.array([q]))
    np.testing.assert_allclose(xp[0], f @ x, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(pp[0], f @ p @ f.T + qm, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("kind", KERNELS)
@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_kalman_update_matches_textbook_and_masking(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5
    x = rng.normal(size=(n, 4)) * 100
    p = np.stack([spd(rng, 4, 20.0) for _ in range(n)])
    z = rng.normal(size=(n, 4)) * 100
    r_var = rng.uniform(1.0, 50.0, size=(n, 4))
    # a general H (a late plot's rows mix position and velocity), not only the identity
    h = np.broadcast_to(np.eye(4), (n, 4, 4)) + rng.normal(size=(n, 4, 4)) * 0.5
    with kernels(kind):
        xu, pu, nu_u, d2 = kalman_update(x, p, z, h, r_var)
    for i in range(n):
        s = h[i] @ p[i] @ h[i].T + np.diag(r_var[i])
        k = p[i] @ h[i].T @ np.linalg.inv(s)
        nu = z[i] - h[i] @ x[i]
        np.testing.assert_allclose(nu_u[i], nu, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(xu[i], x[i] + k @ nu, rtol=1e-9, atol=1e-7)
        np.testing.assert_allclose(pu[i], (np.eye(4) - k @ h[i]) @ p[i], rtol=1e-7, atol=1e-6)
        np.testing.assert_array_equal(pu[i], pu[i].T)
        assert np.linalg.eigvalsh(pu[i]).min() > 0.0
        assert d2[i] == pytest.approx(nu @ np.linalg.inv(s) @ nu, rel=1e-9)
    # zero rows of H with zero measurement: the same as a position-only (2 x 4) measurement
    hm = h.copy()
    hm[:, 2:, :] = 0.0
    zm = z.copy()
    zm[:, 2:] = 0.0
    with kernels(kind):
        xm, pm, _, d2m = kalman_update(x, p, zm, hm, r_var)
    for i in range(n):
        h2 = h[i][:2]
        s = h2 @ p[i] @ h2.T + np.diag(r_var[i][:2])
        k = p[i] @ h2.T @ np.linalg.inv(s)
        nu = z[i][:2] - h2 @ x[i]
        np.testing.assert_allclose(xm[i], x[i] + k @ nu, rtol=1e-9, atol=1e-7)
        np.testing.assert_allclose(pm[i], (np.eye(4) - k @ h2) @ p[i], rtol=1e-7, atol=1e-6)
        assert d2m[i] == pytest.approx(nu @ np.linalg.inv(s) @ nu, rel=1e-9)


def test_compiled_kernels_equal_numpy_on_a_tracker_batch() -> None:
    """The compiled kernels (from ``JIT_MIN_ROWS`` rows on) give the numpy forms' results on a
    batch as the tracker makes it: 3,000 rows, dt from 0 (a report at its track's time) up, a
    late plot's negative offset in ``H`` on some rows, velocity masked on others, 1-D and 2-D
    states; the covariances stay exactly symmetric."""
    rng = np.random.default_rng(7)
    for ndim in (1, 2):
        n, d = 3_000, 2 * ndim
        x = rng.normal(size=(n, d)) * 1e4
        p = np.stack([spd(rng, d, 30.0) for _ in range(n)])
        dt = np.where(rng.uniform(size=n) < 0.1, 0.0, rng.uniform(0.0, 5.0, size=n))
        q = rng.uniform(0.1, 10.0, size=n)
        h = np.broadcast_to(np.eye(d), (n, d, d)).copy()
        h[:, :ndim, ndim:] = np.where(rng.uniform(size=n) < 0.1, -rng.uniform(size=n), 0.0)[
            :, None, None
        ] * np.eye(ndim)  # fmt: skip
        masked = rng.uniform(size=n) < 0.4
        h[masked, ndim:, :] = 0.0
        z = rng.normal(size=(n, d)) * 1e4
        z[masked, ndim:] = 0.0
        r = rng.uniform(1.0, 100.0, size=(n, d))
        results = {}
        for kind in KERNELS:
            with kernels(kind):
                xp, pp = cv_predict(x, p, dt, q)
                results[kind] = (xp, pp, *kalman_update(xp, pp, z, h, r))
        for got, want in zip(results["compiled"], results["numpy"], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
        p_out = results["compiled"][3]
        np.testing.assert_array_equal(p_out, p_out.transpose(0, 2, 1))


def brute_force(nt: int, nr: int, cost: dict[tuple[int, int], float], miss: float) -> float:
    best = np.inf
    for perm in itertools.product([-1, *range(nt)], repeat=nr):
        used = [t for t in perm if t >= 0]
        if len(used) != len(set(used)):
            continue
        if any(t >= 0 and (t, r) not in cost for r, t in enumerate(perm)):
            continue
        total = sum(cost[(t, r)] if t >= 0 else miss for r, t in enumerate(perm))
        best = min(best, total)
    return best


@settings(max_examples=150)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_gnn_assignment_is_optimal(nt: int, nr: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pairs = [(t, r) for t in range(nt) for r in range(nr) if rng.random() < 0.6]
    cost = {pr: float(rng.uniform(0, 12)) for pr in pairs}
    miss = 9.0
    ti = np.array([t for t, _ in pairs], dtype=np.int64)
    ri = np.array([r for _, r in pairs], dtype=np.int64)
    c = np.array([cost[pr] for pr in pairs])
    at, ar = gnn_assign(ti, ri, c, nt, nr, miss)
    assert len(set(at.tolist())) == at.size and len(set(ar.tolist())) == ar.size
    got = sum(cost[(int(t), int(r))] for t, r in zip(at, ar, strict=True)) + miss * (nr - ar.size)
    assert got == pytest.approx(brute_force(nt, nr, cost, miss))


def test_candidate_pairs_are_all_pairs_within_radius() -> None:
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 1000, (50, 2))
    b = rng.uniform(0, 1000, (60, 2))
    ti, ri = candidate_pairs(a, b, 120.0)
    d = np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))
    assert set(zip(ti.tolist(), ri.tolist(), strict=True)) == set(
        zip(*np.nonzero(d <= 120.0), strict=True)
    )


@pytest.mark.parametrize(("lat0", "lon0"), [(48.9, 2.4), (0.0, 179.9), (89.5, -30.0), (-45, 0)])
def test_local_frame_round_trip(lat0: float, lon0: float) -> None:
    rng = np.random.default_rng(7)
    frame = LocalFrame(lat0, lon0)
    xy = rng.uniform(-300e3, 300e3, (200, 2))
    lat, lon = frame.to_latlon(xy)
    np.testing.assert_allclose(frame.to_xy(lat, lon), xy, atol=1e-6)
    np.testing.assert_allclose(local_xy_m(lat, lon, lat0, lon0), xy, atol=1e-6)
    v = frame.velocity_xy(lat, lon, np.full(200, 75.0), np.full(200, 200.0))
    trk, gs = frame.track_speed_at(lat, lon, v)
    np.testing.assert_allclose(gs, 200.0, rtol=1e-9)
    np.testing.assert_allclose(trk, 75.0, atol=1e-7)


def test_ospa_hand_values() -> None:
    assert ospa(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0
    assert ospa(np.zeros((3, 2)), np.zeros((0, 2))) == 1000.0
    assert ospa(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(5.0)
    # two truths, one track 10 m from the first: (10 + c) / 2
    assert ospa(np.array([[0.0, 0], [5e3, 0]]), np.array([[10.0, 0]])) == pytest.approx(505.0)
    # distances are cut at c; order p = 2
    far = ospa(np.array([[0.0, 0]]), np.array([[5e3, 0]]), c_m=1000.0, p=2.0)
    assert far == pytest.approx(1000.0)
    two = ospa(np.array([[0.0, 0], [100.0, 0]]), np.array([[0.0, 30], [100.0, 40]]), p=2.0)
    assert two == pytest.approx(np.sqrt((30**2 + 40**2) / 2))
