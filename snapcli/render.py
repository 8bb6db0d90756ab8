"""What people see: rich renderings of a job's event and of a probe. Scripts use --json instead."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

MAX_ROWS = 12  # a long job shows its first and last snapshots


def _clock(ms: int) -> str:
    seconds, millis = divmod(int(ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def print_job_summary(event: dict[str, Any], seconds: float) -> None:
    console = Console()
    shots = event.get("Snapshots", [])
    folder = event.get("OutputDir", "")
    size = f"{shots[0]['Width']}×{shots[0]['Height']}" if shots else ""
    console.print(
        f"[green]✓[/] {len(shots)} snapshot{'s' if len(shots) != 1 else ''} ({size}) of "
        f"[bold]{event['VideoId']}[/] in {seconds:.1f} s → [cyan]{folder}[/]",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(box=None, pad_edge=False, header_style="dim")
    table.add_column("#", justify="right")
    table.add_column("time", justify="right")
    table.add_column("frame at", justify="right")
    table.add_column("file")
    shown = shots if len(shots) <= MAX_ROWS else shots[: MAX_ROWS - 3] + [None] + shots[-2:]
    for shot in shown:
        if shot is None:
            table.add_row("…", "", "", f"({len(shots) - MAX_ROWS + 2} more)")
            continue
        table.add_row(
            str(shot["Index"]),
            _clock(shot["Time"]),
            _clock(shot["FrameTime"]),
            shot.get("Path", ""),
        )
    console.print(table)
    console.print(
        f"[dim]event: {folder}/snapshots.json · JobId {event['JobId']}[/]", highlight=False
    )


def print_probe(info: dict[str, Any]) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    for key, value in info.items():
        if key == "Duration":
            value = f"{_clock(value)} ({value} ms)"
        table.add_row(key, "–" if value is None else str(value))
    Console().print(table)
