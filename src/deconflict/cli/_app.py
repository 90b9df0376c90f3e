"""The typer application every command module registers on, and shared CLI helpers."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal, NoReturn

import typer

from deconflict.errors import ConfigError, DeconflictError, InputError, UnknownNameError

app = typer.Typer(
    name="deconflict",
    help="Deconflict: keep the aircraft of independent operators apart.",
    no_args_is_help=True,
    add_completion=True,
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


USAGE_ERRORS = (str, InputError, UnknownNameError, ConfigError)


def exit_code(error: DeconflictError | str) -> int:
    """The exit status for ``error``, the same in every command: 2 for a usage error (a bad
    option, argument, input file or setting: what the user gave, as typer's own usage errors),
    1 for a run or check that failed (a store, a cluster or a peer that failed, a verification
    that did not hold, a refused request). 0 is success."""
    return 2 if isinstance(error, USAGE_ERRORS) else 1


def fail(error: DeconflictError | str, code: int | None = None) -> NoReturn:
    """Print a one-line error (what was wrong, what to do) on stderr and exit with
    ``exit_code(error)`` unless ``code`` is given."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(exit_code(error) if code is None else code)


def echo_json(payload: Any) -> None:
    """Write ``payload`` as JSON on stdout (NaN/inf become null)."""
    json.dump(payload, sys.stdout, allow_nan=False, default=str)
    sys.stdout.write("\n")


def run_server(app: Any, host: str, port: int, log_level: str = "warning") -> None:
    """Serve ``app`` under uvicorn as every command does: no access log, and no per-message
    deflate on the WebSockets. A picture frame is zlib already (``service.picture_wire``) and an
    event a few hundred bytes; with deflate negotiated (browsers and ``websockets`` offer it by
    default) the server would compress every frame again for every client: a 10,000-track
    frame costs milliseconds of CPU per socket for no smaller message (``docs/performance.md``,
    fan-out)."""
    import uvicorn

    uvicorn.run(
        app, host=host, port=port, log_level=log_level, access_log=False,
        ws_per_message_deflate=False,
    )  # fmt: skip


#: The feed formats of ``deconflict.surveillance`` (decoder keys, then aliases), named here so
#: that the command line checks, lists and completes them without importing the decoders; a
#: test checks they are the registered ones.
FeedFormat = Literal[
    "asterix", "beast", "modes-hex", "pcap", "sbs", "opensky", "trajectory", "modes-table",
    "table", "avr", "hex", "modes", "basestation", "sbs1",
]  # fmt: skip
#: ``deconflict track``'s inputs: a table of reports or aircraft, or a feed format.
TrackFormat = Literal["reports", FeedFormat]
#: How ``detect`` finds candidate pairs (``deconflict.predict.prune.METHODS``).
PairSearch = Literal["auto", "grid", "kdtree"]
#: uvicorn's log levels.
LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
#: Where batch work runs.
Engine = Literal["local", "dask"]


def complete_standards(incomplete: str) -> list[str]:
    """Shell completion of a separation standard's name (the built-in ones; a file given with
    ``--standards`` may add others, so the option is not a closed choice)."""
    from deconflict.predict.standards import standard_names

    return [name for name in standard_names() if name.startswith(incomplete)]
