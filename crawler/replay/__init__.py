"""Replay: WARC collections -> today's adapters -> snapshots and tables, with no network.

Owns: reading whole WARC collections, damaged files included, under caps (:mod:`.collection`),
the unit of work, one WARC file (or a byte range) -> its extraction results (:mod:`.engine`),
a resumable job over many files on one process, a pool or Dask (:mod:`.job`: its options
:mod:`.job_options`, map :mod:`.job_map`, reduce :mod:`.job_reduce`, output files :mod:`.sinks`), the job's state
(:mod:`.manifest`), and the in-memory replay that ``crawler demo`` uses (:mod:`.simple`).
May import: :mod:`crawler.archive`, :mod:`crawler.parse`, :mod:`crawler.config`, the base; not
the crawl (the two are independent: a test of the layering keeps them apart).
Offers: :func:`~crawler.replay.engine.replay_file`, :func:`~crawler.replay.job.run_job`,
:func:`~crawler.replay.simple.replay`.
"""
