"""Helpers of the service tests: volumes, clients, the error-shape check."""

from __future__ import annotations

from typing import Any

from deconflict.service import create_app
from deconflict.settings import Settings
from signing_client import SigningClient

ADMIN = "admin-token-for-tests"
Headers = dict[str, str]


def volume(
    lon0: float,
    lat0: float,
    size_deg: float = 0.01,
    *,
    start: str = "2030-01-01T10:00:00Z",
    end: str = "2030-01-01T11:00:00Z",
    lower_ft: float = 0.0,
    upper_ft: float = 400.0,
) -> dict[str, Any]:
    """A square volume, counter-clockwise, ``size_deg`` on a side, south-west corner given."""
    ring = [
        [lon0, lat0],
        [lon0 + size_deg, lat0],
        [lon0 + size_deg, lat0 + size_deg],
        [lon0, lat0 + size_deg],
    ]
    return {
        "polygon": [ring],
        "altitude_lower": {"value": lower_ft, "units": "ft"},
        "altitude_upper": {"value": upper_ft, "units": "ft"},
        "time_start": start,
        "time_end": end,
    }


def make_client(url: str, **settings: Any) -> SigningClient:
    values: dict[str, Any] = {
        "database_url": url,
        "admin_token": ADMIN,
        "separation_standard": "none",
    }
    values.update(settings)
    return SigningClient(create_app(Settings(**values)))


def assert_error(response: Any, status: int, code: str, *words: str) -> dict[str, Any]:
    """The response is an error of the one shape, with ``code``; its message has ``words``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert {"code", "message", "hint"} <= set(err)
    assert err["code"] == code
    for w in words:
        assert w.lower() in err["message"].lower(), err["message"]
    return dict(err)
