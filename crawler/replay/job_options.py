"""A replay job's options and its summary: what ``crawler replay`` asks for and what it reports.

Part of :mod:`crawler.replay.job`: the records the command line fills (:class:`JobOptions`, the
outputs it names, :class:`Outputs`) and the counts it prints (:class:`JobSummary`), with the
number of buckets every spill and reduce of a job shares (:data:`BUCKETS`).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from crawler.errors import CrawlerError
from crawler.replay.engine import FileTask

BUCKETS = 64  # reduce memory ~ articles / BUCKETS


class ScaleExtraMissing(CrawlerError):
    """An option needs a package of the optional ``scale`` extra."""


@dataclass(frozen=True, slots=True)
class Outputs:
    out: Path | None = None  # snapshot tree
    jsonl: str | None = None  # "-" (stdout), a file, or a directory ("DIR/" or existing: partitioned)
    parquet: Path | None = None  # partitioned Parquet directory

    @property
    def jsonl_dir(self) -> Path | None:
        """``--jsonl`` names a directory (partitioned output) when it ends with ``/`` or is one."""
        if self.jsonl is None or self.jsonl == "-":
            return None
        if self.jsonl.endswith(("/", os.sep)) or Path(self.jsonl).is_dir():
            return Path(self.jsonl)
        return None

    @property
    def jsonl_stream(self) -> str | None:
        return self.jsonl if self.jsonl is not None and self.jsonl_dir is None else None

    def default_state(self) -> Path | None:
        for directory in (self.out, self.parquet, self.jsonl_dir):
            if directory is not None:
                return directory / ".replay"
        if self.jsonl is not None and self.jsonl != "-":
            return Path(self.jsonl + ".replay")
        return None


@dataclass(slots=True)
class JobOptions:
    tasks: list[FileTask]
    outputs: Outputs
    state: Path | None = None  # default: Outputs.default_state(), else a temporary directory
    processes: int = 1
    dask: str | None = None  # "local" or a scheduler address
    progress: bool = False
    stdout: IO[str] | None = None  # where "--jsonl -" goes (default sys.stdout)


@dataclass(slots=True)
class JobSummary:
    files: int = 0
    files_resumed: int = 0  # finished by an earlier run of the same job
    records: int = 0  # HTTP response records
    articles: int = 0
    not_article: int = 0
    filtered: int = 0
    skipped_hosts: Counter[str] = field(default_factory=Counter)
    host_hits: Counter[str] = field(default_factory=Counter)  # response records per --host given
    notes: list[str] = field(default_factory=list)  # damaged state files, each redone
    failures: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # bad records: file, offset, reason
    templates: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    versions: int = 0  # article versions kept (rows written)
    snapshots_written: int = 0
    partitions: int = 0
    temporaries_removed: int = 0
    restarted: bool = False  # a state of another configuration was dropped
    pool_restarts: int = 0
    seconds: float = 0.0
    state: str = ""
    per_file: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, entry: dict[str, Any], *, resumed: bool) -> None:
        self.files += 1
        self.files_resumed += int(resumed)
        counts = entry.get("counts", {})
        for name in ("records", "articles", "not_article", "filtered"):
            setattr(self, name, getattr(self, name) + int(counts.get(name, 0)))
        self.skipped_hosts.update(entry.get("skipped_hosts", {}))
        self.host_hits.update(entry.get("host_hits", {}))
        self.templates.update(entry.get("templates", {}))
        self.rules.update(entry.get("rules", {}))
        self.failures.extend(entry.get("failures", []))
        self.problems.extend(entry.get("problems", []))
        self.per_file[str(entry["path"])] = {
            "records": int(counts.get("records", 0)), "articles": int(counts.get("articles", 0)),
            "failures": len(entry.get("failures", [])), "problems": entry.get("problems", []),
            "resumed": resumed,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files, "files_resumed": self.files_resumed, "records": self.records,
            "articles": self.articles, "not_article": self.not_article,
            "filtered": self.filtered, "skipped_hosts": dict(self.skipped_hosts.most_common()),
            "host_hits": dict(self.host_hits.most_common()), "state_notes": self.notes,
            "skipped_records": sum(self.skipped_hosts.values()),
            "extraction_failures": self.failures, "bad_records": self.problems,
            "templates": dict(self.templates.most_common()), "rules": dict(self.rules.most_common()),
            "versions": self.versions, "snapshots_written": self.snapshots_written,
            "partitions": self.partitions, "temporaries_removed": self.temporaries_removed,
            "pool_restarts": self.pool_restarts, "seconds": round(self.seconds, 3), "state": self.state,
            "per_file": self.per_file,
        }
