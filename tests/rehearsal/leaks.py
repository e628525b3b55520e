"""The search for API key values in files where they must never be.

A key value belongs to API Gateway and to the clients given it. The rehearsal
looks for each value of the deployed stage's keys in every file of the
repository, the settings files, the package (the zip and its unpacked files)
and the logs of every command and process it ran.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path


def repository_files(root: Path) -> list[Path]:
    """List the repository's tracked and not ignored files under ``root``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    files = (root / name.decode() for name in listed.split(b"\0") if name)
    return sorted(path for path in files if path.is_file())


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def key_value_leaks(
    values: Iterable[str], files: Iterable[Path], root: Path | None = None
) -> list[str]:
    """Name each file that contains one of the key ``values``."""
    needles = [value.encode() for value in values if value]
    problems = []
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            if needle in data:
                relative = (
                    path.relative_to(root)
                    if root and path.is_relative_to(root)
                    else path
                )
                problems.append(f"{relative} contains the value of an API key")
                break
    return problems
