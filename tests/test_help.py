"""Every command explains itself: help text with an Examples block (docs/development.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_for_each_shell(run_cli, shell: str) -> None:
    result = run_cli("completion", shell)
    assert result.code == 0 and "_SNAPCLI_COMPLETE" in result.stdout


def test_the_shell_completes_commands_options_and_file_names(tmp_path: Path) -> None:
    def complete(*words: str) -> list[str]:
        env = {**os.environ, "COMP_WORDS": " ".join(["snapcli", *words]),
               "COMP_CWORD": str(len(words)), "_SNAPCLI_COMPLETE": "bash_complete"}  # fmt: skip
        ran = subprocess.run([sys.executable, "-m", "snapcli"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True)  # fmt: skip
        return ran.stdout.split()

    assert complete("gr") == ["plain,grab"]
    assert complete("grab", "video.mp4", "--frame") == ["plain,--frame-type"]
    assert complete("grab", "vid") == ["file,vid"]  # the shell lists the files
    assert complete("batch", "videos/", "-o", "th") == ["dir,th"]


def test_help_is_grouped_and_says_each_commands_own_defaults(run_cli) -> None:
    grab = run_cli("grab", "--help").stdout
    for section in ("Request: the API's parameters", "Sprite sheets and the VTT track", "Output:"):
        assert section in grab
    assert "(default: the snapshot size)" in grab and "(default: keep)" in grab
    sprite = " ".join(run_cli("sprite", "--help").stdout.split())
    assert "Cell width (default: 160)" in sprite and "(default: delete)" in sprite
    assert "Default here: 2, to the end." in sprite
