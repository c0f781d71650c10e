"""The cache of :mod:`crawler.use.dedup` (``<archive>/indexes/dedup.sqlite``): each version's MinHash signature
by its key, and the last answer per threshold with the digest of its inputs and its rows' digests.

Only ever a shortcut (the answer is the same without it): one that cannot be opened or written is done
without (a read-only archive: read only; locked by another process: skipped after ``timeout``), and one that
is not a database, or of an earlier layout, is started again.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


class Cache:
    """Signatures and answers in ``<archive>/indexes/dedup.sqlite``; nothing when it cannot be opened (module
    docstring).  After the first error (locked, damaged), the cache is not asked again in this run."""

    def __init__(self, path: Path, timeout: float = 10) -> None:
        self.db: sqlite3.Connection | None = None
        self.new: list[tuple[bytes, bytes]] = []
        for attempt in range(2):
            try:
                self.db = self._open(path, timeout)
                return
            except sqlite3.OperationalError as err:  # locked, read-only, no room: leave it as it is
                if "locked" in str(err):  # (and do not wait for it a second time below)
                    return
                break
            except sqlite3.DatabaseError:  # not a database / malformed: a cache, so start it again
                if self.db is not None:
                    self.db.close()
                    self.db = None
                if attempt:
                    break
                try:
                    path.unlink()
                except OSError:
                    break
            except OSError:
                break
        self.db = self._readonly(path, timeout)

    @staticmethod
    def _open(path: Path, timeout: float) -> sqlite3.Connection:
        path.parent.mkdir(exist_ok=True)
        db = sqlite3.connect(path, timeout=timeout)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS snapshot_signatures (key BLOB PRIMARY KEY, hashes BLOB NOT NULL) "
                       "WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS answers (threshold REAL PRIMARY KEY, inputs BLOB NOT NULL, "
                       "answer BLOB NOT NULL, rows BLOB NOT NULL)")
            db.execute("DROP TABLE IF EXISTS signatures")  # recipe 1's, keyed by the text: never read again
            if "rows" not in {c[1] for c in db.execute("PRAGMA table_info(answers)")}:
                db.execute("DROP TABLE answers")  # (an earlier layout: a cache, so rebuilt)
                db.execute("CREATE TABLE answers (threshold REAL PRIMARY KEY, inputs BLOB NOT NULL, "
                           "answer BLOB NOT NULL, rows BLOB NOT NULL)")
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _readonly(path: Path, timeout: float) -> sqlite3.Connection | None:
        """A cache this process cannot write (a read-only archive): still read."""
        try:
            if not path.is_file():
                return None
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
            db.execute("SELECT 1 FROM snapshot_signatures JOIN answers LIMIT 0").fetchall()
        except (OSError, ValueError, sqlite3.Error):
            return None
        return db

    def _failed(self) -> None:
        if self.db is not None:
            self.db.close()
        self.db = None

    def signatures(self, keys: list[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):
            if self.db is None:
                break
            chunk = keys[start:start + 500]
            try:
                found.update((bytes(k), bytes(v)) for k, v in self.db.execute(
                    f"SELECT key, hashes FROM snapshot_signatures WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk))
            except sqlite3.Error:
                self._failed()
        return found

    def answer(self, threshold: float) -> tuple[bytes, dict[str, Any], bytes] | None:
        """The last answer for ``threshold``: the digest of its inputs, the answer, its rows' digests."""
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT inputs, answer, rows FROM answers WHERE threshold = ?",
                                  (threshold,)).fetchone()
            found = json.loads(bytes(row[1])) if row else None
        except sqlite3.Error:
            self._failed()
            return None
        except ValueError:
            return None
        return (bytes(row[0]), found, bytes(row[2])) if isinstance(found, dict) else None

    def close(self, answer: tuple[float, bytes, bytes, bytes] | None = None) -> None:
        if self.db is None:
            return
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO snapshot_signatures VALUES (?, ?)", self.new)
                if answer is not None:
                    self.db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)", answer)
        except sqlite3.Error:
            pass  # a cache: the answer is the same without it
        finally:
            self.db.close()
            self.db = None
