"""Quality: the gate, what it records, and what is built on its records.

Owns the native engine that compiles the contract's expectations (Great Expectations vocabulary,
`meshlake.contract.expectations`) to one DuckDB pass (`compile` and its families `compile_values`,
`compile_stats`, `compile_multi`, `distribution`, `schema_checks`; `native`, `regex`, `python_checks`, `bitmap`,
`pruning`, `incremental`, `session`; `metrics`: the aggregates that merge, measured while rows are written), the
box descriptor content runs in (`sandbox` for SQL expectations, `regex_worker` for Python regexes, JSON schemas
and dateutil, `budget` for the time a check may take), Great Expectations as an optional engine (`gx`, `suites`),
the gate a write runs (`gate`), the quality history table (`records`), reports (`report`), SLOs (`slo`) and the
writes the gate stopped (`quarantine`).

May import: `meshlake.errors`, `meshlake.catalog`, `meshlake.contract`, `meshlake.query`, `meshlake.write`
(quality records are committed like any port write); the facades (`Lake`, `Port`) only as types.
"""

from meshlake.contract.expectations import (
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
