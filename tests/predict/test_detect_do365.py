"""``detect(standard="do365")`` against NASA DAIDALUS's own outputs (reference/daidalus_dev.json).

Pairwise detection evaluates each pair from both aircraft's views; to compare with DAIDALUS's
ownship-centred alerting, each intruder is paired with an ownship that uses the same alerter.
Our horizontal geometry is WGS84 (DAIDALUS projects on a sphere), so times agree to ~0.05 s.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from deconflict.predict.detect import detect


def cases(reference_dir: Path) -> list[dict[str, Any]]:
    data = json.loads((reference_dir / "daidalus_dev.json").read_text())
    return [
        c
        for c in data["cases"]
        if c["coords"] == "latlon"
        and "SUM" not in c["config"].replace("no_SUM", "")
        and not c["inputs"].get("wind_to")
        and c["evaluation"] == "snapshot"
    ]


def state(s: dict[str, Any], alerter: int) -> dict[str, Any]:
    return {"id": s["id"], "latitude": s["lat_deg"], "longitude": s["lon_deg"],
            "altitude": s["alt_ft"], "groundspeed": s["gs_kn"], "track": s["trk_deg"],
            "vertical_rate": s["vs_fpm"], "alerter": alerter}  # fmt: skip


def test_levels_and_times_agree_with_daidalus(reference_dir: Path) -> None:
    compared = 0
    worst = 0.0
    for case in cases(reference_dir):
        own = case["inputs"]["ownship"]
        outputs = {o["id"]: o for o in case["outputs"]["intruders"]}
        for intr in case["inputs"]["intruders"]:
            ref = outputs[intr["id"]]
            alerter = int(intr.get("alerter", 1))
            frame = pd.DataFrame([state(own, alerter), state(intr, alerter)])
            if frame.groundspeed.lt(0).any():
                continue
            out = detect(frame, standard="do365")
            level = int(out.level.iloc[0]) if len(out) else 0
            assert level == ref["alert_level"], (case["case_id"], intr["id"], out)
            ttv = ref["time_to_violation_s"]
            ttv = math.inf if isinstance(ttv, str) else float(ttv)
            if math.isfinite(ttv):
                assert len(out) == 1, (case["case_id"], intr["id"])
                err = abs(float(out.t_in_s.iloc[0]) - ttv)
                worst = max(worst, err)
                assert err < 0.5, (case["case_id"], intr["id"], err)
            compared += 1
    assert compared >= 25
    print(f"compared {compared} intruders; worst time-to-violation difference {worst:.4f} s")
