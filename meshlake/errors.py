"""Every error meshlake raises, under one base class.

Each message says what failed, for which address, and what to do next. Errors that are also a
built-in kind (a bad value, a missing thing) inherit that built-in too, so generic handlers work.

    MeshlakeError
    ├── ConfigError                (ValueError)   bad or unknown setting; names the key and its source
    ├── DescriptorError            (ValueError)   bad dataproduct.yaml; names file, line and field
    ├── InvalidNameError           (ValueError)   a name or address outside ^[a-z][a-z0-9_]{0,62}$
    ├── ContractViolationError     (ValueError)   written data does not fit the port's contract
    ├── InputFileError             (ValueError)   a CSV or JSON-lines file cannot be read; names file, line, column
    ├── InvalidFilterError         (ValueError)   a `where` filter outside the grammar; shows the part it could not read
    ├── BreakingChangeError                       deploy would break consumers; lists each change
    │   └── VersionBumpError                      the declared version undershoots the change; names the one to declare
    ├── CatalogUnavailableError    (ConnectionError)  the catalog cannot be reached or refused the credentials
    ├── BrokenProductError                        a deployed product's descriptor or a port's table cannot be read
    ├── TableMetadataError         (ValueError)   a table's metadata file, read lazily, turned out gone or invalid
    ├── NotFoundError              (LookupError)
    │   ├── ProductNotFoundError
    │   ├── PortNotFoundError
    │   ├── SnapshotNotFoundError                 names the snapshots, tags and branches that exist
    │   └── LakeNotFoundError                     no lake where the settings point; says where it looked
    ├── CommitConflictError                       a concurrent commit makes this write unsafe to publish
    ├── QualityGateError                          expectations failed; carries the report
    ├── PipelineError                             a product's pipeline.py raised; names its file and line
    ├── InvalidPrincipalError      (ValueError)   a principal string outside the grammar (`user:alice`, …)
    ├── AuthenticationError                       the caller's identity cannot be established or is refused
    ├── AccessDeniedError          (PermissionError)  names principal, address and the missing grant
    ├── ReadRestrictionError       (ValueError)   a mask or row filter a read cannot apply; nothing is returned
    ├── AccessLogError                            the access log cannot be written; its entries stay buffered
    ├── GovernanceError            (ValueError)   a bad governance policy or custom rule; names file, line and field
    ├── GovernanceViolationError                  a deploy, run or write refused by the governance policy's rules
    ├── DiscoveryError             (ValueError)   a bad lineage, search, export or site request (depth, --since, --to)
    ├── ReleaseError               (ValueError)   a release version that is not semver, exists already, or is broken
    ├── DiffError                  (ValueError)   snapshots of different tables, or a key that is not unique
    ├── StandardDocumentError      (ValueError)   an ODCS/ODPS document that does not validate; lists every error
    ├── StreamError                               a stream cannot be consumed into a port; nothing past its offsets
    │   ├── StreamSourceMismatchError (ValueError)  a source id already names another stream on this port
    │   ├── StreamGapError                        the broker no longer holds offsets the port still needs
    │   ├── StreamSourceUnavailableError (ConnectionError)  the broker stayed unreachable through the retries
    │   └── StreamStoppedError                    a batch failed its gate (or held malformed messages) under `stop`
    ├── StreamNotServedError       (ValueError)   the port does not declare `serve: [table, stream]`
    └── MissingDependencyError     (ImportError)  an optional extra is not installed
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshlake.quality.report import QualityReport


class MeshlakeError(Exception):
    """Base class of every meshlake error.

    Every meshlake error pickles with its attributes (errors raised on a Daft or Ray worker arrive at the
    driver as themselves), although most take keyword-only arguments.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(kind: type[MeshlakeError], args: tuple[Any, ...], state: dict[str, Any]) -> MeshlakeError:
    """A pickled meshlake error, rebuilt without calling its `__init__` (its message is already made)."""
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


MAX_PROBLEM = 1500
"""How long the problem in an error message may be: a value it quotes (a 70 KB type string) is cut in the middle."""


def shorten(text: str, limit: int = MAX_PROBLEM) -> str:
    """`text`, or its beginning and end around ` … ` when it is longer than `limit` characters."""
    if len(text) <= limit:
        return text
    keep = (limit - 3) // 2
    return f"{text[:keep]} … {text[-keep:]}"


class ConfigError(MeshlakeError, ValueError):
    """A setting is unknown or invalid."""

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None) -> None:
        self.key = key
        self.source = source
        super().__init__(message)


class DescriptorError(MeshlakeError, ValueError):
    """A product descriptor is invalid; says where (file, line, field)."""

    def __init__(self, problem: str, *, file: str, line: int | None = None, field: str | None = None) -> None:
        self.problem = shorten(problem)
        self.file = file
        self.line = line
        self.field = field
        where = file if line is None else f"{file}:{line}"
        at = f" (field '{field}')" if field else ""
        super().__init__(f"{where}: {self.problem}{at}. Fix the descriptor and run the command again.")


class InvalidNameError(MeshlakeError, ValueError):
    """A name or address does not match the naming rule."""

    def __init__(self, message: str, *, name: str) -> None:
        self.name = name
        super().__init__(message)


class ContractViolationError(MeshlakeError, ValueError):
    """Data offered to a port does not fit its contract; nothing was written.

    `column` is the column's path (`st.a`, `items[].price`, `tags.value` for nested fields) and `value` an
    example of an offending value when there is one.
    """

    def __init__(self, message: str, *, address: str, column: str | None = None, value: object = None) -> None:
        self.address = address
        self.column = column
        self.value = value
        super().__init__(message)


class InputFileError(MeshlakeError, ValueError):
    """An input file (CSV, JSON-lines) cannot be read as the port's contract says; nothing was written.

    `line` is the 1-based line of the file (a CSV header is line 1), `column` and `value` the field that failed.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
        fix: str = "fix the file and run the write again",
    ) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.column = column
        self.value = value
        where = file if line is None else f"{file}, line {line}"
        at = f", column '{column}'" if column else ""
        shown = f", value {value}" if value is not None else ""
        super().__init__(f"{where}{at}{shown}: {problem}; {fix}. Nothing was written.")


class InvalidFilterError(MeshlakeError, ValueError):
    """A `where` filter that meshlake's filter grammar does not accept; nothing was changed.

    `position` is the 1-based character where reading stopped, `column` the column it names (if any).
    """

    def __init__(
        self,
        where: str,
        problem: str,
        *,
        position: int | None = None,
        column: str | None = None,
        known: Sequence[str] = (),
    ) -> None:
        self.where = where
        self.problem = shorten(problem)
        self.position = position
        self.column = column
        self.known = list(known)
        at = ""
        if position is not None:
            rest = where[position - 1 : position + 29]
            near = f" near {rest!r}" if rest else " at the end"
            at = f" (character {position}{near})"
        shown = where if len(where) <= 80 else where[:77] + "..."
        super().__init__(
            f"cannot use the filter {shown!r}: {self.problem}{at}. Filters are SQL conditions on the port's columns: "
            "comparisons, IN, BETWEEN, IS [NOT] NULL, LIKE, AND, OR, NOT and parentheses (see `meshlake write --help`)."
        )


class BreakingChangeError(MeshlakeError):
    """Deploying the descriptor would break the existing contract."""

    def __init__(self, address: str, changes: Sequence[str]) -> None:
        self.address = address
        self.changes = list(changes)
        listed = "\n".join(f"  - {change}" for change in self.changes)
        super().__init__(
            f"deploying {address} would break its contract:\n{listed}\n"
            "Raise the product's major version to accept these changes, or make them compatible."
        )


class VersionBumpError(BreakingChangeError):
    """The declared version is a smaller bump than the changes need (`meshlake plan` shows each change)."""

    def __init__(self, address: str, changes: Sequence[str], *, required: str, declared: str, suggested: str) -> None:
        self.required = required
        self.declared = declared
        self.suggested = suggested
        MeshlakeError.__init__(
            self,
            f"deploying {address} needs a {required} version bump; version {declared} is a smaller one:\n"
            + "\n".join(f"  - {change}" for change in changes)
            + f"\nDeclare version: {suggested} (see `meshlake plan PATH`).",
        )
        self.address = address
        self.changes = list(changes)


class CatalogUnavailableError(MeshlakeError, ConnectionError):
    """The catalog cannot be reached, or refused the connection; `catalog` is its URI with secrets masked."""

    def __init__(self, catalog: str, reason: str) -> None:
        self.catalog = catalog
        self.reason = reason
        super().__init__(
            f"cannot connect to the catalog {catalog}: {reason}. Check catalog_uri (user, password, host, port, "
            "database) and that the catalog server is running, then run the command again."
        )


class BrokenProductError(MeshlakeError):
    """A deployed product cannot be read: its stored descriptor, or the table of one of its ports."""

    def __init__(self, name: str, reason: str, *, port: str | None = None) -> None:
        self.name = name
        self.port = port
        self.reason = reason
        if port:
            message = f"port {name}.{port} cannot be read: {reason}. Restore the table's metadata or drop the table."
        else:
            message = f"data product {name} cannot be read: {reason}. Redeploy it with `meshlake deploy PATH`."
        super().__init__(message)


class TableMetadataError(MeshlakeError, ValueError):
    """A table's metadata file cannot be read in full: gone, or not valid where a first, partial read did not look.

    Loading a table for reading validates only what reads need; the rest of its metadata file (the snapshots a
    read does not ask for, the logs) is read when history or time travel first needs it.
    """

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(
            f"The table metadata file {location} cannot be read: {shorten(reason, 500)}. Load the table again (the "
            "catalog may point at a newer file), or restore the file (`meshlake doctor` lists broken ports)."
        )


class NotFoundError(MeshlakeError, LookupError):
    """Something that was asked for does not exist."""


class ProductNotFoundError(NotFoundError):
    """No data product with this name is deployed."""

    def __init__(self, name: str, known: Sequence[str] = ()) -> None:
        self.name = name
        self.known = list(known)
        hint = f" Deployed products: {', '.join(self.known)}." if self.known else " No product is deployed yet."
        super().__init__(f"data product '{name}' is not deployed.{hint} Run `meshlake deploy PATH` first.")


class PortNotFoundError(NotFoundError):
    """The product has no output port of this name."""

    def __init__(self, address: str, known: Sequence[str] = ()) -> None:
        self.address = address
        self.known = list(known)
        hint = f" Its ports: {', '.join(self.known)}." if self.known else ""
        super().__init__(f"output port '{address}' does not exist.{hint} Check the address or deploy the product.")


class SnapshotNotFoundError(NotFoundError):
    """A snapshot id, tag, branch or time names no snapshot of the port."""

    def __init__(self, address: str, ref: str, *, exists: str) -> None:
        self.address = address
        self.ref = ref
        self.exists = exists
        super().__init__(f"{address} has no snapshot for '{ref}'. {exists}")


class LakeNotFoundError(NotFoundError):
    """No lake exists where the settings point, or none was found in a folder and its parents; nothing was created."""

    def __init__(self, message: str, *, home: str, searched: Sequence[str] = ()) -> None:
        self.home = home
        self.searched = list(searched)
        super().__init__(message)


class CommitConflictError(MeshlakeError):
    """A concurrent commit changed the port in a way this write cannot be rebased onto."""

    def __init__(self, message: str, *, address: str) -> None:
        self.address = address
        super().__init__(f"{address}: {message} Nothing was published; re-read the port and retry the write.")


class WriteModeError(MeshlakeError, ValueError):
    """A write cannot use the write mode asked for (merge-on-read on a format-version-1 table, for one)."""

    def __init__(self, message: str, *, address: str, write_mode: str) -> None:
        super().__init__(f"{address}: {message}")
        self.address = address
        self.write_mode = write_mode


class QualityGateError(MeshlakeError):
    """Expectations failed on a staged write; nothing was published."""

    def __init__(self, address: str, report: QualityReport, *, quarantine_branch: str | None) -> None:
        self.address = address
        self.report = report
        self.quarantine_branch = quarantine_branch
        failed = [r for r in report.results if r.blocking]
        lines = "\n".join(f"  - {r.summary()}" for r in failed[:10])
        kept = f" The staged snapshot is kept on branch '{quarantine_branch}'." if quarantine_branch else ""
        super().__init__(
            f"quality gate failed for {address}: {len(failed)} of {len(report.results)} expectations failed:\n"
            f"{lines}\nNothing was published.{kept} See `port.quarantine()` for the report."
        )


class PipelineError(MeshlakeError):
    """A product's own pipeline code raised; names the product, the pipeline file and line, and the error.

    The original exception is chained (`__cause__`), so its full traceback is one `raise … from` away.
    """

    def __init__(self, product: str, *, file: str, line: int | None, error: BaseException) -> None:
        self.product = product
        self.file = file
        self.line = line
        self.error = error
        where = file if line is None else f"{file}:{line}"
        message = " ".join(str(error).split()) or "(no message)"
        super().__init__(
            f"the pipeline of {product} failed at {where}: {type(error).__name__}: {message}. "
            "Fix the pipeline and run it again (--debug shows the full traceback)."
        )


class InvalidPrincipalError(MeshlakeError, ValueError):
    """A principal string does not parse: `KIND:NAME` with kind user, group, product or service."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        shown = repr(text) if len(text) <= 80 else repr(text[:77] + "...")
        super().__init__(
            f"invalid principal {shown}: {reason}. Write KIND:NAME with kind user, group, service or product, "
            "e.g. user:alice, group:analytics, service:airflow, product:logistics.shipping."
        )


class AuthenticationError(MeshlakeError):
    """The caller's identity cannot be established (bad token, unreadable key) or the mesh refuses it."""

    def __init__(self, message: str, *, source: str) -> None:
        self.source = source
        super().__init__(message)


class AccessDeniedError(MeshlakeError, PermissionError):
    """A principal lacks the grant an operation needs; nothing was read or changed."""

    def __init__(self, principal: str, address: str, missing: str, *, action: str, hint: str | None = None) -> None:
        self.principal = principal
        self.address = address
        self.missing = missing
        self.action = action
        next_step = hint or f"See `meshlake access explain {principal} {address}`."
        super().__init__(f"{principal} may not {action} {address}: {missing}. Nothing was read or changed. {next_step}")


class ReadRestrictionError(MeshlakeError, ValueError):
    """A read restriction (mask or row filter) that cannot be applied to what is read: the read fails, never unmasked.

    `column` is the column concerned (None for a whole row filter), `restriction` the mask action or "row filter".
    """

    def __init__(self, address: str, problem: str, *, restriction: str, column: str | None = None) -> None:
        self.address = address
        self.problem = problem
        self.restriction = restriction
        self.column = column
        at = f" on column '{column}'" if column else ""
        super().__init__(
            f"cannot apply the {restriction}{at} of {address}: {problem}. Nothing was read. The port's owners "
            f"can fix the restriction in its descriptor; `meshlake access explain PRINCIPAL {address}` shows it."
        )


class AccessLogError(MeshlakeError):
    """The access log could not be written to `meshlake.system.access_log`; its entries stay in memory.

    `pending` entries wait for the next attempt; `full` says the buffer is full, so reads are refused until the
    log can be written again.
    """

    def __init__(self, reason: str, *, pending: int, full: bool = False) -> None:
        self.reason = reason
        self.pending = pending
        self.full = full
        then = (
            "the buffer is full, so reads are refused until the log can be written"
            if full
            else "they stay buffered and are written by the next flush"
        )
        super().__init__(
            f"the access log (meshlake.system.access_log) could not be written: {reason}; {pending} entries wait "
            f"and {then}. Check that this process may write the lake's system namespace (meshlake.system)."
        )


class GovernanceError(MeshlakeError, ValueError):
    """A governance policy (or one of its custom rules) cannot be used; says where (file, line, field).

    `code` is the rule concerned, when there is one.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str,
        line: int | None = None,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.field = field
        self.code = code
        where = file if line is None else f"{file}:{line}"
        at = f" (field '{field}')" if field else ""
        super().__init__(f"{where}: {problem}{at}. Fix the governance policy and run the command again.")


class GovernanceViolationError(MeshlakeError):
    """The governance policy's rules refuse an action (deploy, run, write); nothing was changed.

    `findings` are the error findings (`meshlake.governance.findings.Finding`), `policy_version` the version
    of the policy checked (None: the default policy).
    """

    def __init__(self, address: str, findings: Sequence[Any], *, action: str, policy_version: int | None) -> None:
        self.address = address
        self.findings = list(findings)
        self.action = action
        self.policy_version = policy_version
        policy = "the default governance policy" if policy_version is None else f"governance policy v{policy_version}"
        listed = "\n".join(f"  - {finding}" for finding in self.findings[:20])
        more = f"\n  … and {len(self.findings) - 20} more" if len(self.findings) > 20 else ""
        super().__init__(
            f"{policy} refuses to {action} {address}: {len(self.findings)} error finding(s):\n{listed}{more}\n"
            "Nothing was changed. Fix them (or add a waiver with a reason, an owner and an expiry date); "
            "`meshlake lint PATH` lists the same findings."
        )


class DiscoveryError(MeshlakeError, ValueError):
    """A lineage trace, search, export or site build was asked for something it cannot do; the message says what
    to do instead."""

    def __init__(self, message: str, *, value: str | None = None) -> None:
        self.value = value
        super().__init__(message)


class ReleaseError(MeshlakeError, ValueError):
    """A release that cannot be cut or read: a bad or existing version, a port without a snapshot, a broken cut."""

    def __init__(self, product: str, problem: str, *, version: str | None = None) -> None:
        self.product = product
        self.version = version
        self.problem = problem
        super().__init__(f"{product}: {problem}")


class DiffError(MeshlakeError, ValueError):
    """Two snapshots that cannot be diffed as asked (different tables, a key that is not unique or not a column)."""

    def __init__(self, problem: str, *, examples: Sequence[Any] = ()) -> None:
        self.problem = problem
        self.examples = list(examples)
        shown = "".join(f"\n  - {example}" for example in self.examples[:5])
        super().__init__(problem + shown)


class StandardDocumentError(MeshlakeError, ValueError):
    """An ODCS or ODPS document that does not validate against its JSON Schema, or cannot become a descriptor."""

    def __init__(self, file: str, errors: Sequence[tuple[str, str]], *, standard: str) -> None:
        self.file = file
        self.standard = standard
        self.errors = list(errors)
        listed = "\n".join(f"  - {path or '(document)'}: {message}" for path, message in self.errors)
        super().__init__(
            f"{file} is not a valid {standard} document ({len(self.errors)} error(s)):\n{listed}\n"
            "Fix each field named above and import it again."
        )


class StreamError(MeshlakeError):
    """A stream cannot be consumed into a port; what was committed stays committed, nothing else is."""

    def __init__(self, message: str, *, address: str, source_id: str) -> None:
        self.address = address
        self.source_id = source_id
        super().__init__(f"{address} <- stream '{source_id}': {message}")


class StreamSourceMismatchError(StreamError, ValueError):
    """The source id is already recorded on the port for a different stream (another broker, stream or subject)."""

    def __init__(self, *, address: str, source_id: str, recorded: str, given: str) -> None:
        self.recorded = recorded
        self.given = given
        super().__init__(
            f"this source id was used for {recorded!r}, not {given!r}; its recorded offsets mean nothing for the "
            "new stream. Give the new stream its own source id. Nothing was consumed.",
            address=address,
            source_id=source_id,
        )


class StreamGapError(StreamError):
    """The broker dropped (retention) messages the port has not consumed yet: consuming on would lose them."""

    def __init__(
        self, *, address: str, source_id: str, gaps: Sequence[tuple[str, str, str]], mid_run: bool = False
    ) -> None:
        self.gaps = list(gaps)
        self.mid_run = mid_run
        """Whether the gap opened while the stream ran (the batches before it are committed), not before it started."""
        listed = "; ".join(f"partition {p}: needs offset {n}, the broker's first is {f}" for p, n, f in self.gaps)
        consumed = (
            "Every message before the gap is committed with its offsets; nothing after it was consumed."
            if mid_run
            else "Nothing was consumed."
        )
        super().__init__(
            f"the stream no longer holds offsets the port still needs ({listed}). Those messages are lost on the "
            "broker side; replay them from their origin, or accept the gap by writing the offsets you resume from "
            f"(`port.stream(..., start=...)`). {consumed}",
            address=address,
            source_id=source_id,
        )


class StreamSourceUnavailableError(StreamError, ConnectionError):
    """The broker could not be reached (or kept failing) through every retry."""

    def __init__(self, *, address: str, source_id: str, attempts: int, cause: str) -> None:
        self.attempts = attempts
        self.cause = cause
        super().__init__(
            f"the broker failed {attempts} time(s) in a row (last: {cause}). Every batch committed before is kept "
            "with its offsets; start the stream again when the broker is back and it resumes from there.",
            address=address,
            source_id=source_id,
        )


class StreamStoppedError(StreamError):
    """A batch failed its quality gate (or held malformed messages) and the port's policy is `on_failure: stop`."""

    def __init__(
        self, message: str, *, address: str, source_id: str, offsets: dict[str, str], quarantine_branch: str | None
    ) -> None:
        self.offsets = offsets
        self.quarantine_branch = quarantine_branch
        kept = (
            f" The batch (up to offsets {offsets}) is kept on branch '{quarantine_branch}': release or drop it with "
            "`meshlake quarantine`, or"
            if quarantine_branch
            else f" Nothing of the batch (up to offsets {offsets}) was published: fix the producer, or"
        )
        super().__init__(
            f"{message}.{kept} declare `stream: {{on_failure: skip}}` on the port; then start the stream again "
            "(it resumes from the offsets the port recorded).",
            address=address,
            source_id=source_id,
        )


class StreamNotServedError(MeshlakeError, ValueError):
    """A port asked to serve a stream does not declare `serve: [table, stream]`."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(
            f"{address} does not serve a stream; declare `serve: [table, stream]` on the port in dataproduct.yaml "
            "and deploy. Nothing was published."
        )


class MissingDependencyError(MeshlakeError, ImportError):
    """An optional dependency is needed for this feature."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"{feature} needs '{package}'. Install it with: pip install 'meshlake[{extra}]'")


def require(module: str, *, extra: str, feature: str) -> Any:
    """Import an optional module, or raise `MissingDependencyError` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".", maxsplit=1)[0], extra, feature) from exc
