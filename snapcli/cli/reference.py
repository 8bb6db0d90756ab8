"""The command reference (docs/cli.md), made from the commands' own help, so that it cannot
drift from them: ``python -m snapcli.cli.reference > docs/cli.md``. A test fails when the file
is stale."""

from __future__ import annotations

import click

from snapcli.cli.main import cli
from snapcli.cli.options import HELP_OPTIONS

WIDTH = 100


def reference() -> str:
    """Every command's --help, in the order `snapcli --help` lists them, as Markdown."""
    parts = [
        "# Command reference\n\n",
        "Made from `--help` by `python -m snapcli.cli.reference > docs/cli.md`: do not edit.\n\n",
        "What the options mean for the request: [api.md](api.md); by task: [usage.md](usage.md).\n",
    ]
    for path, command in _commands(cli, "snapcli"):
        context = click.Context(
            command,
            info_name=path,
            terminal_width=WIDTH,
            max_content_width=WIDTH,
            help_option_names=HELP_OPTIONS,
        )
        parts.append(f"\n## `{path}`\n\n```\n{command.get_help(context)}\n```\n")
    return "".join(parts)


def _commands(group: click.Command, path: str) -> list[tuple[str, click.Command]]:
    found = [(path, group)]
    if isinstance(group, click.Group):
        for name in group.list_commands(click.Context(group)):
            command = group.get_command(click.Context(group), name)
            if command is not None:
                found += _commands(command, f"{path} {name}")
    return found


if __name__ == "__main__":
    print(reference(), end="")
