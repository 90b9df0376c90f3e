"""``deconflict engine`` in its own process: one leads per store, a standby takes over within
5 s of the leader's ``kill -9`` on PostgreSQL, takes back what the old leader left open and
carries on after the last logged time, so that no decision is made twice (each decision of the
log, by its content, once); the decisions are in the store for every service instance."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from engine_process import engine, entries


def _decision_keys(log: list[Any]) -> Counter[tuple[Any, ...]]:
    """Each decision by its content: an alert's raise, update and clear per party; a notice
    per party, action and level; a request; an acknowledgement or answer per party and kind;
    an incident."""
    keys: Counter[tuple[Any, ...]] = Counter()
    for e in log:
        p = e.payload
        if e.kind.startswith("alert."):
            keys[(e.kind, p["alert_id"], p["party"], p.get("level"))] += 1
        elif e.kind == "incident":
            keys[(e.kind, p["incident_id"])] += 1
        elif e.kind == "message":
            b = p["body"]
            if p["kind"] == "conflict_notice":
                keys[(p["kind"], b["notice_id"], p["recipients"][0], b["action"], b["level"])] += 1
            elif p["kind"] == "identification_request":
                keys[(p["kind"], b["request_id"])] += 1
            elif p["kind"] in ("acknowledgement", "identification_answer"):
                keys[(p["kind"], b["ref"], p["sender"])] += 1
    return keys


@pytest.mark.postgres
@pytest.mark.slow
def test_a_standby_engine_takes_over_within_5_s_of_a_kill_9(
    postgres_url: str, tmp_path: Path
) -> None:
    a = engine(postgres_url, tmp_path, "--speed", "20")
    b = None
    try:
        a.wait_for("leading", 120)
        b = engine(postgres_url, tmp_path, "--speed", "20")
        b.wait_for("standby", 60)
        deadline = time.monotonic() + 90  # the first conflict is ~100 s into the scenario
        while time.monotonic() < deadline:
            before = entries(postgres_url)
            if any(e.kind == "alert.raised" for e in before):
                break
            time.sleep(0.2)
        assert any(e.kind == "alert.raised" for e in before)
        with pytest.raises(AssertionError):
            b.wait_for("leading", 0.5)  # one leader at a time
        before = entries(postgres_url)
        killed = time.monotonic()
        os.kill(a.proc.pid, signal.SIGKILL)
        took = b.wait_for("leading", 30)[0] - killed
        print(f"takeover after kill -9: {took:.2f} s")
        assert took < 5.0, f"the standby took {took:.1f} s to lead"
        # decisions flow again from the new leader: past the first conflict's end
        old_last = max(float(e.payload["time_s"]) for e in before if "time_s" in e.payload)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            after = entries(postgres_url)
            if any(e.kind == "alert.cleared" for e in after[len(before) :]):
                break
            time.sleep(0.5)
        new = after[len(before) :]
        assert any(e.kind == "alert.cleared" for e in new)
        assert all(float(e.payload["time_s"]) > old_last for e in new if "time_s" in e.payload)
        # no decision twice over the takeover: each by its content once, every alert the old
        # leader raised cleared once by the new one, nothing raised again
        keys = _decision_keys(after)
        assert set(keys.values()) == {1}, [k for k, n in keys.items() if n > 1]
        raised = {(e.payload["alert_id"], e.payload["party"]) for e in before
                  if e.kind == "alert.raised"} - {(e.payload["alert_id"], e.payload["party"])
                  for e in before if e.kind == "alert.cleared"}  # fmt: skip
        cleared = {(e.payload["alert_id"], e.payload["party"]) for e in new
                   if e.kind == "alert.cleared"}  # fmt: skip
        assert raised <= cleared
        assert not {(e.payload["alert_id"], e.payload["party"]) for e in new
                    if e.kind == "alert.raised"} & raised  # fmt: skip
        requests = [k for k in keys if k[0] == "identification_request"]
        assert len(requests) == 1  # the one unknown, asked once
        b.proc.send_signal(signal.SIGTERM)
        b.wait_for('"led": true', 30)
        assert b.proc.wait(timeout=30) == 0
    finally:
        a.stop()
        if b is not None:
            b.stop()
