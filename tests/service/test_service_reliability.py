"""Reliability against a real server process: racing writers, and SIGKILL during a burst."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_helpers import ADMIN, volume
from service_server import Server

from deconflict.hotline.keys import KeyRing, public_key_from_b64
from deconflict.hotline.log import verify_log
from deconflict.store import open_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.slow
def test_racing_parties_are_never_both_committed_unaware(server_db: str) -> None:
    """Rounds of two parties declaring overlapping operations at once, neither giving a key:
    at most one may commit; the other must get 409 naming the winner."""
    server = Server(server_db, ADMIN).start()
    try:
        heads = [server.add_party(n) for n in ("alpha", "bravo")]
        rounds = 12
        outcomes: list[list[tuple[int, Any]]] = [[] for _ in range(rounds)]
        barrier = threading.Barrier(2)

        def racer(k: int) -> None:
            with httpx.Client(base_url=server.url, headers=heads[k], timeout=30) as http:
                for r in range(rounds):
                    body = {"volumes": [volume(8.0 + r * 0.1 + k * 0.002, 47.0)]}
                    body = server.signed(("alpha", "bravo")[k], body)
                    barrier.wait()
                    resp = http.post("/v1/operations", json=body)
                    outcomes[r].append((resp.status_code, resp.json()))

        threads = [threading.Thread(target=racer, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r, pair in enumerate(outcomes):
            codes = sorted(code for code, _ in pair)
            assert codes == [201, 409], (r, pair)
            winner = next(body for code, body in pair if code == 201)
            loser = next(body for code, body in pair if code == 409)
            assert loser["error"]["code"] == "awareness_required"
            assert [m["id"] for m in loser["error"]["missing"]] == [winner["id"]]
    finally:
        server.stop()


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kill.db'}"
    server = Server(db, ADMIN).start()
    acked: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    try:
        head = server.add_party("alpha")

        def writer(k: int) -> None:
            with httpx.Client(base_url=server.url, headers=head, timeout=10) as http:
                n = 0
                while not stop.is_set():
                    n += 1
                    # each write its own hour (within the 10 years ahead a declaration may be):
                    # nothing conflicts, every write should commit
                    hour = 4 * n + k
                    start = 1_900_000_000 + 3600 * hour
                    vol = volume(8.5, 47.4, start=_iso(start), end=_iso(start + 1800))
                    try:
                        body = server.signed("alpha", {"volumes": [vol]})
                        r = http.post("/v1/operations", json=body)
                    except httpx.HTTPError:
                        return  # the server died mid-request: not acknowledged
                    if r.status_code == 201:
                        with lock:
                            acked[r.json()["id"]] = r.json()

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        server.kill()
        stop.set()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert len(acked) > 20, "the burst was too small to mean anything"
    store = open_store(db)
    try:
        for op_id, sent in acked.items():
            kept = store.get_operation(op_id)
            assert (kept.version, kept.token, kept.volumes) == (
                sent["version"],
                sent["token"],
                sent["volumes"],
            )
        # nothing half-written: every stored operation has its log entry, the chain verifies
        log = store.log(limit=1_000_000)
        written = {e.payload["operation"]: e.seq for e in log if e.kind == "operation.written"}
        stored = store.operations_of(store.list_parties()[0].id)
        assert {o.id: o.seq for o in stored} == written
        keys = [e for e in log if e.kind == "host.key"]
        ring = KeyRing.from_public_keys(
            {
                "host": [public_key_from_b64(e.payload["public_key"]) for e in keys],
                "alpha": server.signers["alpha"].public_key,
            }
        )
        assert verify_log([e.to_dict() for e in log], ring).ok
    finally:
        store.close()
    # and the service starts again on the same file
    again = Server(db, ADMIN).start()
    try:
        r = httpx.get(f"{again.url}/v1/operations/{next(iter(acked))}", headers=head)
        assert r.status_code == 200
    finally:
        again.stop()


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
