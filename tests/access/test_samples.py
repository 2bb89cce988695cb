"""Quality results as the history records them and as a masked reader sees them (`access.enforce`)."""

from __future__ import annotations

from typing import Any

from pyiceberg.types import DateType, IntegerType, StringType

from meshlake.access.enforce import mask_results, record_masks
from meshlake.access.policy import MeshPolicy
from meshlake.contract.access import ColumnMask
from meshlake.contract.descriptor import OutputPort
from meshlake.quality.report import ExpectationResult

TYPES = {"id": IntegerType(), "email": StringType(), "born_on": DateType()}


def result(expectation: str, sample: list[dict[str, Any]], **kwargs: Any) -> ExpectationResult:
    return ExpectationResult(expectation, kwargs, "failed", sample=sample, observed_value="2015-05-05")


def masks(**actions: str) -> dict[str, ColumnMask]:
    return {name: ColumnMask.model_validate(action) for name, action in actions.items()}


def test_samples_of_masked_columns_are_masked_and_the_rest_kept() -> None:
    rows = [{"id": 7, "email": "zed@mars.io", "extra": "kept"}]
    in_set = result("expect_column_values_to_be_in_set", rows, column="id")
    (masked,) = mask_results([in_set], masks(email="mask-alphanum"), TYPES, salt=None)
    assert masked.sample == [{"id": 7, "email": "xxx@xxxx.xx", "extra": "kept"}]
    assert masked.observed_value == "2015-05-05"  # about an unmasked column


def test_observed_values_of_expectations_on_masked_columns_are_not_kept() -> None:
    maximum = result("expect_column_max_to_be_between", [], column="born_on")
    pair = result("expect_column_pair_values_a_to_be_greater_than_b", [], column_A="id", column_B="born_on")
    masked = mask_results([maximum, pair], masks(born_on="truncate-to-year"), TYPES, salt=None)
    assert [r.observed_value for r in masked] == [None, None]


def test_sql_expectation_samples_are_not_kept_when_a_column_is_masked() -> None:
    rows = [{"anything": "zed@mars.io"}]
    sql = result("unexpected_rows_expectation", rows, unexpected_rows_query="SELECT email AS anything FROM {batch}")
    (masked,) = mask_results([sql], masks(email="mask-alphanum"), TYPES, salt=None)
    assert masked.sample == []
    (unmasked,) = mask_results([sql], {}, TYPES, salt=None)
    assert unmasked.sample == rows


def test_records_mask_query_local_hashes_to_the_default_and_classified_columns_by_policy() -> None:
    port = OutputPort.model_validate(
        {
            "name": "customers",
            "columns": [
                {"name": "id", "type": "int", "required": True},
                {"name": "email", "type": "string", "mask": "sha-256-query-local"},
                {"name": "born_on", "type": "date", "classification": "pii"},
                {"name": "note", "type": "string", "classification": "internal"},
            ],
        }
    )
    recorded = record_masks(port, MeshPolicy(admins=[]))
    assert {name: str(mask) for name, mask in recorded.items()} == {
        "email": "mask-to-default",
        "born_on": "mask-to-default",
    }
    (masked,) = mask_results([result("x", [{"id": 1, "email": "a@b.c", "born_on": None}])], recorded, TYPES, salt=None)
    assert masked.sample == [{"id": 1, "email": "XXXXXXXX", "born_on": None}]
