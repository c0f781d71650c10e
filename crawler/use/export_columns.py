"""Columns of ``crawler export --format parquet`` made faster than Arrow's own builder makes them, with the same
values (:mod:`crawler.use.export`, their only user; tests/test_export_same.py compares them with the builder's).

Where it sits: helpers of the export.  Nothing here imports pyarrow (:mod:`crawler.use.export` owns it and passes
it in as ``pa``).

- :func:`catalog_micros`: the catalog's own form of a time read in Python, the instant Arrow's parser gives,
  without importing pyarrow.compute for a cast (its function wrappers are made at import: 3 % of an export);
- :func:`text_array`: the snapshot texts (UTF-8 bytes) joined in one buffer with their offsets and checked by
  Arrow's UTF-8 validation (C++); Arrow's builder checked each through Python's decoder and grew its buffers;
- :func:`no_collection`: Python's cycle collector off while rows stream.
"""

from __future__ import annotations

import gc
import re
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)
# datetime.isoformat with an offset, as the catalog writes `published` and `fetched_at`.
CATALOG_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}")


def catalog_micros(values: list[Any]) -> list[int | None] | None:
    """Each value (null, or a time in the catalog's form) as microseconds since 1970 UTC; None when one is not."""
    match, parse = CATALOG_TIME.fullmatch, datetime.fromisoformat
    micros: list[int | None] = []
    try:
        for value in values:
            if value is None:
                micros.append(None)
            elif type(value) is str and match(value):
                micros.append((parse(value) - EPOCH) // MICRO)
            else:
                return None
    except ValueError:  # not a date (a 30 February, hour 24, ...): as Arrow's parser would say
        return None
    return micros


def text_array(pa: Any, texts: list[Any]) -> Any:
    """The text column as an Arrow string array: ArrowInvalid for bytes that are not UTF-8, as
    ``pa.array(texts, pa.string())``; str, or more than 2 GiB of text, through that builder."""
    try:
        if not all(type(text) is bytes for text in texts):
            raise TypeError
        offsets = array("i", accumulate(map(len, texts), initial=0))  # OverflowError past 2 GiB
    except (TypeError, OverflowError):
        return pa.array(texts, pa.string())
    text = pa.Array.from_buffers(pa.string(), len(texts), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(texts))])
    text.validate(full=True)
    return text


@contextmanager
def no_collection() -> Iterator[None]:
    """Python's cycle collector off meanwhile: a row makes no cycle (reference counts free it), and the collector
    walked the batch being built and every module again and again (5 % of a Parquet export)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
