"""The transparency log: what the Merkle tree costs and what witnessing costs.

1. Append throughput through the store (``Store.append_events``, sealed by the host key, one
   entry a transaction, SQLite file): with the tree, and — the anchor, in the same run — with the
   tree's append switched off (the log as it was before). Beside it: the tree kernel alone
   (``hotline.merkle.append_nodes``) and pymerkle's in-memory tree (the library considered).
2. Proofs at 10^6 entries: the tree of a million leaves is written to a store (no entries: proofs
   read the stored nodes only); inclusion and consistency proofs timed through the API
   (``GET /v1/log/proofs/...``), through the store function, and verified (the kernel); pymerkle
   on the same number of leaves for comparison.
3. Witnessing with 10 parties: per checkpoint, each party sends messages, then each party's
   ``witness_once`` runs against the app (in-process HTTP); cycle time and the bytes a witness
   downloads per checkpoint.

    .venv/bin/python bench/log_merkle.py [--appends 3000] [--leaves 1000000] [--parties 10]

Prints the load average with the figures (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deconflict.hotline.canonical import canonical_json, legacy_canonical_json
from deconflict.hotline.keys import Signer, generate_private_key
from deconflict.hotline.merkle import (
    append_nodes,
    frontier,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from deconflict.service.signing import HostSealer
from deconflict.store import EventDraft, open_store
from deconflict.store import tree as store_tree
from deconflict.store.schema import chain_head, log_tree


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def payload(i: int) -> dict[str, Any]:
    return {
        "message_id": f"m{i:08d}",
        "sender": "blue",
        "to": ["red"],
        "kind": "free_text",
        "body": {"text": f"climbing to FL{250 + i % 100}", "alt_ft": 25000.0 + i},
        "time_s": 1.7e9 + i,
        "priority": 0,
    }


def best(fn: Callable[[], Any], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# -- 1. append throughput -------------------------------------------------------------------


def append_rate(folder: Path, n: int, with_tree: bool) -> float:
    path = folder / f"append-{with_tree}-{time.monotonic_ns()}.db"
    store = open_store(f"sqlite:///{path}", synchronous="normal")
    store.sealer = HostSealer(Signer("host", generate_private_key()))
    original = store_tree.append_leaf
    if not with_tree:
        store_tree.append_leaf = lambda *a, **k: None  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        for i in range(n):
            store.append_events([EventDraft("host", "message", payload(i), ("p1",))])
        return n / (time.perf_counter() - t0)
    finally:
        store_tree.append_leaf = original  # type: ignore[assignment]
        store.close()


def kernel_append_rate(n: int) -> float:
    leaves = [leaf_hash(str(i).encode()) for i in range(n)]
    nodes: dict[tuple[int, int], bytes] = {}
    t0 = time.perf_counter()
    for i, leaf in enumerate(leaves):
        for node, h in append_nodes(i, leaf, nodes.__getitem__):
            nodes[node] = h
    return n / (time.perf_counter() - t0)


def pymerkle_tree(n: int) -> tuple[Any, float]:
    import pymerkle  # GPL-3.0+, in the test extra only

    tree = pymerkle.InmemoryTree(algorithm="sha256")
    data = [str(i).encode() for i in range(n)]
    t0 = time.perf_counter()
    for x in data:
        tree.append_entry(x)
    return tree, n / (time.perf_counter() - t0)


# -- 2. proofs at a million leaves ----------------------------------------------------------


def write_million(url: str, n: int) -> bytes:
    """A store whose tree has ``n`` leaves (the nodes only) and whose head says ``n`` entries."""
    store = open_store(url, synchronous="normal")
    nodes: dict[tuple[int, int], bytes] = {}
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for i in range(n):
        for (level, idx), h in append_nodes(i, leaf_hash(str(i).encode()), nodes.__getitem__):
            rows.append({"node": store_tree.node_key((level, idx)), "hash": h})
            nodes[(level, idx)] = h
        if i % 4096 == 4095:
            nodes = {k: nodes[k] for k in frontier(i + 1)}
        if len(rows) >= 200_000:
            with store._writer.begin() as conn:
                conn.execute(sa.insert(log_tree), rows)
            rows = []
    with store._writer.begin() as conn:
        if rows:
            conn.execute(sa.insert(log_tree), rows)
        conn.execute(sa.update(chain_head).values(seq=n - 1, hash="f" * 64))
    root = store_tree.root(store, n)
    print(f"  tree of {n:,} leaves written in {time.perf_counter() - t0:.1f} s")
    store.close()
    return root


def proofs(url: str, n: int, root: bytes, samples: int) -> None:
    from fastapi.testclient import TestClient

    from deconflict.service import create_app
    from deconflict.settings import Settings

    rng = random.Random(7)
    store = open_store(url)
    leaves = {i: leaf_hash(str(i).encode()) for i in rng.sample(range(n), samples)}
    t_store, t_verify = [], []
    for i, leaf in leaves.items():
        t0 = time.perf_counter()
        proof = store_tree.inclusion_proof(store, i, n)
        t_store.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert verify_inclusion(i, n, leaf, proof, root)
        t_verify.append(time.perf_counter() - t0)
    cuts = [rng.randrange(1, n) for _ in range(samples)]
    t_cons = []
    for m in cuts:
        t0 = time.perf_counter()
        store_tree.consistency_proof(store, m, n)
        t_cons.append(time.perf_counter() - t0)
    m = cuts[0]
    proof = store_tree.consistency_proof(store, m, n)
    old_root = store_tree.root(store, m)
    t_cverify = best(lambda: verify_consistency(m, n, old_root, root, proof), 20)
    t_root = best(lambda: store_tree.root(store, n), 20)
    store.close()
    med = statistics.median
    print(f"  store inclusion_proof:     median {med(t_store) * 1e3:.2f} ms ({len(proof)} hashes)")
    print(f"  store consistency_proof:   median {med(t_cons) * 1e3:.2f} ms")
    print(f"  store root (checkpoint):   {t_root * 1e3:.2f} ms")
    print(f"  kernel verify_inclusion:   median {med(t_verify) * 1e6:.1f} µs")
    print(f"  kernel verify_consistency: {t_cverify * 1e6:.1f} µs")

    settings = Settings(database_url=url, admin_token="bench", checkpoint_interval_s=0)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": "Bearer bench"}
        size = n + 1  # the host.key entry the app logged when it opened the store
        t_api = []
        for i in list(leaves)[:samples]:
            t0 = time.perf_counter()
            r = client.get(
                "/v1/log/proofs/inclusion", params={"index": i, "size": size}, headers=headers
            )
            t_api.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        t0 = time.perf_counter()
        cp = client.get("/v1/log/checkpoint", params={"fresh": True}, headers=headers)
        t_cp = time.perf_counter() - t0
        assert cp.json()["size"] == size
    print(f"  GET /v1/log/proofs/inclusion: median {med(t_api) * 1e3:.2f} ms")
    print(f"  GET /v1/log/checkpoint (signs one): {t_cp * 1e3:.2f} ms")


def pymerkle_proofs(n: int, samples: int) -> None:
    tree, rate = pymerkle_tree(n)
    rng = random.Random(7)
    t_gen = []
    for i in rng.sample(range(1, n + 1), samples):
        t0 = time.perf_counter()
        tree.prove_inclusion(i, n)
        t_gen.append(time.perf_counter() - t0)
    t_cons = []
    for m in [rng.randrange(1, n) for _ in range(samples)]:
        t0 = time.perf_counter()
        tree.prove_consistency(m, n)
        t_cons.append(time.perf_counter() - t0)
    med = statistics.median
    print(f"  pymerkle InmemoryTree append: {rate:,.0f} leaves/s (in memory, no store)")
    print(f"  pymerkle prove_inclusion:   median {med(t_gen) * 1e3:.2f} ms")
    print(f"  pymerkle prove_consistency: median {med(t_cons) * 1e3:.2f} ms")


# -- 3. witnessing ----------------------------------------------------------------------------


def witnessing(parties: int, per_party: int, rounds: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service_hotline"))
    from hotline_helpers import ADMIN_HEADERS, make_client, signed_message

    from deconflict.cli.witness import HttpLogSource
    from deconflict.hotline.keys import private_key_from_pem
    from deconflict.hotline.witness import WitnessState, witness_once

    class Counting(HttpLogSource):
        downloaded = 0
        requests = 0

        def _get(self, path: str, **params: Any) -> Any:
            response = self.client.get(path, params=params, headers=self.headers)
            Counting.downloaded += len(response.content)
            Counting.requests += 1
            assert response.status_code == 200, response.text
            return response.json()

        def post_cosignature(self, size: int, line: str) -> Mapping[str, Any]:
            answer = super().post_cosignature(size, line)
            Counting.requests += 1
            return answer

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/witness.db"
        with make_client(url, checkpoint_interval_s=0, sqlite_synchronous="normal") as client:
            who = []
            for k in range(parties):
                r = client.post("/v1/parties", json={"name": f"p{k}"}, headers=ADMIN_HEADERS)
                who.append(
                    {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['token']}"}}
                )
            states = [WitnessState() for _ in who]
            signers = [
                Signer(w["name"], private_key_from_pem(w["private_key_pem"].encode())) for w in who
            ]
            cycle_times: list[float] = []
            bytes_per: list[float] = []
            requests_per: list[float] = []
            for rnd in range(rounds):
                for k, w in enumerate(who):
                    for j in range(per_party):
                        to = who[(k + 1 + j % (parties - 1)) % parties]["name"]
                        body = signed_message(w, {"to": [to], "body": {"text": f"r{rnd} {j}"}})
                        assert (
                            client.post("/v1/messages", json=body, headers=w["headers"]).status_code
                            == 201
                        )
                Counting.downloaded = Counting.requests = 0
                t0 = time.perf_counter()
                for k, w in enumerate(who):
                    source = Counting(client, w["headers"])
                    witness_once(source, states[k], signers[k], now_s=time.time())
                elapsed = time.perf_counter() - t0
                if rnd == 0:
                    continue  # the first cycle also fetches each party's registration history
                cycle_times.append(elapsed / parties)
                bytes_per.append(Counting.downloaded / parties)
                requests_per.append(Counting.requests / parties)
            size = client.get("/v1/log/checkpoint", headers=who[0]["headers"]).json()
    med = statistics.median
    print(
        f"  {parties} parties, {parties * per_party} messages between checkpoints, log of "
        f"{size['size']} entries, cosigned by {len(size['cosigned_by'])}"
    )
    print(
        f"  witness cycle per party: median {med(cycle_times) * 1e3:.1f} ms "
        f"({med(cycle_times) * parties * 1e3:.0f} ms for all {parties} in turn)"
    )
    print(
        f"  downloaded per witness per checkpoint: median {med(bytes_per) / 1024:.1f} KiB in "
        f"{med(requests_per):.0f} requests"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--parties", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    print(f"start: {load()}")

    print("1. append throughput (SQLite file, synchronous=normal, one entry a transaction)")
    rates: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        append_rate(folder, 200, True)  # warm up
        for _ in range(3):  # interleaved, best of 3 each: the machine is shared
            for with_tree in (False, True):
                rates[with_tree].append(append_rate(folder, args.appends, with_tree))
    before, after = max(rates[False]), max(rates[True])
    print(f"  anchor, the log without the tree: {before:,.0f} entries/s (best of 3)")
    print(f"  with the tree:                    {after:,.0f} entries/s ({after / before:.2f} x)")
    print(f"  tree kernel alone (append_nodes): {kernel_append_rate(200_000):,.0f} leaves/s")
    bodies = [{"seq": i, "time_s": 1.7e9 + i, "payload": payload(i)} for i in range(20_000)]
    jcs = len(bodies) / best(lambda: [canonical_json(b) for b in bodies])
    old = len(bodies) / best(lambda: [legacy_canonical_json(b) for b in bodies])
    print(
        f"  canonical JSON of an entry body: RFC 8785 (rfc8785) {jcs:,.0f}/s, the format-1 "
        f"form (json.dumps) {old:,.0f}/s ({jcs / old:.2f} x)"
    )
    print(f"  {load()}")

    print(f"2. proofs at {args.leaves:,} leaves")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/million.db"
        root = write_million(url, args.leaves)
        proofs(url, args.leaves, root, args.samples)
    try:
        pymerkle_proofs(args.leaves, min(args.samples, 50))
    except ImportError:
        print("  pymerkle not installed (pip install -e '.[test]'): no comparison")
    print(f"  {load()}")

    print("3. witnessing")
    witnessing(args.parties, per_party=5, rounds=4)
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
