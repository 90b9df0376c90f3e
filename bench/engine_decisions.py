"""What a run of the live engine decided, as text to compare between two versions of the code.

Run (each tree's ``src`` on ``PYTHONPATH``, e.g. a ``git archive`` of the version before):

    .venv/bin/python bench/engine_decisions.py --aircraft 1500 --ticks 200 --out after.txt
    .venv/bin/python bench/engine_decisions.py --scenario --out after.txt   # crews, 800 ticks
    .venv/bin/python bench/engine_decisions.py --compare before.txt after.txt

Per tick: the SHA-256 of each party's picture and of the conflicts (as CSV). Then every log
entry: seq, kind, author, recipients and payload, with the parties' ids replaced by their names
and their (random) keys and signatures left out, which differ from run to run; entry hashes are
not compared (the store stamps ``time_s`` from the clock). ``--aircraft N`` flies the synthetic
sky at the density of ``bench/engine_tick.py --aircraft 25000`` (the box scaled to N).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from deconflict.engine.engine import Engine
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource
from deconflict.store import hotline as log

_RANDOM = ("client_signature", "client_key_id", "public_key")


def _sha(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv().encode()).hexdigest()[:16]


def run(aircraft: int, ticks: int, scenario: bool) -> list[str]:
    hooks: list[Any] = []
    if scenario:
        from deconflict.sim.crews import Crews
        from deconflict.sim.scenario import load_scenario

        sc = load_scenario()
    else:
        from deconflict.sim.synthetic import synthetic_scenario

        sc = synthetic_scenario(aircraft, seed=1, half_width_deg=15.0 * (aircraft / 25000) ** 0.5)
    sim = Simulator(sc)
    source = SimSource(sim)
    if scenario:
        hooks = [Crews(sim)]
    engine = Engine([p.id for p in sc.parties], [source], fleets=source.fleets(), hooks=hooks)
    lines = []
    for t in range(1, ticks + 1):
        engine.tick(sc.time(t))
        pictures = " ".join(_sha(engine.picture(p.id)) for p in sc.parties)
        lines.append(f"tick {t} {pictures} {_sha(engine.conflicts)} {len(engine.conflicts)}")
    engine.finish()
    store = engine.desk.store
    names: dict[str, str] = {}
    for e in store.log(after=-1, limit=10**8):
        payload = dict(e.payload)
        if e.kind == "party.registered":
            names[str(payload.pop("party"))] = str(payload["name"])
        for field in _RANDOM:
            payload.pop(field, None)
        to = sorted(names.get(r, r) for r in log.recipients_of(store, e.seq))
        text = f"{e.seq} {e.kind} {e.author} {to} {json.dumps(payload, sort_keys=True)}"
        for pid, name in names.items():
            text = text.replace(pid, f"party:{name}")
        lines.append(text)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=1500)
    ap.add_argument("--ticks", type=int, default=200)
    ap.add_argument("--scenario", action="store_true", help="the built-in scenario, 800 ticks")
    ap.add_argument("--out", default="", help="write the decisions to this file")
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), default=None)
    args = ap.parse_args()
    if args.compare:
        a, b = (Path(p).read_text(encoding="utf-8").splitlines() for p in args.compare)
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                print(f"line {i + 1} differs:\n- {x[:300]}\n+ {y[:300]}")
                sys.exit(1)
        if len(a) != len(b):
            print(f"{len(a)} lines against {len(b)}")
            sys.exit(1)
        print(f"identical: {len(a)} lines ({sum(not x.startswith('tick') for x in a)} entries)")
        return
    lines = run(args.aircraft, 800 if args.scenario else args.ticks, args.scenario)
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
