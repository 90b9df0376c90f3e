"""Relative geometry of aircraft pairs, in metres and metres per second.

For each pair (i, j) the relative position and velocity of j with respect to i are expressed in
the east-north frame tangent to the WGS84 ellipsoid at the pair's midpoint (x east, y north),
from exact ECEF positions and each aircraft's own local velocity; the vertical parts come from
barometric altitude and vertical rate. The motion is then linear in that plane (straight-line
projection, as in every state-based detector). See deconflict.geo for the error bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deconflict.geo import WGS84_E2, ecef_m, ground_velocity_ecef_mps
from deconflict.predict.states import States

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Scene:
    """The states of one instant in ECEF (positions on the ellipsoid, horizontal velocities)."""

    pos_m: F64  # (N, 3)
    vel_mps: F64  # (N, 3)
    alt_m: F64
    vs_mps: F64

    @classmethod
    def from_states(cls, s: States) -> Scene:
        return cls(
            pos_m=ecef_m(s.lat_deg, s.lon_deg),
            vel_mps=ground_velocity_ecef_mps(s.lat_deg, s.lon_deg, s.trk_deg, s.gs_mps),
            alt_m=s.alt_m,
            vs_mps=s.vs_mps,
        )


@dataclass(frozen=True, slots=True)
class Relative:
    """Relative state of j with respect to i for M pairs (each array shape (M,))."""

    sx_m: F64
    sy_m: F64
    sz_m: F64
    vx_mps: F64
    vy_mps: F64
    vz_mps: F64


def midpoint_frames(p_i: F64, p_j: F64) -> tuple[F64, F64]:
    """East and north unit vectors (M, 3) at the midpoints of pairs of ECEF surface points."""
    mid = 0.5 * (p_i + p_j)
    up = np.stack((mid[:, 0], mid[:, 1], mid[:, 2] / (1.0 - WGS84_E2)), axis=1)
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    east = np.stack((-up[:, 1], up[:, 0], np.zeros(len(up))), axis=1)
    norm = np.linalg.norm(east, axis=1, keepdims=True)
    at_pole = norm[:, 0] < 1e-12
    east[at_pole] = (0.0, 1.0, 0.0)
    norm[at_pole] = 1.0
    east /= norm
    north = np.cross(up, east)
    return east, north


def relative(scene: Scene, i: I64, j: I64) -> Relative:
    """Relative position and velocity of aircraft j seen from aircraft i, per pair."""
    east, north = midpoint_frames(scene.pos_m[i], scene.pos_m[j])
    d = scene.pos_m[j] - scene.pos_m[i]
    dv = scene.vel_mps[j] - scene.vel_mps[i]
    return Relative(
        sx_m=np.einsum("ij,ij->i", d, east),
        sy_m=np.einsum("ij,ij->i", d, north),
        sz_m=scene.alt_m[j] - scene.alt_m[i],
        vx_mps=np.einsum("ij,ij->i", dv, east),
        vy_mps=np.einsum("ij,ij->i", dv, north),
        vz_mps=scene.vs_mps[j] - scene.vs_mps[i],
    )
