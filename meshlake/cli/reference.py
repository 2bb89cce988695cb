"""Render the CLI reference (docs/cli.md) from the commands' own help, so the two never drift apart.

python -m meshlake.cli.reference > docs/cli.md
"""

from __future__ import annotations

import click


def render() -> str:
    """Markdown with the `--help` text of the group and of every command."""
    from meshlake.cli import commands  # noqa: F401 - registers every command
    from meshlake.cli.main import cli

    context = click.Context(cli, info_name="meshlake", **cli.context_settings)
    parts = [
        "# meshlake command line",
        "",
        "Generated from the commands' `--help` by `python -m meshlake.cli.reference`; a test keeps it current.",
        "",
        "With `--json`, every command prints JSON on standard output (errors stay on standard error). Snapshot",
        'ids, parent ids and every other 64-bit id are JSON **strings** (`"snapshot_id": "7215648231920011325"`),',
        "and so is any other integer beyond ±(2^53 − 1): JSON numbers that large lose precision in `jq` and",
        "JavaScript. The Python API keeps them integers.",
        "",
        "```text",
        cli.get_help(context),
        "```",
    ]
    parts += _commands(cli, context, "meshlake")
    return "\n".join(parts) + "\n"


def _commands(group: click.Group, context: click.Context, prefix: str) -> list[str]:
    """The help of every command of `group`, and of the commands of its subgroups, in name order."""
    parts: list[str] = []
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        assert command is not None
        sub = click.Context(command, info_name=name, parent=context, **context.command.context_settings)
        parts += ["", f"{'#' * (prefix.count(' ') + 2)} {prefix} {name}", "", "```text", command.get_help(sub), "```"]
        if isinstance(command, click.Group):
            parts += _commands(command, sub, f"{prefix} {name}")
    return parts


if __name__ == "__main__":
    print(render(), end="")
