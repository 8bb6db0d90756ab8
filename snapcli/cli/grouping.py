"""Options in titled sections of --help (the request's parameters, sprites, output), on click
itself: a command's options are tagged with their section as they are declared, and the command
lists them section by section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

_SECTION = "_snapcli_help_section"


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def option_group(title: str, *options: Callable[[Any], Any]) -> Decorator:
    """Apply click options (in the order given, as --help lists them) under a section title."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        before = len(getattr(command, "__click_params__", []))
        for option in reversed(options):
            command = option(command)
        for parameter in getattr(command, "__click_params__", [])[before:]:
            setattr(parameter, _SECTION, title)
        return command

    return decorate


class SectionedCommand(click.Command):
    """A command whose --help lists its options section by section; the untagged ones (such as
    --json and --help) come last, under "Other options"."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for parameter in self.get_params(ctx):
            record = parameter.get_help_record(ctx)
            if record is not None:
                title = getattr(parameter, _SECTION, "Other options")
                sections.setdefault(title, []).append(record)
        other = sections.pop("Other options", [])
        for title, rows in [*sections.items(), ("Other options", other)]:
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def command(**settings: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """click.command, with options in sections."""
    return click.command(cls=SectionedCommand, **settings)
