"""Helpers for the governance tests: descriptors that pass the default policy, written as files, and the CLI."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from meshlake.cli.main import cli

COMPLIANT: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "sales",
    "name": "orders",
    "version": "1.0.0",
    "owner": {"team": "sales_data", "email": "sales-data@example.com"},
    "description": "Orders placed in the web shop.",
    "outputs": [
        {
            "name": "placed",
            "description": "One row per order.",
            "columns": [
                {
                    "name": "order_id",
                    "type": "long",
                    "required": True,
                    "description": "The order number",
                    "classification": "internal",
                },
                {"name": "email", "type": "string", "description": "Buyer", "classification": "pii"},
            ],
            "primary_key": ["order_id"],
            "expectations": [{"expect_column_values_to_be_unique": {"column": "order_id"}}],
            "slo": {"freshness": "24h", "min_rows": 1},
            "retention": {"time_travel": "7d", "min_snapshots": 10},
        }
    ],
}


def compliant(domain: str = "sales", name: str = "orders", **changes: Any) -> dict[str, Any]:
    """A descriptor with no finding under the default policy (top-level fields replaced by `changes`)."""
    data = copy.deepcopy(COMPLIANT)
    data.update(domain=domain, name=name, **changes)
    return data


def write(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    """`data` as `folder/<name>/dataproduct.yaml` (name: the product's), returning the file."""
    target = folder / (name or data["name"]) / "dataproduct.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return target


def run_cli(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers every command

    return CliRunner().invoke(cli, list(args))
