"""Write a store with the code of the version before the transparency log (commit 87e8790):
parties with keys, party-signed messages with awkward floats, an acknowledgement.

    BASE=$(mktemp -d); git archive 87e8790 src | tar -x -C "$BASE"
    PYTHONPATH="$BASE/src" python make_legacy.py OUT_DIR
    PYTHONPATH="$BASE/src" deconflict audit export --db sqlite:///OUT_DIR/v1_store.db \
        --out v1_log.jsonl
    python -c "import sqlite3; c = sqlite3.connect('OUT_DIR/v1_store.db'); \
        open('v1_store.sql', 'w').write('\\n'.join(c.iterdump()) + '\\n')"
"""

import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from deconflict.hotline.authorship import acknowledgement_content, message_content, sign_content
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.hotline.messages import make_message
from deconflict.service import create_app
from deconflict.settings import Settings

out = Path(sys.argv[1])
ADMIN = "legacy-admin"
settings = Settings(
    database_url=f"sqlite:///{out}/v1_store.db",
    admin_token=ADMIN,
    host_key_file=str(out / "host.pem"),
)
H = {"Authorization": f"Bearer {ADMIN}"}
with TestClient(create_app(settings)) as c:
    ps = {}
    for n in ("blue", "red"):
        r = c.post("/v1/parties", json={"name": n}, headers=H).json()
        ps[n] = r

    def send(who, to, body):
        s = Signer(who["name"], private_key_from_pem(who["private_key_pem"].encode()))
        now = time.time()
        m = make_message("free_text", who["name"], to, body, time_s=now)
        req = {
            "to": to,
            "body": body,
            "time_s": now,
            "signature": sign_content(s, message_content(m)),
            "key_id": s.key_id,
        }
        r = c.post("/v1/messages", json=req, headers={"Authorization": f"Bearer {who['token']}"})
        assert r.status_code == 201, r.text
        return r.json()["message"]["message_id"]

    mid = send(
        ps["blue"],
        ["red"],
        {"text": "climb to FL250", "alt_ft": 25000.0, "tiny": 1.5e-7, "big": 1e21, "é": "ü"},
    )
    send(ps["red"], ["blue"], {"text": "roger", "heading": 270.5})
    red = ps["red"]
    s = Signer("red", private_key_from_pem(red["private_key_pem"].encode()))
    now = time.time()
    r = c.post(
        f"/v1/messages/{mid}/ack",
        json={
            "time_s": now,
            "signature": sign_content(s, acknowledgement_content(mid, "red", now)),
            "key_id": s.key_id,
        },
        headers={"Authorization": f"Bearer {red['token']}"},
    )
    assert r.status_code in (200, 201), r.text
print("ok")
