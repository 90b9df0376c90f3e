"""Who may call each route of the service (the attack suite's table; docs/security.md is the
threat model), the fields a party may receive about another party's data, and a walk over an
app's routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.routing import Mount

PUBLIC, ADMIN_ONLY, MEMBER, ANY_PARTY = "public", "admin", "member", "party-or-admin"
#: The ASTM F3548-21 DSS API (a mounted app): RS256 bearer JWTs of the UTM auth server, not
#: the parties' tokens; its attacks are tests/service/test_dss_attacks.py (docs/f3548.md).
F3548_JWT = "f3548-jwt"

#: Who may call each endpoint (the auth layer's rule; ownership is checked separately below).
ACCESS: dict[tuple[str, str], str] = {
    ("MOUNT", "/dss/v1"): F3548_JWT,
    ("MOUNT", "/uss/v1"): F3548_JWT,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("POST", "/v1/parties"): ADMIN_ONLY,
    ("GET", "/v1/parties"): ADMIN_ONLY,
    ("GET", "/v1/parties/me"): ANY_PARTY,
    ("POST", "/v1/operations"): MEMBER,
    ("GET", "/v1/operations"): MEMBER,
    ("GET", "/v1/operations/{operation_id}"): MEMBER,
    ("PUT", "/v1/operations/{operation_id}"): MEMBER,
    ("POST", "/v1/operations/{operation_id}/state"): MEMBER,
    ("POST", "/v1/constraints"): ADMIN_ONLY,  # constraints are the host's (issue 11 item 4)
    ("GET", "/v1/constraints"): ANY_PARTY,
    ("GET", "/v1/constraints/{constraint_id}"): ANY_PARTY,
    ("DELETE", "/v1/constraints/{constraint_id}"): ADMIN_ONLY,
    ("POST", "/v1/proximity"): ANY_PARTY,
    ("GET", "/v1/events"): ANY_PARTY,
    ("GET", "/v1/log"): ADMIN_ONLY,
    ("WS", "/v1/events/ws"): ANY_PARTY,
    ("POST", "/v1/messages"): ANY_PARTY,
    ("GET", "/v1/messages"): ANY_PARTY,
    ("GET", "/v1/messages/recent"): ANY_PARTY,  # a party's own, the host's all (views)
    ("GET", "/v1/messages/{message_id}"): ANY_PARTY,
    ("POST", "/v1/messages/{message_id}/ack"): ANY_PARTY,
    ("GET", "/v1/admin/hotline/policy"): ADMIN_ONLY,
    ("PUT", "/v1/admin/hotline/policy"): ADMIN_ONLY,
    ("GET", "/v1/admin/escalations"): ADMIN_ONLY,
    ("POST", "/v1/identification-requests"): ADMIN_ONLY,
    ("POST", "/v1/identification-requests/{request_id}/answer"): MEMBER,
    ("GET", "/v1/identification-requests/{request_id}"): ANY_PARTY,
    ("GET", "/v1/identification-requests"): ANY_PARTY,  # a party's own (views)
    ("GET", "/v1/clock"): ANY_PARTY,  # the time signed writes are checked against
    ("GET", "/v1/incidents"): ANY_PARTY,
    ("GET", "/v1/incidents/{incident_id}"): ANY_PARTY,
    ("GET", "/v1/incidents/{incident_id}/report.html"): ANY_PARTY,
    ("GET", "/v1/incidents/{incident_id}/report.pdf"): ANY_PARTY,
    ("GET", "/v1/sitrep.png"): ANY_PARTY,
    # the transparency log (issue 14, docs/transparency.md): checkpoints and proofs are hashes
    # only, readable with any token; a cosignature and the entries a party holds are its own
    ("GET", "/v1/log/checkpoint"): ANY_PARTY,
    ("GET", "/v1/log/proofs/inclusion"): ANY_PARTY,
    ("GET", "/v1/log/proofs/consistency"): ANY_PARTY,
    ("GET", "/v1/log/host-keys"): ANY_PARTY,
    ("POST", "/v1/log/cosignatures"): MEMBER,
    ("GET", "/v1/log/entries"): MEMBER,
    # the blind check (issue 15): a party's node talks to the relay; the host sees no geometry
    ("GET", "/v1/blind/grid"): MEMBER,
    ("GET", "/v1/blind/parties"): MEMBER,
    ("POST", "/v1/blind/messages"): MEMBER,
    ("GET", "/v1/blind/messages"): MEMBER,
    ("POST", "/v1/blind/outcomes"): MEMBER,
    ("POST", "/v1/blind/operations"): MEMBER,
    ("PUT", "/v1/blind/operations/{operation_id}"): MEMBER,
    ("GET", "/v1/blind/operations"): MEMBER,
}

#: Fields a party may receive about ANOTHER party's data, per endpoint (need-to-know).
SHARED_OPERATION_FIELDS = {"shared", "id", "version", "token", "owner", "contact", "parts"}
OWN_OPERATION_FIELDS = {
    "shared", "id", "owner", "contact", "version", "token", "state", "priority",
    "aircraft_ids", "volumes", "flags",
}  # fmt: skip
PARTY_FIELDS = {"id", "name", "role", "public_key", "contact"}
REQUEST_FIELDS_FOR_A_PARTY = {
    "request_id", "track_id", "message_id", "created_s", "deadline_s", "parties", "track",
    "answers", "outcome", "escalate",
}  # fmt: skip
DELIVERY_FIELDS = {"party", "state", "acknowledged_s"}
SECRET_TEXT = "blue-to-red: tanker track moves north at 1400Z"
SECRET_AIRCRAFT = "REAPER01"


def walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
    """(method, path) of every route of the app, WebSockets as method ``WS`` (flat routes, or
    FastAPI's included-router wrappers)."""
    for r in routes:
        if hasattr(r, "effective_candidates"):
            yield from walk(r.effective_candidates())
            continue
        original = getattr(r, "original_route", r)
        path = getattr(r, "path", "") or getattr(r, "frontend_prefix", "") + original.path
        methods = getattr(original, "methods", None)
        if isinstance(original, Mount):
            yield "MOUNT", path
        elif methods is None:
            yield "WS", path
        else:
            yield from ((m, path) for m in sorted(methods) if m != "HEAD")


#: The live map's own routes (a demo party's token; the host's token is no party's there).
LIVE_ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/"): PUBLIC,
    ("MOUNT", "/map"): PUBLIC,
    # read-only: the map writes through /v1 like any client (ACCESS)
    ("GET", "/v1/live/session"): MEMBER,
    ("GET", "/v1/live/picture"): MEMBER,
    ("GET", "/v1/live/history"): MEMBER,
    ("GET", "/v1/live/operations"): MEMBER,
    ("GET", "/v1/live/track"): MEMBER,  # the map's info panel (issue 16): a track of its picture
    ("WS", "/v1/live/ws"): MEMBER,
    ("GET", "/v1/live/aircraft.json"): MEMBER,  # the picture out (issue 13): opted-in parties
    ("GET", "/v1/live/receiver.json"): MEMBER,
}
