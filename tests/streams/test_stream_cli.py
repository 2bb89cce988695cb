"""`meshlake stream` and `meshlake serve` refuse bad input before touching a broker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from meshlake.streams.open import default_source_id, open_sink, open_source


def _run(*args: str) -> Any:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("url", ["ftp://host/x", "nats://127.0.0.1:4222", "redis://h:1/notadb/key", "kafka://h:1"])
def test_stream_refuses_a_source_url_it_cannot_read(orders: Callable[..., Any], url: str) -> None:
    port = orders()
    result = _run("stream", str(port.address), "--from", url)
    assert result.exit_code == 2
    assert "--from" in result.output and "nats://HOST:PORT/STREAM" in result.output
    assert port.table().metadata.snapshot_by_name("main") is None


def test_serve_refuses_a_port_that_does_not_declare_a_stream(orders: Callable[..., Any]) -> None:
    port = orders()
    result = _run("serve", str(port.address), "--to", "nats://127.0.0.1:1")
    assert result.exit_code == 1
    assert "serve: [table, stream]" in result.output


def test_open_source_and_sink_refuse_unknown_shapes() -> None:
    with pytest.raises(ValueError, match="redis://HOST:PORT/DB/KEY"):
        open_source("redis://h:1/key")
    with pytest.raises(ValueError, match="nats://HOST:PORT"):
        open_sink("redis://h:1")


def test_the_default_source_id_is_a_meshlake_name() -> None:
    assert default_source_id("nats://h:4222/ORDERS") == "orders"
    assert default_source_id("redis://h:1/0/drone-telemetry") == "drone_telemetry"
    assert default_source_id("kafka://h:1/42") == "s_42"


@pytest.mark.parametrize("every", ["0", "-1", "nan", "inf", "soon"])
def test_stream_refuses_a_compaction_interval_that_is_not_positive(orders: Callable[..., Any], every: str) -> None:
    port = orders()
    result = _run("stream", str(port.address), "--from", "nats://127.0.0.1:1/ORDERS", "--compact-every", every)
    assert result.exit_code == 2
    assert "--compact-every" in result.output
    assert port.table().metadata.snapshot_by_name("main") is None
