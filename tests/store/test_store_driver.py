"""A user of SQLite alone needs no PostgreSQL driver; a postgresql:// URL without one says which
extra to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deconflict.engine.leader import Leadership
from deconflict.errors import StorageError
from deconflict.service.fanout import libpq_url
from deconflict.store import open_store

#: run first in a child interpreter: psycopg cannot be imported, as on a SQLite-only install
_NO_PSYCOPG = "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_binary'] = None\n"


def test_sqlite_store_service_and_engine_run_without_psycopg(tmp_path: Path) -> None:
    script = _NO_PSYCOPG + (
        "from deconflict.store import open_store\n"
        "from deconflict.engine.leader import Leadership\n"
        "from deconflict.service.app import create_app\n"
        "from deconflict.settings import Settings\n"
        f"url = 'sqlite:///{tmp_path / 'db.sqlite'}'\n"
        "store = open_store(url)\n"
        "party, token = store.add_party('alpha', public_key='k')\n"
        "assert store.party_by_token(token).id == party.id\n"
        "store.close()\n"
        "lead = Leadership(url)\n"
        "assert lead.try_acquire()\n"
        "lead.release()\n"
        "create_app(Settings(database_url=url))\n"
        "assert 'psycopg' not in {m.split('.')[0] for m, v in sys.modules.items() if v}\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize(
    "url", ["postgresql://root@127.0.0.1/test", "postgresql+psycopg://root@127.0.0.1/test"]
)
def test_postgres_url_without_psycopg_names_the_extra(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    for opening in (lambda: open_store(url), lambda: Leadership(url), lambda: libpq_url(url)):
        with pytest.raises(StorageError, match=r"pip install 'deconflict\[postgres\]'"):
            opening()


def test_postgres_url_with_psycopg_opens(postgres_url: str) -> None:
    """The bare ``postgresql://`` form gets the psycopg driver (SQLAlchemy's default for it,
    psycopg2, is not installed)."""
    bare = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    store = open_store(bare)
    try:
        assert store.backend == "postgresql"
        party, token = store.add_party("alpha", public_key="k")
        assert store.party_by_token(token) == party
    finally:
        store.close()
