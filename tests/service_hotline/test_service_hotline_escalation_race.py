"""Two service instances on one database check escalations at the same moments: each step of an
unacknowledged safety message is repeated exactly once (the claim is made in the write
transaction that holds the log head)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from deconflict.hotline.escalation import EscalationPolicy
from deconflict.store import Store, open_store
from deconflict.store import hotline as log
from deconflict.workflows.escalation import check_escalations
from deconflict.workflows.hotline import post_message

POLICY = EscalationPolicy(ack_timeout_s=60, repeat_every_s=30, host_after_steps=2)


@pytest.fixture(params=["sqlite-file", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture()
def two_stores(url: str) -> Iterator[tuple[Store, Store]]:
    a = open_store(url)
    b = open_store(url)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_two_instances_repeat_each_step_once(two_stores: tuple[Store, Store]) -> None:
    a, b = two_stores
    host, _ = a.add_party("host-desk", public_key="", role="admin")
    for name in ("alpha", "bravo", "charlie"):
        a.add_party(name, public_key="")
    t0 = 1_000_000.0
    mids = []
    for i in range(3):
        body = {"notice_id": f"n{i}", "action": "climb", "level": 2}
        message, _, _ = post_message(
            a, host, ["alpha", "bravo", "charlie"], "conflict_notice", body, now_s=t0 + i
        )
        mids.append(message.message_id)
    for now in (t0 + 61, t0 + 62, t0 + 95, t0 + 125, t0 + 160, t0 + 190):
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def check(
            store: Store,
            at: float = now,
            gate: threading.Barrier = barrier,
            failed: list[BaseException] = errors,
        ) -> None:
            try:
                gate.wait()
                check_escalations(store, at, POLICY)
            except BaseException as exc:  # reported below
                failed.append(exc)

        threads = [threading.Thread(target=check, args=(s,)) for s in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
    steps = Counter(
        (str(e.payload["message_id"]), int(e.payload["step"])) for e in log.entries(a, log.REPEAT)
    )
    assert set(steps.values()) == {1}, steps  # no step twice
    for mid in mids:
        assert sorted(s for m, s in steps if m == mid) == [1, 2, 3, 4, 5]  # one per due check
