"""What people do with an archive: export, search, the report and stats, and the sources' view.

Owns: ``crawler export`` (:mod:`.export`), ``crawler search`` (:mod:`.search`; its query language
:mod:`.query`, word folding :mod:`.folding`, snippets :mod:`.snippets`), the health figures
(:mod:`.health`) drawn by ``crawler report`` (:mod:`.report`) and printed by ``crawler stats``
(:mod:`.stats`), and ``crawler sources`` (:mod:`.sources`).
May import: :mod:`crawler.archive` (read side: :func:`~crawler.archive.reading.read_archive`),
:mod:`crawler.parse`, :mod:`crawler.config`, :mod:`crawler.net` (``sources --check``), the base;
not the crawl or replay, and nothing here writes to an archive.
Offers: one function per command, called by :mod:`crawler.cli`.
"""
