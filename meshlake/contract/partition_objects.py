"""Partition objects of GE's distribution expectations: `{bins, weights[, tail_weights]}` or `{values, weights}`.

A continuous partition has one more bin edge than weights, strictly increasing edges, and weights (with the tail
weights, if given) summing to 1; a categorical partition has one weight per value, summing to 1. "Sum to 1" is
GE's `numpy.allclose(sum, 1)`: within 1e-8 + 1e-5.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

PartitionKind = Literal["continuous", "categorical"]
MAX_PARTS = 10_000


class PartitionError(ValueError):
    """A partition object GE would refuse; the message says which rule it breaks."""


def _numbers(value: Any, what: str) -> list[float]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise PartitionError(f"{what} must be a list of numbers")
    if len(value) > MAX_PARTS:
        raise PartitionError(f"{what} has more than {MAX_PARTS:,} items")
    out = []
    for item in value:
        if not isinstance(item, int | float | Decimal) or isinstance(item, bool) or math.isnan(float(item)):
            raise PartitionError(f"{what} must hold numbers only, not {item!r}")
        out.append(float(item))
    return out


def _sums_to_one(weights: Sequence[float]) -> bool:
    return abs(math.fsum(weights) - 1.0) <= 1e-8 + 1e-5


def partition_kind(partition: Any) -> PartitionKind:
    """`continuous` or `categorical`; `PartitionError` when it is neither (GE's `is_valid_partition_object`)."""
    if not isinstance(partition, Mapping) or "weights" not in partition:
        raise PartitionError("expected a mapping with weights and either bins or values")
    weights = _numbers(partition["weights"], "weights")
    if any(w < 0 for w in weights):
        raise PartitionError("weights must not be negative")
    if "bins" in partition:
        bins = _numbers(partition["bins"], "bins")
        tails = partition.get("tail_weights")
        combined = list(weights)
        if tails is not None:
            tail = _numbers(tails, "tail_weights")
            if len(tail) != 2:
                raise PartitionError("tail_weights must hold two weights (below and above the bins)")
            combined += tail
        if len(bins) != len(weights) + 1:
            raise PartitionError(f"{len(weights)} weights need {len(weights) + 1} bin edges, not {len(bins)}")
        if any(b >= a for b, a in pairwise(bins)):
            raise PartitionError("bin edges must increase strictly")
        if not _sums_to_one(combined):
            raise PartitionError(f"weights sum to {math.fsum(combined):g}, not 1")
        return "continuous"
    if "values" in partition:
        values = partition["values"]
        if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
            raise PartitionError("values must be a list")
        if len(values) != len(weights):
            raise PartitionError(f"{len(values)} values but {len(weights)} weights")
        if not _sums_to_one(weights):
            raise PartitionError(f"weights sum to {math.fsum(weights):g}, not 1")
        return "categorical"
    raise PartitionError("expected bins (continuous) or values (categorical) next to weights")


def check_partition(partition: Any) -> None:
    """Raise `PartitionError` unless `partition` is None (GE then builds it from the data) or valid."""
    if partition is not None:
        partition_kind(partition)


_SCIPY_PARAMS = {
    "norm": ("mean", "std_dev"),
    "beta": ("alpha", "beta"),
    "gamma": ("alpha",),
    "uniform": ("min", "max"),
    "chi2": ("df",),
    "expon": (),
    "t": ("df",),
}


def check_distribution(name: str, kwargs: Mapping[str, Any]) -> None:
    """What GE refuses in a distribution expectation's arguments, as `ExpectationConfigError` (GE raises ValueError)."""
    from meshlake.contract.expectation_args import ExpectationConfigError

    partition: Mapping[str, Any] = kwargs.get("partition_object") or {}
    kind = partition_kind(partition) if partition else None
    tail = kwargs.get("tail_weight_holdout") or 0
    bins = [float(b) for b in partition["bins"]] if kind == "continuous" else []
    infinite = bool(bins) and (math.isinf(bins[0]) or math.isinf(bins[-1]))

    def refuse(problem: str, field: str = "partition_object") -> None:
        raise ExpectationConfigError(problem, field=field)

    if name == "expect_column_kl_divergence_to_be_less_than":
        threshold = kwargs.get("threshold")
        if threshold is not None and threshold < 0:
            refuse("threshold must be at least 0", "threshold")
        if kind == "categorical" and (kwargs.get("internal_weight_holdout") or 0) > 0:
            refuse("internal_weight_holdout cannot be used for a categorical partition", "internal_weight_holdout")
        if kind == "continuous" and kwargs.get("bucketize_data") is False:
            refuse("a partition with bins needs bucketize_data", "bucketize_data")
        if kind == "continuous" and tail and "tail_weights" in partition:
            refuse("tail_weight_holdout must be 0 when the partition has tail_weights", "tail_weight_holdout")
        if infinite and "tail_weights" in partition:
            refuse("a partition with an infinite endpoint cannot have tail_weights")
        if bins and math.isinf(bins[0]) and math.isinf(bins[-1]) and tail:
            refuse("tail_weight_holdout cannot be used when both endpoints are infinite", "tail_weight_holdout")
    elif name == "expect_column_chisquare_test_p_value_to_be_greater_than":
        if kind != "categorical":
            refuse("the chi-square test takes a categorical partition (values and weights)")
    elif name == "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than":
        if kind != "continuous":
            refuse("the bootstrapped KS test takes a continuous partition (bins and weights)")
        if infinite:
            refuse("the partition's endpoints must be finite")
        if math.fsum(float(t) for t in partition.get("tail_weights") or ()) > 0:
            refuse("the partition cannot have tail weights: its endpoints must be finite")
    elif name == "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than":
        p = kwargs.get("p_value", 0.05)
        if not 0 < p < 1:
            refuse("p_value must be between 0 and 1 (exclusive)", "p_value")
        params = kwargs.get("params")
        needed = _SCIPY_PARAMS[kwargs["distribution"]]
        if isinstance(params, Mapping):
            missing = [k for k in needed if k not in params]
            if missing:
                refuse(f"params of {kwargs['distribution']} need {', '.join(missing)}", "params")
            if params.get("std_dev", 1) <= 0 or params.get("scale", 1) <= 0:
                refuse("std_dev and scale must be greater than 0", "params")
        elif params is None and needed:
            refuse(f"{kwargs['distribution']} needs params ({', '.join(needed)})", "params")
