"""The zip callback's bytecode: Python uses it whatever the files' dates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from deploy.bytecode import add_bytecode, cache_name

OLD_DATE = 315532800  # 1980-01-01, as the files of Zappa's zip unpack


def test_cache_name_is_where_python_looks() -> None:
    assert cache_name("wsgi.py", "cpython-311") == "__pycache__/wsgi.cpython-311.pyc"
    assert (
        cache_name("flask/json/tag.py", "cpython-311")
        == "flask/json/__pycache__/tag.cpython-311.pyc"
    )


def test_every_module_gets_bytecode_and_stale_bytecode_goes(tmp_path: Path) -> None:
    zip_path = tmp_path / "package.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("wsgi.py", "app = 'compiled'\n")
        archive.writestr("pkg/__init__.py", "")
        archive.writestr("pkg/py2.py", "print 'not Python 3'\n")
        archive.writestr("pkg/__pycache__/old.cpython-311.pyc", b"stale")
        archive.writestr("pkg/data.txt", "text")
    assert add_bytecode(zip_path, keep_source=frozenset({"wsgi.py"})) == (2, 3)
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
    tag = sys.implementation.cache_tag
    # Kept modules keep their source; the others are bytecode alone.
    assert {"wsgi.py", f"__pycache__/wsgi.{tag}.pyc"} <= names
    assert "pkg/__init__.pyc" in names
    assert "pkg/__init__.py" not in names
    assert "pkg/__pycache__/old.cpython-311.pyc" not in names
    assert {"pkg/py2.py", "pkg/data.txt"} <= names


def test_python_loads_the_bytecode_of_an_old_dated_source(tmp_path: Path) -> None:
    zip_path = tmp_path / "package.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("wsgi.py", "from pkg import mod\napp = 'compiled' + mod.X\n")
        archive.writestr("pkg/__init__.py", "")
        archive.writestr("pkg/mod.py", "X = ' alone'\n")
    add_bytecode(zip_path, keep_source=frozenset({"wsgi.py"}))
    task = tmp_path / "task"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)
    # A changed source that Python would compile if it ignored the bytecode.
    source = task / "wsgi.py"
    source.write_text("app = 'source'\n")
    for path in task.rglob("*"):
        os.utime(path, (OLD_DATE, OLD_DATE))
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            "import sys; sys.path[:0] = ['.']; import wsgi; print(wsgi.app)",
        ],
        cwd=task,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "compiled alone"
