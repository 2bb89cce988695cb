"""Exactly-once under faults: SIGKILL stream consumers of a JetStream stream again and again.

    python -m benchmarks.bench_stream_crash [--kills 50] [--seed 15] [--source nats|file]

Starts its own NATS server (Debian `nats-server`, `.ci/nats.sh`) on a free loopback port; `--source file`
uses a file-backed stream instead (no broker). Half the kills hit an exact point of the consume loop or of
its write (`MESHLAKE_CRASH_AT`), half a random instant, while orders are published (the order id as the
JetStream de-duplication id). Then one consumer drains the stream, and the port must hold every published
id exactly once: no duplicates, no gaps. Writes benchmarks/results/stream_crash.json and .md.
"""

from __future__ import annotations

import argparse
import random
import uuid

import meshlake as ml
from benchmarks.common import fresh_dir, machine, save
from tests.stream_crash import stream_crash_run
from tests.stream_services import start_nats
from tests.streams.conftest import ADDRESS, deploy_orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--source", choices=["nats", "file"], default="nats")
    args = parser.parse_args()
    work = fresh_dir("stream_crash")
    lake = ml.connect(home=str(work / ".meshlake"))
    deploy_orders(lake, work / "orders", on_failure="skip")
    server = None
    if args.source == "nats":
        from meshlake.streams.nats import JetStreamSink

        server = start_nats(work / "nats")
        name = f"S{uuid.uuid4().hex[:8]}"
        sink = JetStreamSink(url=server.url)
        sink._io.run(sink._io.js.add_stream(name=name, subjects=[f"{name.lower()}.orders"]))
        sink.close()
        spec = {"kind": "nats", "url": server.url, "stream": name, "subject": f"{name.lower()}.orders"}
    else:
        spec = {"kind": "file", "path": str(work / "orders.stream")}
    try:
        run = stream_crash_run(
            {"home": str(work / ".meshlake")},
            ADDRESS,
            spec,
            work / "crash",
            kills=args.kills,
            rng=random.Random(args.seed),
        )
    finally:
        if server is not None:
            server.stop()
    result = {
        "machine": machine(),
        "source": args.source,
        "kills_asked": args.kills,
        "seed": args.seed,
        **run.to_dict(),
    }
    phases = "\n".join(f"| {phase} | {count} |" for phase, count in sorted(run.kills_by_phase.items()))
    markdown = f"""# Stream consumers killed: exactly-once by order id

`python -m benchmarks.bench_stream_crash --kills {args.kills} --seed {args.seed} --source {args.source}`

| | |
|---|---|
| consumers SIGKILLed | {run.killed} (of {args.kills} started; the others ended before their crash point) |
| orders published | {run.published} |
| rows in the port | {run.rows} |
| duplicate ids | {len(run.duplicates)} |
| missing ids | {len(run.missing)} |
| snapshots | {run.snapshots} |
| verdict | {"exactly once" if run.ok else "FAILED"} |
| seconds | {run.seconds:.0f} |

Last phase each killed consumer passed (`MESHLAKE_CRASH_TRACE`; `stream-acknowledged` means it was
collecting its next batch):

| phase | kills |
|---|---|
{phases}
"""
    save("stream_crash", result, markdown)


if __name__ == "__main__":
    main()
