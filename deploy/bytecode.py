"""Zappa's ``zip`` callback: bytecode that Lambda's Python actually uses.

Zappa writes every zip entry with the date 1980-01-01, so on Lambda each
unpacked source file is dated 1980. Bytecode that records its source's date
(Python's default) never matches it and is ignored, and /var/task is
read-only, so every cold start would compile every module again. This
callback adds to the zip, for each ``.py`` file, bytecode that records a hash
of its source and that Python does not check (PEP 552 "unchecked-hash"), in
the ``__pycache__`` folder where Python looks for it. Python then loads it
whatever the dates are.

Only the project's own modules and Zappa's top-level files keep their source
beside the bytecode, for readable tracebacks. The installed packages ship as
bytecode alone (``module.pyc`` in place of ``module.py``, which Python loads
without a source), because their sources and bytecode together would double
the package: 3.2 MiB instead of 2.2 MiB. Their tracebacks then name file and
line but show no code.

Zappa runs the callback after it writes the zip and before it uploads it, in
``zappa deploy``, ``update`` and ``package`` alike, with the deploy venv's
Python, which scripts/deploy-venv makes the stage runtime's version. So the
bytecode is built by the runtime's Python. It uses only the standard library,
as Zappa loads it outside of any package.
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

# PEP 552 flags of hash-based bytecode that Python never checks against its source.
UNCHECKED_HASH_FLAGS = 0b01
# Top-level entries of the zip whose modules keep their source.
KEEP_SOURCE = frozenset(
    {"bookapi", "wsgi.py", "handler.py", "zappa_settings.py", "__init__.py"}
)


class ZappaCli(Protocol):
    """The attributes of Zappa's ``ZappaCLI`` that the callback reads."""

    @property
    def zip_path(self) -> str: ...

    @property
    def stage_config(self) -> dict[str, Any]: ...


def cache_name(source: str, cache_tag: str) -> str:
    """Return the zip path where Python looks for the bytecode of ``source``."""
    path = PurePosixPath(source)
    folder = "" if str(path.parent) == "." else f"{path.parent}/"
    return f"{folder}__pycache__/{path.stem}.{cache_tag}.pyc"


def unchecked_bytecode(source: bytes, filename: str) -> bytes:
    """Compile ``source`` to a .pyc that Python loads without checking it."""
    code = compile(source, filename, "exec", dont_inherit=True)
    return (
        importlib.util.MAGIC_NUMBER
        + UNCHECKED_HASH_FLAGS.to_bytes(4, "little")
        + importlib.util.source_hash(source)
        + marshal.dumps(code)
    )


def add_bytecode(
    path: Path, keep_source: frozenset[str] = KEEP_SOURCE
) -> tuple[int, int]:
    """Rewrite the zip at ``path`` with unchecked-hash bytecode for every
    module, replacing any other bytecode; return (compiled, modules).

    Modules under the top-level entries ``keep_source`` keep their source and
    get their bytecode in ``__pycache__``; the others become ``module.pyc``.
    """
    tag = sys.implementation.cache_tag
    compiled = modules = 0
    temporary = path.with_name(path.name + ".bytecode")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(
            temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=9
        ) as target,
    ):
        for info in source.infolist():
            if info.filename.endswith(".pyc"):
                continue
            data = source.read(info)
            info.compress_type = zipfile.ZIP_DEFLATED
            if not info.filename.endswith(".py"):
                target.writestr(info, data)
                continue
            modules += 1
            try:
                bytecode = unchecked_bytecode(data, info.filename)
            except (SyntaxError, ValueError):
                # Not Python this runtime can compile: Python would fail on
                # it too, so it is left as it is.
                target.writestr(info, data)
                continue
            if PurePosixPath(info.filename).parts[0] in keep_source:
                target.writestr(info, data)
                name = cache_name(info.filename, tag)
            else:
                name = info.filename + "c"
            entry = zipfile.ZipInfo(name, info.date_time)
            entry.create_system = info.create_system
            entry.external_attr = info.external_attr
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, bytecode, compresslevel=9)
            compiled += 1
    os.replace(temporary, path)
    return compiled, modules


def compile_package(cli: ZappaCli) -> None:
    """The ``zip`` callback: add valid bytecode to the package Zappa built."""
    runtime = str(cli.stage_config.get("runtime", ""))
    python = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if runtime != python:
        raise RuntimeError(
            f"the stage's runtime is {runtime}, but Zappa runs on {python}: "
            "its bytecode would not load; deploy from scripts/zappa"
        )
    compiled, modules = add_bytecode(Path(cli.zip_path))
    print(f"Compiled {compiled} of {modules} modules to unchecked-hash bytecode")
