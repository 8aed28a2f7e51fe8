"""`python -m earful.triage.training fast|best [--data-dir D] [--out O] [--epochs E]`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Train one model from the command line (for background runs; `earful train` wraps it)."""
    p = argparse.ArgumentParser(prog="python -m earful.triage.training")
    p.add_argument("model", choices=["fast", "best"])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--epochs", type=float, default=None)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-distill", action="store_true")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from earful.triage.training import data

    try:
        root = data.resolve_data_dir(a.data_dir)
    except data.DataMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if a.model == "fast":
        from earful.triage.models import FAST_FILE, WEIGHTS_DIR
        from earful.triage.training import fast

        out = Path(a.out) if a.out else WEIGHTS_DIR / FAST_FILE
        fast.train(root, out, teacher=None if a.no_distill else fast.default_teacher())
    else:
        from earful.triage.training import best

        kw = {} if a.epochs is None else {"epochs": a.epochs}
        best.train(root, Path(a.out) if a.out else None, threads=a.threads, limit=a.limit, **kw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
