"""zappa_settings.json and the rehearsal's checks of it before deploying."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.rehearsal.settings import StageSettings, preflight
from tests.settings_variants import ROOT, SETTINGS, Settings, settings_variant

STAGES = sorted(json.loads(SETTINGS.read_text()))


def preflight_of(path: Path, stage: str = "dev", python: str = "3.11") -> list[str]:
    return preflight(StageSettings.load(path, stage), python)


@pytest.mark.parametrize("stage", STAGES)
def test_stage_passes_preflight(stage: str) -> None:
    assert preflight_of(SETTINGS, stage) == []


def test_every_stage_has_own_table() -> None:
    tables = [StageSettings.load(SETTINGS, stage).table for stage in STAGES]

    assert tables == [f"books-{stage}" for stage in STAGES]


def test_runtime_unlike_deploy_venv_fails() -> None:
    problems = preflight_of(SETTINGS, python="3.12")

    assert any("but the deploy venv runs Python 3.12" in p for p in problems)


def test_default_debug_fails(tmp_path: Path) -> None:
    def drop_debug(settings: Settings) -> None:
        del settings["dev"]["debug"]

    problems = preflight_of(settings_variant(tmp_path, drop_debug))

    assert any("has debug on (Zappa's default)" in p for p in problems)


def test_default_log_level_fails(tmp_path: Path) -> None:
    def drop_log_level(settings: Settings) -> None:
        del settings["dev"]["log_level"]

    problems = preflight_of(settings_variant(tmp_path, drop_log_level))

    assert any("has log_level DEBUG" in p for p in problems)


def test_default_keep_warm_fails(tmp_path: Path) -> None:
    def drop_keep_warm(settings: Settings) -> None:
        del settings["dev"]["keep_warm"]

    problems = preflight_of(settings_variant(tmp_path, drop_keep_warm))

    assert any("leaves keep_warm to Zappa's default" in p for p in problems)


def test_shared_bucket_fails(tmp_path: Path) -> None:
    def share_bucket(settings: Settings) -> None:
        settings["prod"]["s3_bucket"] = settings["dev"]["s3_bucket"]

    problems = preflight_of(settings_variant(tmp_path, share_bucket))

    assert any("share s3_bucket" in p for p in problems)


def test_endpoint_variable_fails(tmp_path: Path) -> None:
    def add_endpoint(settings: Settings) -> None:
        settings["dev"]["aws_environment_variables"] = {
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"
        }

    problems = preflight_of(settings_variant(tmp_path, add_endpoint))

    assert any("sets AWS_ENDPOINT_URL_DYNAMODB" in p for p in problems)


def test_missing_attach_policy_fails(tmp_path: Path) -> None:
    def drop_policy(settings: Settings) -> None:
        del settings["dev"]["attach_policy"]

    problems = preflight_of(settings_variant(tmp_path, drop_policy))

    assert any("has no attach_policy" in p for p in problems)


def test_rehearsal_file_turns_off_network_settings(tmp_path: Path) -> None:
    path = StageSettings.load(SETTINGS, "prod").rehearsal_file(tmp_path)
    written = json.loads(path.read_text())

    assert written["prod"]["touch"] is False
    assert written["prod"]["use_precompiled_packages"] is False
    assert written["prod"]["attach_policy"] == str(ROOT / "deploy/policies/prod.json")
    assert "touch" not in written["dev"]


def test_stage_setting_script_follows_extends() -> None:
    def setting(stage: str, key: str) -> str:
        command = [str(ROOT / "scripts" / "stage-setting"), stage, key]
        return subprocess.run(
            command, check=True, capture_output=True, text=True
        ).stdout.strip()

    assert setting("prod", "runtime") == "python3.11"
    assert setting("prod", "environment_variables.BOOKS_TABLE") == "books-prod"
    assert setting("prod", "keep_warm") == "true"


def test_stage_without_api_keys_fails(tmp_path: Path) -> None:
    def open_writes(settings: Settings) -> None:
        settings["dev"]["api_key_required"] = False

    problems = preflight_of(settings_variant(tmp_path, open_writes))

    assert any("does not set api_key_required, so anyone could" in p for p in problems)


def test_function_url_fails(tmp_path: Path) -> None:
    def add_function_url(settings: Settings) -> None:
        settings["dev"]["function_url_enabled"] = True

    problems = preflight_of(settings_variant(tmp_path, add_function_url))

    assert any("enables a function URL" in p for p in problems)


def test_public_reads_not_boolean_fails(tmp_path: Path) -> None:
    def vague_reads(settings: Settings) -> None:
        settings["dev"]["public_reads"] = "yes"

    problems = preflight_of(settings_variant(tmp_path, vague_reads))

    assert any("has public_reads 'yes'" in p for p in problems)


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_requires_api_keys(stage: str) -> None:
    assert StageSettings.load(SETTINGS, stage).config["api_key_required"] is True


def test_dev_reads_are_public() -> None:
    assert StageSettings.load(SETTINGS, "dev").config["public_reads"] is True


def test_prod_reads_need_keys() -> None:
    assert StageSettings.load(SETTINGS, "prod").config["public_reads"] is False
