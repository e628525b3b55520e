"""Zappa callbacks for bookapi's stages.

Zappa runs ``configure_access`` after every ``zappa deploy`` and
``zappa update`` (the ``post`` callback in zappa_settings.json), in its own
process, so this module uses only the standard library and boto3.

With ``api_key_required``, Zappa makes its two ``ANY`` methods (on ``/`` and
on ``/{proxy+}``) require an API key, so every request needs one. The
callback then adds keyless methods beside them: ``OPTIONS`` always, since
browsers send CORS preflights without custom headers, and ``GET`` and
``HEAD`` when the stage's ``public_reads`` setting is true. API Gateway
prefers a method named for the request's verb over ``ANY``, so writes still
need a key. Finally it puts the stage's keys in a throttled usage plan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Used when a stage that requires API keys has no "usage_plan" setting.
DEFAULT_THROTTLE = {"rateLimit": 10.0, "burstLimit": 20}


class ZappaCore(Protocol):
    """The part of Zappa's ``Zappa`` object that the callbacks use."""

    @property
    def apigateway_client(self) -> Any: ...

    def get_api_id(self, lambda_name: str) -> str | None: ...


class ZappaCli(Protocol):
    """The attributes of Zappa's ``ZappaCLI`` that the callbacks read."""

    @property
    def zappa(self) -> ZappaCore: ...
    @property
    def lambda_name(self) -> str: ...
    @property
    def api_stage(self) -> str: ...
    @property
    def api_key_required(self) -> bool: ...
    @property
    def api_key(self) -> str | None: ...
    @property
    def stage_config(self) -> Mapping[str, Any]: ...


class UsagePlanError(RuntimeError):
    """The stage requires API keys, but they cannot be put in a usage plan."""


class AccessError(RuntimeError):
    """The stage's methods cannot be set up as its settings ask."""


# The resources of Zappa's REST API: both proxy every method to the function.
PROXY_PATHS = ("/", "/{proxy+}")
READ_METHODS = ("GET", "HEAD")
# Browsers send CORS preflights without the x-api-key header, so OPTIONS is
# keyless whenever a stage requires keys. The app builds its response from the
# CORS settings alone, without reading the table.
PREFLIGHT_METHOD = "OPTIONS"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# The integration fields that a keyless method copies from ANY.
INTEGRATION_FIELDS = ("type", "httpMethod", "uri", "credentials")


def public_reads(stage_config: Mapping[str, Any]) -> bool:
    """Read the stage's ``public_reads`` setting (default false)."""
    value = stage_config.get("public_reads", False)
    if not isinstance(value, bool):
        raise AccessError(f"public_reads must be true or false, not {value!r}")
    return value


def keyless_methods(stage_config: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the methods that a stage requiring keys serves without one."""
    if public_reads(stage_config):
        return (*READ_METHODS, PREFLIGHT_METHOD)
    return (PREFLIGHT_METHOD,)


def configure_access(cli: ZappaCli) -> None:
    """Set up the stage's keyless methods, then its usage plan.

    Does nothing for a stage without ``api_key_required``. The stage is
    deployed again only when a method changed, so running the callback a
    second time changes nothing.
    """
    if not cli.api_key_required:
        return
    client = cli.zappa.apigateway_client
    api_id = cli.zappa.get_api_id(cli.lambda_name)
    if not api_id:
        raise AccessError(f"No REST API is deployed for {cli.lambda_name}.")
    if ensure_keyless_methods(client, api_id, keyless_methods(cli.stage_config)):
        client.create_deployment(
            restApiId=api_id,
            stageName=cli.api_stage,
            description="Keyless methods set by deploy.callbacks.",
        )
        logger.info("Deployed %s/%s with its keyless methods", api_id, cli.api_stage)
    ensure_usage_plan(cli)


def proxy_resources(client: Any, api_id: str) -> dict[str, dict[str, Any]]:
    """Return Zappa's two resources of the API by path; raise if one is missing."""
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_resources").paginate(restApiId=api_id):
        for resource in page.get("items", []):
            if resource.get("path") in PROXY_PATHS:
                found[resource["path"]] = resource
    missing = [path for path in PROXY_PATHS if path not in found]
    if missing:
        raise AccessError(f"REST API {api_id} has no resource {', '.join(missing)}")
    return found


def integration_of(method: Mapping[str, Any]) -> dict[str, Any]:
    integration = method.get("methodIntegration") or {}
    return {name: integration.get(name) for name in INTEGRATION_FIELDS}


def ensure_keyless_methods(client: Any, api_id: str, keyless: tuple[str, ...]) -> bool:
    """Make ``keyless`` the only methods beside ANY on both resources.

    Each keyless method has no authorisation, no key, and the integration of
    the resource's ANY method. Other explicit methods are deleted, so that
    ANY, which requires a key, serves them. Returns whether anything changed.
    """
    changed = False
    for path, resource in sorted(proxy_resources(client, api_id).items()):
        resource_id = resource["id"]
        names = set(resource.get("resourceMethods") or {})
        if "ANY" not in names:
            raise AccessError(f"{path} of REST API {api_id} has no ANY method")
        any_method = client.get_method(
            restApiId=api_id, resourceId=resource_id, httpMethod="ANY"
        )
        if not any_method.get("apiKeyRequired"):
            raise AccessError(
                f"ANY on {path} of REST API {api_id} does not require an API key"
            )
        expected = integration_of(any_method)
        for name in sorted(names - {"ANY"}):
            current = client.get_method(
                restApiId=api_id, resourceId=resource_id, httpMethod=name
            )
            if (
                name in keyless
                and not current.get("apiKeyRequired")
                and current.get("authorizationType") == "NONE"
                and integration_of(current) == expected
            ):
                continue
            client.delete_method(
                restApiId=api_id, resourceId=resource_id, httpMethod=name
            )
            logger.info("Deleted %s on %s of %s", name, path, api_id)
            names.discard(name)
            changed = True
        for name in keyless:
            if name in names:
                continue
            put_keyless_method(client, api_id, resource_id, name, expected)
            logger.info("Added keyless %s on %s of %s", name, path, api_id)
            changed = True
    return changed


def put_keyless_method(
    client: Any,
    api_id: str,
    resource_id: str,
    name: str,
    integration: Mapping[str, Any],
) -> None:
    client.put_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=name,
        authorizationType="NONE",
        apiKeyRequired=False,
    )
    arguments: dict[str, Any] = {
        "restApiId": api_id,
        "resourceId": resource_id,
        "httpMethod": name,
        "type": integration["type"],
        "integrationHttpMethod": integration["httpMethod"],
        "uri": integration["uri"],
        "passthroughBehavior": "NEVER",
    }
    if integration.get("credentials"):
        arguments["credentials"] = integration["credentials"]
    client.put_integration(**arguments)


def usage_plan_name(lambda_name: str) -> str:
    return f"{lambda_name}-usage-plan"


def stage_throttle(stage_config: Mapping[str, Any]) -> dict[str, float | int]:
    """Read the stage's ``usage_plan.throttle`` setting, with defaults."""
    throttle = dict(stage_config.get("usage_plan", {}).get("throttle", {}))
    rate_limit = float(throttle.get("rateLimit", DEFAULT_THROTTLE["rateLimit"]))
    burst_limit = int(throttle.get("burstLimit", DEFAULT_THROTTLE["burstLimit"]))
    if rate_limit <= 0 or burst_limit <= 0:
        raise UsagePlanError(
            f"usage_plan.throttle must have a positive rateLimit and burstLimit, "
            f"not {throttle}"
        )
    return {"rateLimit": rate_limit, "burstLimit": burst_limit}


def ensure_usage_plan(cli: ZappaCli) -> None:
    """Put the stage's API keys in a throttled usage plan for the stage.

    With ``api_key_required``, Zappa creates an API key (or links the one in
    ``api_key``) but no usage plan, and API Gateway rejects with 403 every call
    made with a key that is in no usage plan. This callback creates the plan
    ``<lambda_name>-usage-plan`` once, adds the stage's REST API stage to it,
    keeps its throttle equal to the stage's ``usage_plan.throttle`` setting and
    adds every key of the stage. It does nothing for stages without keys, and
    running it again changes nothing.
    """
    if not cli.api_key_required:
        return
    client = cli.zappa.apigateway_client
    api_id = cli.zappa.get_api_id(cli.lambda_name)
    if not api_id:
        raise UsagePlanError(f"No REST API is deployed for {cli.lambda_name}.")
    stage = cli.api_stage
    throttle = stage_throttle(cli.stage_config)

    key_ids = sorted(stage_api_key_ids(client, api_id, stage))
    if cli.api_key and cli.api_key not in key_ids:
        key_ids.append(cli.api_key)
    if not key_ids:
        raise UsagePlanError(
            f"Stage {stage} requires API keys, but no API key is linked to "
            f"{api_id}/{stage}."
        )

    plan = find_usage_plan(client, usage_plan_name(cli.lambda_name))
    if plan is None:
        plan = client.create_usage_plan(
            name=usage_plan_name(cli.lambda_name),
            description=f"Throttled access to {cli.lambda_name} with an API key.",
            apiStages=[{"apiId": api_id, "stage": stage}],
            throttle=throttle,
        )
        logger.info("Created usage plan %s for %s/%s", plan["id"], api_id, stage)
    else:
        update_usage_plan(client, plan, api_id, stage, throttle)

    planned = set(usage_plan_key_ids(client, plan["id"]))
    for key_id in key_ids:
        if key_id in planned:
            continue
        client.create_usage_plan_key(
            usagePlanId=plan["id"], keyId=key_id, keyType="API_KEY"
        )
        logger.info("Added API key %s to usage plan %s", key_id, plan["id"])


def update_usage_plan(
    client: Any,
    plan: Mapping[str, Any],
    api_id: str,
    stage: str,
    throttle: Mapping[str, float | int],
) -> None:
    """Add the API stage to an existing plan and set its throttle."""
    operations: list[dict[str, str]] = []
    stages = {(s.get("apiId"), s.get("stage")) for s in plan.get("apiStages", [])}
    if (api_id, stage) not in stages:
        # NOTE: stages of REST APIs that `zappa undeploy` deleted stay listed
        # in the plan; this callback never removes them.
        operations.append(
            {"op": "add", "path": "/apiStages", "value": f"{api_id}:{stage}"}
        )
    current = plan.get("throttle", {})
    for name, value in throttle.items():
        if current.get(name) != value:
            # 50.0 is sent as "50": patch values are strings.
            operations.append(
                {"op": "replace", "path": f"/throttle/{name}", "value": f"{value:g}"}
            )
    if operations:
        client.update_usage_plan(usagePlanId=plan["id"], patchOperations=operations)
        logger.info("Updated usage plan %s for %s/%s", plan["id"], api_id, stage)


def find_usage_plan(client: Any, name: str) -> dict[str, Any] | None:
    for page in client.get_paginator("get_usage_plans").paginate():
        for plan in page.get("items", []):
            if plan.get("name") == name:
                found: dict[str, Any] = plan
                return found
    return None


def stage_api_key_ids(client: Any, api_id: str, stage: str) -> Iterator[str]:
    """Yield the ids of the API keys that Zappa linked to ``api_id/stage``."""
    stage_key = f"{api_id}/{stage}"
    for page in client.get_paginator("get_api_keys").paginate():
        for key in page.get("items", []):
            if stage_key in key.get("stageKeys", []):
                yield key["id"]


def usage_plan_key_ids(client: Any, plan_id: str) -> Iterator[str]:
    paginator = client.get_paginator("get_usage_plan_keys")
    for page in paginator.paginate(usagePlanId=plan_id):
        for key in page.get("items", []):
            yield key["id"]
