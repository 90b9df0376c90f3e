"""Regenerate the rooms table of docs/architecture.md from the import rules' data.

The rules live in ``tests/test_architecture.py`` (``ROOMS``, ``DEBTS``), the one source of who may
import whom; this script rewrites the part of the page between its markers. Run from the repository
root: ``.venv/bin/python scripts/build_architecture_md.py`` (``--check`` exits 1 if it is stale).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rules() -> object:
    spec = importlib.util.spec_from_file_location("_rooms", ROOT / "tests" / "test_architecture.py")
    if spec is None or spec.loader is None:
        raise SystemExit("cannot load tests/test_architecture.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    rules = _rules()
    doc: Path = rules.DOC  # type: ignore[attr-defined]
    begin: str = rules.BEGIN  # type: ignore[attr-defined]
    end: str = rules.END  # type: ignore[attr-defined]
    text = doc.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise SystemExit(f"{doc.name} has no rooms-table markers ({begin!r} … {end!r})")
    start, stop = text.index(begin), text.index(end) + len(end) + 1
    new = text[:start] + rules.render_rooms_table() + text[stop:]  # type: ignore[attr-defined]
    if "--check" in argv:
        return 0 if new == text else 1
    doc.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
