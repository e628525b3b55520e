"""Copies of zappa_settings.json with one thing changed, for tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "zappa_settings.json"

Settings = dict[str, Any]


def settings_variant(folder: Path, change: Callable[[Settings], None]) -> Path:
    """Write zappa_settings.json, changed by ``change``, into ``folder``.

    Relative attach_policy paths are made absolute first, so they still name
    the project's policy files.
    """
    settings: Settings = json.loads(SETTINGS.read_text())
    for config in settings.values():
        if "attach_policy" in config:
            config["attach_policy"] = str(ROOT / config["attach_policy"])
    change(settings)
    path = folder / "zappa_settings.json"
    path.write_text(json.dumps(settings, indent=2))
    return path


def policy_variant(folder: Path, stage: str, change: Callable[[Settings], None]) -> str:
    """Write the stage's attach_policy, changed by ``change``; return its path."""
    policy: Settings = json.loads(
        (ROOT / "deploy" / "policies" / f"{stage}.json").read_text()
    )
    change(policy)
    path = folder / f"policy-{stage}.json"
    path.write_text(json.dumps(policy, indent=2))
    return str(path)
