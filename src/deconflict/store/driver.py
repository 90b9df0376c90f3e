"""The database driver a store URL needs, checked before SQLAlchemy reaches for it.

SQLite is in Python; PostgreSQL needs ``psycopg``, an optional extra (``deconflict[postgres]``)
so that a user of SQLite alone installs no PostgreSQL driver.
"""

from __future__ import annotations

import importlib.util

import sqlalchemy as sa

from deconflict.errors import StorageError

POSTGRES_EXTRA = "deconflict[postgres]"


def require_psycopg(what: str) -> None:
    """Raise a :class:`StorageError` naming the extra to install when psycopg is missing."""
    if importlib.util.find_spec("psycopg") is None:
        raise StorageError(
            f"{what} needs the PostgreSQL driver psycopg, which is not installed: "
            f"pip install '{POSTGRES_EXTRA}' (or use a SQLite database, sqlite:///FILE)"
        )


def postgres_url(url: sa.URL) -> sa.URL:
    """A ``postgresql://`` URL with the psycopg driver SQLAlchemy should use, once checked that
    psycopg is installed; other PostgreSQL drivers named in the URL are left as they are."""
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername == "postgresql+psycopg":
        require_psycopg(f"the database URL {url.render_as_string()!r}")
    return url
