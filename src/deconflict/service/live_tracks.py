"""The map's info panel: one track of the caller's live picture, in detail.

``GET /v1/live/track?key=KEY`` (bearer token of a demo party) answers what the info panel shows of
one track of the caller's own picture: identity and owner as the caller may see them, callsign,
icao24, squawk, position, altitude (ft) and flight level, ground speed (kt), vertical rate
(ft/min), track (degrees), the sensors that reported it (``party/sensor``) and its last update
(Unix s) with its age against the engine's clock. The picture is the one the map shows, under
the procedures' track sharing (``Engine.view``): another party's track is found by the name it is
shown under and its identifiers are those shared. A key that is not in the caller's picture — one
of another party's picture included — is 404: a party learns nothing through it that its map
does not already show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from deconflict.engine.session import Session
from deconflict.errors import NotFoundError
from deconflict.service.live_routes import bearer_caller

Key = Annotated[str, Query(min_length=1, max_length=200, description="the track's key")]

NUMBERS = ("latitude", "longitude", "altitude", "groundspeed", "track", "vertical_rate")


def _number(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _text(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and v != v) else str(v)


def track_detail(session: Session, party: str, key: str) -> dict[str, Any]:
    """The info panel's fields of ``key`` in ``party``'s picture; NotFoundError if it has none."""
    eng = session.engine
    with session.lock:
        # the picture as the map shows it: under the procedures' track sharing (Engine.view),
        # which names another party's track by a pseudonym and hides its identifiers
        pic = eng.picture(party)
        pic = pic.assign(squawk=eng.trackers[party].squawks(pic["track_id"].to_numpy()))
        pic = eng.view(party, pic)
        hits = (pic["key"] == key).to_numpy(dtype=bool)
        if not hits.any():
            raise NotFoundError(f"no track {key!r} in your picture; pick one on the map")
        row = pic[hits].iloc[0]
        detail = eng.trackers[party].detail(int(row["track_id"]))
        now = float(eng.now_s)
    out: dict[str, Any] = {
        "key": key,
        "label": _text(row["label"]),
        "identity": _text(row["identity"]),
        "owner": _text(row["owner"]) or None,
        "status": _text(row["status"]),
        **{n: _number(row[n]) for n in NUMBERS},
        # identifiers as shared (the tracker's own, unless the track sharing hid them)
        "callsign": _text(row["callsign"]),
        "icao24": _text(row["icao24"]),
        "squawk": _text(row["squawk"]),
        "sensors": detail["sensors"],
        "first_seen_s": _number(detail["first_seen_s"]),
        "last_update_s": _number(detail["last_update_s"]),
        "time_s": _number(now),
    }
    alt = out["altitude"]
    out["flight_level"] = None if alt is None else round(alt / 100)
    last = out["last_update_s"]
    out["age_s"] = None if last is None or out["time_s"] is None else max(0.0, now - last)
    return out


def track_router(session: Session, party_of: Callable[[str | None], str]) -> APIRouter:
    """``GET /v1/live/track``: one track of the caller's picture (``party_of(token)``)."""
    router = APIRouter(prefix="/v1/live", tags=["live picture"])

    # a dependency: the token is checked before the query (no token is 401, key or none)
    party_dep = Depends(bearer_caller(party_of))  # a default, not Annotated: local to the router

    @router.get("/track")
    def track(key: Key, party: str = party_dep) -> dict[str, Any]:
        """One track of your picture in detail: identity, owner, identifiers, kinematics, the
        sensors that reported it and the age of its last update."""
        try:
            return track_detail(session, party, key)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None

    return router
