"""``python -m crawler`` runs the command line."""

from crawler.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports it
    raise SystemExit(main())
