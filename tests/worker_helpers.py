"""Extraction targets for worker-process tests (module level, so a spawned worker can import them)."""

from __future__ import annotations

import os

from crawler.extraction import Extracted, ExtractJob, run_in_worker

CRASH_MARKER = b"<!-- crash the extraction worker -->"


def crash_on_marker(job: ExtractJob) -> Extracted:
    """Like the real target, but the worker process dies (as on a parser crash) on a marked page."""
    if CRASH_MARKER in job.content:
        os._exit(70)
    return run_in_worker(job)
