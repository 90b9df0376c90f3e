"""Shared fixtures: the real recordings and the servers (PostgreSQL, Redis, NATS).

Tests reach ``../shared/data/real`` only through the ``real_data`` fixture, and the servers only
through ``postgres_url``, ``redis_url`` and ``nats_url``. Where one is missing, the test is
skipped with the reason — except in CI (``CI=true``), where a missing one is an error, because
there every test must run.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI=true: every test must run here)", pytrace=False)
    pytest.skip(what)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real recordings (``../shared/data/real`` beside the repo, or
    ``$DECONFLICT_REAL_DATA``)."""
    path = Path(os.environ.get("DECONFLICT_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
    if not (path / "README.md").is_file():
        _unavailable(f"real recordings not found at {path}: set DECONFLICT_REAL_DATA")
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference``: DAIDALUS outputs, anchors, primer."""
    path = Path(os.environ.get("DECONFLICT_REFERENCE", REPO.parent / "shared" / "reference"))
    if not (path / "daidalus_dev.json").is_file():
        _unavailable(f"reference files not found at {path}: set DECONFLICT_REFERENCE")
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of the PostgreSQL server's ``postgres`` database (for creating test databases)."""
    url = os.environ.get(
        "DECONFLICT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    if not _port_open("127.0.0.1", 5432):
        _unavailable("PostgreSQL is not reachable on 127.0.0.1:5432")
    return url


@pytest.fixture()
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa

    name = f"deconflict_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        _unavailable(f"cannot create a PostgreSQL test database: {exc}")
    base = postgres_server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not _port_open("127.0.0.1", 6379):
        _unavailable("Redis is not reachable on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def nats_url() -> str:
    if not _port_open("127.0.0.1", 4222):
        _unavailable("NATS is not reachable on 127.0.0.1:4222")
    return "nats://127.0.0.1:4222"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable(
            "Chromium is not installed (Debian package chromium; make test installs it as root)"
        )
    assert path is not None
    return path


@pytest.fixture()
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test keeps files a person may want to look at (screenshots, plots)."""
    path = REPO / "test-artifacts" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly which tests could not run here, grouped by the reason."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for rep in skipped:
        longrepr = rep.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.section("tests that could not run on this machine")
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{count:4d} × {reason}")
