"""Throughput of the signed hash-chained log: append (hash + sign) and verify, in entries/s.

Anchor, measured in the same run: bare Ed25519 sign / verify of a 32-byte digest with
`cryptography`, i.e. the floor any signed log pays. Ratios say what our canonical JSON, hashing
and chain checks add on top. Also times the JSON-lines export + re-read.

    .venv/bin/python bench/hotline_log.py [--n 5000]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconflict.hotline.jsonl import read_log_records, write_log_jsonl
from deconflict.hotline.keys import KeyRing, Signer
from deconflict.hotline.log import LogEntry, append_entry, verify_log


def payload(i: int) -> dict[str, object]:
    """A typical hotline message entry: an identification request with a short history."""
    return {
        "message_id": f"m{i:08d}",
        "kind": "identification_request",
        "to": ["*"],
        "body": {
            "track_id": f"T{i}",
            "position": {"latitude": 47.1 + i * 1e-6, "longitude": 8.4, "altitude": 30000.0},
            "velocity": {"groundspeed": 409.9, "track": 93.33, "vertical_rate": 0.0},
            "history": [[1.7e9 + k, 47.1, 8.4 + k * 1e-3, 9144.0] for k in range(5)],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    n = args.n
    signers = [Signer(p, Ed25519PrivateKey.generate()) for p in ("alpha", "bravo", "host")]
    ring = KeyRing.from_public_keys({s.party: s.public_key for s in signers})
    payloads = [payload(i) for i in range(n)]

    key = signers[0].private_key
    digests = [hashlib.sha256(str(i).encode()).digest() for i in range(n)]
    t0 = time.perf_counter()
    sigs = [key.sign(d) for d in digests]
    anchor_sign = n / (time.perf_counter() - t0)
    pub = key.public_key()
    t0 = time.perf_counter()
    for d, s in zip(digests, sigs, strict=True):
        pub.verify(s, d)
    anchor_verify = n / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    entries: list[LogEntry] = []
    prev = None
    for i, p in enumerate(payloads):
        prev = append_entry(prev, signers[i % 3], time_s=1.7e9 + i, kind="message", payload=p)
        entries.append(prev)
    append_rate = n / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        t0 = time.perf_counter()
        write_log_jsonl(entries, path)
        records = read_log_records(path)
        io_rate = n / (time.perf_counter() - t0)
        size = path.stat().st_size
    t0 = time.perf_counter()
    report = verify_log(records, ring)
    verify_rate = n / (time.perf_counter() - t0)
    assert report.ok, report.first_bad

    print(f"entries: {n}, JSON-lines size {size / n:.0f} B/entry")
    print(f"anchor  Ed25519 sign of 32 B:   {anchor_sign:10.0f} /s")
    print(f"anchor  Ed25519 verify of 32 B: {anchor_verify:10.0f} /s")
    print(
        f"append_entry (hash + sign):     {append_rate:10.0f} entries/s "
        f"({append_rate / anchor_sign:.2f} x anchor sign)"
    )
    print(
        f"verify_log (hash+sig+chain):    {verify_rate:10.0f} entries/s "
        f"({verify_rate / anchor_verify:.2f} x anchor verify)"
    )
    print(f"write_log_jsonl + read back:    {io_rate:10.0f} entries/s")


if __name__ == "__main__":
    main()
