"""The Zappa post callback that puts a stage's API keys in a usage plan.

The tests run against the rehearsal's AWS stand-in, moto behind the layer that
makes API keys list their stages as API Gateway does.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from deploy.callbacks import (
    UsagePlanError,
    ensure_usage_plan,
    stage_throttle,
    usage_plan_name,
)

function_numbers = itertools.count(1)

THROTTLE = {"rateLimit": 10.0, "burstLimit": 20}


@dataclass
class FakeZappa:
    """The part of Zappa's core object that the callback uses."""

    apigateway_client: Any
    api_id: str | None

    def get_api_id(self, lambda_name: str) -> str | None:
        return self.api_id


@dataclass
class FakeCli:
    """The attributes of Zappa's CLI object that the callback reads."""

    zappa: FakeZappa
    # Each test's function, and so its usage plan, has a name of its own.
    lambda_name: str = field(default_factory=lambda: f"fn{next(function_numbers)}")
    api_stage: str = "dev"
    api_key_required: bool = True
    api_key: str | None = None
    stage_config: Mapping[str, Any] = field(
        default_factory=lambda: {"usage_plan": {"throttle": THROTTLE}}
    )


@pytest.fixture
def apigateway(standin: str) -> Any:
    return boto3.client("apigateway", endpoint_url=standin, region_name="us-east-1")


def plans_named(client: Any, name: str) -> list[dict[str, Any]]:
    plans = client.get_usage_plans(limit=500)["items"]
    return [plan for plan in plans if plan["name"] == name]


def deployed_api(client: Any, stage: str = "dev") -> str:
    """Create a REST API with one deployed stage, as Zappa's stack does."""
    api_id: str = client.create_rest_api(name="bookapi-dev")["id"]
    root = client.get_resources(restApiId=api_id)["items"][0]["id"]
    client.put_method(
        restApiId=api_id, resourceId=root, httpMethod="ANY", authorizationType="NONE"
    )
    client.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="ANY",
        type="MOCK",
    )
    client.create_deployment(restApiId=api_id, stageName=stage)
    return api_id


def zappa_api_key(client: Any, api_id: str, stage: str = "dev") -> str:
    """Create an API key linked to the stage, as `zappa deploy` does."""
    key = client.create_api_key(
        name=f"{stage}_{api_id}",
        enabled=True,
        stageKeys=[{"restApiId": api_id, "stageName": stage}],
    )
    key_id: str = key["id"]
    return key_id


def plans_of(client: Any, key_id: str) -> list[dict[str, Any]]:
    plans: list[dict[str, Any]] = client.get_usage_plans(keyId=key_id)["items"]
    return plans


def test_callback_puts_key_in_throttled_plan(apigateway: Any) -> None:
    api_id = deployed_api(apigateway)
    key_id = zappa_api_key(apigateway, api_id)

    cli = FakeCli(FakeZappa(apigateway, api_id))

    ensure_usage_plan(cli)

    plans = plans_of(apigateway, key_id)
    assert [plan["name"] for plan in plans] == [usage_plan_name(cli.lambda_name)]
    assert plans[0]["apiStages"] == [{"apiId": api_id, "stage": "dev"}]
    assert plans[0]["throttle"] == THROTTLE


def test_callback_twice_changes_nothing(apigateway: Any) -> None:
    api_id = deployed_api(apigateway)
    key_id = zappa_api_key(apigateway, api_id)
    cli = FakeCli(FakeZappa(apigateway, api_id))
    ensure_usage_plan(cli)

    ensure_usage_plan(cli)

    assert len(plans_named(apigateway, usage_plan_name(cli.lambda_name))) == 1
    plan_id = plans_of(apigateway, key_id)[0]["id"]
    keys = apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]
    assert [key["id"] for key in keys] == [key_id]


def test_callback_adds_new_api_to_existing_plan(apigateway: Any) -> None:
    first_api = deployed_api(apigateway)
    zappa_api_key(apigateway, first_api)
    cli = FakeCli(FakeZappa(apigateway, first_api))
    ensure_usage_plan(cli)
    second_api = deployed_api(apigateway)
    second_key = zappa_api_key(apigateway, second_api)

    ensure_usage_plan(FakeCli(FakeZappa(apigateway, second_api), cli.lambda_name))

    plans = plans_of(apigateway, second_key)
    assert len(plans) == 1
    assert {"apiId": second_api, "stage": "dev"} in plans[0]["apiStages"]


def test_callback_applies_changed_throttle(apigateway: Any) -> None:
    api_id = deployed_api(apigateway)
    key_id = zappa_api_key(apigateway, api_id)
    cli = FakeCli(FakeZappa(apigateway, api_id))
    ensure_usage_plan(cli)
    faster = {"usage_plan": {"throttle": {"rateLimit": 50, "burstLimit": 100}}}

    ensure_usage_plan(
        FakeCli(FakeZappa(apigateway, api_id), cli.lambda_name, stage_config=faster)
    )

    assert plans_of(apigateway, key_id)[0]["throttle"] == {
        "rateLimit": 50.0,
        "burstLimit": 100,
    }


def test_callback_adds_configured_api_key(apigateway: Any) -> None:
    api_id = deployed_api(apigateway)
    own_key = apigateway.create_api_key(name="partner", enabled=True)["id"]

    ensure_usage_plan(FakeCli(FakeZappa(apigateway, api_id), api_key=own_key))

    assert len(plans_of(apigateway, own_key)) == 1


def test_callback_skips_stage_without_api_keys(apigateway: Any) -> None:
    api_id = deployed_api(apigateway)
    cli = FakeCli(FakeZappa(apigateway, api_id), api_key_required=False)

    ensure_usage_plan(cli)

    assert plans_named(apigateway, usage_plan_name(cli.lambda_name)) == []


def test_callback_rejects_stage_without_key(apigateway: Any) -> None:
    api_id = deployed_api(apigateway)

    with pytest.raises(UsagePlanError, match="no API key is linked"):
        ensure_usage_plan(FakeCli(FakeZappa(apigateway, api_id)))


def test_callback_rejects_missing_api(apigateway: Any) -> None:
    with pytest.raises(UsagePlanError, match="No REST API"):
        ensure_usage_plan(FakeCli(FakeZappa(apigateway, None)))


def test_throttle_defaults_without_setting() -> None:
    assert stage_throttle({}) == {"rateLimit": 10.0, "burstLimit": 20}


def test_throttle_rejects_zero_rate() -> None:
    with pytest.raises(UsagePlanError, match="positive"):
        stage_throttle({"usage_plan": {"throttle": {"rateLimit": 0}}})
