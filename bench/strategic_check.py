"""Strategic check: one new operation against N active ones (issue 4: under 5 ms median at 10,000).

Scene: N operations over a 1,000 km square around Toulouse during one day, each 1-3 volumes
(polygons of 6-24 vertices or circles, 1-25 km across, 30 min - 4 h, altitude bands up to FL400).
Measured on the same scene and candidates, in one run:

- ``OperationIndex.query`` with buffers 5 NM / 1,000 ft (our check);
- the same index with no buffers (InterUSS's rule: overlap only);
- ``brute_force_conflicts`` (every volume pair tested on its own), on fewer candidates;
- writes: ``add`` and ``remove`` of one operation.

Run: ``.venv/bin/python bench/strategic_check.py [--n 10000] [--queries 300] [--brute 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from rich.progress import track

from deconflict.geo import destination_deg
from deconflict.strategic.index import OperationIndex, brute_force_conflicts
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation, parse_operation
from deconflict.strategic.need_to_know import intersection_view
from deconflict.strategic.rules import ConflictPolicy, ConflictRule, evaluate

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def random_volume(rng: np.random.Generator) -> dict[str, object]:
    lat0, lon0 = destination_deg(43.6, 1.44, rng.uniform(0, 360), 500_000 * np.sqrt(rng.uniform()))
    size_m = rng.uniform(500, 12_500)
    start = T0 + timedelta(seconds=float(rng.uniform(0, 86_400)))
    end = start + timedelta(seconds=float(rng.uniform(1_800, 14_400)))
    lower = float(rng.choice([0, 50, 100, 150, 200, 250, 300]))
    upper = lower + float(rng.choice([20, 50, 100]))
    vol: dict[str, object] = {
        "altitude_lower": {"value": lower, "units": "FL"},
        "altitude_upper": {"value": upper, "units": "FL"},
        "time_start": start.isoformat(),
        "time_end": end.isoformat(),
    }
    if rng.uniform() < 0.3:
        vol["circle"] = {"latitude": float(lat0), "longitude": float(lon0), "radius_m": size_m}
    else:
        k = int(rng.integers(6, 25))
        az = (np.arange(k) + rng.uniform(0.0, 0.8, k)) * (360.0 / k)
        r = size_m * rng.uniform(0.6, 1.0, k)
        lat, lon = destination_deg(np.full(k, lat0), np.full(k, lon0), az, r)
        vol["polygon"] = [[[float(x), float(y)] for x, y in zip(lon, lat, strict=True)]]
    return vol


def random_operation(rng: np.random.Generator, i: int) -> Operation:
    return parse_operation(
        {
            "id": f"op-{i}",
            "owner": f"party-{i % 7}",
            "contact": f"+33 5 00 00 {i % 100:02d}",
            "volumes": [random_volume(rng) for _ in range(int(rng.integers(1, 4)))],
            "priority": int(rng.integers(0, 3)),
            "aircraft_ids": [f"{i:06x}"],
        }
    )


def median_ms(f: object, items: list[Operation]) -> tuple[float, list[int]]:
    times, hits = [], []
    for c in items:
        t = time.perf_counter()
        out = f(c)  # type: ignore[operator]
        times.append(time.perf_counter() - t)
        hits.append(len(out))
    return statistics.median(times) * 1e3, hits


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--brute", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    ops = [random_operation(rng, i) for i in track(range(args.n), description="scene")]
    cands = [random_operation(rng, args.n + i) for i in range(args.queries)]
    buffers = Buffers.from_units(horizontal_nm=5.0, vertical_ft=1_000.0)

    t = time.perf_counter()
    index = OperationIndex(buffers, ops)
    build_s = time.perf_counter() - t
    n_vol = sum(len(o.volumes) for o in ops)

    for c in cands[:20]:  # warm-up
        index.query(c)
    ours, hits = median_ms(index.query, cands)
    inter, hits0 = median_ms(lambda c: index.query(c, NO_BUFFERS), cands)
    brute, bhits = median_ms(lambda c: brute_force_conflicts(c, ops, buffers), cands[: args.brute])
    for c in cands[: args.brute]:  # the same pairs, not only as many
        assert index.query(c) == brute_force_conflicts(c, ops, buffers), "index and brute differ"
    assert bhits == hits[: args.brute]

    rule = ConflictRule(ConflictPolicy.ACCEPT_BY_PRIORITY)
    tokens = {o.id: o.token for o in ops}
    full, _ = median_ms(lambda c: [evaluate(c, index, rule, tokens)], cands)
    pairs = [(c, index.get(v.operation_id)) for c in cands for v in index.query(c)][:300]
    view_t = []
    for c, other in pairs:
        t = time.perf_counter()
        intersection_view(other, [c], buffers)
        view_t.append(time.perf_counter() - t)

    add_t, rm_t = [], []
    for c in cands[:100]:
        t = time.perf_counter()
        index.add(c)
        add_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        index.remove(c.id)
        rm_t.append(time.perf_counter() - t)

    print(f"scene: {args.n:,} operations, {n_vol:,} volumes; index built in {build_s:.2f} s")
    print(
        f"conflicting volume pairs per query (5 NM / 1000 ft): median {np.median(hits):.0f}, "
        f"mean {np.mean(hits):.1f}; no buffers: mean {np.mean(hits0):.2f}"
    )
    print(f"query, buffers 5 NM / 1000 ft : {ours:8.3f} ms median ({args.queries} candidates)")
    print(
        f"query, no buffers (InterUSS)  : {inter:8.3f} ms median  ratio ours/InterUSS-style "
        f"{ours / inter:.2f}"
    )
    print(
        f"brute force, same buffers     : {brute:8.1f} ms median ({args.brute} candidates)  "
        f"speed-up {brute / ours:.0f}x"
    )
    print(f"evaluate (query + awareness + rule): {full:8.3f} ms median")
    print(f"need-to-know view of one conflict : {statistics.median(view_t) * 1e3:8.3f} ms median")
    print(f"add one operation             : {statistics.median(add_t) * 1e3:8.3f} ms median")
    print(f"remove one operation          : {statistics.median(rm_t) * 1e3:8.3f} ms median")
    print(f"target < 5 ms median: {'met' if ours < 5.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
