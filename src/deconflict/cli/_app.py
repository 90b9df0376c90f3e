"""The typer application every command module registers on, and shared CLI helpers."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from deconflict.errors import DeconflictError

app = typer.Typer(
    name="deconflict",
    help="Deconflict: keep the aircraft of independent operators apart.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"deconflict {version('deconflict')}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Deconflict: keep the aircraft of independent operators apart."""


def fail(error: DeconflictError | str, code: int = 2) -> NoReturn:
    """Print a one-line error (what was wrong, what to do) on stderr and exit."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code)


def echo_json(payload: Any) -> None:
    """Write ``payload`` as JSON on stdout (NaN/inf become null)."""
    json.dump(payload, sys.stdout, allow_nan=False, default=str)
    sys.stdout.write("\n")
