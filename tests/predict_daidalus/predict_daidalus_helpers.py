"""Test helper: read DAIDALUS's reference outputs (daidalus_dev.json) and turn its cases into
the encounter dicts that ``deconflict.predict.daidalus.alert`` takes. Test-only, not the package."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

NM = 1852.0
FT = 0.3048

#: (DTHR m, TTHR s) of the corrective volume per alerter index (notes §3.1)
CORRECTIVE = {1: (0.66 * NM, 35.0), 2: (1500 * FT, 0.0), 3: (2200 * FT, 0.0)}


@lru_cache(maxsize=2)
def _load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


def load_cases(reference_dir: Path) -> list[dict[str, Any]]:
    """All cases of daidalus_dev.json evaluated with the no-SUM configuration."""
    data = _load(str(reference_dir / "daidalus_dev.json"))
    return [c for c in data["cases"] if c["config"].endswith("DO_365B_no_SUM.conf")]


def num(value: Any) -> float:
    """A reference number: ``null`` -> NaN, ``"inf"``/``"-inf"`` -> ±inf."""
    if value is None:
        return math.nan
    return float(value)


def case_encounter(case: dict[str, Any]) -> dict[str, Any]:
    """The encounter dict (our public input form) of a reference case."""
    inputs = case["inputs"]
    xyz = case["coords"] == "xyz"

    def state(raw: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": raw["id"]}
        if xyz:
            out["x_nmi"] = raw["x_nmi"]
            out["y_nmi"] = raw["y_nmi"]
        else:
            out["latitude"] = raw["lat_deg"]
            out["longitude"] = raw["lon_deg"]
        out["altitude"] = raw["alt_ft"]
        out["groundspeed"] = raw["gs_kn"]
        out["track"] = raw["trk_deg"]
        out["vertical_rate"] = raw["vs_fpm"]
        if "alerter" in raw:
            out["alerter"] = raw["alerter"]
        return out

    encounter: dict[str, Any] = {
        "ownship": state(inputs["ownship"]),
        "intruders": [state(i) for i in inputs["intruders"]],
    }
    wind = inputs.get("wind_to")
    if wind:
        to_deg = wind.get("trk_deg", wind.get("to_deg"))
        speed_kt = wind.get("gs_kn", wind.get("speed_kn", wind.get("speed_kt")))
        encounter["wind"] = {"to_deg": to_deg, "speed_kt": speed_kt}
    return encounter
