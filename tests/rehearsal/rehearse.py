"""The deploy rehearsal: the real Zappa commands of one stage on local stand-ins.

``Rehearsal.run`` checks the stage's settings, builds and checks the package,
starts the AWS stand-in and dynalite on 127.0.0.1, creates the stage's table,
and runs ``zappa deploy``, ``status``, ``update`` (after a visible change),
``rollback`` and ``undeploy``. After deploy, update and rollback it fetches
the code the function holds, checks it, and serves the API from it in a
Lambda-like process. It writes a deploy log with timings to ``stream``, keeps
each command's output under test-artifacts/, and raises ``RehearsalFailed``
naming the first step that failed and its problems. Every process it starts
is stopped before it returns.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3

from tests.rehearsal import package as pkg
from tests.rehearsal.deployment import (
    DUMMY_CREDENTIALS,
    FunctionCode,
    RestApi,
    StandInAws,
)
from tests.rehearsal.events import RestApiGateway, keep_warm_event
from tests.rehearsal.leaks import files_under, key_value_leaks, repository_files
from tests.rehearsal.policy import Statement, evaluate
from tests.rehearsal.processes import (
    LambdaProcess,
    ProcessFailed,
    StandInProcess,
    lambda_environment,
    link_aws_sdk,
)
from tests.rehearsal.recorder import DynamoDBRecorder
from tests.rehearsal.scenario import MARK_HEADER, ApiScenario
from tests.rehearsal.settings import StageSettings, preflight, table_for
from tests.servers import Dynalite, free_port

ROOT = Path(__file__).resolve().parents[2]
GUARDED_PATH = Path(__file__).resolve().parent / "guarded"
# Zappa requests its latest version from PyPI at the start of every command.
# The network guard blocks that lookup, and Zappa goes on without it.
ALLOWED_BLOCKS = ("'pypi.org'",)
# The visible change that the rehearsal deploys with `zappa update`: a header
# on every response, which `zappa rollback` must take away again.
VISIBLE_CHANGE = f'''

@app.after_request
def mark_rehearsal_build(response):  # added by the deploy rehearsal
    response.headers["{MARK_HEADER}"] = "update"
    return response
'''
MAX_LISTED = 12
PRINT_VERSION = "import sys; print('%d.%d' % sys.version_info[:2])"


class RehearsalFailed(Exception):
    """A step of the rehearsal failed; the message names it and each problem."""

    def __init__(self, step: str, problems: list[str]) -> None:
        self.step = step
        self.problems = problems
        listed = problems[:MAX_LISTED]
        more = len(problems) - len(listed)
        lines = [f"  - {problem}" for problem in listed]
        if more:
            lines.append(f"  - and {more} more")
        super().__init__(f"{step} failed:\n" + "\n".join(lines))


@dataclass
class Step:
    title: str
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)


class DeployLog:
    """Deploy-log lines with the time since the start and each step's time."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.perf_counter()

    def write(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        self.stream.write(f"[{elapsed:6.1f}s] {text}\n")
        self.stream.flush()

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Step]:
        step = Step(title)
        started = time.perf_counter()
        try:
            yield step
        except BaseException:
            self.write(f"{title}: FAILED after {time.perf_counter() - started:.1f}s")
            raise
        self.write(f"{title} ({time.perf_counter() - started:.1f}s)")
        for note in step.notes:
            self.stream.write(f"{'':10}{note}\n")
        self.stream.flush()


def on_off(value: object) -> str:
    return "on" if value else "off"


def check(step: str, problems: list[str]) -> None:
    if problems:
        raise RehearsalFailed(step, problems)


@dataclass
class Deployed:
    """What one phase found deployed: the code's hash and its latest version."""

    sha256: str
    version: int


class Rehearsal:
    def __init__(
        self,
        stage: str,
        settings_path: Path = ROOT / "zappa_settings.json",
        stream: TextIO = sys.stdout,
        artifacts: Path | None = None,
    ) -> None:
        self.stage = stage
        self.settings_path = settings_path
        self.log = DeployLog(stream)
        self.artifacts = artifacts or ROOT / "test-artifacts" / f"rehearsal-{stage}"
        self.aws_endpoint = ZappaRun.aws_endpoint

    def run(self) -> None:
        """Run every step; raise RehearsalFailed at the first failing one."""
        shutil.rmtree(self.artifacts, ignore_errors=True)
        self.artifacts.mkdir(parents=True)
        self.log.write(
            f"rehearsal of stage {self.stage} with {self.settings_path.name}; "
            f"logs in {self.artifacts.relative_to(ROOT)}"
        )
        with contextlib.ExitStack() as cleanup:
            self.work = Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
            self.prepare()
            self.build_package()
            self.start_servers(cleanup)
            self.create_table()
            deployed = self.deploy()
            self.status()
            updated = self.update(deployed)
            self.rollback(deployed, updated)
            self.undeploy()
        self.log.write(f"rehearsal of stage {self.stage} passed; nothing left running")

    # Steps before anything is deployed.

    def prepare(self) -> None:
        with self.log.step(f"deploy venv: scripts/deploy-venv {self.stage}") as step:
            # Building the venv may install from the package registry, so it
            # runs in this process's environment, without the network guard.
            script = [str(ROOT / "scripts" / "deploy-venv"), self.stage]
            built = self.run_script(script, env=None)
            self.venv = ROOT / built.stdout.strip()
            self.venv_python = self.run_script(
                [str(self.venv / "bin" / "python"), "-c", PRINT_VERSION], env=None
            ).stdout.strip()
            state = "built" if "Building" in built.stderr else "up to date"
            step.note(f"{self.venv.name} (Python {self.venv_python}): {state}")

        with self.log.step(f"preflight: settings of stage {self.stage}") as step:
            self.settings = StageSettings.load(self.settings_path, self.stage)
            check("preflight", preflight(self.settings, self.venv_python))
            config = self.settings.config
            step.note(
                f"table {self.settings.table}, region {self.settings.region}, "
                f"runtime {self.settings.runtime}, bucket {config['s3_bucket']}"
            )
            step.note(
                f"debug off, log_level {config['log_level']}, keep_warm "
                f"{on_off(config['keep_warm'])}, api_key_required "
                f"{on_off(config.get('api_key_required'))}"
            )
            policy = self.settings.policy_path()
            if policy is not None and policy.is_relative_to(ROOT):
                policy = policy.relative_to(ROOT)
            step.note(
                f"role policy {policy}: needs met, "
                f"{len(self.settings.access().forbidden())} forbidden probes denied"
            )
            self.zappa_settings = self.settings.rehearsal_file(self.work)
            self.project = self.stage_project()
            self.rules = self.package_rules()
            self.sdk_dir = link_aws_sdk(self.site_packages(), self.work / "sdk")

    def stage_project(self) -> Path:
        """Lay out the project for Zappa: links to every top-level entry, and
        a copy of wsgi.py that the visible change can edit."""
        project = self.work / "project"
        project.mkdir()
        for entry in ROOT.iterdir():
            if entry.name == "wsgi.py":
                shutil.copy2(entry, project / entry.name)
            else:
                (project / entry.name).symlink_to(entry)
        return project

    def site_packages(self) -> Path:
        return self.venv / "lib" / f"python{self.venv_python}" / "site-packages"

    def package_rules(self) -> pkg.PackageRules:
        deploy_installed = pkg.installed_distributions([str(self.site_packages())])
        runtime_names = pkg.requirement_names(ROOT / "requirements.txt")
        runtime = pkg.dependency_closure(
            runtime_names, deploy_installed, self.venv_python
        )
        runtime |= pkg.HANDLER_DISTRIBUTIONS
        runtime -= pkg.SDK_DISTRIBUTIONS
        deploy = pkg.dependency_closure(["zappa"], deploy_installed, self.venv_python)
        dev_installed = pkg.installed_distributions()
        dev = pkg.dependency_closure(
            pkg.requirement_names(ROOT / "requirements-dev.txt"),
            dev_installed,
            self.venv_python,
        )
        return pkg.PackageRules(
            stage=self.stage,
            table=table_for(self.stage),
            runtime=self.settings.runtime,
            architecture=str(self.settings.config.get("architecture", "x86_64")),
            runtime_distributions=frozenset(runtime),
            deploy_distributions=frozenset(deploy - runtime - pkg.SDK_DISTRIBUTIONS),
            test_distributions=frozenset(
                dev - deploy - runtime - pkg.SDK_DISTRIBUTIONS
            ),
            project_files=frozenset(
                entry.name
                for entry in ROOT.iterdir()
                if entry.name not in pkg.PROJECT_ENTRIES
            ),
        )

    def build_package(self) -> None:
        with self.log.step(f"zappa package {self.stage}") as step:
            output = self.work / f"bookapi-{self.stage}.zip"
            self.zappa("package", "-o", str(output))
            report = pkg.inspect_package(output.read_bytes(), self.rules)
            check("package check", report.problems)
            step.note(self.describe_package(report))

    def describe_package(self, report: pkg.PackageReport) -> str:
        return (
            f"package {report.size / pkg.MIB:.2f} MiB of "
            f"{self.rules.budget_bytes / pkg.MIB:.0f} MiB, {report.files} files, "
            f"{len(report.distributions)} distributions, binaries: "
            f"{', '.join(Path(b).name for b in report.binaries) or 'none'}"
        )

    def start_servers(self, cleanup: contextlib.ExitStack) -> None:
        with self.log.step("start: AWS stand-in and dynalite on 127.0.0.1") as step:
            self.dynalite = Dynalite().start()
            cleanup.callback(self.dynalite.stop)
            self.recorder = DynamoDBRecorder(self.dynalite.port).start()
            cleanup.callback(self.recorder.stop)
            self.standin = StandInProcess(self.artifacts / "standin.log").start()
            cleanup.callback(self.standin.stop)
            self.aws_endpoint = self.standin.endpoint
            self.aws = StandInAws(self.standin.endpoint, self.settings)
            step.note(
                f"stand-in {self.standin.endpoint}, dynalite {self.dynalite.endpoint}"
                f", DynamoDB recorder {self.recorder.endpoint}"
            )

    def create_table(self) -> None:
        with self.log.step(f"table: scripts/stage-table {self.stage}") as step:
            output = self.run_script(
                [str(ROOT / "scripts" / "stage-table"), self.stage],
                env={
                    **guarded_environment(self.settings.region),
                    "AWS_ENDPOINT_URL_DYNAMODB": self.dynalite.endpoint,
                },
            )
            tables = self.dynamodb().list_tables()["TableNames"]
            if tables != [self.settings.table]:
                raise RehearsalFailed(
                    "table",
                    [f"DynamoDB has tables {tables}, not {self.settings.table}"],
                )
            step.note(output.stdout.strip().splitlines()[-1])

    # Zappa's commands and the checks after each.

    def deploy(self) -> Deployed:
        with self.log.step(f"zappa deploy {self.stage}") as step:
            self.zappa("deploy")
            return self.verify("deploy", step, book_id=4201, mark=None)

    def status(self) -> None:
        with self.log.step(f"zappa status {self.stage}") as step:
            output = self.zappa("status")
            api = self.aws.rest_api()
            expected = (
                f"https://{api.api_id}.execute-api.{self.settings.region}"
                f".amazonaws.com/{self.stage}"
            )
            problems = []
            if self.settings.lambda_name not in output:
                problems.append(f"it does not name {self.settings.lambda_name}")
            if expected not in output:
                problems.append(f"it does not show the API URL {expected}")
            check("zappa status", problems)
            step.note(f"shows {self.settings.lambda_name} at {expected}")

    def update(self, deployed: Deployed) -> Deployed:
        with self.log.step(f"zappa update {self.stage} (visible change)") as step:
            wsgi = self.project / "wsgi.py"
            wsgi.write_text(wsgi.read_text() + VISIBLE_CHANGE)
            step.note(f"wsgi.py now adds {MARK_HEADER}: update to every response")
            self.zappa("update")
            updated = self.verify("update", step, book_id=4202, mark="update")
            if updated.sha256 == deployed.sha256:
                raise RehearsalFailed("update", ["the function's code did not change"])
            return updated

    def rollback(self, deployed: Deployed, updated: Deployed) -> None:
        with self.log.step(f"zappa rollback {self.stage} -n 1") as step:
            self.zappa("rollback", "-n", "1")
            rolled_back = self.verify("rollback", step, book_id=4203, mark=None)
            problems = []
            if rolled_back.sha256 != deployed.sha256:
                problems.append(
                    f"the function's code has SHA-256 {rolled_back.sha256}, not "
                    f"the deployed {deployed.sha256}"
                )
            if rolled_back.version <= updated.version:
                problems.append("the rollback published no new version")
            check("rollback", problems)
            step.note(
                f"version {rolled_back.version} has byte for byte the code of "
                f"version {deployed.version}"
            )

    def undeploy(self) -> None:
        with self.log.step(f"zappa undeploy {self.stage}") as step:
            self.zappa("undeploy", "--yes")
            check("undeploy", [f"left behind: {x}" for x in self.aws.leftovers()])
            step.note("function, REST API, stack, rules and API keys are gone")
            step.note("kept, as on AWS: the IAM role, the S3 bucket and any usage plan")

    def verify(
        self, phase: str, step: Step, book_id: int, mark: str | None
    ) -> Deployed:
        """Check everything deployed, then serve the API from the code."""
        code, versions = self.check_function(phase, step)
        self.check_role(phase, step, code.configuration)
        api = self.check_api(phase, step, code.configuration)

        task_dir = self.work / f"task-{phase}"
        with zipfile.ZipFile(io.BytesIO(code.code)) as archive:
            archive.extractall(task_dir)
        gateway = RestApiGateway(
            api_id=api.api_id,
            region=self.settings.region,
            stage=self.stage,
            account_id=self.aws.account_id,
            binary_bodies="*/*" in api.binary_media_types,
            api_key=api.api_key or "rehearsal-key-" + secrets.token_hex(16),
            api_key_id=api.api_key_id or "rehearsal-key-id",
            authorization="Bearer rehearsal-token-" + secrets.token_hex(16),
        )
        self.serve(phase, step, code.configuration, task_dir, gateway, book_id, mark)
        if phase == "deploy":
            self.serve_without_dynamodb(step, code.configuration, task_dir, gateway)
        self.check_key_values(phase, step, api, code.code, task_dir)
        return Deployed(sha256=code.sha256, version=max(versions, default=0))

    def check_function(self, phase: str, step: Step) -> tuple[FunctionCode, list[int]]:
        """Fetch and check the function's code and configuration."""
        try:
            code = self.aws.function_code()
        except AssertionError as error:
            raise RehearsalFailed(f"{phase}: function code", [str(error)]) from None
        configuration = code.configuration
        check(f"{phase}: function", self.aws.configuration_problems(configuration))
        report = pkg.inspect_package(code.code, self.rules)
        check(f"{phase}: package check", report.problems)
        versions = self.aws.published_versions()
        step.note(
            f"function {configuration['FunctionName']}, published versions "
            f"{versions}: CodeSha256 {code.sha256[:12]}... matches the code "
            "fetched from it"
        )
        step.note(self.describe_package(report))
        return code, versions

    def check_role(self, phase: str, step: Step, configuration: dict[str, Any]) -> None:
        role, statements = self.role_policy(phase, configuration)
        access = self.settings.access(self.aws.account_id)
        check(
            f"{phase}: role policy",
            [f"role {role} {problem}" for problem in access.problems(statements)],
        )
        step.note(
            f"role {role}: needs met, {len(access.forbidden())} forbidden probes denied"
        )

    def check_api(
        self, phase: str, step: Step, configuration: dict[str, Any]
    ) -> RestApi:
        """Check the REST API's stage, its API keys and the keep-warm rule."""
        api = self.aws.rest_api()
        problems = self.aws.api_key_problems(api)
        problems += self.aws.method_access_problems(api)
        problems += self.aws.keep_warm_problems(configuration["FunctionArn"])
        check(f"{phase}: API Gateway", problems)
        rules = self.aws.keep_warm_rules()
        step.note(
            f"REST API {api.api_id}, stage {self.stage}, binary media types "
            f"{api.binary_media_types or 'none'}, usage plans: "
            f"{', '.join(api.usage_plans) or 'none (no API keys)'}, keep-warm "
            f"rule: {rules[0]['ScheduleExpression'] if rules else 'none'}"
        )
        step.note(f"methods on / and /{{proxy+}}: {api.access}")
        return api

    def check_key_values(
        self, phase: str, step: Step, api: RestApi, code: bytes, task_dir: Path
    ) -> None:
        """Look for the stage's key values in the repository, the settings,
        the package and every log of the rehearsal."""
        if not api.key_values:
            return
        package = self.work / f"package-{phase}.zip"
        package.write_bytes(code)
        places = {
            "repository": repository_files(ROOT),
            "settings": [self.settings_path, self.zappa_settings],
            "package": [package, *files_under(task_dir)],
            "logs": files_under(self.artifacts),
        }
        files = [path for paths in places.values() for path in paths]
        check(f"{phase}: API key values", key_value_leaks(api.key_values, files, ROOT))
        counts = ", ".join(f"{name} {len(paths)}" for name, paths in places.items())
        step.note(
            f"{len(api.key_values)} API key value(s) of stage {self.stage} found in "
            f"no file ({counts} files)"
        )

    def role_policy(
        self, phase: str, configuration: dict[str, Any]
    ) -> tuple[str, list[Statement]]:
        try:
            return self.aws.role_statements(configuration["Role"])
        except AssertionError as error:
            raise RehearsalFailed(f"{phase}: role", [str(error)]) from None

    def serve(
        self,
        phase: str,
        step: Step,
        configuration: dict[str, Any],
        task_dir: Path,
        gateway: RestApiGateway,
        book_id: int,
        mark: str | None,
    ) -> None:
        """Run the handler in a Lambda-like process with the API's events."""
        self.recorder.take_calls()
        process = self.lambda_process(phase, configuration, task_dir)
        scenario = ApiScenario(gateway, process.invoke, book_id, mark)
        try:
            scenario.run()
            warm = process.invoke(self.keep_warm_event(configuration))
            if warm.error is not None or warm.result is not None:
                scenario.problems.append(
                    f"keep-warm event: result {warm.result!r}, error {warm.error}"
                )
        except ProcessFailed as error:
            scenario.problems.append(str(error))
        finally:
            log = process.stop()

        problems = scenario.problems
        problems += secrets_in_log(
            log,
            {
                "x-api-key": gateway.api_key,
                "Authorization": gateway.authorization.split(" ", 1)[1],
            },
        )
        calls, call_problems = self.dynamodb_calls(phase, configuration, book_id)
        check(f"{phase}: API through the handler", problems + call_problems)

        cold = process.invocations[0].duration_ms if process.invocations else 0.0
        step.note(
            f"handler: {scenario.exchanges} API Gateway events and a keep-warm "
            f"event handled as expected; the first (cold) took {cold:.0f} ms"
        )
        step.note(
            "DynamoDB calls, all on "
            f"{self.settings.table} and allowed by the role: "
            + ", ".join(f"{op} x{n}" for op, n in sorted(calls.items()))
        )
        step.note(
            f"handler log: {len(log.splitlines())} lines, no x-api-key or "
            "Authorization value in them"
        )

    def serve_without_dynamodb(
        self,
        step: Step,
        configuration: dict[str, Any],
        task_dir: Path,
        gateway: RestApiGateway,
    ) -> None:
        closed = f"http://127.0.0.1:{free_port()}"
        process = self.lambda_process("unavailable", configuration, task_dir, closed)
        scenario = ApiScenario(gateway, process.invoke, 4200, None)
        try:
            scenario.run_unavailable()
        except ProcessFailed as error:
            scenario.problems.append(str(error))
        finally:
            process.stop()
        check("deploy: API without DynamoDB", scenario.problems)
        step.note("handler without DynamoDB: 503 with Retry-After: 1")

    def lambda_process(
        self,
        name: str,
        configuration: dict[str, Any],
        task_dir: Path,
        dynamodb_endpoint: str | None = None,
    ) -> LambdaProcess:
        report = self.artifacts / f"netguard-handler-{name}.txt"
        environment = lambda_environment(
            configuration,
            task_dir,
            self.sdk_dir,
            dynamodb_endpoint or self.recorder.endpoint,
            report,
        )
        return LambdaProcess(
            python=self.venv / "bin" / "python",
            task_dir=task_dir,
            sdk_dir=self.sdk_dir,
            environment=environment,
            log_path=self.artifacts / f"handler-{name}.log",
        ).start()

    def keep_warm_event(self, configuration: dict[str, Any]) -> dict[str, Any]:
        """Build the keep-warm event, from the stage's rule when it has one."""
        rules = self.aws.keep_warm_rules()
        name = configuration["FunctionName"]
        rule_arn = (
            rules[0]["Arn"]
            if rules
            else f"arn:aws:events:{self.settings.region}:{self.aws.account_id}:"
            f"rule/{name}-zappa-keep-warm-handler.keep_warm_callback"
        )
        return keep_warm_event(rule_arn, self.settings.region, self.aws.account_id)

    def dynamodb_calls(
        self, phase: str, configuration: dict[str, Any], book_id: int
    ) -> tuple[collections.Counter[str], list[str]]:
        """Check the handler's DynamoDB calls against the role and the table."""
        calls = self.recorder.take_calls()
        role, statements = self.role_policy(phase, configuration)
        access = self.settings.access(self.aws.account_id)
        problems = []
        for call in sorted(set(calls), key=lambda c: (c.table, c.operation)):
            action = f"dynamodb:{call.operation}"
            if call.table != access.table:
                problems.append(f"the handler called {action} on table {call.table}")
            elif not evaluate(statements, action, access.table_arn(call.table)):
                problems.append(
                    f"the handler called {action} on {call.table}, which role "
                    f"{role} does not allow"
                )
        if not calls:
            problems.append("the handler made no DynamoDB calls")
        dynamodb = self.dynamodb()
        tables = dynamodb.list_tables()["TableNames"]
        if tables != [access.table]:
            problems.append(f"DynamoDB has tables {tables}, not only {access.table}")
        key = {"bookId": {"N": str(book_id)}}
        if "Item" in dynamodb.get_item(TableName=access.table, Key=key):
            problems.append(f"book {book_id} is still in {access.table}")
        return collections.Counter(call.operation for call in calls), problems

    # Helpers.

    def dynamodb(self) -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.dynalite.endpoint,
            region_name=self.settings.region,
            **DUMMY_CREDENTIALS,
        )

    def run_script(
        self, command: list[str], env: dict[str, str] | None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command from the project folder; raise RehearsalFailed if it
        fails. ``env`` None inherits this process's environment."""
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RehearsalFailed(
                " ".join(Path(c).name for c in command[:2]),
                [f"exited with code {result.returncode}", *result.stderr.splitlines()],
            )
        return result

    def zappa(self, command: str, *args: str) -> str:
        return run_zappa(
            ZappaRun(
                venv=self.venv,
                project=self.project,
                settings_file=self.zappa_settings,
                stage=self.stage,
                region=self.settings.region,
                aws_endpoint=self.aws_endpoint,
                log_dir=self.artifacts,
            ),
            command,
            *args,
        )


def guarded_environment(region: str) -> dict[str, str]:
    """Build the environment of the processes that may call AWS: dummy
    credentials, no AWS configuration of the user, and the network guard."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONPATH": str(GUARDED_PATH),
    }


@dataclass(frozen=True)
class ZappaRun:
    """Where and how to run Zappa for one stage."""

    venv: Path
    project: Path
    settings_file: Path
    stage: str
    region: str
    log_dir: Path
    # A closed loopback port (the discard port) until a stand-in runs;
    # `zappa package` calls no AWS API.
    aws_endpoint: str = "http://127.0.0.1:9"


def run_zappa(run: ZappaRun, command: str, *args: str) -> str:
    """Run one Zappa command for the stage from the deploy venv, guarded.

    The output goes to ``zappa-COMMAND.log`` in ``run.log_dir``. Raises
    RehearsalFailed when Zappa fails or tries to reach anything but loopback
    and its own version check on PyPI.
    """
    report = run.log_dir / f"netguard-zappa-{command}.txt"
    environment = {
        **guarded_environment(run.region),
        "PATH": f"{run.venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "VIRTUAL_ENV": str(run.venv),
        "AWS_ENDPOINT_URL": run.aws_endpoint,
        "NETGUARD_REPORT": str(report),
    }
    zappa = [str(run.venv / "bin" / "zappa"), command, run.stage]
    result = subprocess.run(
        [*zappa, "-s", str(run.settings_file), *args],
        cwd=run.project,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    log = run.log_dir / f"zappa-{command}.log"
    log.write_text(result.stdout)
    blocked = report.read_text().splitlines() if report.exists() else []
    unexpected = [b for b in blocked if not any(a in b for a in ALLOWED_BLOCKS)]
    if unexpected:
        raise RehearsalFailed(f"zappa {command}", unexpected)
    if result.returncode != 0:
        tail = result.stdout.strip().splitlines()[-12:]
        raise RehearsalFailed(
            f"zappa {command} {run.stage}",
            [f"exited with code {result.returncode}; see {log}", *tail],
        )
    return result.stdout


def secrets_in_log(log: str, secret_values: dict[str, str]) -> list[str]:
    """List each log line that contains one of the secret header values."""
    problems = []
    for number, line in enumerate(log.splitlines(), start=1):
        for header, value in secret_values.items():
            if value in line:
                problems.append(
                    f"handler log line {number} contains the {header} value: "
                    f"{line[:100]}"
                )
    return problems
