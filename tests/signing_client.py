"""A test client that signs operation declarations as a party's own client would; shared by
the service tests and the attack suite (``tests/`` is on the path through its conftest)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from deconflict.hotline.authorship import sign_content
from deconflict.hotline.keys import Signer, private_key_from_pem


class SigningClient(TestClient):
    """A test client that signs a party's operation declarations as the party's own client
    would (``engine.declarations``): it keeps the private key the service made for each party
    it registered, and when a write to ``/v1/operations`` comes back 422 with ``to_sign``, signs
    that content with the caller's key and sends the request again. ``sign_writes = False``
    turns it off (to send unsigned writes on purpose); parties registered with their own public
    key are never signed for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signers: dict[str, Signer] = {}  # token -> the party's signer
        self.sign_writes = True

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        r = super().request(method, url, *args, **kwargs)
        path = str(url)
        if method.upper() == "POST" and path == "/v1/parties" and r.status_code == 201:
            made = r.json()
            if made.get("private_key_pem"):
                key = private_key_from_pem(made["private_key_pem"].encode())
                self.signers[made["token"]] = Signer(made["name"], key)
            return r
        body = kwargs.get("json")
        if not (self.sign_writes and r.status_code == 422 and path.startswith("/v1/operations")):
            return r
        content = r.json().get("error", {}).get("to_sign")
        headers = kwargs.get("headers") or {}
        signer = self.signers.get(str(headers.get("Authorization", "")).removeprefix("Bearer "))
        if content is None or signer is None or not isinstance(body, dict):
            return r
        kwargs["json"] = {
            **body,
            "time_s": content["time_s"],
            "signature": sign_content(signer, content),
            "key_id": signer.key_id,
        }
        return super().request(method, url, *args, **kwargs)
