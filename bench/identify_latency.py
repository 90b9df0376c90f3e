"""Time from a track becoming unknown to its identification request reaching every party.

In-process pipeline, no network: open the request, build the hotline message to all, append it
to the signed log (hash + Ed25519 signature), post it to the mailbox, and let each party's client
fetch from its cursor. Wall time is measured from before ``open_request`` to after the last
party's fetch. Anchor, same run: one bare Ed25519 signature (the one crypto step on the path).
The service adds its network and database time on top; this is the library's share.

    .venv/bin/python bench/identify_latency.py [--repeats 300]
"""

from __future__ import annotations

import argparse
import statistics
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconflict.hotline.delivery import Mailbox
from deconflict.hotline.keys import Signer
from deconflict.hotline.log import LogEntry, append_entry
from deconflict.hotline.messages import ALL, MessageKind, make_message
from deconflict.identify.request import TrackSnapshot, open_request

TRACK = TrackSnapshot(
    35.5,
    38.9,
    9000.0,
    220.0,
    -15.0,
    0.0,
    history=tuple((1000.0 - 5 * k, 35.5 - k * 1e-3, 38.9, 9000.0) for k in range(12)),
)


def run(n_parties: int, repeats: int) -> list[float]:
    parties = [f"party{i:03d}" for i in range(n_parties)]
    box = Mailbox(["host", *parties])
    host = Signer("host", Ed25519PrivateKey.generate())
    cursors = dict.fromkeys(parties, 0)
    prev: LogEntry | None = None
    times = []
    for r in range(repeats):
        now = 1000.0 + r
        t0 = time.perf_counter()
        req = open_request(f"r{r}", f"T{r}", TRACK, parties, now_s=now)
        msg = make_message(
            MessageKind.IDENTIFICATION_REQUEST, "host", ALL, req.to_payload(), time_s=now
        )
        prev = append_entry(prev, host, time_s=now, kind="message", payload=msg.to_dict())
        box.post(msg, now)
        for p in parties:
            got = box.fetch(p, cursors[p], now)
            cursors[p] = got[-1].seq
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    t0 = time.perf_counter()
    for i in range(args.repeats):
        key.sign(i.to_bytes(32, "big"))
    anchor = (time.perf_counter() - t0) / args.repeats
    print(f"anchor: one Ed25519 signature {anchor * 1e6:.1f} us")
    print("parties  median_us  p99_us  median/anchor")
    for n in (2, 10, 50):
        times = sorted(run(n, args.repeats))
        med = statistics.median(times)
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        print(f"{n:7d}  {med * 1e6:9.1f}  {p99 * 1e6:6.1f}  {med / anchor:13.1f}")


if __name__ == "__main__":
    main()
