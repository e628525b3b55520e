"""The rehearsal's checks of deployed API keys and methods, on the AWS stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from deploy.callbacks import ensure_keyless_methods, ensure_usage_plan
from tests.rehearsal.deployment import RestApi, StandInAws
from tests.rehearsal.leaks import key_value_leaks, repository_files
from tests.rehearsal.rehearse import ROOT
from tests.rehearsal.settings import StageSettings
from tests.test_access_callback import put_proxy_method, zappa_api
from tests.test_usage_plan_callback import (
    FakeCli,
    FakeZappa,
    deployed_api,
    zappa_api_key,
)


@pytest.fixture
def apigateway(standin: str) -> Any:
    return boto3.client("apigateway", endpoint_url=standin, region_name="us-east-1")


def stage_with_keys() -> StageSettings:
    config = {"api_key_required": True, "aws_region": "us-east-1"}
    return StageSettings(
        path=Path("zappa_settings.json"),
        stage="dev",
        config=config,
        stages={"dev": config},
    )


def test_key_outside_usage_plan_is_reported(standin: str, apigateway: Any) -> None:
    api_id = deployed_api(apigateway)
    key_id = zappa_api_key(apigateway, api_id)

    problems = StandInAws(standin, stage_with_keys()).api_key_problems(
        RestApi(api_id, [])
    )

    assert problems == [
        f"API key {key_id} of stage dev is in no usage plan for {api_id}/dev, so "
        "API Gateway would reject every call made with it with 403"
    ]


def test_key_in_callback_plan_passes(standin: str, apigateway: Any) -> None:
    api_id = deployed_api(apigateway)
    zappa_api_key(apigateway, api_id)
    cli = FakeCli(FakeZappa(apigateway, api_id))
    ensure_usage_plan(cli)
    api = RestApi(api_id, [])

    problems = StandInAws(standin, stage_with_keys()).api_key_problems(api)

    assert problems == []
    assert api.usage_plans == [f"{cli.lambda_name}-usage-plan (rate 10.0/s, burst 20)"]


def test_stage_requiring_keys_without_key_is_reported(
    standin: str, apigateway: Any
) -> None:
    api_id = deployed_api(apigateway)

    problems = StandInAws(standin, stage_with_keys()).api_key_problems(
        RestApi(api_id, [])
    )

    assert problems == ["stage dev requires API keys, but none is linked to it"]


def zappa_stage(public_reads: bool) -> StageSettings:
    config = {
        "api_key_required": True,
        "public_reads": public_reads,
        "aws_region": "us-east-1",
    }
    return StageSettings(
        path=Path("zappa_settings.json"),
        stage="dev",
        config=config,
        stages={"dev": config},
    )


def resource_id(client: Any, api_id: str, path: str) -> str:
    resources = client.get_resources(restApiId=api_id)["items"]
    found: str = next(r["id"] for r in resources if r["path"] == path)
    return found


def access_problems(standin: str, api_id: str, public_reads: bool) -> list[str]:
    return StandInAws(standin, zappa_stage(public_reads)).method_access_problems(
        RestApi(api_id, [])
    )


def test_methods_set_by_callback_pass(standin: str, apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    ensure_keyless_methods(apigateway, api_id, ("GET", "HEAD", "OPTIONS"))

    assert access_problems(standin, api_id, public_reads=True) == []


def test_write_method_without_key_is_reported(standin: str, apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    ensure_keyless_methods(apigateway, api_id, ("OPTIONS",))
    proxy = resource_id(apigateway, api_id, "/{proxy+}")
    put_proxy_method(apigateway, api_id, proxy, "DELETE", key_required=False)

    problems = access_problems(standin, api_id, public_reads=False)

    assert problems == [
        "DELETE /{proxy+} on stage dev is served without an API key (by its "
        "DELETE method), but it is a write that the stage's settings keep behind "
        "keys"
    ]


def test_public_read_on_keyed_stage_is_reported(standin: str, apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    ensure_keyless_methods(apigateway, api_id, ("GET", "HEAD", "OPTIONS"))

    problems = access_problems(standin, api_id, public_reads=False)

    assert (
        "GET / on stage dev is served without an API key (by its GET method), "
        "but it is a read that the stage's settings keep behind keys"
    ) in problems


def test_preflight_behind_key_is_reported(standin: str, apigateway: Any) -> None:
    api_id = zappa_api(apigateway)

    problems = access_problems(standin, api_id, public_reads=False)

    assert problems == [
        f"OPTIONS {path} on stage dev requires an API key (by its ANY method), "
        "but the stage's settings make OPTIONS public"
        for path in ("/", "/{proxy+}")
    ]


def test_keyless_method_to_elsewhere_is_reported(standin: str, apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    ensure_keyless_methods(apigateway, api_id, ("OPTIONS",))
    root = resource_id(apigateway, api_id, "/")
    apigateway.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="OPTIONS",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )

    problems = access_problems(standin, api_id, public_reads=False)

    assert [p.split(":")[0] for p in problems] == [
        "OPTIONS / does not proxy to the function as ANY does"
    ]


def test_key_value_in_a_file_is_named(tmp_path: Path) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text("Created a new x-api-key: abc123\n")
    leaked = tmp_path / "leaked.json"
    leaked.write_text('{"api_key": "Secr3tValueOfTheKey"}')

    problems = key_value_leaks(["Secr3tValueOfTheKey"], [clean, leaked], tmp_path)

    assert problems == ["leaked.json contains the value of an API key"]


def test_repository_files_include_settings() -> None:
    files = repository_files(ROOT)

    assert ROOT / "zappa_settings.json" in files
