"""Helpers of the hotline service tests: the admin token, a client on a store URL, and the
parties' signed request bodies (``hotline.authorship``)."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from deconflict.errors import InputError
from deconflict.hotline.authorship import (
    acknowledgement_content,
    answer_content,
    message_content,
    sign_content,
)
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.hotline.messages import make_message
from deconflict.service import create_app
from deconflict.settings import Settings

ADMIN = "admin-token-for-hotline-tests"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def make_client(url: str, **settings: Any) -> TestClient:
    values: dict[str, Any] = {"database_url": url, "admin_token": ADMIN}
    values.update(settings)
    return TestClient(create_app(Settings(**values)))


def signer_of(who: dict[str, Any]) -> Signer:
    """The party's signer from its registration record (``name``, ``private_key_pem``)."""
    return Signer(who["name"], private_key_from_pem(who["private_key_pem"].encode()))


def signed_message(who: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A ``POST /v1/messages`` body signed by ``who`` over ``message_content``."""
    now = time.time()
    try:
        message = make_message(
            body.get("kind", "free_text"),
            who["name"],
            body["to"],
            body["body"],
            time_s=now,
            priority=body.get("priority"),
        )
    except InputError:  # not a message: the service refuses it before any signature check
        return {**body, "time_s": now}
    signer = signer_of(who)
    signature = sign_content(signer, message_content(message))
    return {**body, "time_s": now, "signature": signature, "key_id": signer.key_id}


def signed_ack(who: dict[str, Any], message_id: str) -> dict[str, Any]:
    """A ``POST /v1/messages/{id}/ack`` body signed by ``who``."""
    now = time.time()
    signer = signer_of(who)
    content = acknowledgement_content(message_id, who["name"], now)
    return {"time_s": now, "signature": sign_content(signer, content), "key_id": signer.key_id}


def signed_answer(who: dict[str, Any], request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A ``POST /v1/identification-requests/{id}/answer`` body signed by ``who``."""
    now = time.time()
    signer = signer_of(who)
    content = answer_content(
        request_id,
        who["name"],
        str(body.get("answer", "")),
        aircraft=str(body.get("aircraft", "")),
        operation=str(body.get("operation", "")),
        time_s=now,
    )
    signature = sign_content(signer, content)
    return {**body, "time_s": now, "signature": signature, "key_id": signer.key_id}
