"""`python -m utils.tooling.site`: build the course website into build/site/."""

from __future__ import annotations

import sys

from utils.tooling.site import build


def main() -> int:
    try:
        build.build()
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"make site: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
