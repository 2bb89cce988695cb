"""The command group, the options every command takes, and the one place where errors become a message."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from meshlake.cli.output import Output

if TYPE_CHECKING:
    from meshlake.catalog.settings import Settings
    from meshlake.lake import Lake
    from meshlake.port import Port

F = TypeVar("F", bound=Callable[..., Any])
DEBUG_ENV = "MESHLAKE_DEBUG"


@dataclass
class Context:
    """What every command needs: how to open the lake, and where to print."""

    config: str | None = None
    out: Output = field(default_factory=Output)
    debug: bool = False
    _lake: Lake | None = None

    @property
    def lake(self) -> Lake:
        """The lake the settings point at (found as git finds a repository); never created here."""
        if self._lake is None:
            self._lake = self._open(create=False, search_parents=True)
        return self._lake

    def lake_or_new(self, *, here: bool = False) -> Lake:
        """The lake, created when there is none yet. With `here` (`init`), a lake in a folder above does not
        count: the working folder gets its own, as `git init` does."""
        if self._lake is None:
            self._lake = self._open(create=True, search_parents=not here)
        return self._lake

    def port(self, address: str) -> Port:
        """The port at ADDRESS (no `@ref`: commands that read a point in history take it elsewhere)."""
        from meshlake.contract.address import Address

        parsed = Address.parse(address)
        if parsed.ref is not None:
            raise click.BadParameter(
                f"{address}: give the port without '@{parsed.ref}'; `meshlake sql` reads a point in its history "
                f"(… FROM {parsed.unpinned} AT (VERSION => '{parsed.ref}')).",
                param_hint="ADDRESS",
            )
        return self.lake.port(parsed)

    def _open(self, *, create: bool, search_parents: bool) -> Lake:
        from meshlake.catalog.settings import load_settings
        from meshlake.lake import Lake

        settings = load_settings(self.config, search_parents=search_parents)
        if settings.is_embedded and not settings.embedded_catalog.is_file():
            if not create:
                raise _missing(settings)
            if not self.out.json_mode:
                self.out.note(f"creating a new lake in {settings.home_path}")
        elif not self.out.json_mode and settings.home_path != Path.cwd().resolve() / ".meshlake":
            self.out.note(f"lake: {describe_lake(settings)}")
        lake = Lake(settings)
        lake.log_reads_as("cli")
        return lake


def describe_lake(settings: Settings) -> str:
    """Where a lake is, in one phrase (no secrets: a catalog URI is not shown)."""
    if settings.is_embedded:
        where = str(settings.home_path)
    else:
        where = f"{settings.catalog} catalog '{settings.catalog_name}', warehouse {settings.resolved_warehouse}"
    return f"{where} (settings from {settings.source})"


def _missing(settings: Settings) -> Exception:
    from meshlake.catalog.settings import DEFAULT_SOURCE, discover
    from meshlake.errors import LakeNotFoundError

    home = str(settings.home_path)
    if settings.source != DEFAULT_SOURCE or settings.home_path.exists():
        return LakeNotFoundError(
            f"there is no lake at {home} yet (settings from {settings.source}); nothing was created. "
            "Run `meshlake init` or `meshlake deploy PATH` to create it.",
            home=home,
        )
    searched = [str(folder) for folder in discover().searched]
    return LakeNotFoundError(
        f"no lake found: looked for meshlake.yaml or .meshlake/ in {searched[0]} and every folder above it; "
        "nothing was created. Run the command in the lake's folder, pass --config FILE, "
        "or create a lake here with `meshlake init`.",
        home=home,
        searched=searched,
    )


def _context() -> Context:
    return click.get_current_context().ensure_object(Context)


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _context().out.json_mode = True


def _set_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _context().config = value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _context().debug = True


def json_option(function: F) -> F:
    """Add `--json` to a command (also accepted before the command name)."""
    return click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print machine-readable JSON instead of text (ids as strings).",
    )(function)


def _command_options() -> list[click.Parameter]:
    """`--config` and `--debug`, which every command also accepts after its name."""
    return [
        click.Option(
            ["--config"],
            type=click.Path(dir_okay=False),
            expose_value=False,
            callback=_set_config,
            help="Settings file (same as `meshlake --config FILE COMMAND`).",
        ),
        click.Option(
            ["--debug"],
            is_flag=True,
            expose_value=False,
            callback=_set_debug,
            help="On an error, print the full traceback too.",
        ),
    ]


pass_context = click.make_pass_decorator(Context)


class CommandGroup(click.Group):
    """Gives every command the shared options, and runs it under the top-level error handler.

    A group made with `@cli.group()` is a `CommandGroup` too, so its commands get the options as well.
    """

    group_class = type

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(_command_options())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            Output().note("interrupted")
            sys.exit(130)
        except Exception as exc:
            context = ctx.find_object(Context) or Context()
            _fail(exc, context)


def _fail(exc: Exception, context: Context) -> None:
    from meshlake.cli.failure import details, message

    if context.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        context.out.note(details(exc))
    context.out.error(message(exc))
    sys.exit(1)


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar="MESHLAKE_CONFIG",
    help="Settings file (default: the nearest meshlake.yaml or .meshlake/ in this folder or above it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON for any command.")
@click.option("--debug", is_flag=True, help=f"On an error, print the full traceback too (or set {DEBUG_ENV}=1).")
@click.version_option(package_name="meshlake")
@click.pass_context
def cli(ctx: click.Context, config: str | None, as_json: bool, debug: bool) -> None:
    """meshlake: data products on an open lakehouse.

    Each data product is an Iceberg namespace, each output port an Iceberg table addressed as
    DOMAIN.PRODUCT.PORT[@REF]; every write is a checked, versioned snapshot.

    \b
    Settings come from keywords > MESHLAKE_* environment > meshlake.yaml > the embedded default
    (a SQLite catalog and a local warehouse under .meshlake/). Without --config, the lake is the
    nearest meshlake.yaml or .meshlake/ in the working folder or a folder above it, as git finds
    a repository; only `init` and `deploy` create a lake when there is none.

    \b
    --json prints snapshot ids (and every other 64-bit id) as strings: JSON numbers above 2^53
    lose precision in jq and JavaScript. The Python API keeps them integers.

    --config, --json and --debug are accepted before or after the command name.
    """
    ctx.obj = Context(config=config, out=Output(json_mode=as_json), debug=debug)


def main() -> None:
    """Entry point of the `meshlake` script."""
    from meshlake.cli import commands  # noqa: F401 - registers every command

    cli(prog_name="meshlake")
