"""A commit records the sizes of the files it wrote from what it wrote, exactly, without reading them back."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest
from pyiceberg.io import load_file_io

import meshlake as ml
from meshlake.write import known_length
from meshlake.write.known_length import KnownLengthIO
from tests.conftest import DescriptorWriter


def test_recorded_sizes_of_data_files_and_manifests_are_the_sizes_on_disk(
    lake: ml.Lake, descriptor: dict[str, object], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    at = pa.array([0, 86_400_000_000], pa.timestamp("us", "UTC"))
    port.write(pa.table({"shipment_id": ["a", "b"], "shipped_at": at, "weight_kg": [1.0, 2.0]}))
    table = port.table()
    snapshot = table.current_snapshot()
    assert snapshot is not None
    manifests = snapshot.manifests(table.io)
    assert manifests
    for manifest in manifests:
        assert manifest.manifest_length == os.path.getsize(manifest.manifest_path.removeprefix("file://"))
        for entry in manifest.fetch_manifest_entry(table.io):
            path = entry.data_file.file_path.removeprefix("file://")
            assert entry.data_file.file_size_in_bytes == os.path.getsize(path)


def test_a_known_length_file_counts_what_was_written_and_asks_the_storage_otherwise(lake: ml.Lake) -> None:
    io = KnownLengthIO(load_file_io({}, lake.warehouse))
    path = f"{lake.warehouse}/probe/known.bin"
    output = io.new_output(path)
    with output.create(overwrite=True) as stream:
        stream.write(b"12345")
        stream.write(b"678")
    assert len(output) == 8
    assert len(io.new_output(path)) == 8  # a fresh handle asks the storage
    io.delete(output)
    assert not io.new_input(path).exists()


def test_a_known_length_file_gathers_small_writes_and_writes_them_all(
    lake: ml.Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    io = KnownLengthIO(load_file_io({}, lake.warehouse))
    for buffer in (known_length.BUFFER_BYTES, 4):  # everything at close; or every few bytes
        monkeypatch.setattr(known_length, "BUFFER_BYTES", buffer)
        path = f"{lake.warehouse}/probe/gathered-{buffer}.bin"
        output = io.new_output(path)
        parts = [bytes([n]) * n for n in range(1, 12)]
        with output.create(overwrite=True) as stream:
            for part in parts:
                stream.write(part)
            assert stream.tell() == sum(len(part) for part in parts)
        with io.new_input(path).open() as written:
            assert written.read() == b"".join(parts)
        assert len(output) == sum(len(part) for part in parts)
