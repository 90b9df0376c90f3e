"""Where ``verify_log``'s time goes: the Ed25519 checks' share (cProfile, own time of the
``verify`` calls over the whole run), and what the walk refusing non-string keys would add if
verification did it (timed without the profiler, as a share of ``verify_log``'s time and of its
time outside the Ed25519 checks).

    .venv/bin/python bench/hotline_verify_profile.py [--n 2000]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconflict.hotline.canonical import canonical_json
from deconflict.hotline.keys import KeyRing, Signer
from deconflict.hotline.log import BODY_FIELDS, LogEntry, append_entry, verify_log
from hotline_log import payload


def best_of(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="log entries (default 2000)")
    n = parser.parse_args().n
    signer = Signer("host", Ed25519PrivateKey.generate())
    ring = KeyRing.from_public_keys({"host": signer.public_key})
    log: list[LogEntry] = []
    for i in range(n):
        prev = log[-1] if log else None
        log.append(append_entry(prev, signer, time_s=1.7e9 + i, kind="message", payload=payload(i)))
    records = [e.to_dict() for e in log]

    profile = cProfile.Profile()
    profile.enable()
    verify_log(records, ring)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    ed25519 = sum(v[2] for k, v in stats.items() if "ed25519" in k[2] and "verify" in k[2])
    print(f"{n} entries: Ed25519 verify {100 * ed25519 / total:.0f} % of verify_log (profiled)")

    bodies = [{k: r[k] for k in BODY_FIELDS} for r in records]
    plain = best_of(5, lambda: verify_log(records, ring))
    walk = best_of(5, lambda: [canonical_json(b, check_keys=True) for b in bodies])
    skip = best_of(5, lambda: [canonical_json(b, check_keys=False) for b in bodies])
    rest = plain * (1 - ed25519 / total)  # verify_log's time outside the Ed25519 checks
    print(
        f"verify_log {plain * 1e3:.1f} ms; the key walk would add {(walk - skip) * 1e3:.1f} ms "
        f"({100 * (walk - skip) / plain:.0f} % of verify_log, "
        f"{100 * (walk - skip) / rest:.0f} % of its time outside Ed25519)"
    )


if __name__ == "__main__":
    main()
