"""The archive on disk: WARC files, their CDXJ indexes, snapshots, the catalog, and what checks them.

Owns: writing WARC records (:mod:`.warc`) and reading them back (:mod:`.warc_reading`, the only
warcio user), CDXJ index lines (:mod:`.cdxj`; their SURT keys in :mod:`.surt_keys`), the catalog
(:mod:`.catalog`, the only sqlite3 user; its schema in :mod:`.catalog_schema`, its crawl-state rows in
:mod:`.crawl_state`), snapshot files and their journal (:mod:`.snapshots`), the archive lock (:mod:`.lock`),
crash recovery (:mod:`.recovery`), ``crawler verify`` (:mod:`.verify`), ``crawler index`` (:mod:`.indexing`),
WACZ packages (:mod:`.wacz`; its index, pages and entries: :mod:`.wacz_index`, :mod:`.wacz_pages`,
:mod:`.wacz_entries`), and opening an archive to read beside a crawl (:mod:`.reading`).
May import: :mod:`crawler.discovery`, :mod:`crawler.parse` (the snapshot rules, to verify them),
:mod:`crawler.config`, :mod:`crawler.net`, the base. Never the crawl, replay or the commands above.
Offers: :class:`~crawler.archive.catalog.Store`, :class:`~crawler.archive.warc.WarcWriter`,
:class:`~crawler.archive.lock.ArchiveLock`, :func:`~crawler.archive.reading.read_archive`.
"""
