"""The public ``alert`` call and the ``deconflict alert`` command on encounters built from
DAIDALUS's reference cases."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from predict_daidalus_helpers import case_encounter, load_cases, num
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.errors import InputError, UnknownNameError
from deconflict.predict.daidalus.api import alert


def _case(reference_dir: Path, case_id: str) -> dict[str, Any]:
    return next(c for c in load_cases(reference_dir) if c["case_id"] == case_id)


def test_alert_is_json_safe_and_matches(reference_dir: Path) -> None:
    case = _case(reference_dir, "multi_boxed_in_4")
    out = alert(case_encounter(case))
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    ref = case["outputs"]["intruders"]
    assert [i["id"] for i in out["intruders"]] == [r["id"] for r in ref]
    for got, exp in zip(out["intruders"], ref, strict=True):
        assert got["alert_level"] == exp["alert_level"]
        assert got["in_violation"] == exp["in_violation"]
        assert abs(num(got["time_to_violation_s"]) - num(exp["time_to_violation_s"])) < 1e-5
    assert set(out) == {"standard", "ownship", "intruders", "bands", "resolution"}


def test_alert_reads_a_file_and_reports_inf_as_string(reference_dir: Path, tmp_path: Path) -> None:
    case = _case(reference_dir, "headon_20nmi")  # violation at 144 s: finite, no alert
    path = tmp_path / "enc.json"
    path.write_text(json.dumps(case_encounter(case)))
    out = alert(path)
    assert out["intruders"][0]["alert_level"] == 0
    assert abs(out["intruders"][0]["time_to_violation_s"] - 144.020838) < 1e-5
    far = case_encounter(case)
    far["intruders"][0]["altitude"] = 20000.0
    assert alert(far)["intruders"][0]["time_to_violation_s"] == "inf"


def test_wind_changes_the_frame_not_the_alert(reference_dir: Path) -> None:
    """notes §8: with a 40 kn wind to 090° the head-on alert is unchanged (to ~1e-6 s) and the
    direction bands become headings."""
    case = _case(reference_dir, "headon_5nmi")
    calm = alert(case_encounter(case))
    windy_enc = case_encounter(case)
    windy_enc["wind"] = {"to_deg": 90.0, "speed_kt": 40.0}
    windy = alert(windy_enc)
    assert windy["bands"]["direction"] == "heading" and calm["bands"]["direction"] == "track"
    t0 = calm["intruders"][0]["time_to_violation_s"]
    t1 = windy["intruders"][0]["time_to_violation_s"]
    assert abs(t0 - t1) < 1e-3
    assert windy["bands"]["hdir_deg"] != calm["bands"]["hdir_deg"]


def test_bad_input_and_unknown_standard(reference_dir: Path) -> None:
    enc = case_encounter(_case(reference_dir, "headon_5nmi"))
    enc["intruders"][0]["latitude"] = math.nan
    with pytest.raises(InputError, match=r"intruders\[0\]\.latitude"):
        alert(enc)
    with pytest.raises(UnknownNameError, match="do365"):
        alert(case_encounter(_case(reference_dir, "headon_5nmi")), standard="icao-5nm")
    with pytest.raises(InputError, match="cannot read encounter file"):
        alert(Path("does-not-exist.json"))


def test_cli_alert(reference_dir: Path, tmp_path: Path) -> None:
    case = _case(reference_dir, "crossing_from_right_hmd0.3")
    path = tmp_path / "encounter.json"
    path.write_text(json.dumps(case_encounter(case)))
    runner = CliRunner()
    result = runner.invoke(app, ["alert", str(path), "--standard", "do365"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["intruders"][0]["alert_level"] == case["outputs"]["intruders"][0]["alert_level"]
    assert (
        out["bands"]["current_region"]["hdir"] == case["outputs"]["bands"]["current_region"]["hdir"]
    )
    bad = tmp_path / "bad.json"
    enc = case_encounter(case)
    enc["ownship"]["groundspeed"] = -10
    bad.write_text(json.dumps(enc))
    result = runner.invoke(app, ["alert", str(bad)])
    assert result.exit_code == 2
    assert "ownship.groundspeed" in result.output


state_st = st.fixed_dictionaries(
    {
        "x_nmi": st.floats(-3, 3),
        "y_nmi": st.floats(-3, 3),
        "altitude": st.floats(50, 52000),
        "groundspeed": st.floats(0, 750),
        "track": st.floats(0, 360),
        "vertical_rate": st.floats(-7000, 7000),
        "alerter": st.sampled_from([1, 2, 3]),
    }
)


@settings(max_examples=15, deadline=None)
@given(state_st, st.lists(state_st, min_size=0, max_size=3))
def test_alert_on_random_encounters(own: dict[str, Any], intruders: list[dict[str, Any]]) -> None:
    """Any valid encounter (including out-of-range own values, hovering, co-located traffic)
    gives a JSON-safe result whose bands cover their ranges and whose levels are consistent."""
    own = dict(own, id="own")
    own.pop("alerter")
    enc = {"ownship": own, "intruders": [dict(s, id=f"i{k}") for k, s in enumerate(intruders)]}
    out = alert(enc)
    json.dumps(out, allow_nan=False)
    for intr in out["intruders"]:
        assert intr["alert_level"] in (0, 1, 2, 3)
        if intr["in_violation"]:
            assert intr["time_to_violation_s"] == 0.0 and intr["alert_level"] >= 2
    for key in ("hdir_deg", "hs_kt", "vs_fpm", "alt_ft"):
        bands = out["bands"][key]
        for (_lo, hi, _r), nxt in itertools.pairwise(bands):
            assert hi == nxt[0]
