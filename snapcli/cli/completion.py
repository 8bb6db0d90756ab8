"""`snapcli completion SHELL`: the script that teaches a shell to complete snapcli's commands,
options and file names (click's own completion, switched on by _SNAPCLI_COMPLETE)."""

from __future__ import annotations

import click

from snapcli.cli import grouping
from snapcli.cli.options import CONTEXT
from snapcli.errors import ExitStatus

SHELLS = ("bash", "zsh", "fish")


@grouping.command(context_settings=CONTEXT)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, /, shell: str) -> int:
    """Print the completion script for SHELL: commands, options and file names complete on Tab.

    \b
    Examples:
      eval "$(snapcli completion bash)"                  # in ~/.bashrc
      eval "$(snapcli completion zsh)"                   # in ~/.zshrc
      snapcli completion fish > ~/.config/fish/completions/snapcli.fish
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    script_class = get_completion_class(shell)
    assert script_class is not None  # every name in SHELLS has one
    click.echo(script_class(root, {}, "snapcli", "_SNAPCLI_COMPLETE").source())
    return ExitStatus.SUCCESS
