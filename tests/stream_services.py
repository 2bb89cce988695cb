"""Real stream brokers for the integration suite: NATS JetStream and Redis, each on a free loopback port.

    server = start_nats(tmp_dir)      # nats-server -js -a 127.0.0.1 -p PORT -sd DIR
    server.url                        # nats://127.0.0.1:PORT
    server.stop()                     # SIGTERM, then SIGKILL after a timeout
    server = start_redis(tmp_dir)     # redis-server --port PORT --bind 127.0.0.1 --save ''

Installed by `.ci/nats.sh` and `.ci/redis.sh` (Debian's `nats-server` and `redis-server`). A binary that is
missing raises `ServiceUnavailableError` (the integration conftest skips with the reason, or fails under
MESHLAKE_TEST_REQUIRE_SERVICES=1); one that does not come up raises `ServiceStartError` with its log.
Each test checks that the server listens on 127.0.0.1 only (`listening_addresses`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.services import LOOPBACK, ServiceStartError, ServiceUnavailableError, port_is_listening

_SBIN = "/usr/sbin:/usr/bin:/usr/local/bin:/usr/local/sbin"


@dataclass
class Broker:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    scheme: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the broker (a crash, for restart tests)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _binary(name: str, installer: str) -> str:
    found = shutil.which(name, path=f"{os.environ.get('PATH', '')}:{_SBIN}")
    if not found:
        raise ServiceUnavailableError(f"`{name}` not found on PATH or in /usr/sbin; install it with `bash {installer}`")
    return found


def _start(name: str, argv: list[str], port: int, log: Path, scheme: str) -> Broker:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    broker = Broker(name, process, port, log, scheme)
    deadline = time.monotonic() + 15
    while not port_is_listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            broker.stop()
            tail = log.read_text(errors="replace")[-2000:]
            raise ServiceStartError(f"{name} did not start on {LOOPBACK}:{port}:\n{tail}")
        time.sleep(0.05)
    return broker


def start_nats(workdir: Path, *, port: int | None = None, store: Path | None = None) -> Broker:
    """A NATS server with JetStream, bound to 127.0.0.1; `store` keeps its data across a restart."""
    binary = _binary("nats-server", ".ci/nats.sh")
    port = port or free_port()
    store = store or workdir / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    argv = [binary, "-js", "-a", LOOPBACK, "-p", str(port), "-sd", str(store)]
    return _start("nats-server", argv, port, workdir / f"nats-{port}.log", "nats")


def start_redis(workdir: Path, *, port: int | None = None) -> Broker:
    """A Redis server bound to 127.0.0.1, persisting nothing."""
    binary = _binary("redis-server", ".ci/redis.sh")
    port = port or free_port()
    argv = [binary, "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(workdir), "--protected-mode", "yes"]
    return _start("redis-server", argv, port, workdir / f"redis-{port}.log", "redis")


def listening_addresses(pid: int) -> set[str]:
    """The local addresses process `pid` listens on (TCP), from `ss -ltnp`."""
    output = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in output.splitlines():
        if f"pid={pid}," in line:
            local = line.split()[3]
            found.add(local.rsplit(":", 1)[0])
    return found
