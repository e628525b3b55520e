"""A stage's Zappa settings and the checks made on them before deploying.

``StageSettings.load`` resolves a stage the way Zappa does ("extends" copies
the parent's top-level keys, and the stage's own keys win). ``preflight``
lists what is wrong with the settings themselves, before anything is built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.rehearsal.package import ENDPOINT_VARIABLES, QUIET_LOG_LEVELS
from tests.rehearsal.policy import InvalidPolicy, StageAccess, parse_policy

# The rehearsal's own overrides: both settings make Zappa reach the internet.
# "touch" sends a GET to the deployed API's AWS URL, and precompiled packages
# are downloaded from PyPI.
REHEARSAL_OVERRIDES = {"touch": False, "use_precompiled_packages": False}
# The account that the stand-in reports for the dummy credentials.
ACCOUNT_ID = "123456789012"


def table_for(stage: str) -> str:
    """Return the table that a stage must use: each stage has its own."""
    return f"books-{stage}"


def resolve(settings: Mapping[str, Any], stage: str) -> dict[str, Any]:
    chain: list[str] = []
    name: str | None = stage
    while name:
        if name in chain:
            raise ValueError(f"stage {stage} extends itself through {name}")
        if name not in settings:
            raise KeyError(f"the settings have no stage {name!r}")
        chain.append(name)
        name = settings[name].get("extends")
    config: dict[str, Any] = {}
    for name in reversed(chain):
        config.update(settings[name])
    return config


@dataclass(frozen=True)
class StageSettings:
    path: Path
    stage: str
    config: dict[str, Any]
    # Every stage in the same file, resolved, by name.
    stages: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path, stage: str) -> StageSettings:
        settings = json.loads(path.read_text())
        stages = {name: resolve(settings, name) for name in settings}
        if stage not in stages:
            raise KeyError(f"{path.name} has no stage {stage!r}")
        return cls(path=path, stage=stage, config=stages[stage], stages=stages)

    @property
    def lambda_name(self) -> str:
        return f"{self.config.get('project_name', 'bookapi')}-{self.stage}"

    @property
    def region(self) -> str:
        return str(self.config.get("aws_region", "us-east-1"))

    @property
    def runtime(self) -> str:
        return str(self.config.get("runtime", ""))

    @property
    def table(self) -> str | None:
        table = self.config.get("environment_variables", {}).get("BOOKS_TABLE")
        return None if table is None else str(table)

    def other_tables(self) -> list[str]:
        tables = {
            str(config.get("environment_variables", {}).get("BOOKS_TABLE"))
            for name, config in self.stages.items()
            if name != self.stage
        }
        tables |= {table_for(name) for name in self.stages if name != self.stage}
        return sorted(tables - {table_for(self.stage), "None"})

    def access(self, account_id: str = ACCOUNT_ID) -> StageAccess:
        return StageAccess(
            region=self.region,
            account_id=account_id,
            table=table_for(self.stage),
            function_name=self.lambda_name,
            other_tables=self.other_tables(),
        )

    def policy_path(self) -> Path | None:
        """Return the attach_policy file, relative to the settings' folder."""
        policy = self.config.get("attach_policy")
        if not policy:
            return None
        return self.path.parent / str(policy)

    def rehearsal_file(self, folder: Path) -> Path:
        """Write the settings with the rehearsal's overrides for this stage.

        Every stage is kept, so "extends" still resolves. A relative
        attach_policy is made absolute, as the file lives in ``folder``.
        """
        settings = json.loads(self.path.read_text())
        for config in settings.values():
            policy = config.get("attach_policy")
            if policy:
                config["attach_policy"] = str(self.path.parent / str(policy))
        settings[self.stage].update(REHEARSAL_OVERRIDES)
        target = folder / "rehearsal_settings.json"
        target.write_text(json.dumps(settings, indent=2))
        return target


def preflight(settings: StageSettings, venv_python: str) -> list[str]:
    """List the problems of a stage's settings, each as a sentence."""
    config = settings.config
    stage = settings.stage
    problems: list[str] = []

    expected_table = table_for(stage)
    if settings.table != expected_table:
        problems.append(
            f"stage {stage} writes to table {settings.table}, but each stage must "
            f"use its own table {expected_table}"
        )
    for other, other_config in settings.stages.items():
        other_table = other_config.get("environment_variables", {}).get("BOOKS_TABLE")
        if other != stage and other_table == settings.table:
            problems.append(f"stages {stage} and {other} share table {other_table}")
        bucket = other_config.get("s3_bucket")
        if other != stage and bucket and bucket == config.get("s3_bucket"):
            problems.append(f"stages {stage} and {other} share s3_bucket {bucket}")
    if not config.get("s3_bucket"):
        problems.append(
            f"stage {stage} has no s3_bucket, so Zappa would make up a new one"
        )

    if config.get("debug", True) is not False:
        problems.append(
            f"stage {stage} has debug on (Zappa's default): the handler then logs "
            "each whole event, API key headers included, and returns tracebacks "
            "to clients; set debug to false"
        )
    if config.get("log_level", "DEBUG") not in QUIET_LOG_LEVELS:
        problems.append(
            f"stage {stage} has log_level {config.get('log_level', 'DEBUG')} "
            "(DEBUG is Zappa's default), which logs request headers; set INFO"
        )
    if not isinstance(config.get("keep_warm"), bool):
        problems.append(
            f"stage {stage} leaves keep_warm to Zappa's default; set it to true "
            "or false as a deliberate choice"
        )

    if config.get("api_key_required") is not True:
        problems.append(
            f"stage {stage} does not set api_key_required, so anyone could write "
            "to its table; writes on a deployed stage need an API key"
        )
    if config.get("function_url_enabled"):
        problems.append(
            f"stage {stage} enables a function URL, which reaches the function "
            "without API Gateway and so without an API key; remove "
            "function_url_enabled"
        )
    if not isinstance(config.get("public_reads", False), bool):
        problems.append(
            f"stage {stage} has public_reads {config.get('public_reads')!r}; set "
            "it to true or false"
        )

    runtime = settings.runtime
    if runtime != f"python{venv_python}":
        problems.append(
            f"stage {stage} deploys to runtime {runtime or '(unset)'}, but the "
            f"deploy venv runs Python {venv_python}; Zappa would ship binary "
            "modules built for the wrong Python"
        )

    for key in ("environment_variables", "aws_environment_variables"):
        for name in sorted(config.get(key, {})):
            if name.startswith(ENDPOINT_VARIABLES):
                problems.append(
                    f"stage {stage} sets {name} in {key}: a DynamoDB endpoint "
                    "must come from the process environment, never the package"
                )

    problems += policy_problems(settings)
    return problems


def policy_problems(settings: StageSettings) -> list[str]:
    stage = settings.stage
    if settings.config.get("manage_roles", True) is False:
        return [f"stage {stage} does not let Zappa manage its role's policy"]
    path = settings.policy_path()
    if path is None:
        return [
            f"stage {stage} has no attach_policy, so its role gets Zappa's default "
            "policy, which allows every DynamoDB table in the account"
        ]
    try:
        statements = parse_policy(path.read_text())
    except (OSError, ValueError, InvalidPolicy) as error:
        return [f"stage {stage}'s attach_policy {path} is not a valid policy: {error}"]
    return [
        f"the role policy of stage {stage} ({path.name}) {problem}"
        for problem in settings.access().problems(statements)
    ]
