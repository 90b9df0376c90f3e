"""``deconflict audit``: verify an exported log offline, and make party keys."""

from __future__ import annotations

from pathlib import Path

import typer

from deconflict.cli._app import app, echo_json, fail

audit_app = typer.Typer(
    help="Check the signed, hash-chained log offline; make Ed25519 keys for parties.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="Exported log, JSON lines (one entry per line)."),
    keys: Path = typer.Option(..., "--keys", help='Key ring JSON: {"party": "base64 key" | [...]}'),
    head: str | None = typer.Option(
        None, "--head", help="Hash the log must end at (catches a cut-off tail)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        help="A cosigned checkpoint (C2SP signed note, as `audit export` writes it): the "
        "export's first entries must make its root, signed by the host and cosigned by parties.",
    ),
    quorum: int = typer.Option(
        0, "--quorum", help="With --checkpoint: parties of the key ring that must have cosigned."
    ),
) -> None:
    """Verify hashes, chain and signatures (the host's, and each party's own on what it
    authored); exit 1 naming the first bad entry, or a key ring in which a party's key or a
    look-alike name claims the host. With --checkpoint, also check the export against a
    cosigned checkpoint of the log's Merkle tree."""
    from deconflict.errors import DeconflictError
    from deconflict.hotline.identity import host_claims
    from deconflict.hotline.jsonl import read_log_records
    from deconflict.hotline.keys import KeyRing
    from deconflict.hotline.log import verify_log

    try:
        ring = KeyRing.load(keys)
        records = read_log_records(file)
        claims = host_claims(ring, records)
        report = verify_log(records, ring, expected_head=head)
    except DeconflictError as exc:
        fail(exc)
    if claims:  # the ring itself is forged: no entry it vouches for the host can be trusted
        if as_json:
            echo_json({"ok": False, "key_ring": str(keys), "host_claims": claims})
        for claim in [] if as_json else claims:
            typer.echo(f"FAILED: key ring {keys}: {claim}")
        raise typer.Exit(1)
    if as_json:
        echo_json(report.to_dict())
    elif report.first_bad is None:
        typer.echo(f"ok: {report.entries} entries verified, head {report.head_hash}")
    else:
        typer.echo(f"FAILED: {report.first_bad.describe()}")
        typer.echo(f"{report.entries} entries before it verified")
    if report.first_bad is not None:
        raise typer.Exit(1)
    if checkpoint is not None:
        _verify_checkpoint(file, ring, checkpoint, quorum, as_json)


def _verify_checkpoint(
    file: Path, ring: object, checkpoint: Path, quorum: int, as_json: bool
) -> None:
    """The export against a cosigned checkpoint (``hotline.log_checkpoint``); exit 1 if not."""
    from deconflict.hotline.jsonl import read_log_records
    from deconflict.hotline.keys import KeyRing
    from deconflict.hotline.log_checkpoint import check_against_checkpoint

    assert isinstance(ring, KeyRing)
    try:
        note = checkpoint.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read checkpoint {checkpoint}: {exc}")
    found = check_against_checkpoint(read_log_records(file), note, ring, quorum)
    if as_json:
        echo_json({"checkpoint": found.to_dict()})
    elif found.ok:
        who = ", ".join(found.cosigned_by) or "no party"
        typer.echo(f"ok: checkpoint {found.size} matches the export, cosigned by {who}")
    else:
        typer.echo(f"FAILED: checkpoint {found.size}: {found.problem}")
    if not found.ok:
        raise typer.Exit(1)


@audit_app.command("keygen")
def keygen(
    party: str = typer.Argument(..., help="Party the key belongs to."),
    out: Path = typer.Option(..., "--out", help="PEM file to write the private key to."),
    keys: Path | None = typer.Option(
        None, "--keys", help="Key ring JSON to add the public key to (created if missing)."
    ),
) -> None:
    """Make an Ed25519 key pair: private key to --out (PEM), public key printed in base64."""
    import os

    from deconflict.errors import DeconflictError
    from deconflict.hotline.keys import (
        KeyRing,
        generate_private_key,
        private_key_to_pem,
        public_key_to_b64,
    )

    if out.exists():
        fail(f"{out} exists: refusing to overwrite a private key; choose another --out")
    try:  # read the ring first: a malformed one stops here, before any key is written
        ring = KeyRing.load(keys) if keys is not None and keys.exists() else KeyRing()
    except DeconflictError as exc:
        fail(f"{exc}; fix or move {keys}, then run keygen again")
    key = generate_private_key()
    public = public_key_to_b64(key.public_key())
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_key_to_pem(key))
        if keys is not None:
            ring = ring.with_key(party, key.public_key())
            keys.write_text(ring.to_json() + "\n", encoding="utf-8")
    except OSError as exc:
        fail(DeconflictError(f"cannot write keys: {exc}"))
    typer.echo(public)


@audit_app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="File to write the log to (JSON lines)."),
    db: str | None = typer.Option(
        None, "--db", help="Store URL (default $DECONFLICT_DATABASE_URL or sqlite file)."
    ),
    keys_out: Path | None = typer.Option(
        None,
        "--keys-out",
        help="Where to write the authors' public keys (default: OUT with suffix .keys.json). "
        "They are read from the log itself: check the host's key against the one it published.",
    ),
) -> None:
    """Write the service's whole signed log as JSON lines (atomically), and its authors' keys,
    ready for `deconflict audit verify OUT --keys KEYS`."""
    from deconflict.errors import DeconflictError
    from deconflict.settings import Settings
    from deconflict.store import open_store
    from deconflict.workflows.audit import export_log

    keys = keys_out or out.with_suffix(".keys.json")
    note_out = out.with_suffix(".checkpoint")
    try:
        store = open_store(Settings.from_env(database_url=db).database_url)
        try:
            count, head = export_log(store, out, keys)
            size = _export_checkpoint(store, note_out)
        finally:
            store.close()
    except (DeconflictError, OSError) as exc:
        fail(str(exc))
    typer.echo(f"{count} entries written to {out}, head {head}; keys in {keys}")
    if size is not None:
        typer.echo(f"latest checkpoint ({size} entries, with its cosignatures) in {note_out}")


def _export_checkpoint(store: object, path: Path) -> int | None:
    """Write the latest checkpoint and its cosignatures beside the export; its size, or None."""
    from deconflict.store import Store
    from deconflict.store.transparency import latest_checkpoint
    from deconflict.workflows.transparency import cosigned_note

    assert isinstance(store, Store)
    record = latest_checkpoint(store)
    if record is None:
        return None
    note, _who = cosigned_note(store, record)
    path.write_text(note, encoding="utf-8")
    return record.size
