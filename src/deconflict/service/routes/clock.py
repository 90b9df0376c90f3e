"""The service's clock: the time every party's signed write is checked against (Unix s UTC).

It is the wall clock, or, where the service runs a live engine in-process on a scenario (the
demo), the engine's time: ``app.state.clock`` when set. One clock for the REST API, the hotline's
escalation and deadline checks, and the engine, so a page signs with the time the service checks.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from deconflict.service.auth import PartyDep

router = APIRouter(prefix="/v1", tags=["service"])


def service_now(app: Any) -> float:
    """The service's time now (Unix s): ``app.state.clock()`` when set, else the wall clock."""
    clock = getattr(app.state, "clock", None)
    return float(clock()) if clock is not None else time.time()


@router.get("/clock")
def clock(_party: PartyDep, request: Request) -> dict[str, float]:
    """The service's time now (Unix s): what a party signs its writes with (``time_s``)."""
    return {"time_s": service_now(request.app)}
