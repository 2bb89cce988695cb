"""Great Expectations' own expectation test cases (release 1.2.0), as data, and how they apply to meshlake.

`ge_1_2_0_test_definitions.json` holds the JSON test definitions of the Great Expectations repository
(https://github.com/great-expectations/great_expectations, tag 1.2.0, `tests/test_definitions/*/*.json`,
Apache-2.0), reduced to what a verdict needs: each dataset's data, pandas schema and backend filters, and each
test's title, input, expected `success` (or expected error) and backend filters.

Regenerate it from a checkout of that tag with `python -m tests.quality.ge_definitions <checkout>`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("ge_1_2_0_test_definitions.json")
ORIGIN = {
    "repository": "https://github.com/great-expectations/great_expectations",
    "tag": "1.2.0",
    "commit": "84cfd3d6b25aa5b9998e27bcb87e31b2b123a72a",
    "paths": "tests/test_definitions/*/*.json",
    "license": "Apache-2.0 (Copyright Great Expectations, Inc.)",
    "reduced_to": "datasets (data, schemas.pandas, only_for, suppress_test_for) and tests (title, in, "
    "out.success or out.traceback_substring, only_for, suppress_test_for)",
}


def extract(checkout: Path) -> dict[str, Any]:
    files = sorted((checkout / "tests" / "test_definitions").glob("*/*.json"))
    out: list[dict[str, Any]] = []
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        datasets = []
        for dataset in document["datasets"]:
            schemas = dataset.get("schemas") or {}
            datasets.append(
                {
                    "data": dataset["data"],
                    "pandas_schema": schemas.get("pandas"),
                    "only_for": dataset.get("only_for"),
                    "suppress_test_for": dataset.get("suppress_test_for"),
                    "tests": [
                        {
                            "title": test["title"],
                            "in": test["in"],
                            "success": test["out"].get("success"),
                            "error": test["out"].get("traceback_substring"),
                            "only_for": test.get("only_for"),
                            "suppress_test_for": test.get("suppress_test_for"),
                        }
                        for test in dataset["tests"]
                    ],
                }
            )
        out.append(
            {
                "file": str(path.relative_to(checkout)),
                "category": path.parent.name,
                "expectation_type": document["expectation_type"],
                "datasets": datasets,
            }
        )
    return {"origin": ORIGIN, "definitions": out}


def load() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


if __name__ == "__main__":
    DATA.write_text(json.dumps(extract(Path(sys.argv[1])), separators=(",", ":"), sort_keys=False) + "\n")
