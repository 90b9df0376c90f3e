"""CAT062 data blocks read back by an independent codec: ``libasterix`` (Zoran Bošnjak's
generated codec of EUROCONTROL's specifications, MIT, pure Python), edition 1.20."""

from __future__ import annotations

from typing import Any

import asterix.generated as gen
import numpy as np
import pandas as pd
from asterix.base import Bits, RawDatablock

from deconflict.surveillance.cat062_out import Cat062Source
from deconflict.units import KT

CAT062 = gen.Cat_062_1_20


def _sub(item: Any, name: str) -> Any:
    return item.variation.get_item(name)


def decode_blocks(blocks: list[bytes]) -> list[dict[str, Any]]:
    """Every record of the blocks, in order, as plain values (deg, FL, m/s, ft/min, s)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        raw = RawDatablock.parse(Bits.from_bytes(block))
        assert not isinstance(raw, ValueError), raw
        assert len(raw) == 1, "one data block per datagram"
        assert raw[0].get_category() == 62
        records = CAT062.cv_uap.parse(raw[0].get_raw_records())
        assert not isinstance(records, ValueError), records
        for rec in records:
            out.append(_record(rec))
    return out


def _record(rec: Any) -> dict[str, Any]:
    i010, i105, i040 = rec.get_item("010"), rec.get_item("105"), rec.get_item("040")
    row: dict[str, Any] = {
        "sac": _sub(i010, "SAC").as_uint(),
        "sic": _sub(i010, "SIC").as_uint(),
        "tod_s": rec.get_item("070").variation.content.as_quantity("s"),
        "lat": _sub(i105, "LAT").variation.content.as_quantity("°"),
        "lon": _sub(i105, "LON").variation.content.as_quantity("°"),
        "track_number": i040.as_uint(),
        "coasting": False,
    }
    i185 = rec.get_item("185")
    if i185 is not None:
        row["vx"] = _sub(i185, "VX").variation.content.as_quantity("m/s")
        row["vy"] = _sub(i185, "VY").variation.content.as_quantity("m/s")
    i136 = rec.get_item("136")
    if i136 is not None:
        row["fl136"] = i136.variation.content.as_quantity("FL")
    i135 = rec.get_item("135")
    if i135 is not None:
        row["qnh"] = _sub(i135, "QNH").as_uint()
        row["fl135"] = _sub(i135, "CTB").variation.content.as_quantity("FL")
    i220 = rec.get_item("220")
    if i220 is not None:
        row["rate_fpm"] = i220.variation.content.as_quantity("ft/min")
    i245 = rec.get_item("245")
    if i245 is not None:
        row["sti"] = _sub(i245, "STI").as_uint()
        row["callsign"] = _sub(i245, "CHR").variation.content.as_string()
    i380 = rec.get_item("380")
    if i380 is not None:
        row["icao24"] = f"{_sub(i380, 'ADR').as_uint():06x}"
    i060 = rec.get_item("060")
    if i060 is not None:
        row["squawk"] = _sub(i060, "MODE3A").variation.content.as_string()
    i080 = rec.get_item("080")
    assert i080 is not None, "I062/080 track status is mandatory"
    assert _sub(i080, "CNF").as_uint() == 0
    cst = _sub(i080, "CST")
    row["coasting"] = cst is not None and cst.as_uint() == 1
    return row


def libasterix_blocks(picture: pd.DataFrame, time_s: float, source: Cat062Source) -> list[bytes]:
    """The same items, built by libasterix record by record (one block per 30 records)."""
    cat = CAT062
    tod = round((time_s % 86400) * 128) / 128
    records = []
    for row in picture.itertuples(index=False):
        items: dict[str, Any] = {
            "010": (("SAC", source.sac), ("SIC", source.sic)),
            "070": (tod, "s"),
            "105": (("LAT", (row.latitude, "°")), ("LON", (row.longitude, "°"))),
        }
        if np.isfinite(row.groundspeed) and np.isfinite(row.track):
            gs, trk = row.groundspeed * KT, np.radians(row.track)
            items["185"] = (("VX", (gs * np.sin(trk), "m/s")), ("VY", (gs * np.cos(trk), "m/s")))
        if isinstance(row.callsign, str):
            items["245"] = (("STI", 0), 0, ("CHR", row.callsign))
        if isinstance(row.icao24, str):
            items["380"] = {"ADR": int(row.icao24, 16)}
        squawk = getattr(row, "squawk", None)
        if isinstance(squawk, str) and squawk:
            items["060"] = (0, 0, 0, 0, ("MODE3A", squawk.zfill(4)))
        items["040"] = int(row.track_id) % 65536
        if row.status == "coasting":
            items["080"] = ((0, 0, 0, 0, 0, None), (0, 0, 0, 0, 0, 0, 0, None),
                            (0, 0, 0, 0, 0, None), (1, 0, 0, 0, 0, 0, 0, None))  # fmt: skip
        else:
            items["080"] = ((0, 0, 0, 0, 0, None),)
        if np.isfinite(row.altitude):
            items["136"] = (row.altitude / 100, "FL")
            items["135"] = (("QNH", 0), ("CTB", (row.altitude / 100, "FL")))
        if np.isfinite(row.vertical_rate):
            items["220"] = (row.vertical_rate, "ft/min")
        records.append(cat.cv_record.create(items))
    return [
        cat.create(records[k : k + 30]).unparse().to_bytes() for k in range(0, len(records), 30)
    ]
