"""A capture-time slice of WARC files for a WACZ package: the records captured in a window, copied by byte range.

Part of :mod:`crawler.archive.wacz` (``crawler wacz --captured-since/--captured-until``;
docs/decisions/0017-capture-window-slices.md).  Each WARC file of the package is rewritten into the
package's scratch directory under its own name, holding only:

- its ``warcinfo`` record (it describes the file, not a capture);
- the captures (``response``, ``revisit``, ``resource``, ``metadata`` records) whose ``WARC-Date`` is in
  the window, both ends included, to the second (the precision of every index);
- the ``request`` and other records concurrent to a kept capture (``WARC-Concurrent-To`` either way, or
  ``WARC-Refers-To`` a kept record): they belong to it, whatever their own date;
- for each kept ``revisit``, the record it refers to (``WARC-Refers-To``, else the response with its
  ``WARC-Refers-To-Target-URI`` and ``-Date``, else the latest earlier ``200`` response of the URL with its
  payload digest), from whichever file of the source holds it, even captured outside the window: a revisit
  has no payload of its own and would not replay without it.  Only the original record comes along, not
  its request.

Records are copied as they are, gzip member by gzip member (every member is a whole record), never
compressed again; offsets change, so the package's index is read again from the copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.archive.cdxj import reading_warc, record_fields, timestamp_of, warc_records
from crawler.archive.warc import whole_seconds

CAPTURES = ("response", "revisit", "resource", "metadata")


@dataclass(frozen=True, slots=True)
class Record:
    file: Path
    offset: int
    length: int
    kind: str
    stamp: str  # YYYYMMDDhhmmss
    record_id: str
    links: tuple[str, ...]  # WARC-Concurrent-To and WARC-Refers-To ids
    url: str
    refers_uri: str
    refers_date: str
    digest: str
    status_ok: bool


def _strip(value: str) -> str:
    return value[1:-1] if value.startswith("<") and value.endswith(">") else value


def _records(path: Path) -> list[Record]:
    with reading_warc(path, "; `crawler verify` tells more"):
        return _read_records(path)


def _read_records(path: Path) -> list[Record]:
    out = []
    for offset, length, data in warc_records(path):
        fields = record_fields(data)
        kind = fields.get("warc-type", "")
        links = tuple(_strip(fields[name]) for name in ("warc-concurrent-to", "warc-refers-to") if fields.get(name))
        body = data[data.find(b"\r\n\r\n") + 4:]
        ok = kind == "response" and body[:16].split(b" ")[1:2] == [b"200"]
        out.append(Record(path, offset, length, kind, timestamp_of(fields.get("warc-date", "")),
                          _strip(fields.get("warc-record-id", "")), links,
                          _strip(fields.get("warc-target-uri", "")),
                          _strip(fields.get("warc-refers-to-target-uri", "")),
                          fields.get("warc-refers-to-date", ""), fields.get("warc-payload-digest", ""), ok))
    return out


def _original(revisit: Record, by_id: dict[str, Record], responses: dict[str, list[Record]]) -> Record | None:
    for link in revisit.links:
        found = by_id.get(link)
        if found is not None and found.kind == "response":
            return found
    url = revisit.refers_uri or revisit.url
    candidates = [r for r in responses.get(url, []) if r.status_ok and r.stamp <= revisit.stamp
                  and (not revisit.digest or r.digest == revisit.digest)]
    if revisit.refers_date:
        dated = [r for r in candidates if r.stamp == timestamp_of(whole_seconds(revisit.refers_date))]
        candidates = dated or candidates
    return max(candidates, key=lambda r: r.stamp, default=None)


def slice_warcs(warcs: list[Path], lookup: list[Path], low: str | None, high: str | None,
                out_dir: Path) -> list[Path]:
    """The WARC files of ``warcs`` cut to the window ``[low, high]`` (CDXJ timestamps, both included), written
    to ``out_dir`` under their names (see the module docstring); files left with no capture are not written.
    ``lookup``: the files where a kept revisit's original may be (a superset of ``warcs``)."""
    records = {path: _records(path) for path in dict.fromkeys([*warcs, *lookup])}
    by_id = {r.record_id: r for rs in records.values() for r in rs if r.record_id}
    responses: dict[str, list[Record]] = {}
    for rs in records.values():
        for r in rs:
            if r.kind == "response":
                responses.setdefault(r.url, []).append(r)
    linked: dict[str, list[Record]] = {}  # capture id -> the records that belong to it
    for path in warcs:
        for r in records[path]:
            if r.kind not in CAPTURES or r.kind == "metadata":
                for link in r.links:
                    linked.setdefault(link, []).append(r)
    keep: set[tuple[Path, int]] = set()
    for path in warcs:
        for r in records[path]:
            if r.kind not in CAPTURES or not (low is None or r.stamp >= low) or not (high is None or r.stamp <= high):
                continue
            if r.kind == "metadata" and any(link in by_id for link in r.links):
                continue  # goes with its capture
            keep.add((r.file, r.offset))
            belonging = [*linked.get(r.record_id, []), *(by_id[link] for link in r.links if link in by_id)]
            keep.update((b.file, b.offset) for b in belonging if b.kind not in CAPTURES or b.kind == "metadata")
            if r.kind == "revisit":
                original = _original(r, by_id, responses)
                if original is not None:
                    keep.add((original.file, original.offset))
    written = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in dict.fromkeys([*warcs, *lookup]):
        chosen = [r for r in records[path] if (r.file, r.offset) in keep]
        if not any(r.kind in CAPTURES for r in chosen):
            continue
        chosen = [r for r in records[path] if r.kind == "warcinfo" or (r.file, r.offset) in keep]
        target = out_dir / path.name
        with open(path, "rb") as source, open(target, "wb") as out:
            for r in chosen:
                source.seek(r.offset)
                out.write(source.read(r.length))
        written.append(target)
    return written
