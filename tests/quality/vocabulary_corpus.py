"""One configuration of every expectation type, on a small table generated in code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from meshlake.contract.expectations import Expectation

ROWS = 40


def table(rows: int = ROWS) -> pa.Table:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    return pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "k": pa.array([i % 7 for i in range(rows)], pa.int64()),
            "x": pa.array([float(i % 11) - 3.0 if i % 9 else None for i in range(rows)], pa.float64()),
            "y": pa.array([float(i % 5) for i in range(rows)], pa.float64()),
            "d": pa.array([Decimal(i % 13) / 4 for i in range(rows)], pa.decimal128(10, 2)),
            "s": pa.array([f"S-{i:04d}" if i % 10 else None for i in range(rows)], pa.string()),
            "t": pa.array([("red", "green", "blue")[i % 3] for i in range(rows)], pa.string()),
            "js": pa.array([f'{{"n": {i}, "tag": "t{i % 3}"}}' for i in range(rows)], pa.string()),
            "day": pa.array([f"2026-11-{1 + i % 28:02d}" for i in range(rows)], pa.string()),
            "ts": pa.array([t0 + timedelta(hours=i) for i in range(rows)], pa.timestamp("us", tz="UTC")),
            "dt": pa.array([date(2026, 11, 1) + timedelta(days=i % 30) for i in range(rows)], pa.date32()),
            "b": pa.array([i % 4 != 0 for i in range(rows)], pa.bool_()),
        }
    )


def _e(kind: str, **kwargs: object) -> Expectation:
    return Expectation(kind, dict(kwargs))


ONE_OF_EACH = [
    _e("expect_column_values_to_not_be_null", column="id"),
    _e("expect_column_values_to_be_null", column="x", mostly=0.1),
    _e("expect_column_values_to_be_between", column="x", min_value=-3, max_value=7),
    _e("expect_column_values_to_be_in_set", column="t", value_set=["red", "green", "blue"]),
    _e("expect_column_values_to_not_be_in_set", column="t", value_set=["black"]),
    _e("expect_column_values_to_match_regex", column="s", regex=r"^S-\d{4}$"),
    _e("expect_column_values_to_not_match_regex", column="s", regex=r"[a-z]"),
    _e("expect_column_values_to_match_regex_list", column="s", regex_list=[r"^S", r"\d$"], match_on="all"),
    _e("expect_column_values_to_not_match_regex_list", column="s", regex_list=[r"^X", r"\s"]),
    _e("expect_column_values_to_match_like_pattern", column="s", like_pattern="S-%"),
    _e("expect_column_values_to_not_match_like_pattern", column="s", like_pattern="%x%"),
    _e("expect_column_values_to_match_like_pattern_list", column="t", like_pattern_list=["r%", "g%", "b%"]),
    _e("expect_column_values_to_not_match_like_pattern_list", column="t", like_pattern_list=["x%", "%z"]),
    _e("expect_column_value_lengths_to_be_between", column="s", min_value=6, max_value=6),
    _e("expect_column_value_lengths_to_equal", column="s", value=6),
    _e("expect_column_values_to_be_json_parseable", column="js"),
    _e("expect_column_values_to_match_json_schema", column="js", json_schema={"type": "object", "required": ["n"]}),
    _e("expect_column_values_to_be_dateutil_parseable", column="day"),
    _e("expect_column_values_to_match_strftime_format", column="day", strftime_format="%Y-%m-%d"),
    _e("expect_column_values_to_be_of_type", column="id", type_="int64"),
    _e("expect_column_values_to_be_in_type_list", column="x", type_list=["float", "int"]),
    _e("expect_column_values_to_be_unique", column="id"),
    _e("expect_column_values_to_be_increasing", column="ts", strictly=True),
    _e("expect_column_values_to_be_decreasing", column="id", mostly=0.0),
    _e("expect_column_value_z_scores_to_be_less_than", column="y", threshold=3, double_sided=True),
    _e("expect_column_pair_values_a_to_be_greater_than_b", column_A="id", column_B="k", or_equal=True),
    _e("expect_column_pair_values_to_be_equal", column_A="y", column_B="y"),
    _e("expect_column_pair_values_to_be_in_set", column_A="k", column_B="t", value_pairs_set=[[0, "red"]], mostly=0.0),
    _e("expect_compound_columns_to_be_unique", column_list=["id", "k"]),
    _e("expect_multicolumn_sum_to_equal", column_list=["y", "k"], sum_total=3, mostly=0.0),
    _e("expect_select_column_values_to_be_unique_within_record", column_list=["id", "k"], mostly=0.5),
    _e("expect_multicolumn_values_to_be_unique", column_list=["id", "k"], mostly=0.5),
    _e("expect_column_min_to_be_between", column="x", min_value=-3),
    _e("expect_column_max_to_be_between", column="ts", max_value="2026-12-01T00:00:00Z"),
    _e("expect_column_mean_to_be_between", column="d", min_value=0, max_value=4),
    _e("expect_column_median_to_be_between", column="y", min_value=0, max_value=4),
    _e("expect_column_sum_to_be_between", column="k", min_value=0),
    _e("expect_column_stdev_to_be_between", column="y", min_value=0.5, max_value=2),
    _e("expect_column_proportion_of_unique_values_to_be_between", column="t", max_value=0.5),
    _e("expect_column_unique_value_count_to_be_between", column="t", min_value=3, max_value=3),
    _e(
        "expect_column_quantile_values_to_be_between",
        column="y",
        quantile_ranges={"quantiles": [0.25, 0.5, 0.75], "value_ranges": [[0, 2], [1, 3], [2, 4]]},
    ),
    _e("expect_column_most_common_value_to_be_in_set", column="t", value_set=["red", "green"], ties_okay=True),
    _e("expect_column_distinct_values_to_be_in_set", column="t", value_set=["red", "green", "blue", "black"]),
    _e("expect_column_distinct_values_to_contain_set", column="t", value_set=["red"]),
    _e("expect_column_distinct_values_to_equal_set", column="t", value_set=["red", "green", "blue"]),
    _e(
        "expect_column_kl_divergence_to_be_less_than",
        column="t",
        partition_object={"values": ["red", "green", "blue"], "weights": [0.34, 0.33, 0.33]},
        threshold=0.1,
    ),
    _e(
        "expect_column_chisquare_test_p_value_to_be_greater_than",
        column="t",
        partition_object={"values": ["red", "green", "blue"], "weights": [0.34, 0.33, 0.33]},
        p=0.05,
    ),
    _e(
        "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than",
        column="y",
        partition_object={"bins": [0, 1, 2, 3, 4, 5], "weights": [0.2] * 5},
        bootstrap_samples=50,
    ),
    _e(
        "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than",
        column="y",
        distribution="uniform",
        params={"min": 0, "max": 5},
        p_value=0.001,
    ),
    _e("expect_column_pair_cramers_phi_value_to_be_less_than", column_A="t", column_B="k", threshold=1.0),
    _e("expect_table_row_count_to_be_between", min_value=1, max_value=ROWS),
    _e("expect_table_row_count_to_equal", value=ROWS),
    _e("expect_table_row_count_to_equal_other_table", other_table_name="logistics.shipments.daily"),
    _e("expect_column_to_exist", column="ts", column_index=9),
    _e("expect_table_column_count_to_be_between", min_value=1, max_value=20),
    _e("expect_table_column_count_to_equal", value=12),
    _e(
        "expect_table_columns_to_match_ordered_list",
        column_list=["id", "k", "x", "y", "d", "s", "t", "js", "day", "ts", "dt", "b"],
    ),
    _e("expect_table_columns_to_match_set", column_set=["id", "k"], exact_match=False),
    _e("unexpected_rows_expectation", unexpected_rows_query="SELECT * FROM {batch} WHERE id < 0"),
]
