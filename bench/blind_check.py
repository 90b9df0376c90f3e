"""The blind check (issue 15): its cost against the number of cells, beside the open check of
the same pair; false positives against the cell size; how many active blind operations a party
may hold with a declaration still under 1 s.

1. One check between two parties whose operations of 1 km², 100 km² and 10,000 km² (squares,
   surface to 3,000 ft, one hour) overlap, at cell sizes 5 km (the default) and 2 km: CPU of
   each side (``blind.node``, in process), bytes of the four relayed envelopes, and wall time of
   the whole declaration through ``deconflict serve`` on loopback (two ``blind.agent`` nodes in
   this process: check, outcome, declaration). Beside it, the open check of the same pair:
   the exact kernel (``brute_force_conflicts``) and the declaration ``POST /v1/operations`` on an
   open server.
2. False-positive rate: random pairs of operations (1-12 km across, within 40 km of each other,
   mid-latitude) whose exact check (5 NM / 1,000 ft) finds no conflict, but whose cells meet;
   per cell size; and after the parts are exchanged (must be 0).
3. A party holding N active blind operations (100 km², one hour, spread over 1,000 km and a
   day): wall time of another party's declaration through the relay, for growing N.

Run: ``.venv/bin/python bench/blind_check.py [--quick]``; prints tables and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from deconflict.blind.agent import Agent, HostError
from deconflict.blind.node import Completed, Node
from deconflict.geo import destination_deg
from deconflict.hotline.keys import Signer, generate_private_key, private_key_from_pem
from deconflict.strategic import cells as cl
from deconflict.strategic.index import brute_force_conflicts
from deconflict.strategic.model import Buffers, Operation, parse_operation
from deconflict.strategic.parts import clip_parts

ADMIN = "bench-admin"
T0 = datetime(2030, 6, 1, 10, tzinfo=UTC)
BUF = Buffers.from_units(5, 1000)
REPO = Path(__file__).resolve().parents[1]


def square(
    lat: float, lon: float, side_m: float, t0: datetime = T0, hours: float = 1.0
) -> dict[str, Any]:
    dlat = side_m / 111_320.0
    dlon = dlat / np.cos(np.radians(lat))
    ring = [[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat], [lon, lat + dlat]]
    return {
        "polygon": [ring],
        "altitude_lower": {"value": 0, "units": "ft"},
        "altitude_upper": {"value": 3000, "units": "ft"},
        "time_start": t0.isoformat(),
        "time_end": (t0 + timedelta(hours=hours)).isoformat(),
    }


def op(oid: str, *vols: dict[str, Any]) -> Operation:
    return parse_operation({"id": oid, "owner": oid, "volumes": list(vols)})


# -- 1a. CPU per side, bytes ----------------------------------------------------------------------
def one_check_in_process(side_m: float, grid: cl.Grid) -> dict[str, Any]:
    sa, sb = Signer("alpha", generate_private_key()), Signer("bravo", generate_private_key())
    keys = {"alpha": sa.public_key, "bravo": sb.public_key}
    a, b = Node(sa, grid, BUF, keys), Node(sb, grid, BUF, keys)
    vb = op("b", square(46.5, 7.0, side_m)).volumes
    hb = b.hold(vb)
    b.declared(hb, "b1", "t", "Accepted")
    va = op("a", square(46.5 + side_m / 2 / 111_320, 7.0, side_m)).volumes
    cpu_a = cpu_b = 0.0
    sizes = []
    t = time.process_time()
    ha = a.hold(va)
    e1 = a.open_check(ha, "bravo", 1e9)
    cpu_a += time.process_time() - t
    reply: Any = e1
    for step in range(4):
        env = reply
        sizes.append(len(json.dumps(env)))
        who = b if step % 2 == 0 else a
        t = time.process_time()
        reply = who.handle(env, 1e9)
        dt = time.process_time() - t
        if who is a:
            cpu_a += dt
        else:
            cpu_b += dt
    assert isinstance(reply, Completed) and reply.outcome["conflict"]
    t = time.process_time()
    exact = brute_force_conflicts(
        op("a", *[v.model_dump(mode="json") for v in va]),
        [op("b", *[v.model_dump(mode="json") for v in vb])],
        BUF,
    )
    open_kernel = time.process_time() - t
    assert exact
    return {
        "side_km": side_m / 1000,
        "cell_km": grid.cell_m / 1000,
        "cells_a": len(ha.cells),
        "cells_b": len(hb.cells),
        "met": reply.outcome["cells"],
        "cpu_a_s": cpu_a,
        "cpu_b_s": cpu_b,
        "bytes": sum(sizes),
        "bytes_by_round": sizes,
        "open_kernel_s": open_kernel,
    }


# -- 1b / 3. through the relay on loopback --------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, db: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {
            **os.environ,
            "DECONFLICT_ADMIN_TOKEN": ADMIN,
            "DECONFLICT_SEPARATION_STANDARD": "icao-5nm",
            **env,
        }
        cmd = [
            sys.executable,
            "-c",
            "from deconflict.cli import main; main()",
            "serve",
            "--db",
            db,
            "--port",
            str(self.port),
        ]
        self.proc = subprocess.Popen(
            cmd, env=full, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def party(self, name: str) -> tuple[str, Signer]:
        r = httpx.post(
            f"{self.url}/v1/parties",
            json={"name": name, "contact": f"ops@{name}"},
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()["token"], Signer(
            name, private_key_from_pem(r.json()["private_key_pem"].encode())
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def relay_declaration(
    http: httpx.Client, alpha: Agent, bravo: Agent, volumes: list[dict[str, Any]]
) -> tuple[float, int]:
    """Wall time of alpha's whole declaration (check through the relay, outcome, declaration),
    bravo answering; returns (seconds, HTTP status of the declaration). An accepted operation is
    ended afterwards (not timed), so alpha never has live operations bravo must check with."""
    t = time.perf_counter()
    p = alpha.begin(volumes)
    while p.unchecked:
        bravo.pump()
        alpha.pump()
    try:
        rec = alpha.finish(p)
        status = 201
    except HostError as exc:
        status = exc.status
    wall = time.perf_counter() - t
    if status == 201:
        body = {
            "commitment": rec["commitment"],
            "expires": "2099-01-01T00:00:00Z",
            "state": "Ended",
            "token": rec["token"],
        }
        http.put(
            f"/v1/blind/operations/{rec['id']}", json=body, headers=alpha.headers
        ).raise_for_status()
        alpha.node.operations.pop(rec["id"], None)
    return wall, status


def relay_runs(sides: list[float], repeats: int) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        blind = Served(f"sqlite:///{tmp}/blind.db", DECONFLICT_DISCLOSURE="blind")
        opened = Served(f"sqlite:///{tmp}/open.db")
        try:
            with (
                httpx.Client(base_url=blind.url, timeout=120) as hb,
                httpx.Client(base_url=opened.url, timeout=120) as ho,
            ):
                ta, sa = blind.party("alpha")
                tb, sb = blind.party("bravo")
                alpha, bravo = Agent(hb, ta, sa), Agent(hb, tb, sb)
                oa, _ = opened.party("alpha")
                ob, _ = opened.party("bravo")
                for k, side in enumerate(sides):
                    lon = 7.0 + 3.0 * k  # pairs far from each other's
                    bravo.declare([square(46.5, lon, side)], wait_s=60)
                    ho.post(
                        "/v1/operations",
                        json={"volumes": [square(46.5, lon, side)]},
                        headers={"Authorization": f"Bearer {ob}"},
                    ).raise_for_status()
                    walls, opens = [], []
                    for r in range(repeats):
                        shift = side / 2 / 111_320
                        vol = square(46.5 + shift, lon, side, T0 + timedelta(seconds=r))
                        w, status = relay_declaration(hb, alpha, bravo, [vol])
                        assert status == 409, (
                            status
                        )  # overlapping: refused by the rule, after the check
                        walls.append(w)
                        t = time.perf_counter()
                        resp = ho.post(
                            "/v1/operations",
                            json={"volumes": [vol]},
                            headers={"Authorization": f"Bearer {oa}"},
                        )
                        opens.append(time.perf_counter() - t)
                        assert resp.status_code == 409
                    out.append(
                        {
                            "side_km": side / 1000,
                            "relay_wall_s": statistics.median(walls),
                            "open_http_s": statistics.median(opens),
                        }
                    )
        finally:
            blind.stop()
            opened.stop()
    return out


def capacity(ns: list[int]) -> list[dict[str, Any]]:
    """Declaration wall time through the relay while bravo holds N active blind operations."""
    rng = np.random.default_rng(7)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        blind = Served(f"sqlite:///{tmp}/cap.db", DECONFLICT_DISCLOSURE="blind")
        try:
            with httpx.Client(base_url=blind.url, timeout=300) as h:
                ta, sa = blind.party("alpha")
                tb, sb = blind.party("bravo")
                alpha, bravo = Agent(h, ta, sa), Agent(h, tb, sb)
                held = 0
                for n in ns:
                    while (
                        held < n
                    ):  # bravo's operations: 100 km², one hour, over 1,000 km and a day
                        lat, lon = destination_deg(
                            46.5, 7.0, rng.uniform(0, 360), 500_000 * np.sqrt(rng.uniform())
                        )
                        t0 = T0 + timedelta(seconds=float(rng.uniform(0, 86_400)))
                        bravo.declare([square(float(lat), float(lon), 10_000, t0)], wait_s=0)
                        held += 1
                    walls = []
                    for _ in range(3):
                        lat, lon = destination_deg(
                            46.5, 7.0, rng.uniform(0, 360), 500_000 * np.sqrt(rng.uniform())
                        )
                        t0 = T0 + timedelta(seconds=float(rng.uniform(0, 86_400)))
                        w, _status = relay_declaration(
                            h, alpha, bravo, [square(float(lat), float(lon), 10_000, t0)]
                        )
                        walls.append(w)
                    out.append(
                        {
                            "n": n,
                            "wall_s": statistics.median(walls),
                            "items_b": sum(len(x.cells) for x in bravo.node.operations.values()),
                        }
                    )
        finally:
            blind.stop()
    return out


# -- 2. false positives ---------------------------------------------------------------------------
def false_positives(cell_kms: list[float], pairs: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(11)
    scenes = []
    for _ in range(pairs):
        lat, lon = 46.5, 7.0
        ops = []
        for who in ("a", "b"):
            la, lo = destination_deg(lat, lon, rng.uniform(0, 360), rng.uniform(0, 20_000))
            t0 = T0 + timedelta(seconds=float(rng.choice([0, 1800, 3600])))
            ops.append(op(who, square(float(la), float(lo), float(rng.uniform(1000, 12_000)), t0)))
        scenes.append((ops[0], ops[1], bool(brute_force_conflicts(ops[0], [ops[1]], BUF))))
    free = [s for s in scenes if not s[2]]
    out = []
    for km in cell_kms:
        g = cl.Grid(km * 1000)
        fp = fp_after = 0
        ncells = []
        for a, b, _ in free:
            ca = set().union(*cl.cover(a.volumes, BUF, g))
            cb = set().union(*cl.cover(b.volumes, BUF, g))
            ncells.append(len(ca))
            meet = ca & cb
            if meet:
                fp += 1
                pa, pb = clip_parts(a.volumes, meet, BUF, g), clip_parts(b.volumes, meet, BUF, g)
                if (
                    pa
                    and pb
                    and brute_force_conflicts(
                        op("pa", *[v.model_dump(mode="json") for v in pa]),
                        [op("pb", *[v.model_dump(mode="json") for v in pb])],
                        BUF,
                    )
                ):
                    fp_after += 1
        out.append(
            {
                "cell_km": km,
                "pairs_without_conflict": len(free),
                "fp_rate": fp / len(free),
                "fp_after_parts": fp_after / len(free),
                "median_cells": statistics.median(ncells),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}")
    sides = [1_000.0, 10_000.0, 100_000.0]
    rows = [one_check_in_process(s, cl.Grid(c)) for c in (5_000.0, 2_000.0) for s in sides]
    print(
        "\n| area | cell | cells A / B | cells met | CPU A | CPU B | bytes (4 envelopes) | open exact kernel | blind CPU / open kernel |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ratio = (r["cpu_a_s"] + r["cpu_b_s"]) / max(r["open_kernel_s"], 1e-9)
        print(
            f"| {r['side_km'] ** 2:,.0f} km² | {r['cell_km']:.0f} km | {r['cells_a']:,} / {r['cells_b']:,} | {r['met']:,} | {r['cpu_a_s'] * 1e3:,.0f} ms | {r['cpu_b_s'] * 1e3:,.0f} ms | {r['bytes'] / 1e3:,.0f} kB | {r['open_kernel_s'] * 1e3:.2f} ms | {ratio:,.0f}× |"
        )
    relay = relay_runs(sides, 1 if args.quick else 3)
    print(
        "\n| area | declaration through the relay (blind, 5 km cells) | open declaration over HTTP | blind / open |"
    )
    print("|---:|---:|---:|---:|")
    for r in relay:
        print(
            f"| {r['side_km'] ** 2:,.0f} km² | {r['relay_wall_s'] * 1e3:,.0f} ms | {r['open_http_s'] * 1e3:,.1f} ms | {r['relay_wall_s'] / r['open_http_s']:,.0f}× |"
        )
    fps = false_positives([1, 2, 5, 10, 20], 100 if args.quick else 300)
    print(
        "\n| cell | pairs without conflict | cells meet (false positive) | after the parts | median cells per operation |"
    )
    print("|---:|---:|---:|---:|---:|")
    for r in fps:
        print(
            f"| {r['cell_km']:g} km | {r['pairs_without_conflict']} | {r['fp_rate']:.1%} | {r['fp_after_parts']:.1%} | {r['median_cells']:,.0f} |"
        )
    cap = capacity([1, 10, 30] if args.quick else [1, 10, 20, 40, 80])
    print(
        "\n| active blind operations of the answerer | its cells | declaration wall (median of 3) |"
    )
    print("|---:|---:|---:|")
    for r in cap:
        print(f"| {r['n']} | {r['items_b']:,} | {r['wall_s'] * 1e3:,.0f} ms |")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
