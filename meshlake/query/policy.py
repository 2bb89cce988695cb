"""The seam through which a read applies its reader's rights: `ReadPolicy`, implemented by `meshlake.access`.

`query/` knows nothing of principals (access control is a higher layer). A facade hands a `ReadPolicy` to
what reads a port (`PortSnapshot`, the readers of this package); `None` means the lake enforces nothing and
the read is today's, unchanged. A policy whose `unrestricted` is True (an owner, an admin, a reader without
masks or row filter) is also read unchanged: only restricted reads pay for the wrapping.

A denied read never reaches this point: the facade checks the grant before it loads anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeGuard

if TYPE_CHECKING:
    import polars as pl
    from pyiceberg.schema import Schema


class ReadPolicy(Protocol):
    """One principal's reads of one port."""

    @property
    def address(self) -> str:
        """The port read (`domain.product.port`)."""
        ...

    @property
    def unrestricted(self) -> bool:
        """True when the principal reads every row and column as it is (nothing to wrap)."""
        ...

    def relation(self, sql: str, schema: Schema) -> str:
        """`sql` (a DuckDB SELECT producing `schema`'s columns) filtered and masked for the principal."""
        ...

    def frame(self, frame: pl.LazyFrame, schema: Schema) -> pl.LazyFrame:
        """`frame` (with `schema`'s columns) filtered and masked for the principal."""
        ...


def restricted(policy: ReadPolicy | None) -> TypeGuard[ReadPolicy]:
    """Whether a read under `policy` must be wrapped (False: read as today)."""
    return policy is not None and not policy.unrestricted
