"""`meshlake lint --mesh` over a generated mesh of 1,000 products, with the built-in rules and with the Rego pack.

    python -m benchmarks.bench_governance --products 1000 --repeat 3

The mesh (`tests/governance/meshgen.py`: about half the products break one to three rules) is registered in an
embedded lake as deployed products: each descriptor is stored in its namespace's properties exactly as
`meshlake deploy` stores it (`lint --mesh` reads those and no table, so creating the tables is skipped). Each
timing is the whole CLI command in a fresh process (start-up, reading the 1,000 descriptors, every rule, the
report), median of `--repeat` runs; the split says where the time goes in process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import fresh_dir, machine, save

PACK = Path(__file__).resolve().parents[1] / "meshlake" / "governance" / "rego_pack"
TARGET_S = 5.0


def build_mesh(home: Path, products: int) -> None:
    """Register `products` generated descriptors in an embedded lake under `home`."""
    import meshlake as ml
    from meshlake.catalog.catalogs import create_namespace_once
    from meshlake.contract.descriptor import Descriptor
    from meshlake.contract.registry import descriptor_properties
    from tests.governance.meshgen import generated_mesh

    lake = ml.connect(home=str(home))
    for data in generated_mesh(products, seed=2026):
        descriptor = Descriptor.model_validate(data)
        create_namespace_once(lake.catalog, descriptor.product_name.namespace, descriptor_properties(descriptor))


def pack_with_builtins(folder: Path) -> Path:
    """The Rego pack's policy with the built-in rules left on: both sets of rules run."""
    target = folder / "rego_pack"
    shutil.copytree(PACK, target)
    policy = target / "governance.yaml"
    policy.write_text(policy.read_text().replace("defaults: false", "defaults: true"))
    return policy


def run_lint(home: Path, policy: Path | None) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds, CPU seconds (the command and the Rego worker it waits for) and the JSON report."""
    import resource

    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHLAKE_")} | {"MESHLAKE_HOME": str(home)}
    command = [str(Path(sys.executable).parent / "meshlake"), "--json", "lint", "--mesh"]
    if policy is not None:
        command += ["--policy", str(policy)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=home.parent)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr)
    return seconds, cpu, json.loads(done.stdout)


def split(home: Path, policy: Path | None) -> dict[str, float]:
    """Where the time goes in process: reading the mesh, then evaluating it."""
    import meshlake as ml
    from meshlake.governance.engine import evaluate
    from meshlake.governance.policy import read_policy_file
    from meshlake.governance.subjects import Subject, deployed_mesh

    lake = ml.connect(home=str(home))
    start = time.perf_counter()
    chosen = read_policy_file(policy) if policy is not None else None
    read_policy = time.perf_counter() - start
    start = time.perf_counter()
    deployed, _ = deployed_mesh(lake.catalog)
    read_mesh = time.perf_counter() - start
    subjects = [Subject(d, deployed=d) for d in deployed.values()]
    start = time.perf_counter()
    evaluate(subjects, policy=chosen, known=deployed)
    rules = time.perf_counter() - start
    return {"read_policy_s": read_policy, "read_mesh_s": read_mesh, "evaluate_s": rules}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = fresh_dir("governance")
    home = work / ".meshlake"
    start = time.perf_counter()
    build_mesh(home, args.products)
    built = time.perf_counter() - start
    pack = pack_with_builtins(work)
    load = {"start": os.getloadavg()[0]}
    cases: dict[str, Any] = {}
    for name, policy in (("builtin", None), ("builtin_and_rego_pack", pack)):
        runs = []
        cpus = []
        report: dict[str, Any] = {}
        for _ in range(args.repeat):
            seconds, cpu, report = run_lint(home, policy)
            runs.append(seconds)
            cpus.append(cpu)
        cases[name] = {
            "median_s": statistics.median(runs),
            "runs_s": runs,
            "cpu_median_s": statistics.median(cpus),
            "products": len(report["products"]),
            "errors": report["errors"],
            "warnings": report["warnings"],
            "findings": len(report["findings"]),
            "split": split(home, policy),
        }
    load["end"] = os.getloadavg()[0]
    results = {
        "machine": machine(),
        "products": args.products,
        "repeat": args.repeat,
        "register_mesh_s": built,
        "load_average_1m": load,
        "cases": cases,
        "target_s": TARGET_S,
    }
    save("governance", results, _markdown(results))


def _markdown(r: dict[str, Any]) -> str:
    def row(title: str, case: dict[str, Any]) -> str:
        s = case["split"]
        return (
            f"| {title} | {case['median_s']:.2f} s | {case['cpu_median_s']:.2f} s | "
            f"{case['findings']:,} ({case['errors']:,} errors) | "
            f"{s['read_mesh_s']:.2f} s | {s['read_policy_s']:.2f} s | {s['evaluate_s']:.2f} s |"
        )

    cases = r["cases"]
    worst = max(case["median_s"] for case in cases.values())
    worst_cpu = max(case["cpu_median_s"] for case in cases.values())
    m = r["machine"]
    return "\n".join(
        [
            "# Governance benchmark",
            "",
            f"`python -m benchmarks.bench_governance --products {r['products']} --repeat {r['repeat']}` on "
            f"{m['cpus']} CPUs, {m['when']} (pyiceberg {m['pyiceberg']}, duckdb {m['duckdb']}); 1-minute load "
            f"average {r['load_average_1m']['start']:.1f} at the start, {r['load_average_1m']['end']:.1f} at the end.",
            "",
            f"A generated mesh of {r['products']:,} products (one to three rules broken in about half of them; "
            "each product 4–8 columns, up to three inputs) registered in an embedded SQLite lake as deployed "
            "products. Each time is `meshlake --json lint --mesh` as a fresh process (median of "
            f"{r['repeat']}); the split is measured in process.",
            "",
            "| rules | `meshlake lint --mesh` (wall) | CPU | findings | read the mesh | read + compile the policy "
            "| evaluate |",
            "|---|---|---|---|---|---|---|",
            row("built-in (default policy)", cases["builtin"]),
            row("built-in + Rego pack (11 custom rules)", cases["builtin_and_rego_pack"]),
            "",
            "Wall time on a shared machine depends on its load (the load average above is for 2 CPUs); the CPU "
            "column (the command and its Rego worker) does not. Reading the mesh is one query on a SQL catalog. "
            "The Rego pack costs a worker process, the mesh JSON (about 2.3 MB for 1,000 products) converted "
            "once for rego-cpp (about 1.4 s of it, in the worker, while the built-in rules run in the main "
            "process), and each rule's query in one shared interpreter (0.1–0.4 s each); a rule that fails or "
            "times out is reported alone and the others go on.",
            "",
            f"Target (issue 12): `meshlake lint --mesh` over 1,000 products under {r['target_s']:.0f} s, with "
            f"the Rego pack and without. Measured: at most {worst:.2f} s wall "
            f"({'met' if worst < r['target_s'] else 'NOT met'} at this load), {worst_cpu:.2f} s of CPU "
            f"({'met' if worst_cpu < r['target_s'] else 'NOT met'}).",
            "",
        ]
    )


if __name__ == "__main__":
    main()
