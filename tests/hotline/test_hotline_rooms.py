"""Room boundaries (DESIGN.md): hotline, incidents and the identification workflow import only
what their room may, and never store, engine or service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import deconflict

PACKAGE = Path(deconflict.__file__).parent
COMMON = {"deconflict.errors", "deconflict.units"}
ALLOWED = {
    "hotline": {"deconflict.hotline"},
    "incidents": {"deconflict.incidents", "deconflict.predict", "deconflict.geo"},
    "identify/request.py": {"deconflict.identify", "deconflict.tracking"},
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("deconflict")}


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_imports(room: str) -> None:
    target = PACKAGE / room
    files = sorted(target.glob("*.py")) if target.is_dir() else [target]
    assert files
    allowed = ALLOWED[room] | COMMON
    for path in files:
        for module in _imports(path):
            assert any(module == a or module.startswith(a + ".") for a in allowed), (
                f"{path.name} imports {module}"
            )
