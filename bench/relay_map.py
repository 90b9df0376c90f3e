"""The map's ``GET /v1/live/picture`` on a serve instance beside the engine process: the engine
publishing each party's picture as JSON too, every tick, against the instance decoding the
binary frame it relays, on request (``relay_map.picture_message``, once per frame).

Run: .venv/bin/python bench/relay_map.py [--aircraft 10000] [--reps 5]

A synthetic scenario of N aircraft (three parties) is ticked until its tracks are confirmed; for
each party, CPU time (``time.process_time``, median of ``--reps``) of: the anchor, what the
engine already does each tick (``encode_picture_frame``, the binary frame the bus carries); the
JSON encoding the engine would add each tick (``encode_picture``, what the in-process demo's
``/v1/live/picture`` sends); the instance's decoding of the frame into that JSON
(``picture_message`` and ``json.dumps``, only when a client asks, cached per frame); and the
instance's per-frame cost of the history ring (``frame_time_s``: inflates the head only).
"""

from __future__ import annotations

import argparse
import json
import time

from _picture import confirmed_sky, cpu


def main() -> None:
    from deconflict.service.live_picture import encode_picture, encode_picture_frame
    from deconflict.service.relay_map import frame_time_s, picture_message

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--aircraft", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    session = confirmed_sky(args.aircraft)
    print(f"{args.aircraft} aircraft, CPU ms per party (median of {args.reps})")
    print("party   tracks  frame_kB  json_kB  frame(anchor)  json(engine/tick)  decode(relay/ask)"
          "  head(relay/frame)  json/decode")  # fmt: skip
    wall = time.time()
    for party in session.engine.parties:
        t_frame, frame = cpu(lambda p=party: encode_picture_frame(session, p, 1, wall), args.reps)
        t_json, text = cpu(lambda p=party: encode_picture(session, p, 1, wall), args.reps)
        t_dec, _ = cpu(
            lambda f=frame: json.dumps(picture_message(f), separators=(",", ":")), args.reps
        )
        t_head, _ = cpu(lambda f=frame: frame_time_s(f), args.reps)
        n = len(json.loads(text)["tracks"]["key"])
        print(f"{party:7} {n:6d}  {len(frame) / 1e3:8.0f}  {len(text) / 1e3:7.0f}  "
              f"{t_frame * 1e3:13.1f}  {t_json * 1e3:17.1f}  {t_dec * 1e3:17.1f}  "
              f"{t_head * 1e3:17.3f}  {t_json / t_dec:11.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
