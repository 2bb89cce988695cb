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
        "```text",
        cli.get_help(context),
        "```",
    ]
    parts += _commands(cli, context)
    return "\n".join(parts) + "\n"


def _commands(group: click.Group, context: click.Context) -> list[str]:
    """The help of every command of `group`, and of the commands of its sub-groups, in name order."""
    parts: list[str] = []
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        assert command is not None
        sub = click.Context(command, info_name=name, parent=context, **group.context_settings)
        parts += ["", f"## {sub.command_path}", "", "```text", command.get_help(sub), "```"]
        if isinstance(command, click.Group):
            parts += _commands(command, sub)
    return parts


if __name__ == "__main__":
    print(render(), end="")
