"""Run the shared Stone Soup harness on one dumped scenario and keep the tracks it reported.

Runs inside the Stone Soup virtualenv (``.venv-stonesoup``), started by
``bench/tracker_vs_stonesoup.py``. Usage:
``python _stonesoup_runner.py TOOL SCENARIO OUT [--metrics] [--associator kdtree-gnn2d]``.
The tracks are recorded (id, x, y at each scan) by wrapping ``MultiTargetTracker.__next__``, which
adds well under 1 % to Stone Soup's step time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("scenario")
    ap.add_argument("out")
    ap.add_argument("--metrics", action="store_true")
    ap.add_argument("--associator", default="kdtree-gnn2d")
    args = ap.parse_args()

    spec = importlib.util.spec_from_file_location("stonesoup_bench", args.tool)
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)

    from stonesoup.tracker.simple import MultiTargetTracker

    scans: list[list[object]] = []
    original = MultiTargetTracker.__next__

    def recording_next(self):  # type: ignore[no-untyped-def]
        t, tracks = original(self)
        scans.append(
            [
                t.timestamp(),
                [
                    [str(tr.id), float(tr.state_vector[0]), float(tr.state_vector[2])]
                    for tr in tracks
                ],
            ]
        )
        return t, tracks

    MultiTargetTracker.__next__ = recording_next  # type: ignore[method-assign]
    with open(args.scenario) as fh:
        scn = json.load(fh)
    res = harness.run_stonesoup(
        scn, associator=args.associator, metrics_on=args.metrics, verbose=False
    )
    res["versions"] = harness.versions()
    with open(args.out, "w") as fh:
        json.dump({"result": res, "scans": scans}, fh, allow_nan=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
