"""``deconflict agent``: the party's node for blind checks (declares, answers while online)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from deconflict.cli._app import app, echo_json, fail
from deconflict.errors import DeconflictError


@app.command("agent")
def agent_command(
    host: Annotated[str, typer.Option(help="The host's URL, e.g. http://127.0.0.1:8700.")],
    token: Annotated[str, typer.Option(help="The party's API token.")],
    key: Annotated[Path, typer.Option(help="The party's Ed25519 private key (PEM).")],
    declare: Annotated[
        list[Path] | None,
        typer.Option(
            help="Operation file(s) to declare first: JSON, a list of volumes or an object "
            "with `volumes` (and optional `priority`, `contact`)."
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="File the node keeps its operations and salts in (default: by party)."),
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(help="KEYS.json pinning other parties' public keys (else the host's list)."),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds a declaration waits for answers.")] = 30.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until killed).")
    ] = None,
) -> None:
    """Hold the party's blind operations and PSI keys, declare the given ones (checked with
    every party that has live blind operations), then answer other parties' checks while it
    runs. A party whose node does not answer within --wait is named (`unchecked`) and the host
    refuses the declaration until its check is done; the check waits in its mailbox."""
    import json

    import httpx

    from deconflict.blind.agent import Agent, HostError
    from deconflict.hotline.keys import KeyRing, Signer, private_key_from_pem, public_key_to_b64

    try:
        private = private_key_from_pem(key.read_bytes())
    except OSError as exc:
        fail(f"cannot read the key {key}: {exc}")
    except DeconflictError as exc:
        fail(exc)
    with httpx.Client(base_url=host, timeout=60.0) as http:
        try:
            me = http.get("/v1/parties/me", headers={"Authorization": f"Bearer {token}"})
            if me.status_code != 200:
                fail(f"the host refused the token ({me.status_code}): {me.text}")
            name = str(me.json()["name"])
            pinned: dict[str, str] = {}
            if keys is not None:
                ring = KeyRing.load(keys)
                for party, ks in ring.keys.items():
                    pinned[party] = public_key_to_b64(next(iter(ks.values())))
            agent = Agent(http, token, Signer(name, private), pinned=pinned)
            path = state or Path(f"deconflict-agent-{name}.json")
            echo_json({"event": "started", "party": name, "operations": agent.load(path)})
            for f in declare or []:
                data = json.loads(f.read_text(encoding="utf-8"))
                spec = data if isinstance(data, dict) else {"volumes": data}
                pending = agent.begin(
                    spec["volumes"],
                    priority=int(spec.get("priority", 0)),
                    contact=str(spec.get("contact", "")),
                )
                deadline = time.monotonic() + wait
                while pending.unchecked and time.monotonic() < deadline:
                    if not agent.pump():
                        time.sleep(0.2)
                if pending.unchecked:
                    echo_json({"event": "unchecked", "file": str(f), "parties": pending.unchecked})
                try:
                    rec = agent.finish(pending)
                    agent.save(path)
                    echo_json({"event": "declared", "file": str(f), "operation": rec})
                except HostError as exc:
                    echo_json(
                        {
                            "event": "refused",
                            "file": str(f),
                            "status": exc.status,
                            "error": exc.body,
                        }
                    )
            end = None if duration is None else time.monotonic() + duration
            while end is None or time.monotonic() < end:
                if not agent.pump():
                    time.sleep(0.5)
        except (httpx.HTTPError, DeconflictError, OSError, ValueError, KeyError) as exc:
            fail(f"agent stopped: {exc}")
