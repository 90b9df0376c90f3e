"""The party's node on the host's HTTP API (times Unix s UTC): ``deconflict agent``.

``Agent`` wraps a ``Node`` with an HTTP client (``httpx.Client``; FastAPI's ``TestClient`` is
one): it reads the grid and the other parties' keys from the host, carries envelopes both ways
(``pump``: read the mailbox, answer what came in, hand in finished outcomes) and declares
operations in three steps, so a single thread can drive several agents (``begin`` opens a check
with every party that has live blind operations, ``pump`` until they are done or the wait is
over, ``finish`` declares with the outcomes it has). ``declare`` does all three, waiting up to
``wait_s``.

While a party's node is offline its checks wait in its mailbox at the host: the declarer's
``finish`` goes to the host without that outcome and the host refuses the declaration (409),
naming the party it could not check with and its contact (``Pending.unchecked`` says so before
asking). When the node comes back it answers what waited, and the declarer can ``finish`` again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from deconflict.blind.node import Completed, Held, Node
from deconflict.blind.protocol import volumes_json
from deconflict.errors import DeconflictError, VerificationError
from deconflict.hotline.keys import Signer, public_key_from_b64
from deconflict.strategic.cells import Grid
from deconflict.strategic.model import Buffers, Volume4D, parse_volume


class HostError(DeconflictError):
    """The host refused a request; ``status`` and ``body`` are its answer."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        msg = body.get("error", {}).get("message", body) if isinstance(body, dict) else body
        super().__init__(f"host answered {status}: {msg}")


@dataclass
class Pending:
    """A declaration under way: the candidate, its checks (check id → party), the outcomes."""

    held: Held
    checks: dict[str, str]
    priority: int = 0
    contact: str = ""
    state: str = "Accepted"
    expires: str = ""
    op_id: str | None = None
    token: str | None = None
    done: dict[str, Completed] = field(default_factory=dict)

    @property
    def unchecked(self) -> list[str]:
        """The parties whose answer has not come (their node is offline or slow)."""
        return sorted(p for c, p in self.checks.items() if c not in self.done)


class Agent:
    """A party's node speaking to the host at ``http`` with ``token``."""

    def __init__(
        self,
        http: httpx.Client,
        token: str,
        signer: Signer,
        *,
        clock: Callable[[], float] = time.time,
        pinned: Mapping[str, str] | None = None,
    ) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clock = clock
        self.pinned = dict(pinned or {})
        g = self._get("/v1/blind/grid")
        grid = Grid(float(g["cell_m"]), float(g["band_m"]), float(g["slot_s"]))
        buffers = Buffers(horizontal_m=float(g["horizontal_m"]), vertical_m=float(g["vertical_m"]))
        self.node = Node(signer, grid, buffers, {})
        self.cursor = -1
        self.refused = 0  # messages dropped for failing their checks
        self._pending: dict[str, Pending] = {}  # check id -> its declaration
        self.refresh_keys()

    # -- HTTP -----------------------------------------------------------------------------------
    def _answer(self, r: httpx.Response) -> Any:
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = r.text
            raise HostError(r.status_code, body)
        return r.json()

    def _get(self, path: str, **params: Any) -> Any:
        return self._answer(self.http.get(path, headers=self.headers, params=params))

    def _post(self, path: str, body: Any) -> Any:
        return self._answer(self.http.post(path, headers=self.headers, json=body))

    def refresh_keys(self) -> list[dict[str, Any]]:
        """The other parties from the host; their keys, unless pinned (``pinned`` wins)."""
        others: list[dict[str, Any]] = self._get("/v1/blind/parties")
        for p in others:
            text = self.pinned.get(p["name"], p["public_key"])
            if text:
                self.node.keys[p["name"]] = public_key_from_b64(text)
        return others

    # -- what the node keeps between runs ---------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the node's live operations (volumes, salts, ids, tokens) to ``path``: without
        them a restarted node could not answer for its operations (the host would then refuse
        others' declarations as stale, never pass them unchecked). Keep the file private."""
        ops = {
            i: {"volumes": volumes_json(h.volumes), "salt": h.salt, "token": h.token}
            for i, h in self.node.operations.items()
        }
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps({"party": self.node.name, "operations": ops}), encoding="utf-8")
        tmp.replace(path)

    def load(self, path: str | Path) -> int:
        """Read what ``save`` wrote (nothing if the file is missing); returns the count."""
        p = Path(path)
        if not p.exists():
            return 0
        data = json.loads(p.read_text(encoding="utf-8"))
        for op_id, o in data.get("operations", {}).items():
            held = self.node.hold([parse_volume(v) for v in o["volumes"]])
            held.salt = str(o["salt"])
            self.node.declared(held, op_id, str(o["token"]), "Accepted")
        return len(self.node.operations)

    # -- answering ------------------------------------------------------------------------------
    def pump(self) -> int:
        """Read the mailbox once and act on every message; returns how many were handled.
        A message that fails its checks (signature, replay, probing) is dropped and counted."""
        got = self._get("/v1/blind/messages", after=self.cursor)["messages"]
        for env in got:
            self.cursor = max(self.cursor, int(env["seq"]))
            if env["sender"] not in self.node.keys:
                self.refresh_keys()
            try:
                reply = self.node.handle(env, self.clock())
            except (VerificationError, DeconflictError):
                self.refused += 1
                continue
            if isinstance(reply, Completed):
                self._post(
                    "/v1/blind/outcomes", {"outcome": reply.outcome, "signatures": reply.signatures}
                )
                pending = self._pending.pop(str(env["check"]), None)
                if pending is not None:
                    pending.done[str(env["check"])] = reply
            elif reply is not None:
                self._post("/v1/blind/messages", reply)
        return len(got)

    # -- declaring ------------------------------------------------------------------------------
    def begin(
        self,
        volumes: Sequence[Volume4D | Mapping[str, Any]],
        *,
        priority: int = 0,
        contact: str = "",
        state: str = "Accepted",
        expires: datetime | None = None,
        op_id: str | None = None,
    ) -> Pending:
        """Hold the candidate and open a check with every party that has live blind
        operations."""
        vols = [parse_volume(v) for v in volumes]
        held = self.node.hold(vols)
        end = expires or max(v.time_end for v in vols)
        token = None if op_id is None else self.node.operations[op_id].token
        pending = Pending(
            held, {}, priority, contact, state, end.astimezone(UTC).isoformat(), op_id, token
        )
        for p in self.refresh_keys():
            if p["live"]:
                env = self.node.open_check(held, p["name"], self.clock())
                self._post("/v1/blind/messages", env)
                pending.checks[str(env["check"])] = p["name"]
                self._pending[str(env["check"])] = pending
        return pending

    def finish(self, pending: Pending) -> dict[str, Any]:
        """Declare with the outcomes in hand (409 from the host names whom it lacks)."""
        body = {
            "commitment": pending.held.commitment,
            "contact": pending.contact,
            "priority": pending.priority,
            "state": pending.state,
            "expires": pending.expires,
            "checks": sorted(pending.done),
        }
        if pending.op_id is None:
            rec: dict[str, Any] = self._post("/v1/blind/operations", body)
        else:
            r = self.http.put(
                f"/v1/blind/operations/{pending.op_id}",
                headers=self.headers,
                json={**body, "token": pending.token},
            )
            rec = self._answer(r)
        self.node.declared(pending.held, rec["id"], rec["token"], rec["state"])
        return rec

    def declare(
        self, volumes: Sequence[Volume4D | Mapping[str, Any]], *, wait_s: float = 30.0, **kw: Any
    ) -> dict[str, Any]:
        """``begin``, answer and wait up to ``wait_s`` for every check, then ``finish``."""
        pending = self.begin(volumes, **kw)
        deadline = time.monotonic() + wait_s
        while pending.unchecked and time.monotonic() < deadline:
            if not self.pump():
                time.sleep(0.2)
        return self.finish(pending)
