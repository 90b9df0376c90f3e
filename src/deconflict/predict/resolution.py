"""The turn-away resolution's rule, in metres, m/s and radians: the side to turn to.

Each aircraft turns away from the side on which the other would pass at the closest point of
approach; when the other would pass within ``head_on_m`` of straight through (a collision
course, where the side is noise), it turns right, as the rules of the air say for aircraft
approaching head-on or converging. The live engine's advice (``deconflict.engine.resolution``)
and the Monte Carlo crews (``deconflict.montecarlo.model``) both turn by this rule.
"""

from __future__ import annotations

import math


def turn_away_sign(
    rx_m: float, ry_m: float, vx_mps: float, vy_mps: float, track_rad: float, head_on_m: float
) -> float:
    """+1 (turn right) or -1 (turn left) for an aircraft flying ``track_rad`` (clockwise from
    north) whose intruder is at (``rx_m``, ``ry_m``) east/north of it, closing with relative
    velocity (``vx_mps``, ``vy_mps``) = intruder's minus own."""
    v2 = vx_mps * vx_mps + vy_mps * vy_mps
    tcpa = max(0.0, -(rx_m * vx_mps + ry_m * vy_mps) / v2) if v2 > 0 else 0.0
    cx, cy = rx_m + vx_mps * tcpa, ry_m + vy_mps * tcpa
    left = math.sin(track_rad) * cy - math.cos(track_rad) * cx  # > 0: the other passes left
    return 1.0 if (math.hypot(cx, cy) < head_on_m or left > 0) else -1.0
