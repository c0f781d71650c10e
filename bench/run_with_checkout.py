"""Run a bench script with ``crawler`` imported from another checkout (a same-run baseline).

``PYTHONPATH=/tmp/base .venv/bin/python bench/x.py`` does not do it: the worktree's editable install
(``__editable___crawler_*_finder`` on ``sys.meta_path``) answers ``import crawler`` before ``PYTHONPATH``
is looked at, so both sides of a before/after measured the worktree.  This drops that finder, puts the
checkout first on ``sys.path`` and says which ``crawler`` it imported::

    .venv/bin/python bench/run_with_checkout.py /tmp/base bench/parse_real.py --rounds 5 --articles 20
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: run_with_checkout.py CHECKOUT SCRIPT [ARGS...]")
    checkout, script = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    if not (checkout / "crawler" / "__init__.py").is_file():
        sys.exit(f"{checkout}: no crawler package there")
    sys.meta_path[:] = [finder for finder in sys.meta_path if "editable" not in repr(finder).lower()
                        and "editable" not in getattr(finder, "__module__", "").lower()]
    sys.path[:0] = [str(script.parent), str(checkout)]
    sys.argv = [str(script), *sys.argv[3:]]
    import crawler

    print(f"# crawler imported from {Path(crawler.__file__).parent}", flush=True)
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
