"""A hotline conversation recorded in the signed log, exported, verified, and tampered with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconflict.errors import InputError, PermissionDeniedError
from deconflict.hotline.delivery import Mailbox
from deconflict.hotline.journal import append_message, message_from_entry
from deconflict.hotline.jsonl import read_log_jsonl, read_log_records, write_log_jsonl
from deconflict.hotline.keys import KeyRing, Signer
from deconflict.hotline.log import LogEntry, Problem, append_entry, verify_log
from deconflict.hotline.messages import ALL, MessageKind, acknowledgement, make_message

SIGNERS = {
    p: Signer(p, Ed25519PrivateKey.from_private_bytes(bytes([i + 1]) * 32))
    for i, p in enumerate(("host", "coalition", "russia"))
}
RING = KeyRing.from_public_keys({p: s.public_key for p, s in SIGNERS.items()})


def conversation() -> list[LogEntry]:
    box = Mailbox(SIGNERS)
    log: list[LogEntry] = []
    request = make_message(
        MessageKind.IDENTIFICATION_REQUEST, "host", ALL,
        {"request_id": "r1", "track_id": "T7", "position": {"latitude": 36.2},
         "velocity": {"east_mps": 200.0}}, time_s=1000.0,
    )  # fmt: skip
    replies = [
        make_message(MessageKind.IDENTIFICATION_ANSWER, "coalition", "host",
                     {"request_id": "r1", "answer": "not_ours"}, time_s=1004.0),
        make_message(MessageKind.IDENTIFICATION_ANSWER, "russia", "host",
                     {"request_id": "r1", "answer": "ours", "aircraft": "Su-30SM 44"},
                     time_s=1009.5),
    ]  # fmt: skip
    for message in [request, *replies]:
        box.post(message, message.time_s)
        log.append(append_message(log[-1] if log else None, SIGNERS[message.sender], message))
    ack = acknowledgement(replies[1], "host", time_s=1011.0)
    log.append(append_message(log[-1], SIGNERS["host"], ack))
    log.append(
        append_entry(
            log[-1],
            SIGNERS["host"],
            time_s=1011.0,
            kind="decision",
            payload={"track_id": "T7", "outcome": "declared", "by": "russia"},
        )
    )
    return log


def test_conversation_round_trips_and_verifies(tmp_path: Path) -> None:
    log = conversation()
    path = tmp_path / "log.jsonl"
    write_log_jsonl(log, path)
    back = read_log_jsonl(path)
    assert verify_log(back, RING).ok
    messages = [message_from_entry(e) for e in back if e.kind == "message"]
    assert [m.kind for m in messages] == [
        MessageKind.IDENTIFICATION_REQUEST, MessageKind.IDENTIFICATION_ANSWER,
        MessageKind.IDENTIFICATION_ANSWER, MessageKind.ACKNOWLEDGEMENT,
    ]  # fmt: skip
    assert messages[3].body["ref"] == messages[2].message_id


def test_a_party_cannot_sign_anothers_message() -> None:
    m = make_message(MessageKind.FREE_TEXT, "russia", "coalition", {"text": "x"}, time_s=1.0)
    with pytest.raises(PermissionDeniedError):
        append_message(None, SIGNERS["coalition"], m)
    # Re-attributing a recorded message to another party is caught on reading.
    entry = append_entry(
        None, SIGNERS["coalition"], time_s=1.0, kind="message", payload=m.to_dict()
    )
    with pytest.raises(InputError, match="signed by"):
        message_from_entry(entry)


def test_denying_an_answer_is_detected(tmp_path: Path) -> None:
    """Russia later claims it answered 'not ours': editing the export breaks it at that line."""
    path = tmp_path / "log.jsonl"
    write_log_jsonl(conversation(), path)
    lines = path.read_text().splitlines()
    record = json.loads(lines[2])
    record["payload"]["body"]["answer"] = "not_ours"
    lines[2] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    bad = verify_log(read_log_records(path), RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (2, Problem.ALTERED)
