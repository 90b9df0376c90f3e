"""The simulator as a report source for the live engine (UTC in, report table out)."""

from __future__ import annotations

import pandas as pd

from deconflict.sim.simulator import Simulator


class SimSource:
    """Flies the simulator up to each ``now`` and returns the reports made on the way."""

    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator

    def poll(self, now: pd.Timestamp) -> pd.DataFrame:
        t_s = (now - self.sim.scenario.start).total_seconds()
        return self.sim.advance(max(t_s, self.sim.t_s))

    def fleets(self) -> dict[str, set[str]]:
        """Each party's own aircraft identities (icao24 and callsign), as its duty officers
        know them: what the engine uses to tell a party's own tracks from others'."""
        out: dict[str, set[str]] = {p.id: set() for p in self.sim.scenario.parties}
        for a in self.sim.scenario.aircraft:
            out[a.party] |= {v for v in (a.icao24, a.callsign) if v}
        return out
