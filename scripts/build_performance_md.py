"""Assemble docs/performance.md from the per-topic sections in docs/perf/ (each benchmark writes
its own section with the command that produced it)."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
ORDER = ["detect", "daidalus", "decoding", "tracking", "strategic", "service", "hotline",
         "engine", "analysis"]  # fmt: skip

HEADER = """# Performance

Every figure here was measured by a benchmark under `bench/` that runs its anchor on the same
input in the same run and prints ratios; each section gives the command. Machines here have 2
cores shared with other work, so wall times drift between runs: compare the ratios, and the CPU
times where a section gives them. Sections are assembled from `docs/perf/*.md` by
`python scripts/build_performance_md.py`.
"""


def main() -> None:
    parts = [HEADER]
    sections = {p.stem: p for p in (DOCS / "perf").glob("*.md")}
    for name in [*ORDER, *sorted(set(sections) - set(ORDER))]:
        if name in sections:
            text = sections[name].read_text(encoding="utf-8").strip()
            if text.startswith("# "):  # a section written as its own page: one level down
                text = "\n".join(
                    "#" + line if line.startswith("#") else line for line in text.splitlines()
                )
            parts.append(text)
    (DOCS / "performance.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
