"""What the runs of a study share: how they are randomised and stepped (``Study``), each run's
random streams (``streams``: the world's and the procedures', from the seed sequence [study
seed, run]), and the scenario as arrays (``prepare``, ``Prepared``), built once per worker and
read, never changed, by every run (``deconflict.montecarlo.model``, whose docstring is the model).

The scenario's sensors are not simulated: the simulator is built without them and used for its
projection, limits and routes only. Only its primary radars (``radar`` sensors) are kept, as
positions on the plane, ranges and parties, for the model's unknown tracks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deconflict.errors import InputError
from deconflict.sim.kinematics import Limits
from deconflict.sim.scenario import Scenario
from deconflict.sim.simulator import Simulator
from deconflict.units import NM

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Study:
    """How runs are randomised and stepped (the same for every procedure set of a study)."""

    seed: int = 0
    departure_jitter_s: float = 60.0
    route_sigma_m: float = 1.0 * NM
    dt_s: float = 5.0

    def __post_init__(self) -> None:
        if self.dt_s <= 0 or self.departure_jitter_s < 0 or self.route_sigma_m < 0:
            raise InputError(
                f"study parameters out of range (dt_s={self.dt_s}, departure_jitter_s="
                f"{self.departure_jitter_s}, route_sigma_m={self.route_sigma_m}); the step must "
                "be > 0 and the jitter and route sigma >= 0"
            )


@dataclass(frozen=True)
class Prepared:
    """The scenario as arrays, built once per worker and shared by its runs."""

    scenario: Scenario
    sim: Simulator  # for its projection, limits and routes; never stepped
    ids: npt.NDArray[np.object_]
    limits: Limits
    wp_x: F64
    wp_y: F64
    wp_alt: F64
    wp_spd: F64
    n_wp: I64
    is_base: B
    start_s: F64
    follows: B
    reaction_s: F64
    pair_i: I64
    pair_j: I64
    no_transponder: B
    answers: B
    radar_x: F64
    radar_y: F64
    radar_range_m: F64
    radar_party: npt.NDArray[np.object_]
    party: npt.NDArray[np.object_]


def prepare(scenario: Scenario) -> Prepared:
    """Arrays of a scenario for fast runs (its sensors are not simulated: see the module doc)."""
    if len(scenario.aircraft) < 2:
        raise InputError(f"scenario {scenario.name!r} has fewer than 2 aircraft; nothing to study")
    sim = Simulator(dataclasses.replace(scenario, sensors=()), seed=0, dt_s=1.0)
    ac = scenario.aircraft
    n = len(ac)
    party = np.array([a.party for a in ac], dtype=object)
    i, j = np.triu_indices(n, 1)
    inter = party[i] != party[j]
    m = sim.wp_x.shape[1]
    is_base = np.zeros((n, m), dtype=bool)
    for k, a in enumerate(ac):
        is_base[k, : len(a.route)] = [w.base is not None for w in a.route]
    radars = [s for s in scenario.sensors if s.kind == "radar"]
    rx, ry = sim.latlon_to_xy(
        np.array([s.lat for s in radars], dtype=np.float64),
        np.array([s.lon for s in radars], dtype=np.float64),
    )
    return Prepared(
        scenario=scenario,
        sim=sim,
        ids=np.array(sim.ids, dtype=object),
        limits=sim.limits,
        wp_x=sim.wp_x.copy(),
        wp_y=sim.wp_y.copy(),
        wp_alt=sim.wp_alt.copy(),
        wp_spd=sim.wp_spd.copy(),
        n_wp=sim.n_wp.copy(),
        is_base=is_base,
        start_s=sim.start_s.copy(),
        follows=sim.follows.copy(),
        reaction_s=np.array([scenario.party(a.party).reaction_s for a in ac], dtype=np.float64),
        pair_i=i[inter].astype(np.int64),
        pair_j=j[inter].astype(np.int64),
        no_transponder=np.array([a.transponder == "none" for a in ac], dtype=bool),
        answers=np.array(
            [scenario.party(a.party).answer_delay_s is not None for a in ac], dtype=bool
        ),
        radar_x=np.atleast_1d(rx).astype(np.float64),
        radar_y=np.atleast_1d(ry).astype(np.float64),
        radar_range_m=np.array([s.range_nm * NM for s in radars], dtype=np.float64),
        radar_party=np.array([s.party for s in radars], dtype=object),
        party=party,
    )


def streams(study_seed: int, run: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The run's two generators: the world's and the procedures' (independent streams)."""
    world, proc = np.random.SeedSequence([int(study_seed), int(run)]).spawn(2)
    return np.random.default_rng(world), np.random.default_rng(proc)
