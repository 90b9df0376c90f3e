"""The rooms of the house (DESIGN.md): kernels never import storage, engine or service, and each
room imports only what it may. Checked on the source, statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "deconflict"

# room -> rooms of ours it may import (units, errors, settings, the table reader of tables and the
# Dask helpers of cluster are shared by all)
ALLOWED: dict[str, set[str]] = {
    "geo": set(),
    "predict": {"geo"},
    "surveillance": set(),
    "tracking": {"geo", "surveillance"},
    "strategic": {"geo"},
    "identify": {"tracking"},
    "hotline": set(),
    "incidents": {"predict", "geo"},
    "sim": {"geo", "surveillance"},
    "analysis": {"geo", "predict", "incidents"},
    "montecarlo": {"geo", "predict", "sim", "engine"},
    "store": {"hotline", "strategic", "identify", "incidents"},
    "sitrep_page": {"sitrep"},
    "blind": {"geo", "strategic", "hotline"},
    # the shared service's domain workflows on the store (hotline, identification, incidents,
    # strategic checks, disclosure)
    "workflows": {"hotline", "identify", "incidents", "predict", "strategic", "store", "settings"},
    "engine": {
        "geo",
        "predict",
        "surveillance",
        "tracking",
        "identify",
        "hotline",
        "incidents",
        "strategic",
        "sim",
        "store",
        "workflows",
        # the host's side of the blind check (engine.blind, engine.blind_relay)
        "blind",
        "settings",
    },
    "service": {
        "engine",
        "workflows",
        "store",
        "hotline",
        "identify",
        "incidents",
        "strategic",
        "predict",
        "sim",
        "settings",
        "sitrep",
        # the picture out (CAT062, SBS, aircraft.json) and the reports parties push
        "surveillance",
    },
    "sitrep": {"store", "hotline", "sitrep_page", "service"},
    "settings": set(),
}
#: the command line is a thin shell over everything (imported lazily)
ALLOWED["cli"] = set(ALLOWED) | {"cli"}
COMMON = {"units", "errors", "cluster", "tables"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "deconflict" and len(parts) > 1:
                found.add(parts[1])
    return found


def room_files(room: str) -> list[Path]:
    single = SRC / f"{room}.py"
    return [single] if single.exists() else sorted((SRC / room).rglob("*.py"))


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_imports_only_what_it_may(room: str) -> None:
    files = room_files(room)
    assert files, f"room {room} has no source"
    for path in files:
        extra = imports_of(path) - ALLOWED[room] - COMMON - {room}
        assert not extra, f"{path.relative_to(SRC)} imports {sorted(extra)}"


def test_engine_never_imports_service_or_cli() -> None:
    """The service wires the live loop into the web app (service.live_app), not the reverse."""
    for path in room_files("engine"):
        assert not imports_of(path) & {"service", "cli"}, path


@pytest.mark.parametrize("room", ["geo", "predict", "strategic", "hotline"])
def test_kernels_never_import_store_engine_or_service(room: str) -> None:
    for path in room_files(room):
        assert not imports_of(path) & {"store", "engine", "service", "cli"}, path


def test_every_room_has_a_rule() -> None:
    """A new package or top-level module of ours must be given its import rule here."""
    rooms = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    rooms |= {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    missing = sorted(rooms - set(ALLOWED) - COMMON)
    assert not missing, f"rooms with no import rule: {missing} (add them to ALLOWED)"


def test_workflows_never_import_engine_or_service() -> None:
    """The domain workflows are the engine's and the service's, never the reverse."""
    for path in room_files("workflows"):
        assert not imports_of(path) & {"engine", "service", "cli"}, path
