"""One Monte Carlo run: a randomised scenario flown under one set of procedures; SI inside (m, m/s,
rad, s), per-run metrics out (counts, seconds, flight hours).

The model of what procedures change, step by step (``dt_s``, 5 s by default):

* **World.** The scenario's aircraft fly their routes with the simulator's kinematics
  (``deconflict.sim.kinematics.step``, the type's turn, climb and speed limits) on the
  simulator's plane. A run's seed randomises the world: each aircraft's start time is delayed by
  U(0, ``departure_jitter_s``) and each waypoint that is not a base is moved by N(0,
  ``route_sigma_m``) east and north. The world draws depend on the seed only, so two procedure
  sets run on the same seed fly the same perturbed scenario (common random numbers: paired runs).
* **Alert.** Each step, for every pair of aircraft of *different* parties not already under an
  alert, straight-line flight is projected on the plane (a screen, with a 2 % wider cylinder);
  where it predicts a loss within ``alert_lead_time_s``, the pair's states are passed to the
  conflict detector, ``deconflict.predict.detect.detect_states`` with the procedures' standard
  and ``alert_lead_time_s`` as lookahead, and an alert is raised where it predicts a loss.
* **Resolution.** The resolution reaches the crews after a hotline response time (one draw per
  alert) plus each crew's pilot response delay (a draw per aircraft; by default the party's
  ``reaction_s``). Crews that comply (``compliance``: as the scenario's ``follows_resolutions``
  says, ``all`` or ``none``) then turn ``resolution_turn_deg`` away from the other aircraft, the
  rule of the engine's resolution (away from the side on which the other would pass at the closest
  approach; right when it would pass within 0.5 NM), unless one of the two has left the scene.
  A crew holds the heading until the pair is no longer predicted to lose separation within the
  lead time and the two are moving apart, then flies direct to the first waypoint ahead. An alert
  clears when no resolution is pending or flown for it, no loss is predicted and none is under
  way; the pair can then be alerted again.
* **Loss of separation and NMAC.** Between two steps each pair's relative motion is taken as
  linear, and the time inside the standard's separation cylinder (horizontal and vertical minima
  and its vertical tolerance) and inside the NMAC cylinder (500 ft horizontally, 100 ft
  vertically) is found in closed form (``deconflict.predict.cylinder``), so a pass between two
  steps is not missed. An event is a maximal run of steps in loss; every NMAC step lies in a
  loss step (the NMAC cylinder is inside every standard's), so NMACs are a subset of losses.
  Only pairs of different parties count (a party separates its own aircraft).
* **Unknown tracks.** An aircraft without a transponder, in range of another party's primary
  radar (a ``radar`` sensor), is an unknown track to that party from the first step it is seen:
  an identification request. The owner answers after an identification response time (a draw per
  request; never if the scenario gives the owner no ``answer_delay_s``); the track is left
  unresolved when the answer would come after ``identification_deadline_s``.
* **Flight hours** are the summed time aircraft are airborne in the scene.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from deconflict.montecarlo.procedures import Procedures
from deconflict.montecarlo.study import Prepared, Study, streams
from deconflict.predict.cylinder import cylinder_interval
from deconflict.predict.detect import detect_states
from deconflict.predict.resolution import turn_away_sign
from deconflict.predict.standards import Standard, get_standard
from deconflict.predict.states import States
from deconflict.sim.kinematics import step, turn_rate
from deconflict.units import FT, NM

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

NMAC_H_M: Final = 500.0 * FT
NMAC_V_M: Final = 100.0 * FT
SCREEN_MARGIN: Final = 1.02
HEAD_ON_M: Final = 0.5 * NM

RUN_COLUMNS: Final = (
    "procedures",
    "run",
    "seed",
    "flight_hours",
    "los",
    "los_duration_s",
    "nmac",
    "alerts",
    "resolutions",
    "los_unalerted",
    "warning_s_mean",
    "closest_nm",
    "unknown_tracks",
    "unresolved_unknown",
)


def turn_away_heading(
    x: F64, y: F64, hdg: F64, spd: F64, own: int, other: int, turn_rad: float
) -> float:
    """Heading (rad) of ``own`` turning ``turn_rad`` away from ``other`` (the engine's rule,
    ``deconflict.predict.resolution``)."""
    vx = spd[other] * math.sin(hdg[other]) - spd[own] * math.sin(hdg[own])
    vy = spd[other] * math.cos(hdg[other]) - spd[own] * math.cos(hdg[own])
    sign = turn_away_sign(
        float(x[other] - x[own]), float(y[other] - y[own]), vx, vy, float(hdg[own]), HEAD_ON_M
    )
    return float((hdg[own] + sign * turn_rad) % (2.0 * math.pi))


def _predicted(
    std: Standard, lead_s: float, sx: F64, sy: F64, sz: F64, vx: F64, vy: F64, vz: F64
) -> B:
    """Straight-line screen: a loss within ``lead_s`` (cylinder 2 % wider horizontally)."""
    sep = std.separation
    lim = sep.vertical_m - std.vertical_tolerance_m
    t_in, t_out = cylinder_interval(sx, sy, sz, vx, vy, vz, sep.horizontal_m * SCREEN_MARGIN, lim)
    t_in = np.maximum(t_in, 0.0)
    return np.asarray((t_in < t_out) & (t_out > 0.0) & (t_in <= lead_s), dtype=bool)


def _inside(
    h_m: float, v_m: float, tol_m: float, sx: F64, sy: F64, sz: F64, vx: F64, vy: F64, vz: F64,
    dt_s: float,
) -> F64:  # fmt: skip
    """Seconds of [0, dt_s] that linear relative motion spends inside the cylinder."""
    t_in, t_out = cylinder_interval(sx, sy, sz, vx, vy, vz, h_m, v_m, tol_m)
    lo = np.maximum(t_in, 0.0)
    hi = np.minimum(t_out, dt_s)
    return np.asarray(np.maximum(hi - lo, 0.0), dtype=np.float64)


def _detect_pairs(
    p: Prepared, std: Standard, x: F64, y: F64, alt: F64, hdg: F64, spd: F64, vs: F64, idx: I64
) -> set[tuple[int, int]]:
    """Pairs (i < j, indices into the scenario) the detector predicts, among aircraft ``idx``."""
    lon, lat = p.sim.xy_to_latlon(x[idx], y[idx])
    k = idx.size
    states = States(
        ids=idx.astype(object),
        lat_deg=np.atleast_1d(lat),
        lon_deg=np.atleast_1d(lon),
        alt_m=alt[idx],
        gs_mps=spd[idx],
        trk_deg=np.degrees(hdg[idx]) % 360.0,
        vs_mps=vs[idx],
        alerter=np.ones(k, dtype=np.int64),
        zone_h_m=np.zeros(k),
        zone_v_m=np.zeros(k),
    )
    rows = detect_states(states, std)
    rows = rows[rows["t_in_s"].notna()]
    out: set[tuple[int, int]] = set()
    for a, b in zip(rows["a"].to_numpy(), rows["b"].to_numpy(), strict=True):
        ia, ib = int(a), int(b)
        out.add((min(ia, ib), max(ia, ib)))
    return out


def _resume_route(p: Prepared, cur: I64, x: F64, y: F64, k: int) -> None:
    """Direct to the first waypoint ahead (the simulator's ``release`` rule)."""
    while cur[k] < p.n_wp[k] - 1:
        c = cur[k]
        nx, ny = p.wp_x[k, c + 1], p.wp_y[k, c + 1]
        leg = math.hypot(nx - p.wp_x[k, c], ny - p.wp_y[k, c])
        if math.hypot(nx - x[k], ny - y[k]) >= leg:
            break
        cur[k] += 1


def simulate_run(p: Prepared, proc: Procedures, study: Study, run: int) -> dict[str, Any]:
    """Fly run ``run`` of the study under ``proc``; one row of metrics (keys: RUN_COLUMNS)."""
    world, prng = streams(study.seed, run)
    n = p.ids.size
    dt = float(study.dt_s)
    std = get_standard(proc.standard)
    std_lead = std.with_lookahead(max(proc.alert_lead_time_s, dt))
    lead = proc.alert_lead_time_s
    sep_h, sep_v = std.separation.horizontal_m, std.separation.vertical_m
    tol = std.vertical_tolerance_m
    turn_rad = math.radians(proc.resolution_turn_deg)

    # -- the randomised world (depends on the seed only) ----------------------------------
    start = p.start_s + world.uniform(0.0, study.departure_jitter_s, n)
    off = world.normal(0.0, study.route_sigma_m, (2, *p.wp_x.shape))
    wp_x = np.where(p.is_base, p.wp_x, p.wp_x + off[0])
    wp_y = np.where(p.is_base, p.wp_y, p.wp_y + off[1])
    everyone = np.full(n, proc.compliance == "all")
    comply = p.follows if proc.compliance == "scenario" else everyone

    x, y, alt = np.zeros(n), np.zeros(n), np.zeros(n)
    hdg, spd, vs = np.zeros(n), np.zeros(n), np.zeros(n)
    cur = np.zeros(n, dtype=np.int64)
    active = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    cmd_hdg = np.full(n, np.nan)
    cmd_pair = np.full(n, -1, dtype=np.int64)
    rows = np.arange(n)
    last = p.wp_x.shape[1] - 1
    pi, pj = p.pair_i, p.pair_j
    npairs = pi.size
    alerted = np.zeros(npairs, dtype=bool)
    alert_t = np.full(npairs, np.nan)
    pending_n = np.zeros(npairs, dtype=np.int64)
    los_prev = np.zeros(npairs, dtype=bool)
    pending: list[tuple[float, int, int, int]] = []  # (t_apply, own, other, pair)
    pair_of = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(pi, pj, strict=True))}
    asked: set[tuple[str, int]] = set()  # (party, aircraft) identification requests

    flight_s = 0.0
    los = nmac = alerts = resolutions = unalerted = 0
    los_duration = 0.0
    warnings: list[float] = []
    closest = math.inf
    unknown = unresolved = 0
    nmac_prev = np.zeros(npairs, dtype=bool)
    t = 0.0
    steps = math.ceil(p.scenario.duration_s / dt - 1e-9)
    for _ in range(steps):
        # activation (as the simulator does it)
        new = ~active & ~done & (start <= t)
        if new.any():
            k = np.flatnonzero(new)
            x[k], y[k], alt[k] = wp_x[k, 0], wp_y[k, 0], p.wp_alt[k, 0]
            s0 = np.where(np.isnan(p.wp_spd[k, 0]), p.limits.min_mps[k] * 1.1, p.wp_spd[k, 0])
            spd[k] = np.clip(s0, p.limits.min_mps[k], p.limits.max_mps[k])
            hdg[k] = np.arctan2(wp_x[k, 1] - x[k], wp_y[k, 1] - y[k]) % (2 * np.pi)
            vs[k] = 0.0
            cur[k] = 1
            active[k] = True
        # resolutions reaching crews now
        if pending:
            due = [e for e in pending if e[0] <= t]
            if due:
                pending = [e for e in pending if e[0] > t]
                for _, own, other, pk in due:
                    pending_n[pk] -= 1
                    if alerted[pk] and active[own] and active[other]:
                        cmd_hdg[own] = turn_away_heading(x, y, hdg, spd, own, other, turn_rad)
                        cmd_pair[own] = other
                        resolutions += 1
        # fly one step
        c = np.minimum(cur, last)
        tx, ty = wp_x[rows, c], wp_y[rows, c]
        tgt_hdg = np.where(np.isnan(cmd_hdg), np.arctan2(tx - x, ty - y), cmd_hdg)
        was = active.copy()
        x0, y0, z0 = x.copy(), y.copy(), alt.copy()
        nx, ny, nz, nh, ns, nv = step(
            x, y, alt, hdg, spd, tgt_hdg, p.wp_alt[rows, c], p.wp_spd[rows, c], p.limits, dt
        )
        x, y, alt = np.where(was, nx, x), np.where(was, ny, y), np.where(was, nz, alt)
        hdg, spd, vs = np.where(was, nh, hdg), np.where(was, ns, spd), np.where(was, nv, 0.0)
        t += dt
        flight_s += dt * int(was.sum())
        radius = spd / np.maximum(turn_rate(p.limits, spd), 1e-6)
        dist = np.hypot(tx - x, ty - y)
        captured = was & (dist <= radius + spd * dt)
        cur = cur + captured
        finished = captured & (cur >= p.n_wp)
        active &= ~finished
        done |= finished
        cmd_hdg[finished] = np.nan
        cmd_pair[finished] = -1

        # pairs both airborne over the whole step
        both = was[pi] & was[pj]
        live = np.flatnonzero(both & active[pi] & active[pj])
        a, b = pi[live], pj[live]
        sx0, sy0, sz0 = x0[b] - x0[a], y0[b] - y0[a], z0[b] - z0[a]
        rvx = (x[b] - x[a] - sx0) / dt
        rvy = (y[b] - y[a] - sy0) / dt
        rvz = (alt[b] - alt[a] - sz0) / dt
        inside = _inside(sep_h, sep_v, tol, sx0, sy0, sz0, rvx, rvy, rvz, dt)
        in_los = np.zeros(npairs, dtype=bool)
        in_los[live] = inside > 0.0
        started = in_los & ~los_prev
        if started.any():
            for q in np.flatnonzero(started).tolist():
                los += 1
                if np.isnan(alert_t[q]):
                    unalerted += 1
                else:
                    warnings.append(t - dt - float(alert_t[q]))
        los_duration += float(inside.sum())
        los_prev = in_los
        in_nmac = np.zeros(npairs, dtype=bool)
        if in_los.any():
            sel = inside > 0.0
            nm = _inside(
                NMAC_H_M, NMAC_V_M, 0.0, sx0[sel], sy0[sel], sz0[sel], rvx[sel], rvy[sel],
                rvz[sel], dt,
            )  # fmt: skip
            in_nmac[live[sel]] = nm > 0.0
            nmac += int((in_nmac & ~nmac_prev).sum())
        nmac_prev = in_nmac
        if live.size:
            a2 = rvx * rvx + rvy * rvy
            tc = np.clip(-(sx0 * rvx + sy0 * rvy) / np.where(a2 > 0, a2, 1.0), 0.0, dt)
            dh = np.hypot(sx0 + rvx * tc, sy0 + rvy * tc)
            vert = np.abs(sz0 + rvz * tc) < sep_v - tol
            if vert.any():
                closest = min(closest, float(dh[vert].min()))

        # current velocities, for prediction
        cvx, cvy = spd * np.sin(hdg), spd * np.cos(hdg)
        sx, sy, sz = x[b] - x[a], y[b] - y[a], alt[b] - alt[a]
        dvx, dvy, dvz = cvx[b] - cvx[a], cvy[b] - cvy[a], vs[b] - vs[a]
        pred = np.zeros(npairs, dtype=bool)
        if live.size:
            pred[live] = _predicted(std, lead, sx, sy, sz, dvx, dvy, dvz)
        # crews release a resolution once clear of conflict and moving apart
        for own in np.flatnonzero(cmd_pair >= 0).tolist():
            other = int(cmd_pair[own])
            pk = pair_of[(min(own, other), max(own, other))]
            rx, ry = x[other] - x[own], y[other] - y[own]
            apart = rx * (cvx[other] - cvx[own]) + ry * (cvy[other] - cvy[own]) > 0
            if not active[other] or (not pred[pk] and apart):
                cmd_hdg[own] = np.nan
                cmd_pair[own] = -1
                _resume_route(p, cur, x, y, own)
        # alerts clear when nothing is pending or flown for them and no loss is predicted
        flown = np.zeros(npairs, dtype=bool)
        for own in np.flatnonzero(cmd_pair >= 0).tolist():
            other = int(cmd_pair[own])
            flown[pair_of[(min(own, other), max(own, other))]] = True
        clear = alerted & ~pred & ~in_los & (pending_n == 0) & ~flown
        alerted &= ~clear
        alert_t[clear] = np.nan
        # new alerts: the detector confirms what the screen flags
        cand = np.flatnonzero(pred & ~alerted)
        if cand.size:
            idx = np.unique(np.concatenate((pi[cand], pj[cand])))
            confirmed = _detect_pairs(p, std_lead, x, y, alt, hdg, spd, vs, idx)
            for q in cand.tolist():
                ia, ib = int(pi[q]), int(pj[q])
                if (ia, ib) not in confirmed:
                    continue
                alerts += 1
                alerted[q] = True
                alert_t[q] = t
                hotline = float(proc.hotline_response_time_s.sample(prng, 1)[0])
                for own, other in ((ia, ib), (ib, ia)):
                    if not comply[own]:
                        continue
                    if proc.pilot_response_delay_s is None:
                        delay = float(p.reaction_s[own])
                    else:
                        delay = float(proc.pilot_response_delay_s.sample(prng, 1)[0])
                    pending.append((t + hotline + delay, own, other, q))
                    pending_n[q] += 1

        # unknown tracks: no transponder, seen by another party's primary radar
        if p.radar_x.size and p.no_transponder.any():
            cand_u = active & p.no_transponder
            d = np.hypot(x[None, :] - p.radar_x[:, None], y[None, :] - p.radar_y[:, None])
            sees = (
                cand_u[None, :]
                & (d <= p.radar_range_m[:, None])
                & (p.radar_party[:, None] != p.party[None, :])
            )
            for r, ac in zip(*np.nonzero(sees), strict=True):
                key = (str(p.radar_party[r]), int(ac))
                if key in asked:
                    continue
                asked.add(key)
                unknown += 1
                answer = float(proc.identification_time.sample(prng, 1)[0])
                if not p.answers[ac] or answer > proc.identification_deadline_s:
                    unresolved += 1

    return {
        "procedures": proc.name,
        "run": int(run),
        "seed": int(study.seed),
        "flight_hours": flight_s / 3600.0,
        "los": los,
        "los_duration_s": los_duration,
        "nmac": nmac,
        "alerts": alerts,
        "resolutions": resolutions,
        "los_unalerted": unalerted,
        "warning_s_mean": float(np.mean(warnings)) if warnings else math.nan,
        "closest_nm": closest / NM if math.isfinite(closest) else math.nan,
        "unknown_tracks": unknown,
        "unresolved_unknown": unresolved,
    }
