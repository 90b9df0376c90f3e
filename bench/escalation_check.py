"""The escalation check on a log that has run for a while: its cost per call.

Run: .venv/bin/python bench/escalation_check.py [--messages 2000] [--calls 20]
     (each tree's ``src`` on ``PYTHONPATH`` to compare two versions)

A file SQLite store (as ``make demo`` has), three parties with keys; ``--messages`` conflict
notices from the host to two parties, each acknowledged by both (signed, through the engine's
desk: the hotline workflow every client uses), then 20 notices nobody acknowledges. The service
and the engine call ``workflows.escalation.check_escalations`` every few seconds
(``hotline_check_every_s``); between two calls the log grows by a few entries (one notice and
its two acknowledgements here). Timed: the median CPU of ``--calls`` calls of the public
function at steady state (after a first call that reads the log once), and the first call.
Anchor, on the same store in the same run: ``store.hotline.acknowledgements(store)``, one read
of every acknowledgement of the log, which each call made before the check followed them.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track

from deconflict.engine.desk import Desk, register_parties
from deconflict.hotline.escalation import EscalationPolicy
from deconflict.hotline.keys import Signer, generate_private_key
from deconflict.hotline.messages import MessageKind
from deconflict.store import hotline as log
from deconflict.store import open_store
from deconflict.workflows.escalation import check_escalations

POLICY = EscalationPolicy(ack_timeout_s=60, repeat_every_s=30, host_after_steps=2)
T0 = 1_800_000_000.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2_000)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'log.db'}")
        keys = {p: Signer(p, generate_private_key()) for p in ("alpha", "bravo", "charlie")}
        parties, _ = register_parties(store, keys)
        desk = Desk(store, parties, keys)

        def notice(i: int, now: float, acked: bool) -> None:
            body = {"notice_id": f"n{i}", "action": "climb", "level": 2}
            entry = desk.post("host", ["alpha", "bravo"], MessageKind.CONFLICT_NOTICE, body,
                              now_s=now)  # fmt: skip
            if acked:
                for party in ("alpha", "bravo"):
                    desk.acknowledge(party, str(entry.payload["message_id"]), now_s=now + 1)

        for i in track(range(args.messages), description="acknowledged notices", console=console):
            notice(i, T0 + i * 0.01, True)
        for i in range(20):
            notice(args.messages + i, T0 + args.messages * 0.01 + i, False)
        now = T0 + args.messages * 0.01 + 80  # the first unacknowledged notices are due
        c0 = time.process_time()
        check_escalations(store, now, POLICY)
        first = time.process_time() - c0
        cpu, anchor = [], []
        for k in range(args.calls):
            now += 5.0
            notice(args.messages + 20 + k, now, True)  # the log grows between two checks
            c0 = time.process_time()
            check_escalations(store, now, POLICY)
            cpu.append(time.process_time() - c0)
            c0 = time.process_time()
            acks = log.acknowledgements(store)
            anchor.append(time.process_time() - c0)
        repeats = len(log.entries(store, log.REPEAT))
        store.close()
    check, read = statistics.median(cpu), statistics.median(anchor)
    n_acks = sum(len(v) for v in acks.values())
    console.print(
        f"{args.messages + 20 + args.calls:,} notices, {n_acks:,} acknowledgements, "
        f"{repeats} repeats written"
    )
    console.print(f"check_escalations: first call {first * 1e3:.1f} ms CPU, "
                  f"then median {check * 1e3:.2f} ms CPU per call")  # fmt: skip
    console.print(f"anchor, one read of every acknowledgement: median {read * 1e3:.2f} ms CPU; "
                  f"check / anchor {check / read:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
