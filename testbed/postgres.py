"""Start and stop a throwaway PostgreSQL server in a directory of its own.

Used by the tests and the benchmarks, which need a real PostgreSQL and must not touch a
cluster the machine may already run: ``initdb`` in the given directory, a free loopback
port, unix sockets inside the data directory. A plant runs PostgreSQL as its
distribution packages it instead.

PostgreSQL refuses to run as root, so when we are root the server runs as the
``postgres`` user that Debian's package creates, and the directory is handed to it.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import URL

from contract.netutil import free_port
from testbed.server import LOOPBACK, LocalServer

# Debian installs each major version side by side under /usr/lib/postgresql/<version>/.
DEBIAN_ROOT = Path("/usr/lib/postgresql")
RUN_AS_WHEN_ROOT = "postgres"
SUPERUSER = "andon"
DEFAULT_DATABASE = "andon"
DRIVER = "postgresql+psycopg"
# Plain lower-case identifiers need no quoting anywhere a test may paste them.
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PostgresBinaries:
    """The server programs of one installed PostgreSQL version."""

    version: str
    initdb: Path
    postgres: Path


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return ()


def find_postgres_binaries(root: Path = DEBIAN_ROOT) -> PostgresBinaries:
    """The highest PostgreSQL version installed under ``root`` that has its server."""
    found = [
        PostgresBinaries(bindir.parent.name, bindir / "initdb", bindir / "postgres")
        for bindir in root.glob("*/bin")
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file()
    ]
    if not found:
        raise FileNotFoundError(
            f"no PostgreSQL server under {root}: apt-get install postgresql "
            "(scripts/bootstrap.sh does it)"
        )
    return max(found, key=lambda binaries: _version_key(binaries.version))


@dataclass(frozen=True)
class Account:
    """The unprivileged user the server's processes run as when we are root."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def server_account() -> Account | None:
    """``None`` when we are not root: then the server runs as we do."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(RUN_AS_WHEN_ROOT)
    except KeyError:
        raise RuntimeError(
            f"PostgreSQL refuses to run as root and there is no {RUN_AS_WHEN_ROOT!r} user "
            "to run it as: apt-get install postgresql creates it"
        ) from None
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid, groups)


def _can_search(path: Path, account: Account) -> bool:
    mode = path.stat()
    if mode.st_uid == account.uid:
        return bool(mode.st_mode & stat.S_IXUSR)
    if mode.st_gid in account.groups:
        return bool(mode.st_mode & stat.S_IXGRP)
    return bool(mode.st_mode & stat.S_IXOTH)


def hand_over(directory: Path, account: Account) -> None:
    """Give ``directory`` to ``account`` and let it reach it from ``/``.

    Parents it cannot pass through (pytest's 0700 temporary directories) get the search
    bit for others only: that lets a process walk through a name it already knows, and
    lists or changes nothing.
    """
    os.chown(directory, account.uid, account.gid)
    for parent in directory.parents:
        if not _can_search(parent, account):
            parent.chmod(stat.S_IMODE(parent.stat().st_mode) | stat.S_IXOTH)


def server_settings(*, port: int, socket_dir: Path) -> dict[str, str]:
    """Settings passed on the server's command line, so every start gets the same."""
    return {
        "listen_addresses": LOOPBACK,
        "port": str(port),
        # Not /var/run/postgresql: that belongs to the system's cluster, if any.
        "unix_socket_directories": str(socket_dir),
        # The data is thrown away with its directory, so waiting for the disk buys
        # nothing; a clean stop still writes everything out before the next start.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }


class PostgresServer(LocalServer):
    """A PostgreSQL server on loopback; ``start()``/``stop()`` can be repeated.

    ``data_dir`` holds everything: the cluster (``cluster/``), the server's log
    (``postgres.log``) and the superuser's generated password (``password``). A second
    start on the same directory keeps the data.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.cluster_dir = data_dir / "cluster"
        self.log_path = data_dir / "postgres.log"
        self.host = LOOPBACK
        self.port = port or free_port()
        self.user = SUPERUSER
        self.database = DEFAULT_DATABASE
        self._password_path = data_dir / "password"
        self._binaries = find_postgres_binaries()
        self._account = server_account()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default database, password included."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of one database on this server."""
        return URL.create(
            DRIVER,
            username=self.user,
            password=self._password(),
            host=self.host,
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if not self.running:
            super().start()

    def _launch(self) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._account is not None:
            hand_over(self.data_dir, self._account)
        if not (self.cluster_dir / "PG_VERSION").exists():
            self._initdb()
        self._spawn()

    def _wait_until_ready(self) -> None:
        self._wait_for_connections()
        if not self._database_exists(self.database):
            self.create_database(self.database)

    def stop(self) -> None:
        """Fast shutdown of the server this object started, and wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        # SIGINT is PostgreSQL's fast shutdown: open transactions are rolled back and
        # it exits without waiting for clients; SIGQUIT (immediate) is the fallback.
        for stop_signal in (signal.SIGINT, signal.SIGQUIT):
            process.send_signal(stop_signal)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                continue
            return
        process.kill()
        process.wait()

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_checked(name)))
        with self._admin_connection() as connection:
            connection.execute(statement)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections are still open to it."""
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(_checked(name))
        )
        with self._admin_connection() as connection:
            connection.execute(statement)

    def _initdb(self) -> None:
        self._write_password()
        result = self._run(
            str(self._binaries.initdb),
            f"--pgdata={self.cluster_dir}",
            f"--username={self.user}",
            f"--pwfile={self._password_path}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
            # Throwaway data, as for fsync below: skip flushing the new cluster to disk.
            "--no-sync",
            "--no-instructions",
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.cluster_dir}:\n{result.stdout}")

    def _write_password(self) -> None:
        # A fresh password per directory: the port is open to every local user.
        fd = os.open(self._password_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(24))
        if self._account is not None:
            os.chown(self._password_path, self._account.uid, self._account.gid)

    def _password(self) -> str:
        try:
            return self._password_path.read_text()
        except FileNotFoundError:
            raise RuntimeError(f"no PostgreSQL cluster in {self.data_dir}: start() first") from None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        account = self._account
        return subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            cwd=self.data_dir,
            user=None if account is None else account.uid,
            group=None if account is None else account.gid,
            extra_groups=None if account is None else list(account.groups),
        )

    def _spawn(self) -> None:
        settings = server_settings(port=self.port, socket_dir=self.cluster_dir)
        options = [f"--{name}={value}" for name, value in settings.items()]
        account = self._account
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self._binaries.postgres), "-D", str(self.cluster_dir), *options],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.data_dir,
                user=None if account is None else account.uid,
                group=None if account is None else account.gid,
                extra_groups=None if account is None else list(account.groups),
                start_new_session=True,  # Ctrl-C in a terminal must reach us, not the server
            )

    def _wait_for_connections(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"postgres exited while starting:\n{self._log_tail()}")
            try:
                with self._admin_connection():
                    return
            except psycopg.OperationalError:
                # Refused until it listens, then "the database system is starting up".
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"postgres did not accept connections on port {self.port} "
                        f"within {START_TIMEOUT_S:.0f} s:\n{self._log_tail()}"
                    ) from None
                time.sleep(0.05)

    def _database_exists(self, name: str) -> bool:
        with self._admin_connection() as connection:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return found.fetchone() is not None

    def _admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        # The "postgres" maintenance database, so CREATE and DROP DATABASE never run
        # while connected to the database they change.
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self._password(),
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )

    def _log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"


def _checked(name: str) -> str:
    if not DATABASE_NAME.fullmatch(name):
        raise ValueError(f"database name {name!r} is not a plain lower-case identifier")
    return name
