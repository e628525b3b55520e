"""Checks of a Lambda package: the zip that Zappa uploads for a stage.

``inspect_package`` reads the zip and checks its size against the budget. It
checks every distribution and top-level file in it, since the AWS SDK, test
tools, Zappa's deploy-time packages and project files do not belong there. It
reports binary modules whose ABI does not match the stage's runtime. And it
checks the settings module that Zappa writes into the zip: debug, log level,
table and DynamoDB endpoint.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

MIB = 1024 * 1024
# The package's size budget: the zip was 1.1 MiB when this was set, and is
# 2.2 MiB with its bytecode.
BUDGET_BYTES = 3 * MIB

PROJECT_ENTRIES = frozenset({"bookapi", "wsgi.py"})
# Zappa writes these into the zip root: its handler, the stage's settings as
# a module, a build id, and an __init__.py.
ZAPPA_ENTRIES = frozenset(
    {"handler.py", "zappa_settings.py", "package_info.json", "__init__.py"}
)
# The Lambda Python runtimes provide boto3 and its dependencies.
SDK_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
SDK_TOP_LEVEL = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3"}
)
# What Zappa's handler imports at run time beyond the app's own packages. The
# rest of Zappa's dependencies are needed to deploy only.
HANDLER_DISTRIBUTIONS = frozenset({"zappa", "durationpy"})
QUIET_LOG_LEVELS = frozenset({"INFO", "WARNING", "ERROR", "CRITICAL"})
ENDPOINT_VARIABLES = ("DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# PEP 552 flags of bytecode that Python loads without checking its source.
UNCHECKED_HASH_FLAGS = 0b01

ELF_MACHINES = {62: "x86_64", 183: "aarch64"}
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
EXTENSION_TAG = re.compile(r"\.cpython-(?P<version>\d+)[a-z]*-(?P<platform>[^.]+)\.so$")


@dataclass(frozen=True)
class PackageRules:
    """What a stage's package must and must not contain."""

    stage: str
    table: str
    runtime: str
    architecture: str = "x86_64"
    budget_bytes: int = BUDGET_BYTES
    # Canonical names of the distributions that belong in the package.
    runtime_distributions: frozenset[str] = frozenset()
    # Canonical names of Zappa's deploy-time dependencies and of test tools.
    deploy_distributions: frozenset[str] = frozenset()
    test_distributions: frozenset[str] = frozenset()
    # Top-level names in the project folder, to name stray project files.
    project_files: frozenset[str] = frozenset()

    @property
    def python_tag(self) -> str:
        return self.runtime.removeprefix("python").replace(".", "")


@dataclass
class PackageReport:
    size: int = 0
    files: int = 0
    distributions: list[str] = field(default_factory=list)
    binaries: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    top_level: frozenset[str]
    wheel_tags: tuple[str, ...]


def inspect_package(data: bytes, rules: PackageRules) -> PackageReport:
    """Check the zip ``data`` against ``rules`` and describe what is in it."""
    report = PackageReport(size=len(data))
    if report.size > rules.budget_bytes:
        report.problems.append(
            f"the package is {report.size / MIB:.1f} MiB, over its budget of "
            f"{rules.budget_bytes / MIB:.1f} MiB"
        )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        report.files = len(names)
        distributions = read_distributions(archive, names)
        report.distributions = sorted(f"{d.name} {d.version}" for d in distributions)
        check_distributions(distributions, rules, report)
        check_top_level(names, distributions, rules, report)
        check_binaries(archive, names, rules, report)
        check_bytecode(archive, names, rules, report)
        for distribution in distributions:
            check_wheel_tags(distribution, rules, report)
        if "handler.py" not in names:
            report.problems.append("Zappa's handler.py is missing from the package")
        if "zappa_settings.py" in names:
            source = archive.read("zappa_settings.py").decode("utf-8")
            report.settings = read_settings_module(source)
            check_settings_module(report.settings, rules, report)
        else:
            report.problems.append("zappa_settings.py is missing from the package")
    return report


def read_distributions(
    archive: zipfile.ZipFile, names: list[str]
) -> list[Distribution]:
    found = []
    for name in names:
        path = PurePosixPath(name)
        if len(path.parts) != 2 or path.name != "METADATA":
            continue
        folder = path.parent.name
        if not folder.endswith(".dist-info"):
            continue
        metadata = HeaderParser().parsestr(archive.read(name).decode("utf-8"))
        top_level = {folder}
        record = f"{folder}/RECORD"
        if record in names:
            for line in archive.read(record).decode("utf-8").splitlines():
                entry = line.split(",", 1)[0]
                if entry and not entry.startswith(".."):
                    top_level.add(PurePosixPath(entry).parts[0])
        tags: tuple[str, ...] = ()
        wheel = f"{folder}/WHEEL"
        if wheel in names:
            wheel_metadata = HeaderParser().parsestr(archive.read(wheel).decode())
            tags = tuple(wheel_metadata.get_all("Tag") or ())
        found.append(
            Distribution(
                name=canonicalize_name(metadata.get("Name", folder)),
                version=metadata.get("Version", "?"),
                top_level=frozenset(top_level),
                wheel_tags=tags,
            )
        )
    return found


def check_distributions(
    distributions: list[Distribution], rules: PackageRules, report: PackageReport
) -> None:
    present = {d.name for d in distributions}
    for name in sorted(present):
        if name in SDK_DISTRIBUTIONS:
            report.problems.append(
                f"the AWS SDK package {name} is in the package, but the Lambda "
                "runtime provides it: add it to the stage's exclude"
            )
        elif name in rules.test_distributions:
            report.problems.append(
                f"the test tool {name} is in the package: deploy from the lean "
                "deploy venv, not the development one"
            )
        elif name in rules.deploy_distributions:
            report.problems.append(
                f"Zappa's deploy-time dependency {name} is in the package: add it "
                "to the stage's exclude"
            )
        elif rules.runtime_distributions and name not in rules.runtime_distributions:
            report.problems.append(
                f"{name} is in the package, but neither the app nor Zappa's "
                "handler needs it"
            )
    for name in sorted(rules.runtime_distributions - present):
        report.problems.append(f"the runtime package {name} is missing")


def check_top_level(
    names: list[str],
    distributions: list[Distribution],
    rules: PackageRules,
    report: PackageReport,
) -> None:
    owned = set().union(*(d.top_level for d in distributions))
    top_level = {PurePosixPath(name).parts[0] for name in names}
    # The bytecode of the top-level modules (handler.py, wsgi.py...).
    allowed = PROJECT_ENTRIES | ZAPPA_ENTRIES | {"__pycache__"}
    for entry in sorted(top_level - owned - allowed):
        if entry in SDK_TOP_LEVEL:
            report.problems.append(
                f"the AWS SDK module {entry} is in the package, but the Lambda "
                "runtime provides it: add it to the stage's exclude"
            )
        elif entry in rules.project_files:
            report.problems.append(
                f"the project file {entry} is in the package: add it to the "
                "stage's exclude_glob"
            )
        else:
            report.problems.append(
                f"{entry} is in the package, but it is neither project code nor "
                "part of an installed package"
            )


def check_binaries(
    archive: zipfile.ZipFile,
    names: list[str],
    rules: PackageRules,
    report: PackageReport,
) -> None:
    """Check that binary modules match the runtime's Python and architecture."""
    machine = ARCHITECTURES.get(rules.architecture, rules.architecture)
    for name in names:
        if name.endswith((".pyd", ".dll", ".dylib")):
            report.problems.append(f"{name} is a binary for Windows or macOS")
            continue
        if not name.endswith(".so") and ".so." not in PurePosixPath(name).name:
            continue
        report.binaries.append(name)
        tag = EXTENSION_TAG.search(name)
        if tag and tag["version"] != rules.python_tag:
            report.problems.append(
                f"{name} is built for CPython {tag['version']}, but the runtime is "
                f"{rules.runtime}: build the deploy venv with that Python"
            )
        if tag and not tag["platform"].startswith(f"{machine}-linux-gnu"):
            report.problems.append(
                f"{name} is built for {tag['platform']}, but Lambda runs "
                f"{machine}-linux-gnu"
            )
        header = archive.read(name)[:20]
        if header[:4] != b"\x7fELF":
            report.problems.append(f"{name} is not an ELF shared object")
            continue
        if header[4] != 2 or header[5] != 1:
            report.problems.append(f"{name} is not a 64-bit little-endian ELF file")
            continue
        found = ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "unknown")
        if found != machine:
            report.problems.append(
                f"{name} is machine code for {found}, but the function runs on "
                f"{machine}"
            )


def check_bytecode(
    archive: zipfile.ZipFile,
    names: list[str],
    rules: PackageRules,
    report: PackageReport,
) -> None:
    """Check that every module has bytecode that the runtime uses as it is.

    Zappa dates every entry 1980-01-01, so only unchecked-hash bytecode
    (PEP 552) is used on Lambda: its header contains the runtime's magic number,
    the flags 0b01 and a hash of the source, which must be this source's.
    Without it, every cold start compiles every module again.
    """
    if rules.python_tag != f"{sys.version_info[0]}{sys.version_info[1]}":
        report.problems.append(
            f"the bytecode for {rules.runtime} cannot be checked from Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}: run the check with "
            "the runtime's Python"
        )
        return
    present = set(names)
    tag = sys.implementation.cache_tag
    missing: list[str] = []
    for name in names:
        if name.endswith(".pyc") and "__pycache__" not in name:
            # A module shipped as bytecode alone.
            header = archive.read(name)[:8]
            if header[:4] != importlib.util.MAGIC_NUMBER:
                report.problems.append(
                    f"{name} has another Python's magic number than {rules.runtime}'s"
                )
            elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH_FLAGS:
                report.problems.append(f"{name} is not unchecked-hash bytecode")
            continue
        if not name.endswith(".py"):
            continue
        path = PurePosixPath(name)
        folder = "" if str(path.parent) == "." else f"{path.parent}/"
        cached = f"{folder}__pycache__/{path.stem}.{tag}.pyc"
        if cached not in present:
            missing.append(name)
            continue
        header = archive.read(cached)[:16]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            report.problems.append(
                f"{cached} has another Python's magic number than {rules.runtime}'s"
            )
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH_FLAGS:
            report.problems.append(
                f"{cached} is not unchecked-hash bytecode, so Lambda's Python "
                "ignores it (the zip dates its source 1980)"
            )
        elif header[8:16] != importlib.util.source_hash(archive.read(name)):
            report.problems.append(f"{cached} was compiled from another source")
    if missing:
        report.problems.append(
            f"{len(missing)} modules have no bytecode for {tag}, so each cold "
            f"start compiles them (first: {', '.join(missing[:3])}): is the "
            "stage's zip callback deploy.bytecode.compile_package set?"
        )


def wheel_tag_fits(tag: str, rules: PackageRules) -> bool:
    """Return whether a wheel tag (python-abi-platform) fits the runtime.

    Pure-Python tags (py3, py3X) fit with abi "none"; cpXY fits for the same
    CPython, and for an older one with the stable ABI (abi3).
    """
    machine = ARCHITECTURES.get(rules.architecture, rules.architecture)
    runtime = int(rules.python_tag)
    try:
        pythons, abis, platforms = tag.split("-")
    except ValueError:
        return False
    platform_fits = any(
        platform == "any"
        or (platform.startswith(("manylinux", "linux")) and platform.endswith(machine))
        for platform in platforms.split(".")
    )
    return platform_fits and any(
        python_abi_fits(python, abi, runtime)
        for python in pythons.split(".")
        for abi in abis.split(".")
    )


def python_abi_fits(python: str, abi: str, runtime: int) -> bool:
    version = python[2:]
    if not version.isdigit():
        return False
    if python.startswith("py"):
        return abi == "none" and version.startswith("3") and int(version) <= runtime
    if python.startswith("cp"):
        if abi == "abi3":
            return int(version) <= runtime
        return int(version) == runtime and abi in ("none", f"cp{runtime}")
    return False


def check_wheel_tags(
    distribution: Distribution, rules: PackageRules, report: PackageReport
) -> None:
    tags = distribution.wheel_tags
    if tags and not any(wheel_tag_fits(tag, rules) for tag in tags):
        report.problems.append(
            f"{distribution.name} {distribution.version} was installed from a "
            f"wheel for {', '.join(tags)}, which does not fit {rules.runtime} on "
            f"{rules.architecture} Linux"
        )


def read_settings_module(source: str) -> dict[str, Any]:
    """Read the constants of Zappa's generated zappa_settings.py."""
    settings: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                settings[target.id] = ast.literal_eval(node.value)
    return settings


def check_settings_module(
    settings: Mapping[str, Any], rules: PackageRules, report: PackageReport
) -> None:
    if settings.get("DEBUG") is not False:
        report.problems.append(
            f"the package's zappa_settings.py has DEBUG={settings.get('DEBUG')}: "
            "Zappa's handler then logs each whole event, API key headers "
            "included, and returns tracebacks to clients; set debug to false"
        )
    level = settings.get("LOG_LEVEL")
    if level not in QUIET_LOG_LEVELS:
        report.problems.append(
            f"the package's zappa_settings.py has LOG_LEVEL={level!r}: DEBUG "
            "logging writes request headers and botocore's wire traffic to the "
            "logs; set log_level to INFO"
        )
    if settings.get("API_STAGE") != rules.stage:
        report.problems.append(
            f"the package was built for stage {settings.get('API_STAGE')!r}, "
            f"not {rules.stage!r}"
        )
    environment = dict(settings.get("ENVIRONMENT_VARIABLES") or {})
    table = environment.get("BOOKS_TABLE")
    if table != rules.table:
        report.problems.append(
            f"the package sets BOOKS_TABLE={table!r}, but stage {rules.stage} "
            f"must write to {rules.table}"
        )
    for name, value in sorted(environment.items()):
        if name.startswith(ENDPOINT_VARIABLES) or any(
            host in str(value) for host in LOCAL_HOSTS
        ):
            report.problems.append(
                f"the package sets {name}={value!r}: a DynamoDB endpoint must "
                "come from the process environment, never from the package"
            )


def requirement_names(path: Path) -> list[str]:
    """Return the distributions that a requirements file names, following -r."""
    names = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            names += requirement_names(path.parent / line.split(maxsplit=1)[1])
        elif not line.startswith("-"):
            names.append(canonicalize_name(Requirement(line).name))
    return names


def dependency_closure(
    names: Iterable[str],
    installed: Mapping[str, importlib.metadata.Distribution],
    python_version: str,
) -> frozenset[str]:
    """Return ``names`` and everything they require, for one Python version.

    Requirements whose markers do not hold on ``python_version`` (such as
    ``python_version < "3.11"``) and optional extras are left out.
    """
    environment = {"python_version": python_version, "extra": ""}
    closure: set[str] = set()
    pending = [canonicalize_name(name) for name in names]
    while pending:
        name = pending.pop()
        if name in closure:
            continue
        closure.add(name)
        distribution = installed.get(name)
        for line in (distribution.requires or []) if distribution else []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            pending.append(canonicalize_name(requirement.name))
    return frozenset(closure)


def installed_distributions(
    paths: list[str] | None = None,
) -> dict[str, importlib.metadata.Distribution]:
    """Index the distributions on ``paths`` (default: this interpreter's)."""
    found = (
        importlib.metadata.distributions(path=paths)
        if paths
        else (importlib.metadata.distributions())
    )
    return {canonicalize_name(d.metadata["Name"]): d for d in found}
