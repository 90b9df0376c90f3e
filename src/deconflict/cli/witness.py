"""``deconflict witness``: a party witnesses the host's log and cosigns its checkpoints;
``deconflict host-key``: the host's one identity, shown and rotated."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from deconflict.cli._app import app, fail

host_key_app = typer.Typer(
    help="The host's signing key: one identity for the life of the log; rotate it in the log.",
    no_args_is_help=True,
)
app.add_typer(host_key_app, name="host-key")


class HostError(Exception):
    """The host could not be asked (network, or an error answer): not a refusal."""


class HttpLogSource:
    """The host's ``/v1/log`` API, as a witness asks it."""

    def __init__(self, client: httpx.Client, headers: Mapping[str, str] | None = None) -> None:
        self.client = client
        self.headers = dict(headers or {})

    def _get(self, path: str, **params: Any) -> Any:
        try:
            response = self.client.get(path, params=params, headers=self.headers)
        except httpx.HTTPError as exc:
            raise HostError(f"cannot reach the host ({exc})") from exc
        if response.status_code != 200:
            raise HostError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def checkpoint(self) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self._get("/v1/log/checkpoint")
        return data

    def _proof(self, path: str, **params: Any) -> list[bytes]:
        return [base64.b64decode(h) for h in self._get(path, **params)["hashes"]]

    def consistency(self, first: int, second: int) -> list[bytes]:
        return self._proof("/v1/log/proofs/consistency", **{"from": first, "to": second})

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self._proof("/v1/log/proofs/inclusion", index=index, size=size)

    def entries(self, after: int) -> list[Mapping[str, Any]]:
        events: list[Mapping[str, Any]] = self._get("/v1/log/entries", after=after)["events"]
        return events

    def host_keys(self) -> list[Mapping[str, Any]]:
        keys: list[Mapping[str, Any]] = self._get("/v1/log/host-keys")
        return keys

    def post_cosignature(self, size: int, line: str) -> Mapping[str, Any]:
        try:
            response = self.client.post(
                "/v1/log/cosignatures",
                json={"size": size, "cosignature": line},
                headers=self.headers,
            )
        except httpx.HTTPError as exc:
            raise HostError(f"cannot reach the host ({exc})") from exc
        if response.status_code != 201:
            raise HostError(f"the host refused the cosignature: {response.text[:300]}")
        answer: Mapping[str, Any] = response.json()
        return answer


@app.command("witness")
def witness(
    host: Annotated[str, typer.Option("--host", help="The service's URL, e.g. http://h:8700")],
    token: Annotated[str, typer.Option("--token", help="Your party's API token")],
    key: Annotated[Path, typer.Option("--key", help="Your party's Ed25519 private key (PEM)")],
    state: Annotated[
        Path, typer.Option("--state", help="Folder of the witness's state (made if missing)")
    ],
    once: Annotated[bool, typer.Option("--once", help="One checkpoint, then exit")] = False,
    every: Annotated[float, typer.Option("--every", help="Seconds between checkpoints")] = 10.0,
    host_key: Annotated[
        str,
        typer.Option("--host-key", help="Pin the host's verifier key (C2SP vkey) on first use"),
    ] = "",
) -> None:
    """Witness the host's log: check each checkpoint's signature, its consistency with the last
    one you cosigned and the inclusion of every entry you hold, then cosign it. Exit status 1,
    with a line naming what was wrong, when the host misbehaves; nothing is cosigned then."""
    from deconflict.errors import DeconflictError
    from deconflict.hotline.keys import Signer, private_key_from_pem
    from deconflict.hotline.witness import Refusal, WitnessState, witness_once

    try:
        signer = Signer("witness", private_key_from_pem(key.read_bytes()))
        saved = WitnessState.load(state)
    except (OSError, DeconflictError) as exc:
        fail(str(exc))
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=host, headers=headers, timeout=30.0) as client:
        source = HttpLogSource(client)
        while True:
            try:
                cycle = witness_once(source, saved, signer, now_s=time.time(), host_key=host_key)
            except Refusal as exc:
                typer.echo(f"REFUSED: {exc}")
                raise typer.Exit(1) from None
            except (HostError, DeconflictError) as exc:
                if once:
                    fail(str(exc))
                typer.echo(f"host not answering, retrying: {exc}", err=True)
            else:
                saved.save(state)
                typer.echo(cycle.line())
            if once:
                return
            time.sleep(every)


@host_key_app.command("show")
def show(
    db: Annotated[str | None, typer.Option("--db", help="Store URL")] = None,
) -> None:
    """Print the host's verifier key (C2SP vkey): give it to parties to pin with --host-key."""
    from deconflict.errors import DeconflictError
    from deconflict.hotline.checkpoint import vkey
    from deconflict.service.signing import open_signed_store
    from deconflict.settings import Settings
    from deconflict.workflows.transparency import log_origin

    try:
        settings = Settings.from_env(database_url=db)
        store, signer = open_signed_store(settings)
        try:
            typer.echo(vkey(log_origin(store, settings.log_origin), signer.public_key))
        finally:
            store.close()
    except DeconflictError as exc:
        fail(exc)


@host_key_app.command("rotate")
def rotate(
    db: Annotated[str | None, typer.Option("--db", help="Store URL")] = None,
    new_key: Annotated[
        Path | None,
        typer.Option("--new-key", help="With a host_key_file: where to write the new key (PEM)"),
    ] = None,
) -> None:
    """Hand the host's identity to a new key: a ``host.key.rotated`` entry signed by the old key
    and the new. Keys kept in the store switch at once (restart the other instances); with a
    ``host_key_file``, the new key is written to --new-key: point the setting at it and restart."""
    import os

    from deconflict.errors import DeconflictError
    from deconflict.hotline.keys import Signer, generate_private_key, private_key_to_pem
    from deconflict.service.signing import HostSealer, open_signed_store
    from deconflict.settings import Settings
    from deconflict.workflows.transparency import rotate as rotate_key

    try:
        settings = Settings.from_env(database_url=db)
    except DeconflictError as exc:
        fail(exc)
    in_store = not settings.host_key_file
    if not in_store and new_key is None:
        fail("the host key is in a file (host_key_file): give --new-key FILE for the new one")
    if new_key is not None and new_key.exists():
        fail(f"{new_key} exists: refusing to overwrite a key; choose another --new-key")
    new = Signer("host", generate_private_key())
    try:
        store, old = open_signed_store(settings)
        try:
            if new_key is not None:
                fd = os.open(new_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(private_key_to_pem(new.private_key))
            seq = rotate_key(store, old, new, keep_in_store=in_store)
            store.sealer = HostSealer(new)
        finally:
            store.close()
    except (DeconflictError, OSError) as exc:
        fail(str(exc))
    typer.echo(f"host key {old.key_id} handed over to {new.key_id} at seq {seq}")
