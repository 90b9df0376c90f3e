"""The scenario's crews answer identification requests for the scenario's parties only: a party
registered on the store beside them (``deconflict engine`` on a shared store) is left to its own
officers, and the engine does not stop on it (issue 12: it did, with an InputError)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from deconflict.engine.session import _Offline
from deconflict.sim.crews import Crews
from deconflict.sim.scenario import builtin_scenario_path, load_scenario
from deconflict.sim.simulator import Simulator


class _Engine(_Offline):  # the engine as the crews see it, writing nothing
    now_s = 100.0


def test_a_request_to_a_party_outside_the_scenario_is_left_to_its_officers() -> None:
    sc = load_scenario(builtin_scenario_path())
    answering = [p.id for p in sc.parties if p.answer_delay_s is not None]
    assert answering, "the built-in scenario has a crew that answers"
    crews = Crews(Simulator(sc))
    body = {"request_id": "r1",
            "position": {"latitude": sc.center[0], "longitude": sc.center[1], "altitude_m": 3000}}  # fmt: skip
    request = SimpleNamespace(
        kind="message",
        payload={"kind": "identification_request", "recipients": [*answering, "outsider"],
                 "body": body},
    )  # fmt: skip
    crews(_Engine(), pd.Timestamp(sc.start), [request])
    assert len(crews._queue) == len(answering)  # the scenario's crews only
