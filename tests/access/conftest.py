"""Helpers for the access tests: the same lake opened as another caller, and the CLI."""

from __future__ import annotations

from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.access.identity import Identity
from meshlake.cli.main import cli
from meshlake.contract.principals import Principal


def as_caller(lake: ml.Lake, principal: str, *groups: str, verified: bool = False) -> ml.Lake:
    """The same lake opened by another caller (`groups` are bare group names)."""
    identity = Identity(Principal.parse(principal), frozenset(Principal.parse(f"group:{g}") for g in groups), verified)
    return ml.Lake(lake.settings, identity=identity)


def run_cli(*args: str) -> Result:
    """Run `meshlake ARGS` in-process (errors become exit code 1 and a message, as for a user)."""
    from meshlake.cli import commands  # noqa: F401 - registers every command

    return CliRunner().invoke(cli, list(args))
