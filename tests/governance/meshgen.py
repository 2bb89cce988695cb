"""Generated meshes for the governance tests and benchmark: products that break each built-in rule at random.

`generated_mesh(n, seed)` returns `n` descriptor dicts (valid descriptors), about half of them compliant; the
others miss an e-mail, a description, a classification, a mask, an SLO, a uniqueness expectation, a retention,
a pin, read a port they are not granted, or break a naming convention, a few things at a time.
"""

from __future__ import annotations

import random
from typing import Any

DOMAINS = ("sales", "fleet", "logistics", "finance", "marketing", "support", "hr", "ops")
FLAWS = (
    "no_email",
    "no_description",
    "no_port_description",
    "no_column_description",
    "unclassified",
    "confidential_unmasked",
    "no_slo",
    "key_not_unique",
    "no_retention",
    "floating_input",
    "ungranted_input",
    "bad_name",
)


def product(index: int, rng: random.Random, flaws: set[str], products: list[tuple[str, str]]) -> dict[str, Any]:
    """One product `p<index>` in a domain; reads up to two earlier products' ports."""
    domain = DOMAINS[index % len(DOMAINS)]
    name = f"p{index:04d}"
    columns: list[dict[str, Any]] = [
        {"name": "id", "type": "long", "required": True, "description": "Key", "classification": "internal"},
        {"name": "amount", "type": "double", "description": "Money", "classification": "internal"},
        {"name": "email", "type": "string", "description": "Contact", "classification": "pii"},
        {
            "name": "card",
            "type": "string",
            "description": "Card",
            "classification": "confidential",
            "mask": "show-last-4",
        },
    ]
    columns += [
        {"name": f"attr_{k}", "type": "string", "description": f"Attribute {k}", "classification": "public"}
        for k in range(rng.randint(0, 4))
    ]
    if "no_column_description" in flaws:
        del columns[1]["description"]
    if "unclassified" in flaws:
        del columns[1]["classification"]
    if "confidential_unmasked" in flaws:
        del columns[3]["mask"]
    if "bad_name" in flaws:
        columns[1]["name"] = "amount_"
    port: dict[str, Any] = {
        "name": "out",
        "description": "The product's output",
        "tags": ["finance"] if domain == "finance" else [],
        "columns": columns,
        "primary_key": ["id"],
        "expectations": [] if "key_not_unique" in flaws else [{"expect_column_values_to_be_unique": {"column": "id"}}],
        "slo": None if "no_slo" in flaws else {"freshness": "24h", "min_rows": 1},
        "retention": None if "no_retention" in flaws else {"time_travel": "7d", "min_snapshots": 10},
    }
    if "no_port_description" in flaws:
        del port["description"]
    if rng.random() < 0.2:
        port["access"] = {"readers": ["group:analytics", f"product:{domain}.p{index + 1:04d}"]}
    inputs = []
    for number, (other_domain, other) in enumerate(rng.sample(products, min(2, len(products)))):
        item: dict[str, Any] = {"name": f"in_{number}", "port": f"{other_domain}.{other}.out"}
        if "floating_input" not in flaws:
            item["snapshot"] = rng.randint(1, 10**9)
        inputs.append(item)
    if "ungranted_input" in flaws and products:
        inputs.append({"name": "secret", "port": f"{products[0][0]}.{products[0][1]}.secret", "snapshot": 1})
    data: dict[str, Any] = {
        "apiVersion": "meshlake/v1",
        "domain": domain,
        "name": name,
        "version": "1.0.0",
        "owner": {"team": f"{domain}_data"},
        "outputs": [port],
        "inputs": inputs,
    }
    if "no_email" not in flaws:
        data["owner"]["email"] = f"{domain}@example.com"
    if "no_description" not in flaws:
        data["description"] = f"Product {index} of the generated mesh."
    if index == 0:  # the port every ungranted input asks for: only its owners read it
        data["outputs"].append(
            {
                "name": "secret",
                "description": "Owners only",
                "access": {"readers": []},
                "columns": [{"name": "x", "type": "long", "description": "x", "classification": "internal"}],
                "slo": {"min_rows": 1},
                "retention": {"time_travel": "7d", "min_snapshots": 10},
            }
        )
    return {k: v for k, v in data.items() if v is not None}


def generated_mesh(n: int, seed: int = 7, *, flawed: float = 0.5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    made: list[dict[str, Any]] = []
    names: list[tuple[str, str]] = []
    for index in range(n):
        flaws = set(rng.sample(FLAWS, rng.randint(1, 3))) if rng.random() < flawed and index else set()
        data = product(index, rng, flaws, names)
        made.append(data)
        names.append((data["domain"], data["name"]))
    return made
