"""ECDH private set intersection between two parties (items are strings; sizes in bytes).

OpenMined's ``openmined-psi`` (Apache-2.0): the requester blinds its items with a fresh secret
key (``H(x)^a`` on P-256); the answerer blinds them again (``H(x)^ab``) and sends its own items
blinded once (``H(y)^b``, in a raw list so no false positives are added), each with a fresh key;
the requester unblinds and learns which of its items the answerer also holds, and nothing else
but the size of the answerer's set. The answerer learns the size of the requester's set only. A
relay in between sees points on the curve, from which nothing is recovered without a key.

``Requester`` keeps its key between the two steps; ``answer`` is one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import private_set_intersection.python as psi

from deconflict.errors import InputError


class Requester:
    """The side that learns the intersection: ``request()``, then ``intersection(...)``."""

    def __init__(self, items: Sequence[str]) -> None:
        self.items = list(items)
        self._client = psi.client.CreateWithNewKey(True)

    def request(self) -> bytes:
        """The blinded items, to send to the answerer."""
        return bytes(self._client.CreateRequest(self.items).SerializeToString())

    def intersection(self, setup: bytes, response: bytes) -> list[str]:
        """The requester's items that the answerer also holds (sorted)."""
        s = psi.ServerSetup()
        r = psi.Response()
        try:
            s.ParseFromString(setup)
            r.ParseFromString(response)
            idx = self._client.GetIntersection(s, r)
        except Exception as exc:  # protobuf or the library: a malformed answer
            raise InputError(
                f"the PSI answer is malformed ({exc}): the check cannot go on"
            ) from exc
        return sorted(self.items[i] for i in idx)


def answer(request: bytes, items: Sequence[str]) -> tuple[bytes, bytes]:
    """The answerer's step: (setup, response) for a request, with a fresh key."""
    server = psi.server.CreateWithNewKey(True)
    req = psi.Request()
    try:
        req.ParseFromString(request)
        n = len(req.encrypted_elements)
        setup = server.CreateSetupMessage(0.0, max(n, 1), list(items), psi.DataStructure.RAW)
        response = server.ProcessRequest(req)
    except Exception as exc:
        raise InputError(f"the PSI request is malformed ({exc}): the check cannot go on") from exc
    return bytes(setup.SerializeToString()), bytes(response.SerializeToString())
