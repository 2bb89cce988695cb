"""`meshlake stream`: consume a broker's stream into a port, one checked snapshot per micro-batch."""

from __future__ import annotations

import click

from meshlake.cli.main import Context, cli, json_option, pass_context


@cli.command()
@click.argument("address")
@click.option("--from", "source_url", required=True, metavar="SOURCE", help="The stream's URL (shapes below).")
@click.option("--source-id", help="Name the port records offsets under (default: the stream, key or topic name).")
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Close a batch at this many messages.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=64 << 20,
    show_default=True,
    help="Close a batch at this many message bytes.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0.001),
    default=1.0,
    show_default=True,
    help="Close a batch this many seconds after its first message.",
)
@click.option("--batches", type=click.IntRange(min=1), help="Stop after this many batches (default: run on).")
@click.option(
    "--idle", type=click.FloatRange(min=0), help="Stop after this many seconds without a message (default: run on)."
)
@click.option(
    "--retry-for",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds an unreachable broker is retried (with backoff) before the stream stops.",
)
@click.option(
    "--compact-every",
    type=float,
    callback=lambda _ctx, _param, value: _seconds(value),
    metavar="SECONDS",
    help="Compact the port's small files every this many seconds while consuming, 8 of one size class at a time (a "
    "worker process rewrites them; MESHLAKE_STREAM_COMPACTION=thread keeps it in a thread, "
    "MESHLAKE_STREAM_COMPACTION_CLASSES=off compacts all small files together). Default: never.",
)
@click.option(
    "--serve-to",
    metavar="BROKER",
    help="Also publish each committed snapshot's rows to nats://HOST:PORT (needs serve: [table, stream]).",
)
@json_option
@pass_context
def stream(
    ctx: Context,
    address: str,
    source_url: str,
    source_id: str | None,
    max_rows: int,
    max_bytes: int,
    max_wait: float,
    batches: int | None,
    idle: float | None,
    retry_for: float,
    compact_every: float | None,
    serve_to: str | None,
) -> None:
    """Consume the stream SOURCE into the port ADDRESS in micro-batches, exactly once.

    Each batch is conformed to the port's contract, checked by its quality gate and committed as one
    snapshot whose summary carries meshlake.stream.<source-id> (the next offset per partition). On
    start the stream resumes from the offsets in the port's own snapshots, never from the broker's
    acknowledgements, so a crash anywhere neither loses nor repeats a row. Messages are JSON objects,
    one row each; one that is not a row of the contract is kept in meshlake.system.stream_rejects
    with its offset. A batch that fails the gate is quarantined with its offsets; the port's
    `stream: {on_failure: stop|skip}` decides whether the stream stops (exit status 1) or goes on.
    Refused, consuming nothing: a source id recorded for another stream, and offsets the broker
    no longer holds (a gap). Ctrl-C stops it; every committed batch stays and the next run resumes there.
    With --compact-every, small files are compacted meanwhile: read and rewritten in a worker process
    (so the rewrite does not slow the batches' commits), committed by the stream's process.

    \b
    SOURCE shapes:
      nats://127.0.0.1:4222/STREAM[/SUBJECT]   NATS JetStream (pip install 'meshlake[streams]')
      redis://127.0.0.1:6379/DB/KEY            Redis Streams
      kafka://HOST:PORT/TOPIC                  Kafka (confluent-kafka; see docs/streaming.md)
    """
    from meshlake.streams.consume import BatchResult
    from meshlake.streams.open import open_sink, open_source

    port = ctx.port(address)
    try:
        source = open_source(source_url, source_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--from") from exc
    try:
        sink = open_sink(serve_to) if serve_to else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--serve-to") from exc

    def progress(batch: BatchResult) -> None:
        if ctx.out.json_mode:
            return
        where = ", ".join(f"{p}:{o}" for p, o in sorted(batch.offsets.items()))
        if batch.quarantine_branch:
            ctx.out.text(
                f"batch of {batch.rows:,} rows quarantined on {batch.quarantine_branch} (skipped); next {where}"
            )
        else:
            rejected = f", {batch.rejected} rejected" if batch.rejected else ""
            ctx.out.text(f"snapshot {batch.snapshot_id}: {batch.rows:,} rows{rejected}; next {where}")

    try:
        report = port.stream(
            source,
            max_rows=max_rows,
            max_bytes=max_bytes,
            max_wait=max_wait,
            max_batches=batches,
            idle=idle,
            retry_for=retry_for,
            on_batch=progress,
            serve=sink,
            compact_every=compact_every,
        )
    finally:
        source.close()
        if sink is not None:
            sink.close()
    ctx.out.emit(
        report.to_dict(),
        f"{address} <- {source.source_id}: {len(report.batches)} batch(es), {report.rows:,} rows, "
        f"{report.rejected} rejected, {len(report.quarantined)} quarantined; ended: {report.ended}",
    )


@cli.command()
@click.argument("address")
@click.option("--to", "broker", required=True, metavar="BROKER", help="The broker: nats://HOST:PORT (JetStream).")
@click.option("--rows-per-message", type=click.IntRange(min=1), default=500, show_default=True)
@json_option
@pass_context
def serve(ctx: Context, address: str, broker: str, rows_per_message: int) -> None:
    """Publish the port ADDRESS's snapshots that its stream lacks to the subject ADDRESS.

    For ports that declare `serve: [table, stream]`. Each snapshot of main becomes JSON messages of up to
    --rows-per-message of the rows it added, with the de-duplication id <snapshot id>:<part>/<parts>
    (JetStream's Nats-Msg-Id). What is missing is read from the subject's last message, so running it
    again (after a crash, or after writes that were not streamed) publishes nothing twice. A subject no
    JetStream stream captures gets one, MESHLAKE_<DOMAIN>_<PRODUCT>_<PORT>. Rows are published as the
    port's access.broker_readers (default: everyone) may read them: masked columns masked, every row
    filter applied.
    """
    from meshlake.errors import StreamNotServedError
    from meshlake.streams.open import open_sink

    port = ctx.port(address)
    if "stream" not in port.contract.serve:
        raise StreamNotServedError(str(port.address))
    try:
        sink = open_sink(broker)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from exc
    try:
        report = port.serve_stream(sink, rows_per_message=rows_per_message)
    finally:
        sink.close()
    ctx.out.emit(
        report.to_dict(),
        f"{address}: {len(report.published)} snapshot(s) published as {report.messages} message(s)"
        + (f" ({report.duplicates} already on the stream)" if report.duplicates else ""),
    )


def _seconds(value: float | None) -> float | None:
    """`--compact-every`: a positive, finite number of seconds (`nan` and `inf` parse as floats: refused too)."""
    from meshlake.streams.compactor import check_every

    if value is not None:
        try:
            check_every(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
    return value
