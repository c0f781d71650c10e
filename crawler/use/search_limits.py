"""The bounds of ``crawler search`` the command line states in its options (``--limit``, ``--rank-all``'s help).

Apart from :mod:`crawler.use.search` so that building the command line does not import the search itself
(and, through it, the catalog).
"""

from __future__ import annotations

MAX_LIMIT = 10_000
# A query matching more snapshots than this ranks the most recently archived ones (see search.search()).
RANK_WINDOW = 10_000
