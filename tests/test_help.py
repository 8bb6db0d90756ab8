"""Every command explains itself: help text with an Examples block (docs/development.md)."""

from __future__ import annotations

import click
import pytest

from snapcli.cli.main import cli


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


def test_help_and_a_one_frame_job_load_no_pillow_nor_rich() -> None:
    """Start-up pays only for what it uses: Pillow loads for sheets and RGB frames, rich for
    people's summaries; `--help` and the job machinery load neither."""
    import subprocess
    import sys

    check = (
        "import sys, snapcli.cli.main, snapcli.engine.job, snapcli.service.jobs, snapcli.media.extract\n"
        "from snapcli.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'rich')))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
