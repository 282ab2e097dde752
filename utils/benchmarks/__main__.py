"""`python -m utils.benchmarks [--notebook PATH] [--size bench|tiny]`: run the speed benchmarks
and print their tables (`make bench`). `--help` lists the options."""

from __future__ import annotations

import sys

from utils.benchmarks import conv


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark of the course (so far: unit 03's convolution); the exit status."""
    return conv.main(argv)


if __name__ == "__main__":
    sys.exit(main())
