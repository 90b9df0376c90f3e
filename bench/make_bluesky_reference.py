"""Write BlueSky's own conflict sets (N = 2,000 and 5,000; and N = 2,000 on discrete flight
levels) as test data.

Runs ../shared/tools/bluesky_cd_bench.py with BlueSky (GPL, kept out of the project: it lives in
its own virtualenv .venv-bluesky, created here if missing) and keeps the generated states and
BlueSky's unique conflict pairs from both of its detectors, gzipped, in tests/data/.

    .venv/bin/python bench/make_bluesky_reference.py
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO.parent / "shared" / "tools" / "bluesky_cd_bench.py"
VENV = REPO / ".venv-bluesky"


def bluesky_python() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "bluesky-simulator==1.1.1"], check=True
        )
    return py


def main() -> None:
    py = bluesky_python()
    for n, mode in ((2000, "continuous"), (5000, "continuous"), (2000, "levels")):
        with tempfile.TemporaryDirectory() as tmp:
            dump = Path(tmp) / "dump.json"
            subprocess.run(
                [str(py), str(TOOL), "--sizes", "500", "--reps", "1", "--min-reps", "1",
                 "--dump", str(dump), "--dump-n", str(n), "--alt-mode", mode],
                check=True, cwd=tmp, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            data = json.loads(dump.read_text())
        keep = {
            "description": "BlueSky state-based CD on the seeded traffic of "
            "shared/tools/bluesky_cd_bench.py (units: deg, m/s, m). Made by "
            "bench/make_bluesky_reference.py.",
            "bluesky_version": data["bluesky_version"],
            "generator": data["generator"],
            "params": data["params"],
            "aircraft": data["aircraft"],
            "pairs": {
                impl.rsplit(".", 2)[-2]: sorted(
                    sorted(p) for p in {frozenset(p) for p in map(tuple, r["confpairs"])}
                )
                for impl, r in data["results"].items()
            },
        }
        suffix = "" if mode == "continuous" else f"_{mode}"
        out = REPO / "tests" / "data" / f"bluesky_cd_n{n}{suffix}.json.gz"
        with gzip.open(out, "wt", encoding="utf-8") as fh:
            json.dump(keep, fh)
        print(f"wrote {out.relative_to(REPO)}: {len(keep['pairs']['StateBased'])} pairs")


if __name__ == "__main__":
    main()
