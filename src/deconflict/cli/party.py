"""``deconflict party``: the host registers parties and lists them (directly in the store)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deconflict.cli._app import app, echo_json, fail

party_app = typer.Typer(help="Register and list the parties of the shared service.")
app.add_typer(party_app, name="party")

Db = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default $DECONFLICT_DATABASE_URL or sqlite file)"),
]


@party_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The party's name, unique")],
    db: Db = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="File with the party's Ed25519 public key (raw 32 bytes, base64); "
            "omitted: a key pair is made and the private key printed once",
        ),
    ] = None,
    contact: Annotated[str, typer.Option(help="How other parties reach this one")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="An admin token for the host")] = False,
) -> None:
    """Register a party; prints JSON with its id, API token and public key (and private key,
    when one was made). The token is shown only this once."""
    from deconflict.errors import DeconflictError
    from deconflict.service.parties import register_party
    from deconflict.service.signing import open_signed_store
    from deconflict.settings import Settings

    try:
        settings = Settings.from_env(database_url=db)
        key = public_key.read_text(encoding="ascii").strip() if public_key else None
        store, _host = open_signed_store(settings)
        try:
            out = register_party(
                store, name, public_key=key, contact=contact, role="admin" if admin else "party"
            )
        finally:
            store.close()
    except (DeconflictError, OSError) as exc:
        fail(str(exc))
    echo_json(out)


@party_app.command("list")
def list_parties(db: Db = None) -> None:
    """List the registered parties as JSON (never their tokens)."""
    from deconflict.errors import DeconflictError
    from deconflict.service.parties import party_view
    from deconflict.settings import Settings
    from deconflict.store import open_store

    try:
        store = open_store(Settings.from_env(database_url=db).database_url)
        try:
            echo_json([party_view(p) for p in store.list_parties()])
        finally:
            store.close()
    except DeconflictError as exc:
        fail(exc)
