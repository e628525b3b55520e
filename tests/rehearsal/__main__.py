"""Command line: ``python -m tests.rehearsal STAGE [--settings FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests import netguard
from tests.rehearsal.rehearse import ROOT, Rehearsal, RehearsalFailed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.rehearsal",
        description="Rehearse a stage's Zappa deploy on local AWS stand-ins.",
    )
    parser.add_argument("stage", help="a stage of the settings file, such as dev")
    parser.add_argument(
        "--settings",
        type=Path,
        default=ROOT / "zappa_settings.json",
        help="Zappa settings file (default: zappa_settings.json)",
    )
    args = parser.parse_args(argv)
    netguard.install()
    try:
        Rehearsal(args.stage, args.settings.resolve()).run()
    except RehearsalFailed as failure:
        print(f"REHEARSAL FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
