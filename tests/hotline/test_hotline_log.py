"""The signed hash-chained log: signing, export/import, and naming the first bad entry."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import InputError
from deconflict.hotline.canonical import canonical_json, legacy_canonical_json
from deconflict.hotline.jsonl import read_log_jsonl, read_log_records, write_log_jsonl
from deconflict.hotline.keys import (
    KeyRing,
    Signer,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_b64,
    public_key_to_b64,
)
from deconflict.hotline.log import GENESIS_HASH, LogEntry, Problem, append_entry, verify_log

# RFC 8032 section 7.1, TEST 1 (empty message).
RFC8032_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def _signers() -> dict[str, Signer]:
    seeds = {"alpha": b"\x01" * 32, "bravo": b"\x02" * 32, "host": b"\x03" * 32}
    return {p: Signer(p, Ed25519PrivateKey.from_private_bytes(s)) for p, s in seeds.items()}


SIGNERS = _signers()
RING = KeyRing.from_public_keys({p: s.public_key for p, s in SIGNERS.items()})


def make_log(n: int) -> list[LogEntry]:
    entries: list[LogEntry] = []
    parties = list(SIGNERS)
    for i in range(n):
        prev = entries[-1] if entries else None
        payload = {"text": f"message {i}", "position": [47.1 + i * 1e-3, 8.5], "n": i}
        entries.append(
            append_entry(
                prev,
                SIGNERS[parties[i % 3]],
                time_s=1.7e9 + 0.25 * i,
                kind="message",
                payload=payload,
            )
        )
    return entries


def test_rfc8032_vector_through_our_key_helpers() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_SECRET))
    signer = Signer("x", key)
    assert base64.b64decode(public_key_to_b64(signer.public_key)).hex() == RFC8032_PUBLIC
    assert base64.b64decode(signer.sign(b"")).hex() == RFC8032_SIGNATURE
    public = public_key_from_b64(base64.b64encode(bytes.fromhex(RFC8032_PUBLIC)).decode())
    assert key_id(public) == hashlib.sha256(bytes.fromhex(RFC8032_PUBLIC)).hexdigest()[:16]
    again = private_key_from_pem(private_key_to_pem(key))
    assert key_id(again.public_key()) == key_id(public)


def test_chain_fields_follow_the_stated_rule() -> None:
    log = make_log(4)
    assert log[0].seq == 0 and log[0].prev_hash == GENESIS_HASH
    for prev, entry in itertools.pairwise(log):
        assert entry.seq == prev.seq + 1 and entry.prev_hash == prev.hash
    for entry in log:
        # The stated rule: SHA-256 of the body's RFC 8785 form (the rfc8785 package), format 2
        body = {k: v for k, v in entry.to_dict().items() if k not in ("hash", "signature")}
        assert body["format"] == 2
        assert hashlib.sha256(rfc8785.dumps(body)).hexdigest() == entry.hash
        SIGNERS[entry.author].public_key.verify(
            base64.b64decode(entry.signature), bytes.fromhex(entry.hash)
        )


def test_canonical_json_refuses_nan_and_non_string_keys() -> None:
    with pytest.raises(InputError):
        canonical_json({"x": float("nan")})
    with pytest.raises(InputError):
        canonical_json({1: "a"})
    assert (
        canonical_json({"n": 2**60 + 1}) == b'{"n":1152921504606847000}'
    )  # as JavaScript writes it
    assert canonical_json({"b": 1, "a": [1.0, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()
    assert legacy_canonical_json({"b": 1, "a": [1.0, "é"]}) == '{"a":[1.0,"é"],"b":1}'.encode()


def test_canonical_json_is_rfc8785s_own_example() -> None:
    """RFC 8785 §3.2.2's sample input and its canonical form, byte for byte."""
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": '\u20ac$\u000f\nA\'B"\\\\"/',
        "literals": [None, True, False],
    }
    want = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == want.encode()


def test_time_must_not_go_backwards() -> None:
    first = make_log(1)[0]
    with pytest.raises(InputError, match="backwards"):
        append_entry(first, SIGNERS["alpha"], time_s=first.time_s - 1, kind="m", payload={})


def test_export_import_round_trip_verifies(tmp_path: Path) -> None:
    log = make_log(30)
    path = tmp_path / "log.jsonl"
    assert write_log_jsonl(log, path) == 30
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 31
    assert read_log_jsonl(path) == log
    report = verify_log(read_log_records(path), RING)
    assert report.ok and report.entries == 30 and report.head_hash == log[-1].hash
    assert report.authors == {"alpha": 10, "bravo": 10, "host": 10}


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log_jsonl(make_log(3), path)
    before = path.read_bytes()

    def broken():  # type: ignore[no-untyped-def]
        yield from make_log(2)
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        write_log_jsonl(broken(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl"]


def _records(n: int) -> list[dict[str, object]]:
    return [e.to_dict() for e in make_log(n)]


def test_altered_payload_is_named() -> None:
    recs = _records(10)
    recs[6]["payload"] = {**recs[6]["payload"], "text": "nothing to report"}  # type: ignore[dict-item]
    report = verify_log(recs, RING)
    assert report.first_bad is not None
    assert (report.first_bad.position, report.first_bad.problem) == (6, Problem.ALTERED)
    assert report.entries == 6


def test_altered_and_rehashed_fails_signature() -> None:
    recs = _records(10)
    recs[4]["time_s"] = float(recs[4]["time_s"]) + 60  # type: ignore[arg-type]
    recs[4]["hash"] = hashlib.sha256(
        canonical_json({k: v for k, v in recs[4].items() if k not in ("hash", "signature")})
    ).hexdigest()
    bad = verify_log(recs, RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (4, Problem.BAD_SIGNATURE)


def test_unknown_key_is_refused() -> None:
    log = make_log(5)
    rogue = Signer("bravo", Ed25519PrivateKey.from_private_bytes(b"\x09" * 32))
    forged = append_entry(log[-1], rogue, time_s=2e9, kind="message", payload={"text": "ours"})
    bad = verify_log([*log, forged], RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (5, Problem.UNKNOWN_KEY)
    stranger = Signer("charlie", SIGNERS["alpha"].private_key)
    forged2 = append_entry(log[-1], stranger, time_s=2e9, kind="message", payload={})
    bad2 = verify_log([*log, forged2], RING).first_bad
    assert bad2 is not None and bad2.problem is Problem.UNKNOWN_KEY and "charlie" in bad2.detail


def test_replaced_entry_breaks_the_chain_at_the_next_one() -> None:
    log = make_log(6)
    # The author re-signs a different entry 3 with its own key: valid on its own.
    other = append_entry(
        log[2],
        SIGNERS[log[3].author],
        time_s=log[3].time_s,
        kind="message",
        payload={"text": "rewritten"},
    )
    bad = verify_log([*log[:3], other, *log[4:]], RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (4, Problem.CHAIN_BROKEN)


def test_dropped_reordered_duplicated_truncated_malformed() -> None:
    recs = _records(8)
    bad = verify_log(recs[:3] + recs[4:], RING).first_bad
    assert bad is not None and (bad.position, bad.problem, bad.seq) == (3, Problem.DROPPED, 4)
    swapped = [*recs[:2], recs[3], recs[2], *recs[4:]]
    bad = verify_log(swapped, RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (2, Problem.REORDERED)
    bad = verify_log([*recs[:5], recs[4], *recs[5:]], RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (5, Problem.DUPLICATED)
    bad = verify_log(recs[1:], RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (0, Problem.DROPPED)
    report = verify_log(recs[:6], RING, expected_head=str(recs[-1]["hash"]))
    assert report.first_bad is not None and report.first_bad.problem is Problem.TRUNCATED
    assert verify_log(recs, RING, expected_head=str(recs[-1]["hash"])).ok
    bad = verify_log([*recs[:2], None, *recs[3:]], RING).first_bad
    assert bad is not None and (bad.position, bad.problem) == (2, Problem.MALFORMED)
    broken = dict(recs[1])
    del broken["signature"]
    bad = verify_log([recs[0], broken], RING).first_bad
    assert bad is not None and bad.problem is Problem.MALFORMED and "signature" in bad.detail


TAMPERS = ["alter", "drop", "swap", "duplicate", "forge"]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 12), data=st.data())
def test_any_single_tamper_is_found_at_its_entry(n: int, data: st.DataObject) -> None:
    log = make_log(n)
    recs = [e.to_dict() for e in log]
    how = data.draw(st.sampled_from(TAMPERS))
    k = data.draw(st.integers(0, n - 2))
    if how == "alter":
        recs[k]["payload"] = {"text": "edited"}
    elif how == "drop":
        del recs[k]
    elif how == "swap":
        recs[k], recs[k + 1] = recs[k + 1], recs[k]
    elif how == "duplicate":
        recs.insert(k + 1, dict(recs[k]))
        k += 1
    else:
        rogue = Signer(log[k].author, Ed25519PrivateKey.from_private_bytes(b"\x07" * 32))
        prev = log[k - 1] if k else None
        recs[k] = append_entry(
            prev, rogue, time_s=log[k].time_s, kind="message", payload={"text": "forged"}
        ).to_dict()
    bad = verify_log(recs, RING).first_bad
    assert bad is not None
    assert bad.position == k
    expected = {
        "alter": Problem.ALTERED,
        "drop": Problem.DROPPED,
        "swap": Problem.REORDERED,
        "duplicate": Problem.DUPLICATED,
        "forge": Problem.UNKNOWN_KEY,
    }[how]
    assert bad.problem is expected


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), min_size=1, max_size=6)
)
def test_any_json_payload_survives_export_and_verifies(payloads: list[dict[str, object]]) -> None:
    """Floats, unicode and nesting re-serialise to the same bytes after a JSON round trip
    (the text form ``write_log_jsonl`` writes, parsed back as ``read_log_records`` does)."""
    entries: list[LogEntry] = []
    for i, payload in enumerate(payloads):
        entries.append(
            append_entry(
                entries[-1] if entries else None,
                SIGNERS["alpha"],
                time_s=float(i),
                kind="message",
                payload=payload,
            )
        )
    records = [json.loads(canonical_json(e.to_dict()).decode("utf-8")) for e in entries]
    report = verify_log(records, RING)
    assert report.ok, report.first_bad
    assert report.head_hash == entries[-1].hash
