"""Party signatures in a host-sealed log: a host that alters, forges or strips a party-authored
entry, even re-sealing and re-chaining the whole log with its own key, is named at that entry,
offline (``verify_log`` and ``deconflict audit verify``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.authorship import (
    acknowledgement_content,
    answer_content,
    message_content,
    sign_content,
    signed_content,
)
from deconflict.hotline.jsonl import write_log_jsonl
from deconflict.hotline.keys import KeyRing, Signer
from deconflict.hotline.log import LogEntry, Problem, append_entry, verify_log
from deconflict.hotline.messages import ALL, MessageKind, acknowledgement, make_message

SIGNERS = {
    p: Signer(p, Ed25519PrivateKey.from_private_bytes(bytes([i + 7]) * 32))
    for i, p in enumerate(("host", "alpha", "bravo"))
}
RING = KeyRing.from_public_keys({p: s.public_key for p, s in SIGNERS.items()})
HOST = SIGNERS["host"]

Payload = dict[str, Any]


def party_signed(payload: Payload, signer: Signer | None = None) -> Payload:
    """The payload with its sender's signature over what authorship says it signs."""
    who = signer or SIGNERS[payload["sender"]]
    signature = sign_content(who, signed_content(payload))
    return {**payload, "client_signature": signature, "client_key_id": who.key_id}


def payloads() -> list[Payload]:
    """A service-style conversation: every entry is sealed by the host; the parties' own entries
    carry their signatures."""
    request = make_message(
        MessageKind.IDENTIFICATION_REQUEST, "host", ALL,
        {"request_id": "r1", "track_id": "T7", "position": {}, "velocity": {}}, time_s=1000.0,
    )  # fmt: skip
    text = make_message(MessageKind.FREE_TEXT, "alpha", "bravo", {"text": "climbing"}, time_s=1001)
    answer = make_message(
        MessageKind.IDENTIFICATION_ANSWER, "bravo", "host",
        {"request_id": "r1", "answer": "ours", "aircraft": "B-12", "operation": ""},
        time_s=1002.5,
    )  # fmt: skip
    ack = acknowledgement(text, "bravo", time_s=1003.0)
    notice = make_message(
        MessageKind.CONFLICT_NOTICE, "host", "alpha",
        {"notice_id": "n1", "action": "climb", "level": "warning"}, time_s=1004.0,
    )  # fmt: skip
    return [
        request.to_dict(),
        party_signed(text.to_dict()),
        party_signed(answer.to_dict()),
        party_signed(ack.to_dict()),
        notice.to_dict(),
        {"decision": "declared", "by": "engine"},
    ]


def host_log(items: list[Payload]) -> list[LogEntry]:
    """The log as the host writes it: every entry sealed and chained with the host's key."""
    log: list[LogEntry] = []
    for i, payload in enumerate(items):
        kind = "message" if "sender" in payload else "decision"
        prev = log[-1] if log else None
        log.append(append_entry(prev, HOST, time_s=1000.0 + i, kind=kind, payload=payload))
    return log


def test_the_signed_contents_are_the_documented_dicts() -> None:
    assert acknowledgement_content("m1", "bravo", 3) == {
        "action": "acknowledgement", "message_id": "m1", "party": "bravo", "time_s": 3.0,
    }  # fmt: skip
    assert answer_content("r1", "bravo", "not_ours", time_s=2) == {
        "action": "identification_answer", "request_id": "r1", "party": "bravo",
        "answer": "not_ours", "aircraft": "", "operation": "", "time_s": 2.0,
    }  # fmt: skip
    text = payloads()[1]
    assert signed_content(text) == message_content(text)
    assert set(message_content(text)) == {"sender", "to", "kind", "body", "time_s", "priority"}
    ack = payloads()[3]
    assert signed_content(ack) == acknowledgement_content(ack["body"]["ref"], "bravo", 1003.0)


def test_a_host_sealed_log_with_party_signatures_verifies() -> None:
    report = verify_log(host_log(payloads()), RING)
    assert report.ok, report.first_bad
    assert report.entries == 6 and report.authors == {"host": 6}


def _alter_text(items: list[Payload]) -> None:
    items[1]["body"] = {"text": "descending"}


def _alter_answer(items: list[Payload]) -> None:
    items[2]["body"] = {**items[2]["body"], "answer": "not_ours", "aircraft": ""}


def _retime_ack(items: list[Payload]) -> None:
    items[3]["time_s"] = 1500.0


def _sign_with_other_party(items: list[Payload]) -> None:
    items[1] = party_signed(items[1], SIGNERS["bravo"])  # bravo's key, alpha's message


FORGERIES: dict[str, tuple[Callable[[list[Payload]], None], int, Problem]] = {
    "free text altered": (_alter_text, 1, Problem.BAD_SIGNATURE),
    "answer altered": (_alter_answer, 2, Problem.BAD_SIGNATURE),
    "acknowledgement re-timed": (_retime_ack, 3, Problem.BAD_SIGNATURE),
    "signature stripped": (lambda i: i[1].pop("client_signature"), 1, Problem.AUTHOR_UNSIGNED),
    "signed by another party's key": (_sign_with_other_party, 1, Problem.UNKNOWN_KEY),
    "forged message from a party": (
        lambda i: i.insert(5, {**i[1], "body": {"text": "forged"}}), 5, Problem.BAD_SIGNATURE,
    ),
    "forged unsigned message from a party": (
        lambda i: i.insert(4, make_message(
            MessageKind.FREE_TEXT, "alpha", "bravo", {"text": "x"}, time_s=9).to_dict()),
        4, Problem.AUTHOR_UNSIGNED,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_host_forgery_resealed_and_rechained_is_named_at_its_entry(name: str) -> None:
    forge, at, problem = FORGERIES[name]
    items = payloads()
    forge(items)
    log = host_log(items)  # the host re-seals and re-chains everything with its valid key
    report = verify_log(log, RING)
    assert report.first_bad is not None, name
    assert (report.first_bad.position, report.first_bad.problem) == (at, problem)
    assert report.entries == at
    assert "alpha" in report.first_bad.detail or "bravo" in report.first_bad.detail


def test_a_party_missing_from_the_key_ring_is_an_unknown_key() -> None:
    ring = KeyRing.from_public_keys({"host": HOST.public_key, "bravo": SIGNERS["bravo"].public_key})
    report = verify_log(host_log(payloads()), ring)
    assert report.first_bad is not None
    assert (report.first_bad.position, report.first_bad.problem) == (1, Problem.UNKNOWN_KEY)


def test_host_made_entries_need_no_party_signature_and_a_partys_always_do() -> None:
    # an identification request the engine opened for an observing party is the host's
    body = {"request_id": "r2", "track_id": "T9", "position": {}, "velocity": {},
            "observer": "alpha"}  # fmt: skip
    request = make_message(MessageKind.IDENTIFICATION_REQUEST, "host", "bravo", body, time_s=5.0)
    items = [request.to_dict(), payloads()[4]]
    assert verify_log(host_log(items), RING).ok
    # one in a party's name without its signature is caught, whatever its kind
    forged = make_message(MessageKind.IDENTIFICATION_REQUEST, "alpha", "bravo", body, time_s=5.0)
    log = [append_entry(None, HOST, time_s=1.0, kind="message", payload=forged.to_dict())]
    bad = verify_log(log, RING).first_bad
    assert bad is not None and bad.problem is Problem.AUTHOR_UNSIGNED
    unsigned = payloads()[1]
    unsigned.pop("client_signature")
    log = [append_entry(None, HOST, time_s=1.0, kind="message", payload=unsigned)]
    bad = verify_log(log, RING).first_bad
    assert bad is not None and bad.problem is Problem.AUTHOR_UNSIGNED


def test_audit_verify_cli_exits_1_naming_a_resealed_forgery(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(RING.to_json())
    items = payloads()
    good, forged = tmp_path / "good.jsonl", tmp_path / "forged.jsonl"
    write_log_jsonl(host_log(items), good)
    _alter_text(items)
    write_log_jsonl(host_log(items), forged)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", str(good), "--keys", str(keys)])
    assert ok.exit_code == 0, ok.output
    result = runner.invoke(app, ["audit", "verify", str(forged), "--keys", str(keys), "--json"])
    assert result.exit_code == 1, result.output
    bad = json.loads(result.output)["first_bad"]
    assert (bad["line"], bad["seq"], bad["problem"]) == (2, 1, "bad_signature")
    assert "'alpha'" in bad["detail"]
    plain = runner.invoke(app, ["audit", "verify", str(forged), "--keys", str(keys)])
    assert plain.exit_code == 1 and "line 2 (seq 1): bad_signature" in plain.output
