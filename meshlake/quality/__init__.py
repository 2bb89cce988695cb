"""Quality: expectations in the Great Expectations vocabulary, compiled to DuckDB SQL."""

from meshlake.quality.expectations import (
    REGISTRY,
    Expectation,
    ExpectationConfigError,
    ExpectationSpec,
    type_family,
    validate_expectation,
)
from meshlake.quality.gx import import_suite, run_great_expectations, to_yaml_items
from meshlake.quality.native import run_native
from meshlake.quality.report import ExpectationResult, QualityReport

__all__ = [
    "REGISTRY",
    "Expectation",
    "ExpectationConfigError",
    "ExpectationResult",
    "ExpectationSpec",
    "QualityReport",
    "import_suite",
    "run_great_expectations",
    "run_native",
    "to_yaml_items",
    "type_family",
    "validate_expectation",
]
