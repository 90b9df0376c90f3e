"""How other parties' tracks are shared in a party's live picture (the procedures' setting
``track_sharing``): the one place that decides what a viewer may see of them.

* ``full``: as classified (owner, aircraft, callsign, icao24, squawk);
* ``anonymised``: position and motion only, under a pseudonym stable for that viewer (an HMAC of
  the viewer and its track key under the engine's secret: two viewers cannot match theirs, and
  the same track keeps its name from tick to tick);
* ``in_conflict``: in full, and only while an open conflict alert of the viewer's own aircraft
  is about that aircraft.

A party's own aircraft and its unidentified (``unknown``/``pending``) tracks are always shown.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from deconflict.errors import InputError

MODES = ("full", "anonymised", "in_conflict")


def pseudonym(secret: bytes, viewer: str, key: str) -> str:
    """The name ``viewer`` sees for its track ``key`` of another party's aircraft."""
    mac = hmac.new(secret, f"{viewer}\x1f{key}".encode(), hashlib.sha256).hexdigest()
    return f"TRK-{mac[:8]}"


def shared_view(
    picture: pd.DataFrame,
    viewer: str,
    mode: str,
    *,
    secret: bytes,
    in_conflict: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> pd.DataFrame:
    """``picture`` (the viewer's, classified) as the viewer may see it under ``mode``;
    ``in_conflict`` holds the (owner, aircraft) of the aircraft the viewer's alerts are about."""
    if mode not in MODES:
        raise InputError(f"track sharing {mode!r} is not known; use one of {', '.join(MODES)}")
    if mode == "full" or not len(picture):
        return picture
    owner = picture["owner"].to_numpy(dtype=object)
    others = (picture["identity"].to_numpy(dtype=object) == "declared") & (owner != viewer)
    if not others.any():
        return picture
    if mode == "in_conflict":
        aircraft = picture["aircraft"].to_numpy(dtype=object)
        shown = np.array(
            [(str(o), str(a)) in in_conflict for o, a in zip(owner, aircraft, strict=True)]
        )
        kept: pd.DataFrame = picture[~others | shown].reset_index(drop=True)
        return kept
    out = picture.copy()
    keys = out["key"].to_numpy(dtype=object)
    names = np.array([pseudonym(secret, viewer, str(k)) for k in keys[others]], dtype=object)
    for col, value in (("owner", ""), ("aircraft", "")):
        out.loc[others, col] = value
    out.loc[others, "icao24"] = None
    out.loc[others, "callsign"] = None
    if "squawk" in out.columns:  # the live picture's (the map lists and searches squawks)
        out.loc[others, "squawk"] = None
    out.loc[others, "key"] = names
    out.loc[others, "label"] = names
    return out
