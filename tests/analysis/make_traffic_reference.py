"""Produce the `traffic` library's closest-approach answer on its `switzerland` sample.

Run with traffic's own environment (traffic 2.13 needs pandas < 3), not the project's::

    python3.11 -m venv .venv-traffic
    .venv-traffic/bin/pip install 'traffic==2.13' 'pandas<3'
    .venv-traffic/bin/python tests/analysis/make_traffic_reference.py \
        ../shared/data/real/traffic/switzerland.parquet \
        tests/analysis/data/traffic_cpa_switzerland.json

It repeats traffic's own test (tests/test_cpa.py in xoolive/traffic): window 12:00–14:00 UTC,
``assign_id``, ``closest_point_of_approach(lateral_separation=10 NM, vertical_separation=2000 ft,
projection=CH1903p(), round_t="10T")``, then ``aggregate(5 NM, 1000 ft)`` and ``min("aggregated")``
per pair. It writes every pair involving 0a0075 (not only those under 1.5), and traffic's own
assertion (the callsigns with aggregated < 1.5).
"""

from __future__ import annotations

import json
import sys

import pandas as pd
from cartes.crs import CH1903p  # type: ignore
from traffic.core import Traffic


def main(src: str, dst: str) -> None:
    switzerland = Traffic(pd.read_parquet(src))
    smaller = switzerland.between("2018-08-01 12:00", "2018-08-01 14:00").assign_id().eval()
    cpa = smaller.closest_point_of_approach(
        lateral_separation=10 * 1852,
        vertical_separation=2000,
        projection=CH1903p(),
        round_t="10T",
    )
    agg = cpa.aggregate(lateral_separation=5, vertical_separation=1000)["0a0075"]
    per_pair = agg.min("aggregated").data.reset_index()
    res15 = agg.query("aggregated < 1.5").min("aggregated")
    rows = [
        {
            "icao24_x": r.icao24_x,
            "icao24_y": r.icao24_y,
            "flight_id_x": r.flight_id_x,
            "flight_id_y": r.flight_id_y,
            "callsign_x": r.callsign_x,
            "callsign_y": r.callsign_y,
            "timestamp": pd.Timestamp(r.timestamp).isoformat(),
            "lateral_nm": float(r.lateral),
            "vertical_ft": float(r.vertical),
            "aggregated": float(r.aggregated),
        }
        for r in per_pair.itertuples()
    ]
    out = {
        "source": "traffic==2.13 closest_point_of_approach on the switzerland sample",
        "window_utc": ["2018-08-01T12:00:00+00:00", "2018-08-01T14:00:00+00:00"],
        "screen": {"lateral_nm": 10, "vertical_ft": 2000},
        "aggregate": {"lateral_nm": 5, "vertical_ft": 1000},
        "traffic_test_callsigns_below_1_5": sorted(
            {*res15.data.callsign_x, *res15.data.callsign_y}
        ),
        "pairs_0a0075": sorted(rows, key=lambda r: r["aggregated"]),
    }
    with open(dst, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
