"""Distribution expectations: counts in DuckDB, the statistic in Python, with GE's definitions.

* `kl_divergence_to_be_less_than` (GE 1.x): a continuous partition's bin counts (numpy's histogram: `[a, b)`, the
  last bin closed) and the counts below and above it, or a categorical partition's value counts, all in the one
  aggregate pass; then GE's weights, holdouts and `scipy.stats.entropy` (normalised relative entropy). Without a
  partition, GE compares the column with its own histogram: 0.
* `chisquare_test_p_value_to_be_greater_than` (GE 0.x; GE 1.x ships the type without an implementation): value
  counts against `weights × count`, unexpected values sharing `tail_weight_holdout`; passes when p > `p`.
* `parameterized_distribution_ks_test_p_value_to_be_greater_than` and `bootstrapped_ks_test_…` (GE 0.x):
  `scipy.stats.kstest` of the column's values against the distribution (or against the partition's piecewise
  linear CDF, on `bootstrap_samples` resamples drawn with a fixed seed); these read the column's values.
* `column_pair_cramers_phi_value_to_be_less_than` (GE 0.x): Cramér's V of the two columns' crosstab, numeric
  columns cut into `bins` or `n_bins` (10) equal-width bins, text values grouped by `bins` or the `n_bins` most
  common kept; missing values are a category.

The p-value tests need scipy (`pip install meshlake[expectations]`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from meshlake.contract.expectations import NUMERIC, check_literal
from meshlake.contract.partition_objects import partition_kind
from meshlake.errors import require

if TYPE_CHECKING:
    from meshlake.quality.compile import Column, Plan

_SEED = 20241024
"""The seed of the bootstrapped KS test's resamples (GE draws them from numpy's global generator)."""


def distribution_plan(plan: Plan, columns: Mapping[str, Column], source_sql: str) -> Plan:
    kw = plan.exp.kwargs
    name = plan.spec.name.removeprefix("expect_column_")
    if name == "pair_cramers_phi_value_to_be_less_than":
        a, b = columns[kw["column_A"]], columns[kw["column_B"]]
        plan.subqueries["a"] = f"(SELECT list({a.value}) FROM {source_sql} AS __src)"
        plan.subqueries["b"] = f"(SELECT list({b.value}) FROM {source_sql} AS __src)"
        plan.verdict = lambda got: _cramers(got["a"] or [], got["b"] or [], a, b, kw)
        return plan
    col = columns[kw["column"]]
    plan.family = col.family
    v = col.value
    plan.aggregates["nonnull"] = f"count({v})"
    partition = kw.get("partition_object")
    if name in ("kl_divergence_to_be_less_than", "chisquare_test_p_value_to_be_greater_than"):
        if partition is not None and partition_kind(partition) == "continuous":
            bins = [float(b) for b in partition["bins"]]
            x = f"{v}::DOUBLE"
            for i, (lo, hi) in enumerate(pairwise(bins)):
                last = i == len(bins) - 2
                plan.aggregates[f"bin{i}"] = (
                    f"count(*) FILTER (WHERE {x} >= {_f(lo)} AND {x} {'<=' if last else '<'} {_f(hi)})"
                )
            plan.aggregates["below"] = f"count(*) FILTER (WHERE {x} < {_f(bins[0])})"
            plan.aggregates["above"] = f"count(*) FILTER (WHERE {x} > {_f(bins[-1])})"
        elif partition is not None:
            plan.aggregates["counts"] = f"histogram({v}) FILTER (WHERE {v} IS NOT NULL)"
        if name == "kl_divergence_to_be_less_than":
            plan.verdict = lambda got: _kl(got, kw, col)
        else:
            plan.verdict = lambda got: _chisquare(got, kw, col)
        return plan
    plan.subqueries["values"] = f"(SELECT list({v}::DOUBLE) FROM {source_sql} AS __src WHERE {v} IS NOT NULL)"
    if name == "parameterized_distribution_ks_test_p_value_to_be_greater_than":
        plan.verdict = lambda got: _ks(got["values"] or [], kw)
    else:
        plan.verdict = lambda got: _bootstrapped_ks(got["values"] or [], kw)
    return plan


def _f(x: float) -> str:
    return f"'{x}'::DOUBLE" if not math.isfinite(x) else repr(x)


def entropy(pk: Sequence[float], qk: Sequence[float]) -> float:
    """`scipy.stats.entropy(pk, qk)`: both normalised to sum 1, then sum(pk · log(pk / qk))."""
    sp, sq = math.fsum(pk), math.fsum(qk)
    if not sp or not sq or math.isnan(sp) or math.isnan(sq):
        return math.nan
    total = 0.0
    for raw_p, raw_q in zip(pk, qk, strict=True):
        p, q = raw_p / sp, raw_q / sq
        if math.isnan(p) or math.isnan(q):
            return math.nan
        if p > 0:
            if q <= 0:
                return math.inf
            total += p * math.log(p / q)
    return total


def _counts(got: Mapping[str, Any], col: Column, values: Sequence[Any]) -> tuple[list[float], dict[Any, int]]:
    """The observed count of each partition value, and the counts of the values the partition does not list."""
    observed = {_key(k, col): int(c) for k, c in dict(got.get("counts") or {}).items()}
    expected = [_key(check_literal(v, col.family, field="partition_object"), col) for v in values]
    listed = [float(observed.pop(k, 0)) for k in expected]
    return listed, observed


def _key(value: Any, col: Column) -> Any:
    return float(value) if col.family in NUMERIC and value is not None else value


def _kl(got: Mapping[str, Any], kw: Mapping[str, Any], col: Column) -> tuple[bool, Any]:
    threshold = kw.get("threshold")
    partition = kw.get("partition_object")
    nonnull = int(got["nonnull"])
    if partition is None:  # GE compares the column with its own partition
        if nonnull == 0:
            raise ValueError("Invalid partition object: the column has no value to build one from")
        return True, 0.0
    tail = float(kw.get("tail_weight_holdout") or 0)
    internal = float(kw.get("internal_weight_holdout") or 0)
    weights = [float(w) for w in partition["weights"]]
    if partition_kind(partition) == "categorical":
        listed, others = _counts(got, col, partition["values"])
        pk = [c / nonnull if nonnull else math.nan for c in [*listed, *others.values()]]
        qk = [w * (1 - tail) for w in weights] + [tail / len(others)] * len(others) if others else weights
        kl = entropy(pk, qk)
    else:
        bins = [float(b) for b in partition["bins"]]
        hist = [int(got[f"bin{i}"]) for i in range(len(weights))]
        below, above = int(got["below"]), int(got["above"])
        observed = [h / nonnull if nonnull else math.nan for h in hist]
        expected = [w * (1 - tail - internal) for w in weights]
        zeros = sum(1 for w in expected if w == 0)
        if internal > 0 and zeros:
            expected = [internal / zeros if w == 0 else w for w in expected]
        rate = (lambda n: n / nonnull) if nonnull else (lambda n: math.nan)
        if bins[0] == -math.inf and bins[-1] == math.inf:
            comb_expected, comb_observed = expected, observed
        elif bins[0] == -math.inf:
            comb_expected, comb_observed = [*expected, tail], [*observed, rate(above)]
        elif bins[-1] == math.inf:
            comb_expected, comb_observed = [tail, *expected], [rate(below), *observed]
        else:
            tails = [float(t) for t in partition.get("tail_weights") or (tail / 2, tail / 2)]
            comb_expected = [tails[0], *expected, tails[1]]
            comb_observed = [rate(below), *observed, rate(above)]
        kl = entropy(comb_observed, comb_expected)
    observed_value = None if math.isinf(kl) or math.isnan(kl) else kl
    return (True if threshold is None else kl <= threshold), observed_value


def _chisquare(got: Mapping[str, Any], kw: Mapping[str, Any], col: Column) -> tuple[bool, Any]:
    partition = kw["partition_object"]
    nonnull = int(got["nonnull"])
    tail = float(kw.get("tail_weight_holdout") or 0)
    listed, others = _counts(got, col, partition["values"])
    observed = [*listed, *(float(c) for c in others.values())]
    expected = [float(w) * nonnull for w in partition["weights"]]
    if others:
        expected = [e * (1 - tail) for e in expected] + [nonnull * tail / len(others)] * len(others)
    statistic = 0.0
    for o, e in zip(observed, expected, strict=True):
        if e == 0:
            statistic = math.inf if o else statistic
            continue
        statistic += (o - e) ** 2 / e
    p = chi2_sf(statistic, len(observed) - 1)
    return p > float(kw.get("p", 0.05)), p


def chi2_sf(x: float, df: int) -> float:
    """The chi-square survival function (p-value): the regularized upper incomplete gamma Q(df/2, x/2)."""
    if df <= 0 or math.isnan(x):
        return math.nan
    if math.isinf(x):
        return 0.0
    return _gamma_q(df / 2.0, x / 2.0)


def _gamma_q(a: float, x: float) -> float:
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # series for P, then Q = 1 - P
        term = total = 1.0 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # Lentz's continued fraction for Q
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-17:
            break
    return math.exp(log_front) * h


_SCIPY_ARGS = {
    "norm": ("mean", "std_dev"),
    "beta": ("alpha", "beta", "loc", "scale"),
    "gamma": ("alpha", "loc", "scale"),
    "uniform": ("min", "max"),
    "chi2": ("df", "loc", "scale"),
    "expon": ("loc", "scale"),
    "t": ("df", "loc", "scale"),
}


def _ks(values: Sequence[float], kw: Mapping[str, Any]) -> tuple[bool, Any]:
    stats = require("scipy.stats", extra="expectations", feature=str(kw.get("distribution")) + " KS test")
    distribution = kw["distribution"]
    params = kw.get("params") or {}
    if isinstance(params, Mapping):
        given = {"loc": 0, "scale": 1, **params}
        args = tuple(given[k] for k in _SCIPY_ARGS[distribution])
        if distribution == "uniform":  # GE passes (min, max) as scipy's (loc, scale)
            args = (given["min"], given["max"])
    else:
        args = tuple(params)
    p = float(stats.kstest(list(values), distribution, args=args)[1])
    return p >= float(kw.get("p_value", 0.05)), p


def _bootstrapped_ks(values: Sequence[float], kw: Mapping[str, Any]) -> tuple[bool, Any]:
    import numpy as np

    stats = require("scipy.stats", extra="expectations", feature="the bootstrapped KS test")
    partition = kw["partition_object"]
    bins = np.array(partition["bins"], dtype=float)
    cdf = np.append([0.0], np.cumsum(partition["weights"]))
    samples = int(kw.get("bootstrap_samples") or 1000)
    size = int(kw.get("bootstrap_sample_size") or len(partition["weights"]) * 2)
    p = float(kw.get("p", 0.05))
    data = np.asarray(values, dtype=float)
    if not len(data):
        return False, None
    rng = np.random.default_rng(_SEED)
    found = [stats.kstest(rng.choice(data, size=size), lambda x: np.interp(x, bins, cdf))[1] for _ in range(samples)]
    result = (1 + sum(x >= p for x in found)) / (samples + 1)
    return bool(result > p), float(result)


def _cramers(a: list[Any], b: list[Any], col_a: Column, col_b: Column, kw: Mapping[str, Any]) -> tuple[bool, Any]:
    import numpy as np

    left = _binned(a, col_a, kw.get("bins_A"), kw.get("n_bins_A"))
    right = _binned(b, col_b, kw.get("bins_B"), kw.get("n_bins_B"))
    rows, cols = sorted(set(left), key=str), sorted(set(right), key=str)
    table = np.zeros((len(rows), len(cols)))
    index_r, index_c = {r: i for i, r in enumerate(rows)}, {c: i for i, c in enumerate(cols)}
    for x, y in zip(left, right, strict=True):
        table[index_r[x], index_c[y]] += 1
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    if (expected == 0).any():
        raise ValueError("the crosstab has an empty row or column (scipy's chi2_contingency refuses it)")
    dof = table.size - sum(table.shape) + len(table.shape) - 1
    observed = table
    if dof == 1:  # Yates' correction, as scipy's chi2_contingency applies by default
        observed = table + 0.5 * np.sign(expected - table) * np.minimum(0.5, np.abs(expected - table))
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    smaller = min(table.shape) - 1
    with np.errstate(all="ignore"):
        phi = np.sqrt(chi2 / len(a) / smaller) if smaller else math.inf
    phi = max(min(float(phi), 1.0), 0.0) if not math.isnan(phi) else math.nan
    return phi <= float(kw.get("threshold", 0.1)), phi


def _binned(values: list[Any], col: Column, bins: Any, n_bins: Any) -> list[Any]:
    """GE 0.x's `get_binned_values`: numeric values cut into bins, text grouped; missing is a category."""
    import numpy as np

    n_bins = int(n_bins or 10)
    if col.family in ("integer", "float"):
        present = np.array([v for v in values if v is not None], dtype=float)
        if bins is not None:
            edges = sorted({float(x) for x in bins})
            if len(present) and present.min() < edges[0]:
                edges = [float(present.min()), *edges]
            if len(present) and present.max() > edges[-1]:
                edges = [*edges, float(present.max())]
            edges_array = np.array(edges)
        else:
            edges_array = np.histogram_bin_edges(present, bins=n_bins)
        edges_array[-1] = np.nextafter(edges_array[-1], edges_array[-1] + 1)
        return [("(missing)" if v is None else int(np.digitize(v, edges_array))) for v in values]
    if bins is None:
        counts: dict[Any, int] = {}
        for v in values:
            if v is not None:
                counts[v] = counts.get(v, 0) + 1
        if len(counts) < n_bins + 1:
            return ["(missing)" if v is None else v for v in values]
        kept = {v for v, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:n_bins]}
        return ["(missing)" if v is None else v if v in kept else "(other)" for v in values]
    group = {value: ", ".join(map(str, g)) for g in bins for value in g}
    return ["(missing)" if v is None else group.get(v, v) for v in values]
