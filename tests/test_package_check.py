"""The rehearsal's checks of a Lambda package, on small zips made here."""

from __future__ import annotations

import sys
import tempfile
import zipfile
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path

from deploy.bytecode import add_bytecode
from tests.rehearsal.package import (
    MIB,
    PackageRules,
    inspect_package,
    read_settings_module,
    wheel_tag_fits,
)

RULES = PackageRules(
    stage="dev",
    table="books-dev",
    runtime="python3.11",
    runtime_distributions=frozenset({"flask", "markupsafe"}),
    deploy_distributions=frozenset({"requests"}),
    test_distributions=frozenset({"pytest"}),
    project_files=frozenset({"tests", "Makefile", "node_modules"}),
)
SETTINGS = {
    "DEBUG": "False",
    "LOG_LEVEL": "'INFO'",
    "API_STAGE": "'dev'",
    "APP_MODULE": "'wsgi'",
    "APP_FUNCTION": "'app'",
    "ENVIRONMENT_VARIABLES": "{'AWS_REGION': 'us-east-1', 'BOOKS_TABLE': 'books-dev'}",
}
X86_64 = 62
AARCH64 = 183


def elf_header(machine: int) -> bytes:
    """Return the first bytes of a 64-bit little-endian ELF shared object."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + (3).to_bytes(2, "little") + machine.to_bytes(2, "little") + bytes(44)


def distribution(
    name: str, version: str, files: list[str], tag: str
) -> dict[str, bytes]:
    info = f"{name}-{version}.dist-info"
    record = "\n".join([*(f"{f},," for f in files), f"{info}/RECORD,,"])
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    return {
        f"{info}/METADATA": metadata.encode(),
        f"{info}/RECORD": record.encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nTag: {tag}\n".encode(),
    }


def package(
    settings: Mapping[str, str] = SETTINGS,
    extra: Mapping[str, bytes] | None = None,
    leave_out: tuple[str, ...] = (),
    bytecode: bool = True,
) -> bytes:
    """Build a small package like Zappa's, changed by ``extra``."""
    speedups = "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"
    files: dict[str, bytes] = {
        "handler.py": b"def lambda_handler(event, context): pass\n",
        "zappa_settings.py": "".join(
            f"{k}={v}\n" for k, v in settings.items()
        ).encode(),
        "package_info.json": b"{}",
        "__init__.py": b"",
        "wsgi.py": b"app = None\n",
        "bookapi/__init__.py": b"",
        "flask/__init__.py": b"",
        "markupsafe/__init__.py": b"",
        speedups: elf_header(X86_64),
        **distribution("flask", "3.1.3", ["flask/__init__.py"], "py3-none-any"),
        **distribution(
            "MarkupSafe",
            "3.0.4",
            ["markupsafe/__init__.py", speedups],
            "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        ),
        **(extra or {}),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "package.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in files.items():
                if not name.startswith(leave_out):
                    archive.writestr(name, data)
        if bytecode:
            add_bytecode(path)
        return path.read_bytes()


def problems(data: bytes, rules: PackageRules = RULES) -> list[str]:
    return inspect_package(data, rules).problems


def test_lean_package_passes() -> None:
    report = inspect_package(package(), RULES)

    assert report.problems == []
    assert report.distributions == ["flask 3.1.3", "markupsafe 3.0.4"]
    assert report.binaries == ["markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"]


def test_sdk_distribution_fails() -> None:
    boto3 = distribution("boto3", "1.44.8", ["boto3/__init__.py"], "py3-none-any")

    found = problems(package(extra={"boto3/__init__.py": b"", **boto3}))

    assert any("AWS SDK package boto3 is in the package" in p for p in found)


def test_sdk_module_without_metadata_fails() -> None:
    found = problems(package(extra={"botocore/__init__.py": b""}))

    assert any("AWS SDK module botocore is in the package" in p for p in found)


def test_test_tool_fails() -> None:
    pytest_files = distribution(
        "pytest", "9.2.0", ["pytest/__init__.py"], "py3-none-any"
    )

    found = problems(package(extra={"pytest/__init__.py": b"", **pytest_files}))

    assert any("test tool pytest" in p for p in found)


def test_deploy_time_dependency_fails() -> None:
    requests = distribution("requests", "2.34.2", ["requests/api.py"], "py3-none-any")

    found = problems(package(extra={"requests/api.py": b"", **requests}))

    assert any("deploy-time dependency requests" in p for p in found)


def test_unneeded_distribution_fails() -> None:
    numpy = distribution("numpy", "2.0", ["numpy/__init__.py"], "py3-none-any")

    found = problems(package(extra={"numpy/__init__.py": b"", **numpy}))

    assert any(p.startswith("numpy is in the package") for p in found)


def test_project_file_fails() -> None:
    found = problems(package(extra={"tests/test_books.py": b""}))

    assert any("project file tests is in the package" in p for p in found)


def test_unknown_file_fails() -> None:
    found = problems(package(extra={"notes.txt": b""}))

    assert any(p.startswith("notes.txt is in the package") for p in found)


def test_missing_runtime_package_fails() -> None:
    found = problems(package(leave_out=("flask",)))

    assert "the runtime package flask is missing" in found


def test_missing_handler_fails() -> None:
    found = problems(package(leave_out=("handler.py",)))

    assert "Zappa's handler.py is missing from the package" in found


def test_package_over_budget_fails() -> None:
    small_budget = PackageRules(**{**RULES.__dict__, "budget_bytes": MIB // 1024})

    found = problems(package(), small_budget)

    assert any("over its budget of 0.0 MiB" in p for p in found)


def test_binary_for_other_python_fails() -> None:
    name = "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"
    python312 = PackageRules(**{**RULES.__dict__, "runtime": "python3.12"})

    found = problems(package(), python312)

    assert any(
        p.startswith(f"{name} is built for CPython 311, but the runtime is python3.12")
        for p in found
    )


def test_wheel_for_other_python_fails() -> None:
    python312 = PackageRules(**{**RULES.__dict__, "runtime": "python3.12"})

    found = problems(package(), python312)

    assert any(
        p.startswith("markupsafe 3.0.4 was installed from a wheel") for p in found
    )


def test_binary_for_other_machine_fails() -> None:
    name = "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"

    found = problems(package(extra={name: elf_header(AARCH64)}))

    assert (
        f"{name} is machine code for aarch64, but the function runs on x86_64" in found
    )


def test_binary_for_macos_fails() -> None:
    name = "markupsafe/_speedups.cpython-311-darwin.so"

    found = problems(package(extra={name: b"\xcf\xfa\xed\xfe" + bytes(16)}))

    assert any(p.startswith(f"{name} is built for darwin") for p in found)


def test_musllinux_wheel_does_not_fit() -> None:
    assert not wheel_tag_fits("cp311-cp311-musllinux_1_1_x86_64", RULES)


def test_manylinux_wheel_fits() -> None:
    assert wheel_tag_fits("cp311-cp311-manylinux_2_17_x86_64", RULES)


def test_older_stable_abi_wheel_fits() -> None:
    assert wheel_tag_fits("cp38-abi3-manylinux_2_28_x86_64", RULES)


def test_newer_stable_abi_wheel_rejected() -> None:
    assert not wheel_tag_fits("cp312-abi3-manylinux_2_28_x86_64", RULES)


def test_pure_python_wheel_fits() -> None:
    assert wheel_tag_fits("py2.py3-none-any", RULES)


def test_debug_on_fails() -> None:
    found = problems(package({**SETTINGS, "DEBUG": "True"}))

    assert any(
        p.startswith("the package's zappa_settings.py has DEBUG=True") for p in found
    )


def test_debug_log_level_fails() -> None:
    found = problems(package({**SETTINGS, "LOG_LEVEL": "'DEBUG'"}))

    assert any("has LOG_LEVEL='DEBUG'" in p for p in found)


def test_other_stage_table_fails() -> None:
    environment = "{'BOOKS_TABLE': 'books-prod'}"

    found = problems(package({**SETTINGS, "ENVIRONMENT_VARIABLES": environment}))

    assert any("sets BOOKS_TABLE='books-prod'" in p for p in found)


def test_endpoint_in_package_fails() -> None:
    environment = (
        "{'BOOKS_TABLE': 'books-dev', 'DYNAMODB_ENDPOINT': 'http://127.0.0.1:8000'}"
    )

    found = problems(package({**SETTINGS, "ENVIRONMENT_VARIABLES": environment}))

    assert any("sets DYNAMODB_ENDPOINT=" in p for p in found)


def test_settings_module_is_read_as_constants() -> None:
    settings = read_settings_module("# Generated by Zappa\nDEBUG=False\nX={'a': 1}\n")

    assert settings == {"DEBUG": False, "X": {"a": 1}}


def replace_entry(data: bytes, name: str, change: bytes | None) -> bytes:
    """Return the zip ``data`` with the entry ``name`` changed or removed."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "package.zip"
        with (
            zipfile.ZipFile(path, "w") as target,
            zipfile.ZipFile(BytesIO(data)) as source,
        ):
            for info in source.infolist():
                if info.filename != name:
                    target.writestr(info, source.read(info))
                elif change is not None:
                    target.writestr(info, change)
        return path.read_bytes()


WSGI_PYC = f"__pycache__/wsgi.{sys.implementation.cache_tag}.pyc"


def wsgi_bytecode(data: bytes) -> bytes:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return archive.read(WSGI_PYC)


def test_package_without_bytecode_fails() -> None:
    found = problems(package(bytecode=False))
    assert any("modules have no bytecode" in p for p in found), found


def test_missing_module_bytecode_fails() -> None:
    found = problems(replace_entry(package(), WSGI_PYC, None))
    assert any("1 modules have no bytecode" in p and "wsgi.py" in p for p in found)


def test_timestamp_bytecode_fails() -> None:
    data = package()
    pyc = wsgi_bytecode(data)
    timestamped = pyc[:4] + (0).to_bytes(4, "little") + pyc[8:]
    found = problems(replace_entry(data, WSGI_PYC, timestamped))
    assert any("is not unchecked-hash bytecode" in p for p in found), found


def test_bytecode_of_another_python_fails() -> None:
    data = package()
    pyc = wsgi_bytecode(data)
    found = problems(replace_entry(data, WSGI_PYC, b"\x00\x00\r\n" + pyc[4:]))
    assert any("another Python's magic number" in p for p in found), found


def test_bytecode_of_another_source_fails() -> None:
    data = replace_entry(package(), "wsgi.py", b"app = 1\n")
    found = problems(data)
    assert any("compiled from another source" in p for p in found), found
