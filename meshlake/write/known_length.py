"""A FileIO whose new files know their own length: a commit never asks the storage about a file it just wrote.

pyiceberg records each manifest's length by asking the storage for the file it just wrote (a HEAD request on
S3). That request needs read access: a writer allowed to put files but not to read them back (an append-only
storage grant, as meshlake's records get under a storage policy, see `meshlake.access.storage_policy`)
would fail, and every commit pays one round trip for nothing. The bytes written are counted instead.

The Avro writer hands over a manifest a few bytes at a time; each storage write releases the GIL and, while
another thread runs Python (an upsert's key lookup beside the manifest of its new rows), waits up to the
interpreter's switch interval to take it back. The bytes are gathered and handed over `BUFFER_BYTES` at a time.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from pyiceberg.io import FileIO, InputFile, OutputFile, OutputStream

BUFFER_BYTES = 1024 * 1024
"""Bytes gathered before they are written to the storage (a manifest or manifest list is usually smaller)."""


class _CountingStream:
    """An output stream that counts the bytes written through it and reports the total when closed, writing them to
    the storage `BUFFER_BYTES` at a time."""

    def __init__(self, stream: OutputStream, output: KnownLengthOutputFile) -> None:
        self._stream = stream
        self._output = output
        self._written = 0
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._written += len(data)
        if len(self._buffer) >= BUFFER_BYTES:
            self._drain()
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        self._drain()
        self._stream.flush()  # type: ignore[attr-defined]

    def close(self) -> None:
        try:
            self._drain()
        finally:
            self._stream.close()
        self._output.length = self._written

    def _drain(self) -> None:
        if self._buffer:
            self._stream.write(bytes(self._buffer))
            self._buffer.clear()

    @property
    def closed(self) -> bool:
        return bool(getattr(self._stream, "closed", False))

    def __enter__(self) -> _CountingStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class KnownLengthOutputFile(OutputFile):
    """An output file that remembers how many bytes were written to it (else asks the storage)."""

    def __init__(self, inner: OutputFile) -> None:
        super().__init__(inner.location)
        self._inner = inner
        self.length: int | None = None

    def __len__(self) -> int:
        return self.length if self.length is not None else len(self._inner)

    def exists(self) -> bool:
        return self._inner.exists()

    def to_input_file(self) -> InputFile:
        return self._inner.to_input_file()

    def create(self, overwrite: bool = False) -> OutputStream:
        return _CountingStream(self._inner.create(overwrite=overwrite), self)


class KnownLengthIO(FileIO):
    """`inner`, except that the files it creates know their length once written."""

    def __init__(self, inner: FileIO) -> None:
        super().__init__(inner.properties)
        self._inner = inner

    def new_input(self, location: str) -> InputFile:
        return self._inner.new_input(location)

    def new_output(self, location: str) -> OutputFile:
        return KnownLengthOutputFile(self._inner.new_output(location))

    def delete(self, location: str | InputFile | OutputFile) -> None:
        if isinstance(location, KnownLengthOutputFile):
            location = location.location
        self._inner.delete(location)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
