"""The governance policy (`governance.yaml`): which rules hold, how strictly, where; kept versioned in the lake.

    apiVersion: meshlake/v1
    rules:                                   # built-in rules by code; unlisted ones keep their default severity
      GOV004: warn                           # error | warn | off
      GOV007: {severity: error, scope: {tags: [customer_facing]}}
      GOV005:                                # several entries: the strictest that matches a finding applies
        - {severity: warn}
        - {severity: error, scope: {classifications: [pii]}}
    naming:                                  # full-match RE2 patterns per kind of name
      column: '[a-z][a-z0-9]*(_[a-z0-9]+)*'
    custom:                                  # rules in Rego over the mesh's JSON (docs/governance.md)
      - {code: ACME001, title: Finance ports keep a day of history, severity: error, module: rules/finance.rego}
    domains:                                 # stricter rules of a domain's own: never weaker
      sales:
        rules: {GOV004: error}
        naming: {column: '[a-z]+(_[a-z]+)*'}
        custom: []
    rego_time_budget: 30s                    # how long one custom rule may run
    lineage: false                           # true: the mesh JSON carries each port's input snapshots

A scope (`domains`, `products`, `tags` of ports, `classifications` of columns; all given must match) narrows an
entry to the findings inside it; a rule listed in `rules` applies only inside its entries' scopes. Errors name
the file, line and field (`GovernanceError`). The policy is stored with `meshlake.contract.documents`: its YAML
text and the Rego modules it names, so a stored version reads back with the same lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from meshlake.contract.access import ClassificationField
from meshlake.contract.address import validate_name
from meshlake.contract.descriptor import Column, Descriptor, OutputPort
from meshlake.contract.documents import VersionedDocument
from meshlake.contract.durations import parse_duration
from meshlake.contract.yamlsource import YamlSource, YamlSourceError, format_path
from meshlake.errors import GovernanceError, InvalidNameError
from meshlake.governance.findings import Severity, stricter

API_VERSION: Final = "meshlake/v1"
DOCUMENT: Final = VersionedDocument("meshlake.governance.", "the governance policy")
POLICY_ADDRESS: Final = "the governance policy"
NAMING_KINDS: Final = ("domain", "product", "port", "column", "input", "tag")
DEFAULT_NAMING: Final = r"[a-z][a-z0-9]*(_[a-z0-9]+)*"
"""snake_case: lower-case words of letters and digits joined by single underscores."""
MAX_PATTERN: Final = 256
MAX_MODULE: Final = 256 * 1024
DEFAULT_REGO_BUDGET: Final = "30s"
_CODE = re.compile(r"^[A-Z]{2,10}[0-9]{3}$")


def _name(value: str) -> str:
    try:
        return validate_name(value)
    except InvalidNameError as exc:
        raise ValueError(str(exc)) from exc


def _product(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 2:
        raise ValueError(f"{value!r} is not a product name DOMAIN.PRODUCT")
    for part in parts:
        _name(part)
    return value


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError(f"{value!r} is not a rule code like GOV005 or ACME001 (2 to 10 capitals, then 3 digits)")
    return value


def _severity(value: Any) -> Any:
    """YAML reads a bare `off` as false: it means the severity `off`."""
    return "off" if value is False else value


def _entries(value: Any) -> Any:
    """`error`, `{severity, scope}` or a list of those → a list of entries."""
    if value is False:
        return [{"severity": "off"}]
    if isinstance(value, str):
        return [{"severity": value}]
    if isinstance(value, Mapping):
        return [value]
    return value


class _KeyProblemError(ValueError):
    """A problem with one key of a mapping (its path continues with `key`)."""

    def __init__(self, problem: str, key: str) -> None:
        self.key = key
        super().__init__(problem)


def _naming(value: dict[str, str]) -> dict[str, str]:
    for kind in value:
        if kind not in NAMING_KINDS:
            raise _KeyProblemError(f"unknown kind of name {kind!r}; kinds: {', '.join(NAMING_KINDS)}", kind)
    return value


Name = Annotated[str, AfterValidator(_name)]
Code = Annotated[str, AfterValidator(_code)]
Naming = Annotated[dict[str, str], AfterValidator(_naming)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Scope(_Model):
    """Where an entry applies: every key given must match (a product-level finding matches a tag or a
    classification when one of the product's ports or columns has it)."""

    domains: list[Name] | None = None
    products: list[Annotated[str, AfterValidator(_product)]] | None = None
    tags: list[Name] | None = None
    classifications: list[ClassificationField] | None = None

    def matches(self, descriptor: Descriptor, port: OutputPort | None, column: Column | None) -> bool:
        if self.domains is not None and descriptor.domain not in self.domains:
            return False
        if self.products is not None and str(descriptor.product_name) not in self.products:
            return False
        ports = [port] if port is not None else list(descriptor.outputs)
        if self.tags is not None and not any(set(p.tags) & set(self.tags) for p in ports):
            return False
        if self.classifications is not None:
            columns = [column] if column is not None else [c for p in ports for c in p.columns]
            if not any(c.classification in self.classifications for c in columns):
                return False
        return True

    def matches_any(self, descriptors: Iterable[Descriptor]) -> bool:
        return any(self.matches(d, None, None) for d in descriptors)


class RuleEntry(_Model):
    severity: Annotated[Severity, BeforeValidator(_severity)]
    scope: Scope | None = None

    def applies(self, descriptor: Descriptor, port: OutputPort | None, column: Column | None) -> bool:
        return self.scope is None or self.scope.matches(descriptor, port, column)


Entries = Annotated[list[RuleEntry], BeforeValidator(_entries), Field(min_length=1)]


class CustomRule(_Model):
    """A rule in Rego: its module (inline `rego`, or a `module` file beside the policy) and the query whose
    result lists the findings (default `data.<package>.deny`)."""

    code: Code
    title: str = Field(min_length=1, max_length=200)
    severity: Literal["error", "warn"] = "error"
    scope: Scope | None = None
    rego: str | None = Field(default=None, max_length=MAX_MODULE)
    module: str | None = None
    query: str | None = Field(default=None, pattern=r"^data(\.[A-Za-z_][A-Za-z0-9_]*)+$")

    def source(self, modules: Mapping[str, str]) -> str:
        """The Rego text of the rule."""
        if self.rego is not None:
            return self.rego
        assert self.module is not None
        return modules[self.module]

    def query_for(self, modules: Mapping[str, str]) -> str:
        if self.query is not None:
            return self.query
        match = re.search(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_.]*)", self.source(modules), re.MULTILINE)
        return f"data.{match.group(1)}.deny" if match else "data.deny"


class DomainRules(_Model):
    """A domain's own rules: they may only add to the mesh's (raise a severity, add patterns and custom rules)."""

    rules: dict[Code, Entries] = Field(default_factory=dict)
    naming: Naming = Field(default_factory=dict)
    custom: list[CustomRule] = Field(default_factory=list)


class GovernancePolicy(_Model):
    """The mesh's governance policy; `version`, `published_by`, `published_at` are set when it is published."""

    api_version: Literal["meshlake/v1"] = Field(default=API_VERSION, alias="apiVersion")
    defaults: bool = True
    """Built-in rules not listed in `rules` apply at their default severity (false: only listed rules apply)."""
    rules: dict[Code, Entries] = Field(default_factory=dict)
    naming: Naming = Field(default_factory=dict)
    custom: list[CustomRule] = Field(default_factory=list)
    domains: dict[Name, DomainRules] = Field(default_factory=dict)
    rego_time_budget: Annotated[str, AfterValidator(_duration)] = DEFAULT_REGO_BUDGET
    lineage: bool = False
    modules: dict[str, str] = Field(default_factory=dict, exclude=True)
    """The Rego files named by `module:`, by the path written (read when the file is parsed)."""
    file: str = Field(default="<default policy>", exclude=True)
    text: str | None = Field(default=None, exclude=True)
    version: int | None = Field(default=None, exclude=True)
    published_by: str | None = Field(default=None, exclude=True)
    published_at: datetime | None = Field(default=None, exclude=True)
    source: YamlSource | None = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True)

    @property
    def label(self) -> str:
        """`governance policy v3`, or `the default governance policy`, or the file's name when not published."""
        if self.version is not None:
            return f"governance policy v{self.version}"
        return "the default governance policy" if self.text is None else f"governance policy {self.file}"

    def pattern(self, kind: str) -> str:
        return self.naming.get(kind, DEFAULT_NAMING)

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        return None if self.source is None else self.source.line_of(path)

    def severity(
        self, code: str, default: Severity, descriptor: Descriptor, port: OutputPort | None, column: Column | None
    ) -> Severity:
        """The severity of a finding of built-in rule `code` here: mesh entries, then the domain's (stricter only).

        The rules that cannot be weakened (`rules.FIXED`) are errors everywhere, even with `defaults: false`.
        """
        from meshlake.governance.rules import FIXED

        if code in FIXED:
            return "error"
        entries = self.rules.get(code)
        if entries is None:
            found: Severity = default if self.defaults else "off"
        else:
            found = "off"
            for entry in entries:
                if entry.applies(descriptor, port, column):
                    found = stricter(found, entry.severity)
        domain = self.domains.get(descriptor.domain)
        for entry in domain.rules.get(code, []) if domain else []:
            if entry.applies(descriptor, port, column):
                found = stricter(found, entry.severity)
        return found

    def custom_rules(self) -> list[tuple[tuple[str | int, ...], CustomRule, str | None]]:
        """Every custom rule with its path in the file and the domain it is limited to (None: the mesh)."""
        rules: list[tuple[tuple[str | int, ...], CustomRule, str | None]] = [
            (("custom", i), rule, None) for i, rule in enumerate(self.custom)
        ]
        for domain, section in self.domains.items():
            rules += [(("domains", domain, "custom", i), rule, domain) for i, rule in enumerate(section.custom)]
        return rules

    def scopes(self) -> list[tuple[tuple[str | int, ...], Scope, str | None]]:
        """Every scope in the policy, with its path and the domain section it sits in."""
        found: list[tuple[tuple[str | int, ...], Scope, str | None]] = []
        sections: list[tuple[tuple[str | int, ...], Mapping[str, list[RuleEntry]], list[CustomRule], str | None]]
        sections = [((), self.rules, self.custom, None)]
        sections += [(("domains", d), s.rules, s.custom, d) for d, s in self.domains.items()]
        for prefix, rules, custom, domain in sections:
            for code, entries in rules.items():
                for index, entry in enumerate(entries):
                    if entry.scope is not None:
                        path = (*prefix, "rules", code) + ((index,) if len(entries) > 1 else ())
                        found.append(((*path, "scope"), entry.scope, domain))
            for index, rule in enumerate(custom):
                if rule.scope is not None:
                    found.append(((*prefix, "custom", index, "scope"), rule.scope, domain))
        return found

    def error(self, problem: str, path: tuple[str | int, ...], *, code: str | None = None) -> GovernanceError:
        return GovernanceError(
            problem, file=self.file, line=self.line_of(path), field=format_path(path) or None, code=code
        )

    def document(self) -> str:
        """What is stored when it is published: the file's name and text and the Rego modules it names."""
        return json.dumps(
            {
                "file": self.file,
                "text": self.text or "",
                "modules": self.modules,
                "published_by": self.published_by,
                "published_at": self.published_at.isoformat() if self.published_at else None,
            },
            sort_keys=True,
        )


_INTERNAL: Final = ("modules", "file", "text", "version", "published_by", "published_at", "source")
"""Fields set by meshlake, never by the file."""
DEFAULT_POLICY: Final = GovernancePolicy()
"""Every built-in rule at its default severity: what `meshlake lint` checks when no policy is published."""


def read_policy_file(path: str | Path) -> GovernancePolicy:
    """A `governance.yaml` and the Rego files it names (paths relative to its folder, inside it)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise GovernanceError(f"cannot read the governance policy: {reason}", file=str(file)) from None
    return parse_policy(text, file=str(file), folder=file.parent)


def parse_policy(
    text: str,
    *,
    file: str = "<governance policy>",
    folder: Path | None = None,
    modules: Mapping[str, str] | None = None,
) -> GovernancePolicy:
    """Validate policy YAML; Rego `module:` files are read from `folder` (or taken from `modules`)."""
    try:
        source = YamlSource.parse(text)
    except YamlSourceError as exc:
        raise GovernanceError(exc.problem, file=file, line=exc.line, field=exc.field) from None
    if source.data is None:
        source = YamlSource({}, source.root)
    if not isinstance(source.data, Mapping):
        raise GovernanceError("a governance policy is a mapping with rules, naming, custom, domains", file=file, line=1)
    for key in _INTERNAL:
        if key in source.data:
            raise GovernanceError(f"unknown field '{key}'", file=file, line=source.line_of((key,)), field=key)
    try:
        policy = GovernancePolicy.model_validate(source.data)
    except ValidationError as exc:
        raise _validation_error(exc, source, file) from None
    read = dict(modules or {})
    for path, rule, _domain in policy.custom_rules():
        read.update(_module_text(rule, path, source, file, folder, read))
    policy = policy.model_copy(update={"modules": read, "file": file, "text": text, "source": source})
    check_policy(policy)
    return policy


def _module_text(
    rule: CustomRule,
    path: tuple[str | int, ...],
    source: YamlSource,
    file: str,
    folder: Path | None,
    known: Mapping[str, str],
) -> dict[str, str]:
    def error(problem: str, field: str) -> GovernanceError:
        where = (*path, field)
        return GovernanceError(problem, file=file, line=source.line_of(where), field=format_path(where), code=rule.code)

    if (rule.rego is None) == (rule.module is None):
        raise error("a custom rule gives its Rego inline (rego: |) or in a file (module: PATH), one of the two", "rego")
    if rule.module is None or rule.module in known:
        return {}
    relative = Path(rule.module)
    if folder is None or relative.is_absolute() or ".." in relative.parts:
        raise error(f"module {rule.module!r} must be a path inside the policy's folder", "module")
    target = folder / relative
    try:
        if target.stat().st_size > MAX_MODULE:
            raise error(f"module {rule.module!r} is larger than {MAX_MODULE // 1024} KiB", "module")
        return {rule.module: target.read_text(encoding="utf-8")}
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise error(f"cannot read module {rule.module!r}: {reason}", "module") from None


def check_policy(policy: GovernancePolicy) -> None:
    """The checks a schema cannot make: known codes, rules that cannot be weakened, domains only stricter,
    custom codes unique and outside `GOV`, naming patterns valid RE2, Rego modules that compile."""
    from meshlake.governance.naming import pattern_problem
    from meshlake.governance.rules import BUILTIN, FIXED

    for prefix, rules, domain in [((), policy.rules, None)] + [
        (("domains", d), s.rules, d) for d, s in policy.domains.items()
    ]:
        for code, entries in rules.items():
            path = (*prefix, "rules", code)
            if code not in BUILTIN:
                custom = "; custom rules go under custom:" if not code.startswith("GOV") else ""
                raise policy.error(
                    f"unknown rule code {code}; built-in rules: {', '.join(sorted(BUILTIN))}{custom}", path, code=code
                )
            for index, entry in enumerate(entries):
                where = path + ((index,) if len(entries) > 1 else ())
                if code in FIXED and (entry.severity != "error" or entry.scope is not None):
                    raise policy.error(
                        f"rule {code} ({BUILTIN[code].name}) is always an error everywhere; it cannot be lowered or "
                        "scoped",
                        (*where, "severity"),
                        code=code,
                    )
                if domain is not None:
                    base = _mesh_floor(policy, code, BUILTIN[code].default)
                    if entry.severity == "off" or stricter(entry.severity, base) != entry.severity:
                        raise policy.error(
                            f"domain {domain} cannot weaken rule {code} to {entry.severity}: it is {base} mesh-wide; "
                            "a domain may only add stricter rules",
                            (*where, "severity"),
                            code=code,
                        )
    codes: dict[str, tuple[str | int, ...]] = {}
    for path, rule, _domain in policy.custom_rules():
        if rule.code.startswith("GOV"):
            raise policy.error(f"custom rule code {rule.code}: the GOV prefix is for built-in rules", (*path, "code"))
        if rule.code in codes:
            raise policy.error(
                f"custom rule code {rule.code} is used twice (also at {format_path(codes[rule.code])})",
                (*path, "code"),
                code=rule.code,
            )
        codes[rule.code] = path
    for prefix, naming in [((), policy.naming)] + [(("domains", d), s.naming) for d, s in policy.domains.items()]:
        for kind, pattern in naming.items():
            wrong = pattern_problem(pattern)
            if wrong is not None:
                raise policy.error(f"naming pattern for {kind}: {wrong}", (*prefix, "naming", kind))
    if policy.custom_rules():
        from meshlake.governance.rego import compile_problems

        for (path, rule, _domain), problem in zip(policy.custom_rules(), compile_problems(policy), strict=True):
            if problem is not None:
                raise _rego_error(policy, path, rule, problem)


def _mesh_floor(policy: GovernancePolicy, code: str, default: Severity) -> Severity:
    """The severity a rule has mesh-wide without a scope (what a domain may not go below)."""
    entries = policy.rules.get(code)
    if entries is None:
        return default if policy.defaults else "off"
    found: Severity = "off"
    for entry in entries:
        if entry.scope is None:
            found = stricter(found, entry.severity)
    return found


@dataclass(frozen=True)
class RegoProblem:
    """Why a Rego module does not compile: the message, and the line in the module (1-based) when known."""

    message: str
    line: int | None = None


def _rego_error(
    policy: GovernancePolicy, path: tuple[str | int, ...], rule: CustomRule, problem: RegoProblem
) -> GovernanceError:
    """A compile error in a custom rule, at its line in the policy file (inline) or in its module file."""
    at = f" (Rego line {problem.line})" if problem.line else ""
    if rule.module is not None:
        folder = Path(policy.file).parent
        return GovernanceError(
            f"custom rule {rule.code} does not compile: {problem.message}",
            file=str(folder / rule.module),
            line=problem.line,
            code=rule.code,
        )
    start = policy.line_of((*path, "rego"))
    line = start + problem.line if start is not None and problem.line is not None else start
    return GovernanceError(
        f"custom rule {rule.code} does not compile: {problem.message}{at}",
        file=policy.file,
        line=line,
        field=format_path((*path, "rego")),
        code=rule.code,
    )


def _validation_error(exc: ValidationError, source: YamlSource, file: str) -> GovernanceError:
    errors = exc.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(
        part for part in first["loc"] if not (isinstance(part, str) and part.startswith(("function-", "list[")))
    )
    original = (first.get("ctx") or {}).get("error")
    if isinstance(original, _KeyProblemError):
        loc = (*loc, original.key)
    field = str(loc[-1]) if loc else "policy"
    kind = first["type"]
    if kind == "extra_forbidden":
        problem = f"unknown field '{field}'"
    elif kind == "missing":
        problem = f"missing required field '{field}'"
    elif kind == "literal_error" and field == "apiVersion":
        problem = f"apiVersion must be '{API_VERSION}'"
    elif kind == "literal_error" and field == "severity":
        problem = "severity must be error, warn or off (custom rules: error or warn)"
    else:
        problem = str(first["msg"]).removeprefix("Value error, ")
    code = next((str(p) for p in loc if isinstance(p, str) and _CODE.match(p)), None)
    return GovernanceError(problem, file=file, line=source.line_of(loc), field=format_path(loc) or None, code=code)


# -- kept in the lake -------------------------------------------------------------------------------------------


def load_governance(catalog: Any, version: int | None = None) -> GovernancePolicy | None:
    """The governance policy in force (or an earlier `version`); None when none was ever published."""
    text = DOCUMENT.read(catalog, version)
    if text is None:
        return None
    wanted = version if version is not None else DOCUMENT.current_version(catalog)
    stored = json.loads(text)
    policy = parse_policy(
        stored["text"], file=f"{stored['file']} (governance v{wanted})", modules=stored.get("modules", {})
    )
    published_at = stored.get("published_at")
    return policy.model_copy(
        update={
            "version": wanted,
            "published_by": stored.get("published_by"),
            "published_at": datetime.fromisoformat(published_at) if published_at else None,
            "file": stored["file"],
        }
    )


def governance_versions(catalog: Any) -> list[int]:
    return DOCUMENT.versions(catalog)


def store_governance(catalog: Any, policy: GovernancePolicy, *, by: str, now: datetime | None = None) -> int:
    """Store `policy` as the next version and make it current (who may is checked by the caller)."""
    if policy.text is None:
        raise GovernanceError("only a policy read from a file can be published", file=policy.file)
    stamped = policy.model_copy(update={"published_by": by, "published_at": now or datetime.now(UTC)})
    return DOCUMENT.store(catalog, lambda _version: stamped.document(), address=POLICY_ADDRESS)


def unmatched_scopes(policy: GovernancePolicy, descriptors: Iterable[Descriptor]) -> None:
    """Raise `GovernanceError` at the first scope that matches none of `descriptors` (a typo, most often)."""
    products = list(descriptors)
    if not products:
        return
    for path, scope, domain in policy.scopes():
        candidates = [d for d in products if domain is None or d.domain == domain]
        if not scope.matches_any(candidates):
            shown = json.dumps(scope.model_dump(exclude_none=True))
            raise policy.error(f"the scope {shown} matches no product of the mesh ({len(products)} checked)", path)
