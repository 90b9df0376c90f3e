"""A party's node for blind checks: its operations, its keys, the checks it runs and answers.

No network and no clock here (times are passed in, Unix s): ``blind.agent`` carries the
envelopes to and from the host. The node holds, for each of its live blind operations, the
volumes, the salt of the commitment and the cells (``strategic.cells``); for each open check,
its PSI key and channel. What it learns of another party is the meeting cells and that party's
parts inside them (``learnt``).

Every envelope received is checked before it is used: addressed to this node, signed by the
sender's Ed25519 key (the key ring the node was given: a party answering with another party's
key is refused), for a check and round this node expects (an old message replayed is refused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from deconflict.blind import protocol as pr
from deconflict.blind.channel import Channel
from deconflict.blind.psi import Requester, answer
from deconflict.errors import InputError, VerificationError
from deconflict.hotline.authorship import sign_content, signature_verifies
from deconflict.hotline.keys import Signer
from deconflict.strategic import cells as cl
from deconflict.strategic.index import brute_force_conflicts
from deconflict.strategic.model import Buffers, Volume4D, parse_operation, parse_volume
from deconflict.strategic.parts import clip_parts


@dataclass
class Held:
    """One of the party's own operations, as its node holds it."""

    volumes: tuple[Volume4D, ...]
    salt: str = field(default_factory=pr.new_salt)
    id: str = ""
    token: str = ""
    cells: set[cl.Cell] = field(default_factory=set)

    @property
    def commitment(self) -> str:
        return pr.commitment(self.volumes, self.salt)


@dataclass
class _Check:
    role: str  # "a" (declarer) or "b" (answerer)
    other: str
    next_round: int
    channel: Channel
    a_commitment: str = ""
    candidate: Held | None = None
    requester: Requester | None = None
    b_operations: list[dict[str, str]] = field(default_factory=list)
    meet: set[cl.Cell] = field(default_factory=set)
    parts: list[Volume4D] = field(default_factory=list)
    snapshot: dict[str, Held] = field(default_factory=dict)


@dataclass(frozen=True)
class Completed:
    """A check the declarer finished: the outcome both signed, and what it learnt."""

    outcome: dict[str, Any]
    signatures: dict[str, str]
    parts: dict[str, list[dict[str, Any]]]  # the other's conflicting operations' parts


def _parts(raw: Any) -> list[Volume4D]:
    if not isinstance(raw, list):
        raise InputError("parts must be a list of volumes")
    return [parse_volume(v) for v in raw]


def _conflicts(mine: Sequence[Volume4D], theirs: Sequence[Volume4D], buffers: Buffers) -> bool:
    if not mine or not theirs:
        return False
    a = parse_operation({"id": "a", "owner": "a", "volumes": list(mine)})
    b = parse_operation({"id": "b", "owner": "b", "volumes": list(theirs)})
    return bool(brute_force_conflicts(a, [b], buffers))


def _roundtrip(volumes: Sequence[Volume4D]) -> list[Volume4D]:
    """Volumes as the other side will read them (both sides check the same numbers)."""
    return [parse_volume(v) for v in pr.volumes_json(volumes)]


class Node:
    """The party ``name``'s node; ``keys``: each other party's Ed25519 public key (by name)."""

    def __init__(
        self,
        signer: Signer,
        grid: cl.Grid,
        buffers: Buffers,
        keys: Mapping[str, Ed25519PublicKey],
    ) -> None:
        self.signer = signer
        self.name = signer.party
        self.grid = grid
        self.buffers = buffers
        self.keys = dict(keys)
        self.operations: dict[str, Held] = {}
        self._checks: dict[str, _Check] = {}
        self._seen: set[str] = set()  # every check id this node has taken part in
        self.learnt: dict[str, dict[str, list[dict[str, Any]]]] = {}

    # -- own operations ---------------------------------------------------------------------
    def hold(self, volumes: Sequence[Volume4D]) -> Held:
        """A candidate operation (not yet declared): its salt, commitment and cells."""
        held = Held(tuple(volumes))
        held.cells = set().union(*cl.cover(held.volumes, self.buffers, self.grid))
        return held

    def declared(self, held: Held, op_id: str, token: str, state: str) -> None:
        """The host accepted ``held`` as operation ``op_id``: answer checks with it from now."""
        held.id, held.token = op_id, token
        if state == "Ended":
            self.operations.pop(op_id, None)
        else:
            self.operations[op_id] = held

    # -- the envelope -----------------------------------------------------------------------
    def _envelope(
        self,
        check: str,
        round_no: int,
        to: str,
        now_s: float,
        body: dict[str, str],
        meta: dict[str, Any],
    ) -> dict[str, Any]:
        content = pr.envelope_content(check, round_no, self.name, to, now_s, body, meta)
        return {
            "check": check,
            "round": round_no,
            "sender": self.name,
            "recipient": to,
            "time_s": float(now_s),
            "body": body,
            "meta": meta,
            "signature": sign_content(self.signer, content),
            "key_id": self.signer.key_id,
        }

    def _verify(self, env: Mapping[str, Any]) -> _Check | None:
        sender = str(env.get("sender", ""))
        if env.get("recipient") != self.name:
            raise VerificationError(f"a message for {env.get('recipient')!r} reached {self.name!r}")
        key = self.keys.get(sender)
        if key is None:
            raise VerificationError(f"a message from {sender!r}, whose key this node does not hold")
        if not signature_verifies(key, str(env.get("signature", "")), pr.content_of(env)):
            raise VerificationError(
                f"a message from {sender!r} is not signed by {sender!r}'s key: refused"
            )
        check = self._checks.get(str(env["check"]))
        round_no = int(env["round"])
        if check is None:
            if round_no != 1 or str(env["check"]) in self._seen:
                raise VerificationError(
                    f"round {round_no} of a check that is not open here: refused (replay?)"
                )
            self._seen.add(str(env["check"]))
            return None
        if check.other != sender or check.next_round != round_no:
            raise VerificationError(
                f"round {round_no} of check {env['check']} from {sender!r} is not the one "
                f"expected: refused (replay?)"
            )
        return check

    # -- the declarer's side ------------------------------------------------------------------
    def open_check(self, candidate: Held, other: str, now_s: float) -> dict[str, Any]:
        """Round 1 of a check of ``candidate`` with party ``other``."""
        check_id = pr.new_check_id()
        self._seen.add(check_id)
        req = Requester(cl.items(candidate.cells, self.grid))
        ch = Channel()
        self._checks[check_id] = _Check("a", other, 2, ch, candidate.commitment, candidate, req)
        body = {"psi_request": _b64(req.request()), "channel_key": ch.public_b64}
        return self._envelope(check_id, 1, other, now_s, body, {"commitment": candidate.commitment})

    def handle(self, env: Mapping[str, Any], now_s: float) -> dict[str, Any] | Completed | None:
        """The reply to a relayed envelope (or, at the end, the completed check)."""
        check = self._verify(env)
        if check is None:
            return self._answer_request(env, now_s)
        if check.role == "a" and check.next_round == 2:
            return self._on_answer(str(env["check"]), check, env, now_s)
        if check.role == "b" and check.next_round == 3:
            return self._on_parts(str(env["check"]), check, env, now_s)
        if check.role == "a" and check.next_round == 4:
            return self._on_outcome(str(env["check"]), check, env, now_s)
        raise VerificationError("unexpected message: refused")

    def _on_answer(
        self, cid: str, c: _Check, env: Mapping[str, Any], now_s: float
    ) -> dict[str, Any]:
        assert c.requester is not None and c.candidate is not None
        body = env["body"]
        met = c.requester.intersection(_unb64(body["psi_setup"]), _unb64(body["psi_response"]))
        c.meet = {cl.cell_of_item(i) for i in met}
        c.b_operations = [dict(o) for o in env["meta"].get("operations", [])]
        c.channel.join(str(body["channel_key"]), cid)
        c.parts = _roundtrip(clip_parts(c.candidate.volumes, c.meet, self.buffers, self.grid))
        sealed = c.channel.seal({"meet": met, "parts": pr.volumes_json(c.parts)}, 3)
        c.next_round = 4
        return self._envelope(cid, 3, c.other, now_s, {"sealed": sealed}, {})

    def _on_outcome(self, cid: str, c: _Check, env: Mapping[str, Any], now_s: float) -> Completed:
        got = c.channel.open(str(env["body"]["sealed"]), 4)
        theirs = {str(k): _parts(v) for k, v in dict(got["parts"]).items()}
        conflicts = [k for k, v in theirs.items() if _conflicts(c.parts, v, self.buffers)]
        claimed = dict(env["meta"]["outcome"])
        mine = pr.outcome_content(
            cid,
            self.name,
            c.other,
            c.a_commitment,
            c.b_operations,
            len(c.meet),
            conflicts,
            float(claimed.get("time_s", now_s)),
        )
        if claimed != mine:
            raise VerificationError(
                f"{c.other!r}'s signed outcome of check {cid} disagrees with this node's own "
                f"exact check of the parts (theirs {claimed}, ours {mine}): not co-signed"
            )
        del self._checks[cid]
        shown = {k: pr.volumes_json(theirs[k]) for k in conflicts}
        self.learnt.setdefault(c.other, {}).update(shown)
        sigs = {"a": sign_content(self.signer, mine), "b": str(env["meta"]["signature"])}
        return Completed(mine, sigs, shown)

    # -- the answerer's side ------------------------------------------------------------------
    def _answer_request(self, env: Mapping[str, Any], now_s: float) -> dict[str, Any]:
        cid, other = str(env["check"]), str(env["sender"])
        snapshot = dict(self.operations)
        mine = set().union(*(h.cells for h in snapshot.values())) if snapshot else set()
        setup, response = answer(_unb64(env["body"]["psi_request"]), cl.items(mine, self.grid))
        ch = Channel()
        ch.join(str(env["body"]["channel_key"]), cid)
        ops = [{"id": i, "commitment": h.commitment} for i, h in sorted(snapshot.items())]
        self._checks[cid] = _Check(
            "b",
            other,
            3,
            ch,
            str(env["meta"].get("commitment", "")),
            b_operations=ops,
            snapshot=snapshot,
        )
        body = {
            "psi_setup": _b64(setup),
            "psi_response": _b64(response),
            "channel_key": ch.public_b64,
        }
        return self._envelope(cid, 2, other, now_s, body, {"operations": ops})

    def _on_parts(
        self, cid: str, c: _Check, env: Mapping[str, Any], now_s: float
    ) -> dict[str, Any]:
        got = c.channel.open(str(env["body"]["sealed"]), 3)
        mine_cells = set().union(*(h.cells for h in c.snapshot.values())) if c.snapshot else set()
        meet = {cl.cell_of_item(str(i)) for i in got["meet"]}
        if not meet <= mine_cells or any(
            not str(i).startswith(self.grid.ident + "|") for i in got["meet"]
        ):
            del self._checks[cid]
            raise VerificationError(
                f"{c.other!r} claims meeting cells this node does not hold: refused (probing?)"
            )
        theirs = _roundtrip(_parts(got["parts"]))
        parts: dict[str, list[Volume4D]] = {}
        for op_id, held in c.snapshot.items():
            p = _roundtrip(clip_parts(held.volumes, meet, self.buffers, self.grid))
            if p:
                parts[op_id] = p
        conflicts = [k for k, v in parts.items() if _conflicts(theirs, v, self.buffers)]
        outcome = pr.outcome_content(
            cid, c.other, self.name, c.a_commitment, c.b_operations, len(meet), conflicts, now_s
        )
        sealed = c.channel.seal({"parts": {k: pr.volumes_json(v) for k, v in parts.items()}}, 4)
        del self._checks[cid]
        if conflicts:
            self.learnt.setdefault(c.other, {})["candidate"] = pr.volumes_json(theirs)
        meta = {"outcome": outcome, "signature": sign_content(self.signer, outcome)}
        return self._envelope(cid, 4, c.other, now_s, {"sealed": sealed}, meta)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    import base64
    import binascii

    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"a message field is not base64 ({exc})") from exc
