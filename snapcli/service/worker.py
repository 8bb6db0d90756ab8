"""The job worker: ``python -m snapcli.service.worker``, started by `snapcli submit` in a session
of its own. It holds one of the job slots, runs queued jobs one after another, and exits when
none is left to start.
"""

from __future__ import annotations

from snapcli.engine.job import available_cores
from snapcli.service.jobs import claim_next, claimable, job_slots, recover, run_claimed, take_slot


def main() -> None:
    slot = take_slot()
    if slot is None:
        return  # every slot has a worker, and each looks at the queue again before it exits
    slots = job_slots()
    workers = max(1, available_cores() // slots)
    decoder_threads = 1 if slots > 1 else None
    while True:
        recover(start_worker=False)  # this worker takes up what it finds
        claimed = claim_next()
        if claimed is not None:
            run_claimed(claimed, workers, decoder_threads)
            continue
        # Let go of the slot before the last look, so that a job queued after this look finds
        # the slot free and its submitter starts a worker for it.
        slot.release()
        if not claimable():
            return
        slot = take_slot()
        if slot is None:
            return


if __name__ == "__main__":
    main()
