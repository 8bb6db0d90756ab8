"""Every command explains itself: help text with an Examples block (STYLE.md)."""

from __future__ import annotations

import click
import pytest

from snapcli.cli import cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_has_help_with_examples(path: tuple[str, ...], run_cli) -> None:
    result = run_cli(*path, "--help")
    assert result.code == 0
    assert "Examples:" in result.stdout
    assert len(result.stdout.splitlines()) > 8


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.code == 0 and "snapcli" in result.stdout
