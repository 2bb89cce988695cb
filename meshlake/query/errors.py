"""The read engine's own error: a table layout it cannot read correctly.

It is a `MeshlakeError` and a `NotImplementedError`. The read engine raises it instead of returning rows it
cannot vouch for (a delete-file format it does not apply, data files without field ids, ...).
"""

from __future__ import annotations

from meshlake.errors import MeshlakeError


class UnsupportedScanError(MeshlakeError, NotImplementedError):
    """The table uses a feature this reader does not apply; reading on would give wrong rows."""

    def __init__(self, problem: str, *, hint: str, address: str | None = None) -> None:
        self.problem = problem
        self.hint = hint
        self.address = address
        where = f"{address}: " if address else ""
        super().__init__(f"{where}{problem}. Nothing was read: {hint}.")

    def at(self, address: str) -> UnsupportedScanError:
        """The same error, naming the port or table it happened on."""
        return UnsupportedScanError(self.problem, hint=self.hint, address=address)
