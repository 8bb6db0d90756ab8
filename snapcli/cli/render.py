"""What people see: rich renderings of a job's event and of a probe. Scripts use --json instead."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from snapcli.errors import printable

MAX_ROWS = 12  # a long job shows its first and last snapshots


def _clock(ms: int) -> str:
    seconds, millis = divmod(int(ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _shown(text: str) -> str:
    """A name from outside (a file's, a URL) as rich shows it: no markup, no control codes."""
    return escape(printable(text))


def print_job_summary(event: dict[str, Any], seconds: float) -> None:
    console = Console()
    shots = event.get("Snapshots", [])
    folder = event.get("OutputDir", "")
    size = f"{shots[0]['Width']}×{shots[0]['Height']}" if shots else ""
    console.print(
        f"[green]✓[/] {len(shots)} snapshot{'s' if len(shots) != 1 else ''} ({size}) of "
        f"[bold]{_shown(event['VideoId'])}[/] in {seconds:.1f} s → [cyan]{_shown(folder)}[/]",
        highlight=False,
        soft_wrap=True,
    )
    sheet_of = {
        cell["Snapshot"]: sheet["Path"]
        for sheet in event.get("Sprites", [])
        for cell in sheet.get("Cells", [])
    }
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
            shot.get("Path") or sheet_of.get(shot["Index"], ""),
        )
    console.print(table)
    for line in _made_besides(event):
        console.print(line, highlight=False, soft_wrap=True)
    console.print(
        f"[dim]event: {_shown(folder)}/snapshots.json · JobId {event['JobId']}[/]",
        highlight=False,
    )


def _made_besides(event: dict[str, Any]) -> list[str]:
    """Lines naming the sheets and tracks a job made, beside its snapshots."""
    lines = []
    for key, label in (("Sprites", "sheets"), ("RetinaSprites", "sheets @2x")):
        sheets = event.get(key, [])
        if sheets:
            first = sheets[0]
            cells = sum(len(sheet.get("Cells", [])) for sheet in sheets)
            names = _in(event, first["Path"])
            if len(sheets) > 1:
                names += f" … {sheets[-1]['Path']}"
            lines.append(
                f"{label}: {len(sheets)} ({first['Width']}×{first['Height']}, {cells} cells): "
                f"[cyan]{_shown(names)}[/]"
            )
    for info in event.get("SnapshotInfos", []):
        if info.get("SnapshotType") == "WebVttSnapshot":
            lines.append(f"track: [cyan]{_shown(_in(event, str(info['SnapshotFormat'])))}[/]")
    return lines


def _in(event: dict[str, Any], name: str) -> str:
    """A result file's path: in the job's folder."""
    folder = event.get("OutputDir")
    return f"{folder}/{name}" if folder else name


def print_probe(info: dict[str, Any]) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    for key, value in info.items():
        if key == "Duration":
            value = f"{_clock(value)} ({value} ms)"
        table.add_row(key, "–" if value is None else _shown(str(value)))
    Console().print(table)


class BatchProgress:
    """One overall bar (videos done of all, ETA) and a line for each video being worked on."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.total = total
        self._progress: Any = None
        self._overall: Any = None
        self._running: dict[Any, Any] = {}

    def __enter__(self) -> BatchProgress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._overall = self._progress.add_task("videos", total=self.total)
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def started(self, item: Any) -> None:
        if self._progress is not None:
            self._running[item] = self._progress.add_task(
                f"  {_shown(str(item.video))}", total=None
            )

    def finished(self, outcome: Any) -> None:
        if self._progress is None:
            return
        task = self._running.pop(outcome.item, None)
        if task is not None:
            self._progress.remove_task(task)
        self._progress.advance(self._overall)


def print_batch_summary(summary: Any, to_stderr: bool = False) -> None:
    console = Console(stderr=to_stderr)
    state = "[yellow]interrupted[/]" if summary.interrupted else "done"
    console.print(
        f"{state}: [green]{summary.succeeded} made[/], {summary.skipped} already done, "
        f"[{'red' if summary.failed else 'green'}]{len(summary.failed)} failed[/] "
        f"in {summary.seconds:.1f} s",
        highlight=False,
    )
    if summary.failed:
        table = Table(box=None, pad_edge=False, header_style="dim")
        table.add_column("failed video")
        table.add_column("code", no_wrap=True)
        table.add_column("why")
        for outcome in summary.failed:
            code, message = outcome.error or ("InternalError", "")
            table.add_row(_shown(str(outcome.item.video)), code, _shown(message))
        console.print(table)


def print_jobs(records: list[dict[str, Any]]) -> None:
    """Job records as a table, newest first. Ids are cut to 12 characters: enough to name a job
    in `jobs show` and `jobs wait`, which take a unique prefix."""
    if not records:
        Console().print("no jobs")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("JobId", no_wrap=True)
    table.add_column("State", no_wrap=True)
    table.add_column("Created", no_wrap=True)
    table.add_column("Video", overflow="fold")
    table.add_column("Result", no_wrap=True)
    colours = {"Success": "green", "Fail": "red", "Snapshoting": "yellow"}
    for record in records:
        event = record.get("Event") or {}
        taken = len(event.get("Snapshots", []))
        result = record.get("Code") or f"{taken} snapshot{'' if taken == 1 else 's'}"
        if record["State"] not in ("Success", "Fail"):
            result = ""
        state = record["State"]
        table.add_row(
            record["JobId"][:12],
            f"[{colours.get(state, 'default')}]{state}[/]",
            (record["CreationTime"] or "").replace("T", " ").rstrip("Z"),
            _shown(record["VideoId"]),
            _shown(result),
        )
    Console().print(table)
