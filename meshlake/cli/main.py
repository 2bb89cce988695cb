"""The command group, shared options and the one place where errors become a one-line message."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from meshlake.cli.output import Output

if TYPE_CHECKING:
    from meshlake.lake import Lake

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    """What every command needs: how to open the lake, and where to print."""

    config: str | None = None
    out: Output = field(default_factory=Output)
    _lake: Lake | None = None

    @property
    def lake(self) -> Lake:
        if self._lake is None:
            from meshlake.lake import connect

            self._lake = connect(self.config)
        return self._lake


def json_option(function: F) -> F:
    """Add `--json` to a command (also accepted before the command name)."""

    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text.")
    @wraps(function)
    def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> Any:
        context = click.get_current_context().find_object(Context)
        if context is not None and as_json:
            context.out.json_mode = True
        return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


pass_context = click.make_pass_decorator(Context)


class _Group(click.Group):
    """Runs commands with the top-level error handler."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            _fail(exc)


def _fail(exc: Exception) -> None:
    from meshlake.errors import MeshlakeError

    known = (MeshlakeError, ValueError, TypeError, LookupError, OSError)
    from_duckdb = type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb")  # the user's SQL was wrong
    if not isinstance(exc, known) and not from_duckdb:
        name = type(exc).__name__
        click.echo(f"error: {name}: {_one_line(str(exc))} (this looks like a bug; please report it)", err=True)
        sys.exit(1)
    click.echo(f"error: {_one_line(str(exc))}", err=True)
    sys.exit(1)


def _one_line(text: str) -> str:
    parts = [part.strip() for part in text.strip().splitlines() if part.strip()]
    return " ".join(parts)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar="MESHLAKE_CONFIG",
    help="Settings file (default: ./meshlake.yaml if present, else the embedded lake in ./.meshlake/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON for any command.")
@click.version_option(package_name="meshlake")
@click.pass_context
def cli(ctx: click.Context, config: str | None, as_json: bool) -> None:
    """meshlake: data products on an open lakehouse.

    Each data product is an Iceberg namespace, each output port an Iceberg table addressed as
    DOMAIN.PRODUCT.PORT[@REF]; every write is a checked, versioned snapshot.

    \b
    Settings come from keywords > MESHLAKE_* environment > meshlake.yaml > the embedded default
    (a SQLite catalog and a local warehouse under ./.meshlake/).
    """
    ctx.obj = Context(config=config, out=Output(json_mode=as_json))


def main() -> None:
    """Entry point of the `meshlake` script."""
    from meshlake.cli import commands  # noqa: F401 - registers every command

    cli(prog_name="meshlake")
