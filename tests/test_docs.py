"""The documentation cannot drift: the command reference is made from --help, the README's
Python example runs as written, links lead somewhere, and the code cites only our own docs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_command_reference_is_current() -> None:
    from snapcli.cli.reference import reference

    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == reference(), (
        "docs/cli.md is stale: python -m snapcli.cli.reference > docs/cli.md"
    )


def test_the_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    (tmp_path / "samples").mkdir()
    shutil.copy(ROOT / "samples" / "sample.mp4", tmp_path / "samples" / "sample.mp4")
    ran = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("1 0 0 ") and lines[0].endswith("snapshot-00001.jpg")
    assert len(lines) == 5 and lines[-1] == "12000 (480, 270) 0"  # the 12 s sample


def test_every_link_in_the_docs_leads_somewhere() -> None:
    for page in DOCS:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_code_cites_only_our_own_docs() -> None:
    sources = [*(ROOT / "snapcli").rglob("*.py"), *(ROOT / "tests").glob("*.py"),
               *(ROOT / "bench").glob("*.py")]  # fmt: skip
    for source in sources:
        text = source.read_text(encoding="utf-8")
        for outside in ("SPEC §", "STYLE.md", "DESIGN.md", "shared/"):
            assert outside not in text or source.name == "test_docs.py", f"{source}: {outside}"
        for cited in re.findall(r"docs/([a-z]+\.md)", text):
            assert (ROOT / "docs" / cited).is_file(), f"{source} cites missing docs/{cited}"
