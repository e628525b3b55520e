"""The audit script's verdict on pip-audit reports."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.audit import UNREACHABLE_EXIT, judge

CLEAN = {"name": "flask", "version": "3.1.3", "vulns": []}
SKIPPED = {"name": "flask", "skip_reason": "Dependency not found on PyPI"}
VULNERABLE = {
    "name": "flask",
    "version": "3.1.3",
    "vulns": [{"id": "PYSEC-0000-0", "fix_versions": ["3.1.4"]}],
}


@pytest.mark.parametrize(
    ("dependencies", "allow_unreachable", "code"),
    [
        ([CLEAN], False, 0),
        ([VULNERABLE, CLEAN], False, 1),
        ([VULNERABLE, SKIPPED], True, 1),
        ([SKIPPED], False, UNREACHABLE_EXIT),
        ([SKIPPED], True, 0),
        ([CLEAN, SKIPPED], False, UNREACHABLE_EXIT),
    ],
)
def test_audit_verdict(
    dependencies: list[dict[str, Any]], allow_unreachable: bool, code: int
) -> None:
    assert judge(dependencies, allow_unreachable) == code


def test_unreachable_service_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    judge([SKIPPED], allow_unreachable=True)

    assert "could not be reached" in capsys.readouterr().out
