"""meshlake: data products on an open lakehouse.

>>> import meshlake as ml
>>> lake = ml.connect()                                       # doctest: +SKIP
>>> product = lake.deploy("products/shipments/dataproduct.yaml")  # doctest: +SKIP
>>> product.port("daily").write(table)                        # doctest: +SKIP
"""

from meshlake.contract.address import Address, ProductName, Ref
from meshlake.errors import (
    AccessDeniedError,
    AccessLogError,
    AuthenticationError,
    BreakingChangeError,
    BrokenProductError,
    CatalogUnavailableError,
    CommitConflictError,
    ConfigError,
    ContractViolationError,
    DescriptorError,
    InvalidNameError,
    InvalidPrincipalError,
    MeshlakeError,
    MissingDependencyError,
    NotFoundError,
    PipelineError,
    PortNotFoundError,
    ProductNotFoundError,
    QualityGateError,
    ReadRestrictionError,
    SnapshotNotFoundError,
)
from meshlake.lake import Lake, connect

__version__ = "0.1.0"
__all__ = [
    "AccessDeniedError",
    "AccessLogError",
    "Address",
    "AuthenticationError",
    "BreakingChangeError",
    "BrokenProductError",
    "CatalogUnavailableError",
    "CommitConflictError",
    "ConfigError",
    "ContractViolationError",
    "DescriptorError",
    "InvalidNameError",
    "InvalidPrincipalError",
    "Lake",
    "MeshlakeError",
    "MissingDependencyError",
    "NotFoundError",
    "PipelineError",
    "PortNotFoundError",
    "ProductName",
    "ProductNotFoundError",
    "QualityGateError",
    "ReadRestrictionError",
    "Ref",
    "SnapshotNotFoundError",
    "__version__",
    "connect",
]
