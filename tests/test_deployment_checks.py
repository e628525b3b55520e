"""The rehearsal's checks of deployed API keys, on the AWS stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from deploy.callbacks import ensure_usage_plan
from tests.rehearsal.deployment import RestApi, StandInAws
from tests.rehearsal.settings import StageSettings
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
