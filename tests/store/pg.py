"""A real PostgreSQL for the tests: a throw-away cluster, or ``PJGW_TEST_POSTGRES_URL``.

Import the fixtures into a ``conftest.py`` to use them from any test folder::

    from tests.store.pg import pg_server, pg_url  # noqa: F401

``pg_server`` (session) yields an admin URL; ``pg_url`` (per test) a fresh,
empty database on it, dropped afterwards. Without ``PJGW_TEST_POSTGRES_URL``
the session starts a cluster with the Debian binaries
(``/usr/lib/postgresql/<v>/bin/initdb`` and ``pg_ctl``): data and socket
directories in a temp dir, ``listen_addresses=127.0.0.1`` on a free port,
trust authentication, ``fsync=off`` (a test cluster never outlives the run).
As root the binaries run as the ``postgres`` user (PostgreSQL refuses root).
Missing binaries FAIL the tests with the fix: a PostgreSQL suite that skipped
would pass while proving nothing.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.net import free_port as _free_port

ENV_URL = "PJGW_TEST_POSTGRES_URL"
PG_GLOB = "/usr/lib/postgresql/*/bin"
READY_TIMEOUT_S = 30.0


def find_pg_bin(root: Path = Path("/usr/lib/postgresql")) -> Path:
    """The newest installed PostgreSQL ``bin`` directory (fails the test run if none)."""
    candidates = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not candidates:
        pytest.fail(
            f"PostgreSQL binaries not found ({PG_GLOB}/initdb): install the Debian package "
            f"(apt-get install -y postgresql; .ci/run does it) or set {ENV_URL} to a server "
            "where the user may CREATE DATABASE",
            pytrace=False,
        )
    return candidates[-1]


class PgCluster:
    """One throw-away cluster: ``start()`` waits until it accepts connections."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="pjgw-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.user = "postgres"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb/postgres refuse to run as root: hand the directory to `postgres`.
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root but there is no 'postgres' user to run the cluster")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            runuser = shutil.which("runuser")
            self._as_user = [runuser, "-u", "postgres", "--"] if runuser else []
            if not runuser:
                pytest.fail("running as root without runuser: cannot start PostgreSQL")
        self.url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, check=False, timeout=120
        )

    def start(self) -> None:
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if done.returncode != 0:
            pytest.fail(f"initdb failed: {done.stderr.strip()[-2000:]}", pytrace=False)
        self._run("mkdir", "-p", str(self.sockets))
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        done = self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(READY_TIMEOUT_S)),
            "start",
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            pytest.fail(f"pg_ctl start failed: {done.stderr.strip()} {log[-2000:]}", pytrace=False)
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(
                    host="127.0.0.1", port=self.port, user=self.user, dbname="postgres"
                ) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin SQLAlchemy URL of a PostgreSQL server for this test session."""
    configured = os.environ.get(ENV_URL)
    if configured:
        yield configured
        return
    cluster = PgCluster(find_pg_bin())
    try:
        cluster.start()
        yield cluster.url
    finally:
        cluster.stop()


def _conninfo(url: str, dbname: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if dbname is not None:
        parsed = parsed.set(database=dbname)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh empty database on ``pg_server`` for one test (dropped afterwards)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"pjgw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(pg_server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield (
        make_url(pg_server)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )
    with (
        psycopg.connect(_conninfo(pg_server), autocommit=True) as admin,
        contextlib.suppress(psycopg.Error),
    ):
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
