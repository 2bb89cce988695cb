"""Streams into and out of ports: exactly-once micro-batches from brokers, and snapshots served as messages.

Owns the stream-source protocol (`source.py`) and its adapters (`memory.py` in process, `nats.py` JetStream,
`redis.py` Redis Streams, `kafka.py` Kafka), the offsets a port records in its snapshots (`offsets.py`),
decoding messages in the contract's types (`decode.py`), malformed messages kept with their offsets
(`rejects.py`), the consume loop (`consume.py`), compaction while it runs (`compactor.py`), Python's garbage
collector while it runs (`collection.py`), opening a source from its URL (`open.py`) and publishing a port's new
rows after each commit (`serve.py`).

May import `errors`, `catalog`, `contract`, `query`, `write`, `quality` and `maintenance`; it is handed the
`Port` facade (type-only import) and calls its public methods, so every batch goes through the port's own
conform, access checks, quality gate and commit.
"""
