"""Run the test suite against PostgreSQL, or explain clearly why it is skipped."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

URL = os.environ.get("EARFUL_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("EARFUL_REQUIRE_SERVICES") == "1"


def main() -> int:
    """Run pytest with DATABASE_URL pointing at PostgreSQL when it is reachable."""
    try:
        psycopg.connect(URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {URL} ({exc.__class__.__name__})."
        if REQUIRED:
            print(f"FAILED: {message} EARFUL_REQUIRE_SERVICES=1 demands it.", file=sys.stderr)
            return 1
        print(
            f"SKIPPED the PostgreSQL run: {message} "
            "Start PostgreSQL or set EARFUL_TEST_DATABASE_URL to run it.",
            file=sys.stderr,
        )
        return 0
    env = {**os.environ, "DATABASE_URL": URL}
    print(f"running the suite on PostgreSQL ({URL})", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env)


if __name__ == "__main__":
    sys.exit(main())
