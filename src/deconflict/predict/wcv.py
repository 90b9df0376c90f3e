"""Closed-form DO-365 well-clear (WCV_TAUMOD / WCV_TCOA) violation intervals, in m, m/s and s.

Vectorised over any number of pairs: every argument is a numpy array or a float, broadcast
together. ``s`` is the relative position and ``v`` the relative velocity of a pair (either sign
convention: ``own - intruder`` or ``intruder - own`` give the same interval, since the volume is
symmetric under ``s, v -> -s, -v``).

The pair is *not well clear* when both

- horizontally: ``|s| <= DTHR`` or (``dcpa <= DTHR`` and ``0 <= tau_mod <= TTHR``), with
  ``tau_mod = (DTHR² - |s|²) / (s·v)`` while converging (``s·v < 0``);
- vertically: ``|sz| <= ZTHR`` or (``vz != 0``, ``sz·vz <= 0`` and ``-sz/vz <= TCOA``).

The interval over ``[0, lookahead]`` is solved as NASA DAIDALUS does (``WCV_tvar.WCV_interval``):
first the vertical window, then the horizontal entry (time at which tau_mod reaches TTHR, or now
if inside the DTHR circle) and exit (time the DTHR circle is left) within that window.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["wcv_interval", "wcv_violated_now"]

FloatArray = NDArray[np.float64]

# DAIDALUS compares with ``Util.almost_equals`` (16348 ulps, about 3.6e-12 relative).
_REL_TOL = 3.6e-12


def _almost_equal(a: FloatArray, b: FloatArray) -> NDArray[np.bool_]:
    result: NDArray[np.bool_] = np.abs(a - b) <= _REL_TOL * np.maximum(np.abs(a), np.abs(b))
    return result


def _horizontal_violation(
    sx: FloatArray,
    sy: FloatArray,
    vx: FloatArray,
    vy: FloatArray,
    dthr: FloatArray,
    tthr: FloatArray,
) -> NDArray[np.bool_]:
    """Horizontal part of the volume at one instant (``|s| <= DTHR`` or tau_mod test)."""
    sqs = sx * sx + sy * sy
    sdotv = sx * vx + sy * vy
    sqv = vx * vx + vy * vy
    sqd = dthr * dthr
    inside = sqs <= sqd
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # dcpa <= DTHR (only consulted while converging, where tcpa > 0)
        tcpa = np.where(sqv > 0.0, np.maximum(-sdotv / np.where(sqv > 0.0, sqv, 1.0), 0.0), 0.0)
        cx = sx + tcpa * vx
        cy = sy + tcpa * vy
        dcpa_ok = cx * cx + cy * cy <= sqd
        taumod = np.where(sdotv < 0.0, (sqd - sqs) / np.where(sdotv < 0.0, sdotv, -1.0), -1.0)
    result: NDArray[np.bool_] = inside | (dcpa_ok & (taumod >= 0.0) & (taumod <= tthr))
    return result


def _vertical_violation(
    sz: FloatArray, vz: FloatArray, zthr: FloatArray, tcoa: FloatArray
) -> NDArray[np.bool_]:
    """Vertical part of the volume at one instant (``|sz| <= ZTHR`` or time to co-altitude)."""
    moving = vz != 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tcoa_now = np.where(moving, -sz / np.where(moving, vz, 1.0), np.inf)
    result: NDArray[np.bool_] = (np.abs(sz) <= zthr) | (
        moving & (sz * vz <= 0.0) & (tcoa_now <= tcoa)
    )
    return result


def wcv_violated_now(
    sx_m: ArrayLike,
    sy_m: ArrayLike,
    sz_m: ArrayLike,
    vx_mps: ArrayLike,
    vy_mps: ArrayLike,
    vz_mps: ArrayLike,
    dthr_m: ArrayLike,
    zthr_m: ArrayLike,
    tthr_s: ArrayLike,
    tcoa_s: ArrayLike,
) -> NDArray[np.bool_]:
    """True where the pair is not well clear now (DAIDALUS ``Detection3D.violation``)."""
    sx, sy, sz, vx, vy, vz, dthr, zthr, tthr, tcoa = np.broadcast_arrays(
        *(
            np.asarray(x, dtype=np.float64)
            for x in (sx_m, sy_m, sz_m, vx_mps, vy_mps, vz_mps, dthr_m, zthr_m, tthr_s, tcoa_s)
        )
    )
    result: NDArray[np.bool_] = _horizontal_violation(
        sx, sy, vx, vy, dthr, tthr
    ) & _vertical_violation(sz, vz, zthr, tcoa)
    return result


def wcv_interval(
    sx_m: ArrayLike,
    sy_m: ArrayLike,
    sz_m: ArrayLike,
    vx_mps: ArrayLike,
    vy_mps: ArrayLike,
    vz_mps: ArrayLike,
    dthr_m: ArrayLike,
    zthr_m: ArrayLike,
    tthr_s: ArrayLike,
    tcoa_s: ArrayLike,
    lookahead_s: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Time interval ``(t_in_s, t_out_s)`` of well-clear violation within ``[0, lookahead_s]``.

    Where the straight-line trajectories never violate the volume within the lookahead,
    ``t_in_s = +inf`` and ``t_out_s = -inf``; where it is violated now, ``t_in_s = 0``.
    ``t_out_s`` is clipped to the lookahead. An interval of zero length (a touch) counts as none,
    as in DAIDALUS (``LossData.conflict``).
    """
    arrays = np.broadcast_arrays(
        *(
            np.asarray(x, dtype=np.float64)
            for x in (
                sx_m,
                sy_m,
                sz_m,
                vx_mps,
                vy_mps,
                vz_mps,
                dthr_m,
                zthr_m,
                tthr_s,
                tcoa_s,
                lookahead_s,
            )
        )
    )
    sx, sy, sz, vx, vy, vz, dthr, zthr, tthr, tcoa, horizon = arrays

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # 1. Vertical window [v_in, v_out] within [0, horizon].
        still = vz == 0.0
        level_inside = np.abs(sz) <= zthr
        safe_vz = np.where(still, 1.0, vz)
        act_h = np.maximum(zthr, np.abs(vz) * tcoa)
        t_entry = (-np.sign(vz) * act_h - sz) / safe_vz
        t_exit = (np.sign(vz) * zthr - sz) / safe_vz
        moving_ok = ~((horizon < t_entry) | (t_exit < 0.0))
        v_in = np.where(still, 0.0, np.maximum(0.0, t_entry))
        v_out = np.where(still, horizon, np.minimum(horizon, t_exit))
        v_ok = np.where(still, level_inside, moving_ok) & (v_in <= v_out)
        v_in = np.where(v_ok, v_in, 0.0)
        v_out = np.where(v_ok, v_out, 0.0)

        # 2. Horizontal interval from the state at the window's start, over its length.
        window = v_out - v_in
        hx = sx + v_in * vx
        hy = sy + v_in * vy
        sqs = hx * hx + hy * hy
        sdotv = hx * vx + hy * vy
        sqd = dthr * dthr
        a = vx * vx + vy * vy
        b = 2.0 * sdotv + tthr * a
        c = sqs + tthr * sdotv - sqd
        det = hx * vy - hy * vx
        inside = sqs <= sqd
        no_motion = a == 0.0
        safe_a = np.where(no_motion, 1.0, a)
        # exit time of the DTHR circle (Horizontal.Theta_D with eps = +1)
        theta_disc = sdotv * sdotv - a * (sqs - sqd)
        theta_exit = (-sdotv + np.sqrt(np.maximum(theta_disc, 0.0))) / safe_a
        theta_exit = np.where(theta_disc < 0.0, np.nan, theta_exit)
        discr = b * b - 4.0 * a * c
        t_tau = (-b - np.sqrt(np.maximum(discr, 0.0))) / (2.0 * safe_a)
        delta = sqd * a - det * det  # >= 0 <=> dcpa <= DTHR

        # outside, converging, reaching tau_mod = TTHR with dcpa <= DTHR within the window
        case_tau = (
            ~inside
            & ~no_motion
            & (sdotv < 0.0)
            & (discr >= 0.0)
            & (delta >= 0.0)
            & (t_tau <= window)
        )
        exit_in_window = np.minimum(window, theta_exit)
        # inside the circle: [0, exit] (the whole window when not moving)
        h_in = np.where(inside, 0.0, np.where(case_tau, np.maximum(0.0, t_tau), np.inf))
        h_out = np.where(
            inside,
            np.where(no_motion, window, exit_in_window),
            np.where(case_tau, exit_in_window, -np.inf),
        )

        # a window of a single instant: test the horizontal volume there
        point = v_ok & _almost_equal(v_in, v_out)
        if point.any():
            point_hit = _horizontal_violation(hx, hy, vx, vy, dthr, tthr)
            h_in = np.where(point, np.where(point_hit, 0.0, np.inf), h_in)
            h_out = np.where(point, np.where(point_hit, 0.0, -np.inf), h_out)

        t_in = v_in + h_in
        t_out = v_in + h_out
        conflict = v_ok & (t_out - t_in > _REL_TOL * np.maximum(np.abs(t_in), np.abs(t_out)))
    t_in_s: FloatArray = np.where(conflict, t_in, np.inf)
    t_out_s: FloatArray = np.where(conflict, t_out, -np.inf)
    return t_in_s, t_out_s
