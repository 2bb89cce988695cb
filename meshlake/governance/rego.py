"""Custom governance rules in Rego, evaluated without a server by `regopy` (PyPI, the `governance` extra).

Rules run in a worker process (`rego_worker`, reusing `meshlake.quality.regex_worker`'s process and framing),
each query within the policy's `rego_time_budget`: a rule that runs past it is killed and reported, the worker
is replaced and the other rules go on. The worker holds the mesh once, with the rules' modules in one
interpreter where their packages allow it. A rule that does not compile, raises, runs out of time or memory, or returns
something that is not a list of findings gives an outcome with `error` set: the engine makes it a `GOV099` error
finding for every product in the rule's scope, so a broken rule never passes a product.

A rule's query (default `data.<package>.deny`) returns a set or array of findings, each an object with
`product` (`domain.product`) and optionally `port`, `column` and `message`, or a string (the message) when
the mesh has one product. Prefer array comprehensions (`deny := [f | …]`) for rules that may find thousands:
rego-cpp builds large sets slowly.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from meshlake.contract.durations import parse_duration
from meshlake.errors import require

if TYPE_CHECKING:
    from meshlake.governance.policy import CustomRule, GovernancePolicy, RegoProblem

WORKER: Final = Path(__file__).with_name("rego_worker.py")


@dataclass(frozen=True)
class Outcome:
    """What one custom rule returned (`results`), or why it could not be evaluated (`error`)."""

    results: list[Any] | None = None
    error: str | None = None


def _command() -> list[str]:
    return [sys.executable, "-I", str(WORKER)]


def budget_seconds(policy: GovernancePolicy) -> float:
    return parse_duration(policy.rego_time_budget).total_seconds()


class _Session:
    """A worker, started on demand, given the input once; replaced when a rule kills it."""

    def __init__(self, budget: float, input_text: str | None = None, modules: dict[str, str] | None = None) -> None:
        self.budget = budget
        self.input_text = input_text
        self.modules = modules or {}
        self.worker: Any = None

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        from meshlake.quality.regex_worker import RegexTimeoutError, RegexWorkerError, WorkerProcess

        try:
            if self.worker is None:
                self.worker = WorkerProcess(_command())
                if self.input_text is not None:
                    for setup in (
                        {"op": "input", "input": self.input_text},
                        {"op": "prepare", "modules": self.modules},
                    ):
                        reply = self.worker.ask(json.dumps(setup).encode(), self._deadline())
                        if "error" in reply:
                            raise RegexWorkerError(f"the mesh could not be handed to Rego: {reply['error']}")
            reply = self.worker.ask(json.dumps(request).encode(), self._deadline())
        except RegexTimeoutError:
            self.close()
            return {"error": f"it ran longer than the time budget of {self.budget:g} s (rego_time_budget)"}
        except RegexWorkerError as exc:
            code = self.worker.process.poll() if self.worker is not None else None
            self.close()
            reason = "it ran out of memory or crashed" if code not in (None, 0) else str(exc)
            return {"error": f"the Rego worker stopped: {reason}"}
        return dict(reply)

    def _deadline(self) -> float:
        return time.monotonic() + self.budget

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None


def compile_problems(policy: GovernancePolicy) -> list[RegoProblem | None]:
    """For each custom rule (in `policy.custom_rules()` order): why its module does not compile, or None."""
    from meshlake.governance.policy import RegoProblem

    require("regopy", extra="governance", feature="custom governance rules in Rego")
    session = _Session(budget_seconds(policy))
    problems: list[RegoProblem | None] = []
    try:
        for _path, rule, _domain in policy.custom_rules():
            source = rule.source(policy.modules)
            reply = session.ask({"op": "compile", "name": rule.code, "module": source})
            if "error" not in reply:
                problems.append(None)
                continue
            offset = reply.get("offset")
            line = source[: int(offset)].count("\n") + 1 if isinstance(offset, int) else None
            problems.append(RegoProblem(str(reply["error"]), line))
    finally:
        session.close()
    return problems


class RuleRun:
    """Custom rules being evaluated: the worker starts and takes the mesh in the background (`start`), while the
    caller runs the built-in rules; `outcomes()` then evaluates each rule."""

    def __init__(self, policy: GovernancePolicy, rules: Sequence[CustomRule], document: dict[str, Any]) -> None:
        import threading

        self.policy = policy
        self.rules = list(rules)
        self.session = _Session(
            budget_seconds(policy), json.dumps(document), {rule.code: rule.source(policy.modules) for rule in rules}
        )
        self._warming = threading.Thread(target=self._warm, name="meshlake-rego-warm", daemon=True)
        self._warming.start()

    def _warm(self) -> None:
        self.session.ask({"op": "compile", "name": "warm", "module": "package meshlake_warm"})

    def outcomes(self) -> list[Outcome]:
        self._warming.join()
        outcomes: list[Outcome] = []
        try:
            for rule in self.rules:
                outcomes.append(self._outcome(rule))
        finally:
            self.session.close()
        return outcomes

    def _outcome(self, rule: CustomRule) -> Outcome:
        modules = self.policy.modules
        reply = self.session.ask(
            {"op": "eval", "name": rule.code, "module": rule.source(modules), "query": rule.query_for(modules)}
        )
        if "error" in reply:
            return Outcome(error=str(reply["error"]))
        result = reply.get("result")
        if result is None:
            return Outcome(results=[])  # undefined: the rule found nothing
        if isinstance(result, list):
            return Outcome(results=result)
        return Outcome(error=f"its query returned {type(result).__name__}, not a set or array of findings")


def start_rules(policy: GovernancePolicy, rules: Sequence[CustomRule], document: dict[str, Any]) -> RuleRun:
    """Start evaluating `rules` over `document` (the mesh JSON), each within the policy's time budget."""
    require("regopy", extra="governance", feature="custom governance rules in Rego")
    return RuleRun(policy, rules, document)


def evaluate_rules(policy: GovernancePolicy, rules: Sequence[CustomRule], document: dict[str, Any]) -> list[Outcome]:
    """Evaluate each rule over `document` (the mesh JSON), each within the policy's time budget."""
    return start_rules(policy, rules, document).outcomes() if rules else []
