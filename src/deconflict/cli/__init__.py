"""The ``deconflict`` command: a thin shell over the library.

Each command group lives in its own module under ``deconflict.cli`` and registers itself on
``app``; heavy imports happen inside the command functions, so ``deconflict --help`` is fast.
The command reference in docs/cli.md is generated from this help (see tests/test_cli_docs.py).
"""

from __future__ import annotations

import importlib

from deconflict.cli._app import app

# Modules that register commands on ``app``; add one line per new command module.
COMMAND_MODULES: tuple[str, ...] = (
    "serve",
    "party",
    "predict",
    "audit",
    "incidents",
    "analyze",
    "decode",
    "feed",
    "alert",
    "track",
    "demo",
    "montecarlo",
    "sitrep",
    "witness",
    "agent",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"deconflict.cli.{_name}")


def main() -> None:
    """Entry point of the ``deconflict`` console script."""
    app()


__all__ = ["app", "main"]
