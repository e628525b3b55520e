"""The Zappa post callback that leaves reads and preflights keyless.

The tests build a REST API as Zappa's stack does (ANY on ``/`` and on
``/{proxy+}``, proxying to the function and requiring a key) on the
rehearsal's AWS stand-in, then run the callback on it.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from deploy.callbacks import (
    AccessError,
    configure_access,
    keyless_methods,
    usage_plan_name,
)
from tests.test_usage_plan_callback import FakeCli, FakeZappa, zappa_api_key

FUNCTION_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:bookapi-dev/invocations"
)
PUBLIC_READS = {"public_reads": True}
KEYS_FOR_READS = {"public_reads": False}


@pytest.fixture
def apigateway(standin: str) -> Any:
    return boto3.client("apigateway", endpoint_url=standin, region_name="us-east-1")


def put_proxy_method(
    client: Any, api_id: str, resource_id: str, name: str, key_required: bool
) -> None:
    client.put_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=name,
        authorizationType="NONE",
        apiKeyRequired=key_required,
    )
    client.put_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=name,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=FUNCTION_URI,
    )


def zappa_api(client: Any, stage: str = "dev") -> str:
    """Create the REST API of Zappa's stack with api_key_required, deployed."""
    api_id: str = client.create_rest_api(name="bookapi-dev")["id"]
    root = client.get_resources(restApiId=api_id)["items"][0]["id"]
    proxy = client.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    for resource_id in (root, proxy["id"]):
        put_proxy_method(client, api_id, resource_id, "ANY", key_required=True)
    client.create_deployment(restApiId=api_id, stageName=stage)
    zappa_api_key(client, api_id, stage)
    return api_id


def methods(client: Any, api_id: str) -> dict[str, dict[str, bool]]:
    """Map each path to its methods and whether each requires a key."""
    found: dict[str, dict[str, bool]] = {}
    for resource in client.get_resources(restApiId=api_id)["items"]:
        found[resource["path"]] = {
            name: client.get_method(
                restApiId=api_id, resourceId=resource["id"], httpMethod=name
            )["apiKeyRequired"]
            for name in resource.get("resourceMethods") or {}
        }
    return found


def deployments(client: Any, api_id: str) -> int:
    return len(client.get_deployments(restApiId=api_id)["items"])


def cli_for(client: Any, api_id: str, config: dict[str, Any]) -> FakeCli:
    return FakeCli(FakeZappa(client, api_id), stage_config=config)


def test_public_reads_get_keyless_read_methods(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)

    configure_access(cli_for(apigateway, api_id, PUBLIC_READS))

    expected = {"ANY": True, "GET": False, "HEAD": False, "OPTIONS": False}
    assert methods(apigateway, api_id) == {"/": expected, "/{proxy+}": expected}


def test_keyed_reads_leave_only_preflight_keyless(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)

    configure_access(cli_for(apigateway, api_id, KEYS_FOR_READS))

    expected = {"ANY": True, "OPTIONS": False}
    assert methods(apigateway, api_id) == {"/": expected, "/{proxy+}": expected}


def test_keyless_methods_proxy_to_the_function(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)

    configure_access(cli_for(apigateway, api_id, PUBLIC_READS))

    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    get = apigateway.get_method(restApiId=api_id, resourceId=root, httpMethod="GET")
    integration = get["methodIntegration"]
    assert (integration["type"], integration["uri"]) == ("AWS_PROXY", FUNCTION_URI)


def test_change_of_methods_deploys_the_stage(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)

    configure_access(cli_for(apigateway, api_id, PUBLIC_READS))

    assert deployments(apigateway, api_id) == 2


def test_callback_twice_changes_nothing(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    cli = cli_for(apigateway, api_id, PUBLIC_READS)
    configure_access(cli)
    before = methods(apigateway, api_id)

    configure_access(cli)

    assert (methods(apigateway, api_id), deployments(apigateway, api_id)) == (
        before,
        2,
    )


def test_reads_made_private_again_lose_keyless_methods(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    configure_access(cli_for(apigateway, api_id, PUBLIC_READS))

    configure_access(cli_for(apigateway, api_id, KEYS_FOR_READS))

    expected = {"ANY": True, "OPTIONS": False}
    assert methods(apigateway, api_id) == {"/": expected, "/{proxy+}": expected}


def test_write_method_without_key_is_removed(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    put_proxy_method(apigateway, api_id, root, "POST", key_required=False)

    configure_access(cli_for(apigateway, api_id, PUBLIC_READS))

    assert "POST" not in methods(apigateway, api_id)["/"]


def test_callback_puts_stage_key_in_usage_plan(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    cli = cli_for(apigateway, api_id, PUBLIC_READS)

    configure_access(cli)

    plans = apigateway.get_usage_plans(limit=500)["items"]
    assert usage_plan_name(cli.lambda_name) in [plan["name"] for plan in plans]


def test_stage_without_keys_is_left_alone(apigateway: Any) -> None:
    api_id = zappa_api(apigateway)
    cli = cli_for(apigateway, api_id, PUBLIC_READS)
    cli.api_key_required = False

    configure_access(cli)

    assert deployments(apigateway, api_id) == 1


def test_any_without_key_is_rejected(apigateway: Any) -> None:
    api_id = apigateway.create_rest_api(name="bookapi-dev")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    proxy = apigateway.create_resource(
        restApiId=api_id, parentId=root, pathPart="{proxy+}"
    )
    for resource_id in (root, proxy["id"]):
        put_proxy_method(apigateway, api_id, resource_id, "ANY", key_required=False)

    with pytest.raises(AccessError, match="does not require an API key"):
        configure_access(cli_for(apigateway, api_id, PUBLIC_READS))


def test_public_reads_must_be_boolean() -> None:
    with pytest.raises(AccessError, match="public_reads must be true or false"):
        keyless_methods({"public_reads": "yes"})


def test_reads_need_keys_by_default() -> None:
    assert keyless_methods({}) == ("OPTIONS",)
