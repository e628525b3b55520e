"""The deploy rehearsal end to end, and the broken settings it must reject.

`make test` runs the rehearsal of the dev stage on its own (`make rehearse`).
These tests rehearse a stage that requires API keys. They also check that
breaking a checked property makes the rehearsal fail with a message naming it.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.rehearsal.events import RestApiGateway
from tests.rehearsal.processes import LambdaProcess, lambda_environment, link_aws_sdk
from tests.rehearsal.rehearse import (
    ROOT,
    Rehearsal,
    RehearsalFailed,
    ZappaRun,
    run_zappa,
    secrets_in_log,
)
from tests.rehearsal.settings import StageSettings
from tests.servers import free_port
from tests.settings_variants import Settings, policy_variant, settings_variant

Rehearse = Callable[[str, Path], str]


@pytest.fixture
def rehearse(request: pytest.FixtureRequest) -> Rehearse:
    """Run a rehearsal, with its logs in test-artifacts/<test name>/."""
    artifacts = ROOT / "test-artifacts" / request.node.name

    def run(stage: str, settings: Path) -> str:
        stream = io.StringIO()
        Rehearsal(stage, settings, stream=stream, artifacts=artifacts).run()
        return stream.getvalue()

    return run


def deploy_venv() -> Path:
    """Return the dev stage's deploy venv, building it if it is missing."""
    output = subprocess.run(
        [str(ROOT / "scripts" / "deploy-venv"), "dev"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return ROOT / output.strip()


def test_prod_rehearsal_keeps_reads_behind_keys(
    tmp_path: Path, rehearse: Rehearse
) -> None:
    output = rehearse("prod", settings_variant(tmp_path, lambda settings: None))

    assert "usage plans: bookapi-prod-usage-plan (rate 50.0/s, burst 100)" in output
    assert (
        "API key required for GET, HEAD, POST, PUT, PATCH, DELETE; keyless: OPTIONS"
        in output
    )
    assert "rehearsal of stage prod passed" in output


def test_public_reads_without_access_callback_fail(
    tmp_path: Path, rehearse: Rehearse
) -> None:
    def usage_plan_only(settings: Settings) -> None:
        settings["dev"]["callbacks"]["post"] = "deploy.callbacks.ensure_usage_plan"

    with pytest.raises(
        RehearsalFailed,
        match=r"GET / on stage dev requires an API key \(by its ANY method\), but "
        "the stage's settings make GET public",
    ) as failure:
        rehearse("dev", settings_variant(tmp_path, usage_plan_only))

    assert failure.value.step == "deploy: API Gateway"


def test_swapped_tables_fail(tmp_path: Path, rehearse: Rehearse) -> None:
    def swap_tables(settings: Settings) -> None:
        settings["dev"]["environment_variables"] = {"BOOKS_TABLE": "books-prod"}
        settings["prod"]["environment_variables"] = {"BOOKS_TABLE": "books-dev"}

    with pytest.raises(
        RehearsalFailed, match="stage dev writes to table books-prod, but each stage"
    ):
        rehearse("dev", settings_variant(tmp_path, swap_tables))


def test_debug_on_fails(tmp_path: Path, rehearse: Rehearse) -> None:
    def debug_on(settings: Settings) -> None:
        settings["dev"]["debug"] = True

    with pytest.raises(RehearsalFailed, match="stage dev has debug on"):
        rehearse("dev", settings_variant(tmp_path, debug_on))


def test_sdk_left_in_zip_fails(tmp_path: Path, rehearse: Rehearse) -> None:
    def keep_boto3(settings: Settings) -> None:
        exclude = settings["dev"]["exclude"]
        settings["dev"]["exclude"] = [e for e in exclude if not e.startswith("boto3")]

    with pytest.raises(
        RehearsalFailed, match="the AWS SDK package boto3 is in the package"
    ) as failure:
        rehearse("dev", settings_variant(tmp_path, keep_boto3))

    assert failure.value.step == "package check"


def test_policy_widened_to_star_fails(tmp_path: Path, rehearse: Rehearse) -> None:
    def widen(policy: Settings) -> None:
        policy["Statement"][0]["Resource"] = "*"

    widened = policy_variant(tmp_path, "dev", widen)

    def use_widened_policy(settings: Settings) -> None:
        settings["dev"]["attach_policy"] = widened

    with pytest.raises(
        RehearsalFailed,
        match="allows dynamodb:GetItem on arn:aws:dynamodb:us-east-1:123456789012:"
        "table/books-prod, but books-prod is another table",
    ):
        rehearse("dev", settings_variant(tmp_path, use_widened_policy))


def test_log_check_finds_key_in_debug_logs(tmp_path: Path) -> None:
    """Zappa's handler logs whole events at DEBUG; the log check names it."""

    def debug_logging(settings: Settings) -> None:
        settings["dev"]["debug"] = True
        settings["dev"]["log_level"] = "DEBUG"

    variant = StageSettings.load(settings_variant(tmp_path, debug_logging), "dev")
    venv = deploy_venv()
    package = tmp_path / "bookapi-dev.zip"
    run_zappa(
        ZappaRun(
            venv=venv,
            project=ROOT,
            settings_file=variant.rehearsal_file(tmp_path),
            stage="dev",
            region="us-east-1",
            log_dir=tmp_path,
        ),
        "package",
        "-o",
        str(package),
    )
    task_dir = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(task_dir)
    site_packages = venv / "lib" / variant.runtime / "site-packages"
    sdk_dir = link_aws_sdk(site_packages, tmp_path / "sdk")
    configuration = {
        "FunctionName": "bookapi-dev",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:bookapi-dev",
        "Handler": "handler.lambda_handler",
        "Runtime": "python3.11",
    }
    environment = lambda_environment(
        configuration,
        task_dir,
        sdk_dir,
        f"http://127.0.0.1:{free_port()}",
        tmp_path / "netguard.txt",
    )
    gateway = RestApiGateway(
        api_id="abc123defg",
        region="us-east-1",
        stage="dev",
        account_id="123456789012",
        binary_bodies=True,
        api_key="key-value-that-must-not-be-logged",
        api_key_id="k1",
        authorization="Bearer token-that-must-not-be-logged",
    )
    process = LambdaProcess(
        venv / "bin" / "python", task_dir, sdk_dir, environment, tmp_path / "log.txt"
    ).start()
    try:
        process.invoke(gateway.event("GET", "/book/1"))
    finally:
        log = process.stop()

    problems = secrets_in_log(
        log,
        {
            "x-api-key": "key-value-that-must-not-be-logged",
            "Authorization": "token-that-must-not-be-logged",
        },
    )

    assert any("contains the x-api-key value" in p for p in problems)
    assert any("contains the Authorization value" in p for p in problems)


def test_settings_variant_keeps_policies_reachable(tmp_path: Path) -> None:
    path = settings_variant(tmp_path, lambda settings: None)

    settings = json.loads(path.read_text())

    assert Path(settings["dev"]["attach_policy"]).is_file()
    assert Path(settings["prod"]["attach_policy"]).is_file()
