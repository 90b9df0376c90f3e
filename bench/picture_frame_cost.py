"""What the engine spends per party and tick on the picture frame the bus carries, in parts.

Run: .venv/bin/python bench/picture_frame_cost.py [--aircraft 10000] [--reps 7]

A synthetic scenario of N aircraft (three parties) is ticked until its tracks are confirmed; for
each party, CPU time (``time.process_time``, median of ``--reps``) of what a user's tick pays,
``encode_picture_frame`` (the anchor), and of its parts: ``picture_payload`` (the view, squawks,
alerts) without and with the info panel's columns (``panel_columns``), ``encode_frame`` (the
columns written) and its compression (``compress_frame``: ISA-L level 1), beside the standard
library's ``zlib.compress`` level 1 on the same bytes (the anchor of that part, what
``compress_frame`` used before); and the frame's bytes with the
panel's columns (``picture_wire.PANEL``) and, beside them, the writing and compressing of the same
frame without them (what the frame cost before it carried them), CPU and bytes.
"""

from __future__ import annotations

import argparse
import time
import zlib

from _picture import confirmed_sky, cpu


def main() -> None:
    from deconflict.service.live_picture import encode_picture_frame, picture_payload
    from deconflict.service.picture_wire import PANEL, compress_frame, encode_frame

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--aircraft", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    session = confirmed_sky(args.aircraft)
    print(f"{args.aircraft} aircraft, CPU ms per party (median of {args.reps})")
    print("party   tracks  frame(anchor)  payload  +panel  encode_frame  isal  zlib  kB  "
          "zlib kB  w/o panel: encode+isal  kB")  # fmt: skip
    wall = time.time()
    for party in session.engine.parties:
        t_all, frame = cpu(lambda p=party: encode_picture_frame(session, p, 1, wall), args.reps)
        t_pay, _ = cpu(lambda p=party: picture_payload(session, p), args.reps)
        t_panel, payload = cpu(lambda p=party: picture_payload(session, p, panel=True), args.reps)
        pic, panel = payload.pop("frame"), payload.pop("panel")
        head = {"type": "picture", "seq": 1, "tick_wall_s": wall, **payload}
        t_enc, raw = cpu(lambda h=head, f=pic, x=panel: encode_frame(h, f, x), args.reps)
        t_z, _ = cpu(lambda r=raw: compress_frame(r, {"type": "picture"}), args.reps)
        t_std, std = cpu(lambda r=raw: zlib.compress(r, 1), args.reps)
        plain = pic.drop(columns=[c for c in PANEL if c in pic.columns])  # and none beside
        t_bare, bare = cpu(
            lambda h=head, f=plain: compress_frame(encode_frame(h, f), {"type": "picture"}),
            args.reps,
        )
        print(f"{party:7} {len(pic):6d}  {t_all * 1e3:13.1f}  {t_pay * 1e3:7.1f}  "
              f"{(t_panel - t_pay) * 1e3:6.1f}  {t_enc * 1e3:12.1f}  {t_z * 1e3:4.1f}  "
              f"{t_std * 1e3:4.1f}  {len(frame) / 1e3:3.0f}  {len(std) / 1e3:7.0f}  "
              f"{t_bare * 1e3:22.1f}  {len(bare) / 1e3:3.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
