"""Reads and checks of what Zappa deployed to the stand-in: the function, its
code, its role's policy, the REST API with its keys and usage plans, and the
keep-warm rule."""

from __future__ import annotations

import base64
import hashlib
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from tests.netguard import is_loopback_host
from tests.rehearsal.package import ENDPOINT_VARIABLES
from tests.rehearsal.policy import Statement, parse_policy
from tests.rehearsal.settings import StageSettings

DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
DEFAULT_KEEP_WARM_EXPRESSION = "rate(4 minutes)"
# Zappa's two resources, each proxying every method to the function.
PROXY_PATHS = ("/", "/{proxy+}")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
READ_METHODS = ("GET", "HEAD")
CHECKED_METHODS = (*READ_METHODS, "OPTIONS", *WRITE_METHODS)


@dataclass
class FunctionCode:
    configuration: dict[str, Any]
    code: bytes
    sha256: str


@dataclass
class RestApi:
    api_id: str
    binary_media_types: list[str]
    api_key: str | None = None
    api_key_id: str | None = None
    usage_plans: list[str] = field(default_factory=list)
    # Every API key value of the stage, for the search of leaked values.
    key_values: list[str] = field(default_factory=list)
    # Which methods need a key, as the method check found them.
    access: str = ""


def integration_of(method: dict[str, Any]) -> tuple[Any, ...]:
    integration = method.get("methodIntegration") or {}
    return tuple(integration.get(k) for k in ("type", "uri", "credentials"))


def describe_access(keyless: frozenset[str], config: dict[str, Any]) -> str:
    keyed = [verb for verb in CHECKED_METHODS if verb not in keyless]
    free = [verb for verb in CHECKED_METHODS if verb in keyless]
    return (
        f"API key required for {', '.join(keyed) or 'nothing'}; keyless: "
        f"{', '.join(free) or 'nothing'} (public_reads "
        f"{'on' if config.get('public_reads') is True else 'off'})"
    )


class StandInAws:
    """boto3 clients for the stand-in, for one stage's deployment."""

    def __init__(self, endpoint: str, settings: StageSettings) -> None:
        self.settings = settings
        self.name = settings.lambda_name
        self.endpoint = endpoint

        def client(service: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=endpoint,
                region_name=settings.region,
                **DUMMY_CREDENTIALS,
            )

        self.lambdas = client("lambda")
        self.iam = client("iam")
        self.apigateway = client("apigateway")
        self.cloudformation = client("cloudformation")
        self.events = client("events")
        self.account_id: str = client("sts").get_caller_identity()["Account"]

    def function_code(self) -> FunctionCode:
        """Fetch the function's code as Lambda stores it and check its hash."""
        function = self.lambdas.get_function(FunctionName=self.name)
        configuration = function["Configuration"]
        location = function["Code"]["Location"]
        if not is_loopback_host(urlsplit(location).hostname):
            raise AssertionError(f"Code.Location {location} is not on the stand-in")
        # No proxy: the stand-in is on loopback.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(location, timeout=30) as response:
            code: bytes = response.read()
        digest = base64.b64encode(hashlib.sha256(code).digest()).decode()
        if digest != configuration["CodeSha256"]:
            raise AssertionError(
                f"the code fetched from the function has SHA-256 {digest}, but the "
                f"function's CodeSha256 is {configuration['CodeSha256']}"
            )
        if len(code) != configuration["CodeSize"]:
            raise AssertionError(
                f"the code has {len(code)} bytes, but CodeSize is "
                f"{configuration['CodeSize']}"
            )
        return FunctionCode(configuration=configuration, code=code, sha256=digest)

    def published_versions(self) -> list[int]:
        versions = self.lambdas.list_versions_by_function(FunctionName=self.name)
        return sorted(
            int(v["Version"]) for v in versions["Versions"] if v["Version"] != "$LATEST"
        )

    def configuration_problems(self, configuration: dict[str, Any]) -> list[str]:
        problems = []
        runtime = self.settings.runtime
        if configuration.get("Runtime") != runtime:
            problems.append(
                f"the function runs {configuration.get('Runtime')}, not {runtime}"
            )
        if configuration.get("Handler") != "handler.lambda_handler":
            problems.append(f"the function's handler is {configuration['Handler']}")
        variables = configuration.get("Environment", {}).get("Variables", {})
        for name in sorted(variables):
            if name.startswith(ENDPOINT_VARIABLES):
                problems.append(
                    f"the function's environment sets {name}: a DynamoDB endpoint "
                    "must not be deployed"
                )
        return problems

    def role_statements(self, role_arn: str) -> tuple[str, list[Statement]]:
        """Return the role's name and the statements of its inline policies.

        Raises AssertionError if a managed policy is attached as well, as
        this evaluation covers inline policies only.
        """
        role = role_arn.rsplit("/", 1)[1]
        attached = self.iam.list_attached_role_policies(RoleName=role)
        if attached["AttachedPolicies"]:
            names = [p["PolicyName"] for p in attached["AttachedPolicies"]]
            raise AssertionError(f"role {role} has managed policies attached: {names}")
        statements: list[Statement] = []
        for name in self.iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = self.iam.get_role_policy(RoleName=role, PolicyName=name)
            statements += parse_policy(document["PolicyDocument"])
        return role, statements

    def rest_api(self) -> RestApi:
        resource = self.cloudformation.describe_stack_resource(
            StackName=self.name, LogicalResourceId="Api"
        )
        api_id = resource["StackResourceDetail"]["PhysicalResourceId"]
        api = self.apigateway.get_rest_api(restApiId=api_id)
        self.apigateway.get_stage(restApiId=api_id, stageName=self.settings.stage)
        return RestApi(
            api_id=api_id, binary_media_types=api.get("binaryMediaTypes", [])
        )

    def stage_api_keys(self, api_id: str) -> list[dict[str, Any]]:
        stage_key = f"{api_id}/{self.settings.stage}"
        keys = self.apigateway.get_api_keys(includeValues=True, limit=500)["items"]
        return [key for key in keys if stage_key in key.get("stageKeys", [])]

    def api_key_problems(self, api: RestApi) -> list[str]:
        """Check that every key of the stage is in a throttled usage plan of it.

        API Gateway rejects with 403 every call made with a key that is in no
        usage plan for the stage. Fills in ``api.api_key`` and
        ``api.usage_plans`` on the way.
        """
        stage = self.settings.stage
        keys = self.stage_api_keys(api.api_id)
        if self.settings.config.get("api_key_required") and not keys:
            return [f"stage {stage} requires API keys, but none is linked to it"]
        problems = []
        for key in keys:
            api.api_key, api.api_key_id = key["value"], key["id"]
            api.key_values.append(key["value"])
            plans = self.apigateway.get_usage_plans(keyId=key["id"])["items"]
            serving = [
                plan
                for plan in plans
                if {"apiId": api.api_id, "stage": stage}
                in [
                    {"apiId": s.get("apiId"), "stage": s.get("stage")}
                    for s in plan.get("apiStages", [])
                ]
            ]
            if not serving:
                problems.append(
                    f"API key {key['id']} of stage {stage} is in no usage plan for "
                    f"{api.api_id}/{stage}, so API Gateway would reject every call "
                    "made with it with 403"
                )
            for plan in serving:
                throttle = plan.get("throttle", {})
                if not (
                    throttle.get("rateLimit", 0) > 0
                    and throttle.get("burstLimit", 0) > 0
                ):
                    problems.append(f"usage plan {plan['name']} has no throttle")
                api.usage_plans.append(
                    f"{plan['name']} (rate {throttle.get('rateLimit')}/s, "
                    f"burst {throttle.get('burstLimit')})"
                )
        return problems

    def expected_keyless(self) -> frozenset[str]:
        """Return the methods that need no API key by the stage's settings."""
        config = self.settings.config
        if not config.get("api_key_required"):
            return frozenset(CHECKED_METHODS)
        keyless = {"OPTIONS"}
        if config.get("public_reads") is True:
            keyless |= set(READ_METHODS)
        return frozenset(keyless)

    def proxy_methods(self, api_id: str) -> dict[str, dict[str, dict[str, Any]]]:
        """Map each of Zappa's resources to its methods as API Gateway has them."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for resource in self.apigateway.get_resources(restApiId=api_id)["items"]:
            if resource["path"] not in PROXY_PATHS:
                continue
            found[resource["path"]] = {
                name: self.apigateway.get_method(
                    restApiId=api_id, resourceId=resource["id"], httpMethod=name
                )
                for name in resource.get("resourceMethods") or {}
            }
        return found

    def method_access_problems(self, api: RestApi) -> list[str]:
        """Check which requests need an API key against the stage's settings.

        API Gateway serves a request with the method named for its verb when
        the resource has one, and with ANY otherwise. Writes must always need
        a key; GET and HEAD need one unless the stage has public_reads; OPTIONS
        never does. A keyless method must proxy to the function as ANY does.
        """
        stage = self.settings.stage
        keyless = self.expected_keyless()
        resources = self.proxy_methods(api.api_id)
        problems = [
            f"REST API {api.api_id} has no resource {path}"
            for path in PROXY_PATHS
            if path not in resources
        ]
        for path, methods in sorted(resources.items()):
            fallback = methods.get("ANY")
            if fallback is None:
                problems.append(f"{path} has no ANY method")
                continue
            for verb in CHECKED_METHODS:
                method = methods.get(verb, fallback)
                served_by = verb if verb in methods else "ANY"
                needs_key = bool(method.get("apiKeyRequired"))
                if needs_key == (verb not in keyless):
                    continue
                if needs_key:
                    problems.append(
                        f"{verb} {path} on stage {stage} requires an API key (by "
                        f"its {served_by} method), but the stage's settings make "
                        f"{verb} public"
                    )
                else:
                    kind = "a write" if verb in WRITE_METHODS else "a read"
                    problems.append(
                        f"{verb} {path} on stage {stage} is served without an API "
                        f"key (by its {served_by} method), but it is {kind} that "
                        "the stage's settings keep behind keys"
                    )
            expected = integration_of(fallback)
            for verb, method in sorted(methods.items()):
                if verb != "ANY" and integration_of(method) != expected:
                    problems.append(
                        f"{verb} {path} does not proxy to the function as ANY "
                        f"does: {integration_of(method)}"
                    )
        api.access = describe_access(keyless, self.settings.config)
        return problems

    def keep_warm_rules(self) -> list[dict[str, Any]]:
        rules = self.events.list_rules(NamePrefix=self.name)["Rules"]
        return [rule for rule in rules if "keep-warm" in rule["Name"]]

    def keep_warm_problems(self, function_arn: str) -> list[str]:
        config = self.settings.config
        rules = self.keep_warm_rules()
        if not config.get("keep_warm"):
            return [f"keep_warm is off, but rule {r['Name']} exists" for r in rules]
        expression = config.get("keep_warm_expression", DEFAULT_KEEP_WARM_EXPRESSION)
        if len(rules) != 1:
            return [f"keep_warm is on, but there are {len(rules)} keep-warm rules"]
        rule = rules[0]
        problems = []
        if rule.get("ScheduleExpression") != expression:
            problems.append(
                f"keep-warm rule runs {rule.get('ScheduleExpression')}, not "
                f"{expression}"
            )
        targets = self.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        if function_arn not in [target["Arn"] for target in targets]:
            problems.append(
                f"keep-warm rule {rule['Name']} does not target the function"
            )
        return problems

    def leftovers(self) -> list[str]:
        """List what is left of the stage after `zappa undeploy`."""
        found = []
        try:
            self.lambdas.get_function(FunctionName=self.name)
            found.append(f"function {self.name}")
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        apis = self.apigateway.get_rest_apis(limit=500)["items"]
        found += [f"REST API {a['id']}" for a in apis if a["name"] == self.name]
        stacks = self.cloudformation.list_stacks()["StackSummaries"]
        found += [
            f"stack {s['StackName']} ({s['StackStatus']})"
            for s in stacks
            if s["StackName"] == self.name and s["StackStatus"] != "DELETE_COMPLETE"
        ]
        found += [f"rule {rule['Name']}" for rule in self.keep_warm_rules()]
        keys = self.apigateway.get_api_keys(limit=500)["items"]
        found += [
            f"API key {key['id']}"
            for key in keys
            if any(k.endswith(f"/{self.settings.stage}") for k in key["stageKeys"])
        ]
        return found
