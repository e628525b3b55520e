"""Zappa callbacks for bookapi's stages.

Zappa runs ``ensure_usage_plan`` after every ``zappa deploy`` and
``zappa update`` (the ``post`` callback in zappa_settings.json), in its own
process, so this module uses only the standard library and boto3.
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
