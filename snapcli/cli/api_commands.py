"""The commands that speak the cloud API's own words: submit, jobs, list-snapshots, template.

Like the other commands: parse, call the library, print. The answers are the API's JSON shapes.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from snapcli.cli import grouping
from snapcli.cli.console import api_errors, print_json, warn
from snapcli.cli.options import CONTEXT, FILE
from snapcli.errors import ExitStatus, InvalidParameter, printable

ACTION = "SubmitSnapshotJob"


@grouping.command(context_settings=CONTEXT)
@click.argument("request", nargs=-1, metavar="REQUEST...")
@click.option(
    "-o",
    "--output-dir",
    default="snapshots",
    show_default=True,
    metavar="DIR",
    help="Where results go: each video gets DIR/<file stem>/.",
)
@click.option("--quality", type=int, default=90, metavar="1-100", help="JPEG quality (default 90).")
@click.option("--vtt", is_flag=True, help="Also write thumbnails.vtt.")
@click.option("--vtt-base-url", metavar="URL", help="Make the VTT's picture URLs absolute.")
@click.option("--wait", is_flag=True, help="Wait for the job and print its SnapshotComplete event.")
@click.option(
    "--storage-root",
    default=".",
    show_default=True,
    metavar="DIR",
    help="MTS dialect: the folder whose subfolders are the buckets.",
)
@click.pass_context
def submit(ctx: click.Context, /, request: tuple[str, ...], **flags: Any) -> int:
    """Submit a SubmitSnapshotJob request in the API's own words, as the cloud takes it.

    REQUEST is any mix of: Key=Value arguments; a query string (as the SDKs send it, URL-encoded,
    or a whole URL); a JSON object, a JSON file, or - for stdin. Later ones win. The answer comes
    at once, {"RequestId": …, "SnapshotJob": {"JobId": …}}, while the job runs on in a background
    worker (see snapcli jobs). With --wait, the SnapshotComplete event is printed instead, and
    the exit status is the job's.

    A request with Input and SnapshotConfig is in the media-processing (MTS) dialect: buckets are
    folders under --storage-root, files land where OutputFile's Object says, and the answer is
    the MTS SnapshotJob (a single snapshot without Interval or Num is taken before it).

    \b
    Examples:
      snapcli submit VideoId=talk.mp4 Count=10 Width=320
      snapcli submit 'VideoId=talk.mp4&SpecifiedOffsetTimes=%5B1000%2C2000%5D'
      snapcli submit request.json --wait
      echo '{"VideoId": "talk.mp4", "SnapshotTemplateId": "…"}' | snapcli submit -
      snapcli jobs wait "$(snapcli submit VideoId=talk.mp4 Count=3 | jq -r .SnapshotJob.JobId)"
      snapcli submit --storage-root media 'Input={"Bucket":"in","Object":"talk.mp4"}' \\
        'SnapshotConfig={"OutputFile":{"Bucket":"out","Object":"{FileName}-{Count}.jpg"},"Num":5}'
    """
    from snapcli import api
    from snapcli.core.mts import snapshot_job
    from snapcli.core.wire import read_wire_request

    with api_errors(True):
        if not request:
            raise InvalidParameter(
                "no request given: name Key=Value pairs, a file, or - for stdin."
            )
        mapping = read_wire_request(request, sys.stdin.read)
        if mapping.get("Action", ACTION) != ACTION:
            raise InvalidParameter(f"Action must be {ACTION}, got {mapping['Action']!r}.")
        submitted = api.submit(
            mapping,
            output_dir=flags["output_dir"],
            storage_root=flags["storage_root"],
            quality=flags["quality"],
            vtt=flags["vtt"],
            vtt_base_url=flags["vtt_base_url"],
            wait=flags["wait"],
            settings=ctx.obj["settings"],
        )
    if submitted.dialect == "mts":
        record = submitted.record
        print_json({"RequestId": submitted.request_id, "SnapshotJob": snapshot_job(record)})
        if record["State"] == "Fail":
            click.echo(f"snapcli: {record['Code']}: {printable(record['Message'])}", err=True)
            return ExitStatus.JOB_FAILED
        return ExitStatus.SUCCESS
    if not flags["wait"]:
        answer = {"RequestId": submitted.request_id, "SnapshotJob": {"JobId": submitted.job_id}}
        print_json(answer)
        if sys.stderr.isatty():
            click.echo(f"queued: snapcli jobs wait {submitted.job_id}", err=True)
        return ExitStatus.SUCCESS
    return _waited([submitted.job_id], timeout=None, as_json=True)


def _waited(job_ids: list[str], timeout: float | None, as_json: bool) -> int:
    """Wait for jobs, print their events (JSON, or one line each), and exit as they ended."""
    from snapcli import jobs as job_records

    try:
        records = job_records.wait(job_ids, timeout)
    except TimeoutError:
        click.echo(f"snapcli: SnapshotTimeOut: the jobs did not end within {timeout:g} s; "
                   "they go on running.", err=True)  # fmt: skip
        return ExitStatus.JOB_FAILED
    except KeyboardInterrupt:
        click.echo("snapcli: no longer waiting; the jobs go on running.", err=True)
        return ExitStatus.INTERRUPTED
    for record in records:
        event = record.get("Event") or {}
        if as_json:
            print_json(event)
        else:
            line = f"{record['JobId']}  {record['State']}  {record['VideoId']}"
            if record.get("Code"):
                line += f"  {record['Code']}: {record['Message']}"
            click.echo(printable(line))
        note = record.get("Callback")
        if note and not note["Delivered"]:
            warn(f"{note['Error']}; the job itself is unaffected.")
    failed = [record for record in records if record["State"] != "Success"]
    for record in failed:
        click.echo(f"snapcli: {record['Code']}: {printable(record['Message'])}", err=True)
    return ExitStatus.JOB_FAILED if failed else ExitStatus.SUCCESS


@click.group(context_settings=CONTEXT)
def jobs() -> None:
    """Job records: every job that grab, sprite, batch and submit ran or queued.

    \b
    Examples:
      snapcli jobs list --state Snapshoting
      snapcli jobs show 3f2a9c…
      snapcli jobs wait JOBID JOBID --timeout 600
    """


@jobs.command("list", context_settings=CONTEXT)
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(["Submitted", "Snapshoting", "Success", "Fail"], case_sensitive=False),
    help="Only jobs in this state (repeat).",
)
@click.option("--video", metavar="VIDEO", help="Only jobs of this video file.")
@click.option("--limit", default=20, show_default=True, metavar="N", help="How many.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
def list_command(states: tuple[str, ...], video: str | None, limit: int, as_json: bool) -> int:
    """List jobs, newest first: id, state, when, video, and the result or the error code.

    \b
    Examples:
      snapcli jobs list
      snapcli jobs list --state Fail --limit 100
      snapcli jobs list --video talk.mp4 --json | jq -r '.Jobs[].JobId'
    """
    from snapcli import jobs as job_records

    with api_errors(as_json):
        canonical = {state.lower(): state for state in job_records.STATES}
        records = job_records.recent([canonical[s.lower()] for s in states], video, int(limit))
    if as_json:
        print_json({"Jobs": records})
    else:
        from snapcli.cli.render import print_jobs

        print_jobs(records)
    return ExitStatus.SUCCESS


@jobs.command("show", context_settings=CONTEXT)
@click.argument("job_ids", nargs=-1, required=True, metavar="JOBID...")
@click.option(
    "--dialect",
    type=click.Choice(["vod", "mts"]),
    default="vod",
    show_default=True,
    help="mts: answer as QuerySnapshotJobList does (MTS jobs only).",
)
def show_command(job_ids: tuple[str, ...], dialect: str) -> int:
    """Show jobs whole, as JSON: request, state, timings, callback, event. A unique prefix of
    six or more characters names a job; ids that name none are listed under NonExistJobIds
    (exit status 2).

    \b
    Examples:
      snapcli jobs show 3f2a9c
      snapcli jobs show JOBID JOBID | jq '.Jobs[] | {JobId, State, Code}'
    """
    from snapcli import jobs as job_records

    if dialect == "mts":
        from snapcli.service.mts_job import query_snapshot_jobs

        with api_errors(True):
            answer = query_snapshot_jobs(job_ids)
        print_json(answer)
        missing_mts = answer["NonExistSnapshotJobIds"]["String"]
        return ExitStatus.INVALID_REQUEST if missing_mts else ExitStatus.SUCCESS
    with api_errors(True):
        records, missing = job_records.show(job_ids)
    print_json({"Jobs": records, "NonExistJobIds": missing})
    return ExitStatus.INVALID_REQUEST if missing else ExitStatus.SUCCESS


@jobs.command("wait", context_settings=CONTEXT)
@click.argument("job_ids", nargs=-1, required=True, metavar="JOBID...")
@click.option("--timeout", metavar="S", type=float, help="Give up waiting after S seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print each job's event as JSON.")
def wait_command(job_ids: tuple[str, ...], timeout: float | None, as_json: bool) -> int:
    """Wait until jobs end. Exit status 0 when all succeeded, 1 when any failed or the timeout
    passed first (the jobs go on running then). A job whose worker died is run again on the way.

    \b
    Examples:
      snapcli jobs wait 3f2a9c
      snapcli jobs wait JOBID JOBID --timeout 600 --json > events.json
    """
    with api_errors(as_json):
        return _waited(list(job_ids), timeout, as_json)


@grouping.command(name="list-snapshots", context_settings=CONTEXT)
@click.argument("video", type=FILE)
@click.option(
    "--type",
    "kind",
    metavar="TYPE",
    help="NormalSnapshot (default), SpriteSnapshot, SpriteOriginSnapshot or WebVttSnapshot.",
)
@click.option("--page-no", metavar="N", help="Page number, from 1.")
@click.option("--page-size", metavar="N", help="Entries a page (default 20, at most 100).")
def list_snapshots(video: str, kind: str | None, page_no: str | None, page_size: str | None) -> int:
    """ListSnapshots: the snapshots of the latest job of VIDEO, as the API answers.

    \b
    Examples:
      snapcli list-snapshots talk.mp4
      snapcli list-snapshots talk.mp4 --type SpriteSnapshot --page-size 100
      snapcli list-snapshots talk.mp4 | jq -r '.MediaSnapshot.Snapshots.Snapshot[].Url'
    """
    from pathlib import Path

    from snapcli.core.event import JobIdentity
    from snapcli.errors import VideoNotFound
    from snapcli.service.jobs import successful_events
    from snapcli.service.listing import list_snapshots as answer
    from snapcli.service.listing import parse_listing

    with api_errors(True):
        kind, number, size = parse_listing(kind, page_no, page_size)
        events = list(successful_events(video))
        if not events and "://" not in video and not Path(video).is_file():
            raise VideoNotFound(f"the video {video} does not exist or is not a file.")
        request_id = JobIdentity.new().request_id
        print_json(answer(events, kind, number, size, request_id))
    return ExitStatus.SUCCESS


@click.group(context_settings=CONTEXT)
def template() -> None:
    """Snapshot templates: a VOD TemplateConfig stored under an id, applied by
    SnapshotTemplateId (or --template-id) in grab, sprite, batch and submit.

    \b
    Examples:
      snapcli template add --name thumbs \\
        --config '{"SnapshotType": "SpriteSnapshot", "SnapshotConfig": {"Interval": 2,
                   "SpriteSnapshotConfig": {"CellWidth": 160}}}'
      snapcli template add --name track --config @webvtt.json
      snapcli template list
      snapcli grab talk.mp4 --template-id 6c0e4f…
    """


@template.command("add", context_settings=CONTEXT)
@click.option("--name", required=True, help="The template's name.")
@click.option(
    "--config",
    required=True,
    metavar="JSON|@FILE",
    help='TemplateConfig: {"SnapshotType": …, "SnapshotConfig": {…}}, or @file, or @- for stdin.',
)
def template_add(name: str, config: str) -> int:
    """Store a snapshot template; prints {"RequestId", "VodTemplateId"}. The config is checked
    whole now, not when a job uses it.

    \b
    Examples:
      snapcli template add --name covers \\
        --config '{"SnapshotType": "NormalSnapshot", "SnapshotConfig": {"Count": 8, "Interval": 0}}'
      snapcli template add --name track --config @webvtt.json
    """
    from snapcli.core.event import JobIdentity
    from snapcli.service.templates import add_template

    with api_errors(True):
        record = add_template(name, _text_argument(config))
    print_json({"RequestId": JobIdentity.new().request_id, "VodTemplateId": record["TemplateId"]})
    return ExitStatus.SUCCESS


@template.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print the templates as JSON.")
def template_list(as_json: bool) -> int:
    """List the stored templates: id, snapshot type, name.

    \b
    Examples:
      snapcli template list
      snapcli template list --json | jq -r '.VodTemplateInfoList[].TemplateId'
    """
    from snapcli.service.templates import list_templates

    with api_errors(as_json):
        records = list_templates()
    if as_json:
        print_json({"VodTemplateInfoList": records})
    else:
        for record in records:
            click.echo(f"{record['TemplateId']}  {record['SnapshotType']:<15}  {record['Name']}")
    return ExitStatus.SUCCESS


@template.command("show", context_settings=CONTEXT)
@click.argument("template_id", metavar="ID")
def template_show(template_id: str) -> int:
    """Show one template as JSON, with its TemplateConfig.

    \b
    Examples:
      snapcli template show 6c0e4f0a9b1d4e2f8a7c6b5d4e3f2a1b
    """
    from snapcli.service.templates import get_template

    with api_errors(True):
        print_json({"VodTemplateInfo": get_template(template_id)})
    return ExitStatus.SUCCESS


@template.command("rm", context_settings=CONTEXT)
@click.argument("template_ids", nargs=-1, required=True, metavar="ID...")
def template_rm(template_ids: tuple[str, ...]) -> int:
    """Remove templates. Jobs already queued with one keep what it asked for.

    \b
    Examples:
      snapcli template rm 6c0e4f0a9b1d4e2f8a7c6b5d4e3f2a1b
    """
    from snapcli.service.templates import remove_template

    with api_errors(True):
        for template_id in template_ids:
            remove_template(template_id)
    return ExitStatus.SUCCESS


def _text_argument(value: str) -> str:
    """A text given inline, as @FILE, or as @- for stdin."""
    if not value.startswith("@"):
        return value
    if value == "@-":
        return sys.stdin.read()
    try:
        with open(value[1:], encoding="utf-8") as file:
            return file.read()
    except OSError as error:
        raise InvalidParameter(f"{value[1:]} cannot be read ({error.strerror}).") from None


@grouping.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port (0: any free one).")
@click.option(
    "--media-root",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="VideoIds are paths under it; MTS buckets are its folders.",
)
@click.option(
    "-o",
    "--output-dir",
    default="snapshots",
    show_default=True,
    metavar="DIR",
    help="Where VOD results go; served at /results/.",
)
@click.option(
    "--access-key",
    "access_keys",
    multiple=True,
    metavar="ID:SECRET",
    help="An AccessKey the SDKs sign with (repeat; also $SNAPCLI_ACCESS_KEYS, comma-separated).",
)
@click.option(
    "--access-keys-file",
    type=click.File("r"),
    metavar="FILE",
    help="AccessKeys, one ID:SECRET a line (# comments), out of the process list.",
)
@click.option("--no-auth", is_flag=True, help="Take unsigned calls (loopback addresses only).")
@click.option(
    "--callback-key",
    envvar="SNAPCLI_CALLBACK_KEY",
    metavar="KEY",
    help="Sign callbacks (X-VOD-TIMESTAMP, X-VOD-SIGNATURE) as the cloud does.",
)
@click.option("--public-url", metavar="URL", help="The URL clients reach this server at.")
@click.pass_context
def serve(ctx: click.Context, /, **flags: Any) -> int:
    """Serve the VOD and MTS snapshot API on HTTP, for the official SDKs as they are.

    Point an SDK client at HOST:PORT with protocol http and one of the access keys. Actions:
    VOD SubmitSnapshotJob, ListSnapshots, GetVideoInfo and the snapshot templates
    (Add/Get/List/Update/DeleteVodTemplate); MTS SubmitSnapshotJob and QuerySnapshotJobList.
    Snapshot URLs in answers and callbacks point at this server. Stop it with Ctrl-C.

    \b
    Examples:
      snapcli serve --media-root videos --access-key dev:s3cret
      SNAPCLI_ACCESS_KEYS=dev:s3cret snapcli serve --port 9000 -o results
      snapcli serve --no-auth --media-root .
    """
    import os

    from snapcli import api
    from snapcli.service.http.server import is_loopback, parse_access_keys

    entries = list(flags["access_keys"])
    entries += [e for e in os.environ.get("SNAPCLI_ACCESS_KEYS", "").split(",") if e.strip()]
    if flags["access_keys_file"]:
        lines = flags["access_keys_file"].read().splitlines()
        entries += [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    keys = parse_access_keys(entries)
    if flags["no_auth"] and keys:
        raise InvalidParameter("--no-auth and access keys contradict each other: give one.")

    def ready(url: str, service: Any) -> None:
        click.echo(f"snapcli serve: listening on {url}", err=True)
        click.echo(f"  videos under {service.media_root}; results in {service.results}", err=True)
        if not is_loopback(flags["host"]):
            warn(f"{flags['host']} is reachable from other machines, not this one alone.")
        if flags["no_auth"]:
            warn("signatures are not checked (--no-auth).")

    api.serve(
        host=flags["host"],
        port=flags["port"],
        media_root=flags["media_root"],
        output_dir=flags["output_dir"],
        access_keys=None if flags["no_auth"] else keys,
        callback_key=flags["callback_key"],
        public_url=flags["public_url"],
        settings=ctx.obj["settings"],
        on_ready=ready,
    )
    return ExitStatus.SUCCESS
