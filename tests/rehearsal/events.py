"""Lambda events in the shapes that API Gateway and EventBridge send them.

``RestApiGateway.event`` builds the proxy-integration event of a REST API
(payload format 1.0) as API Gateway sends it for a request to
``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}{path}``. The
event has the path without the stage, the stage in ``requestContext``, the
execute-api ``Host`` header, and both single- and multi-value headers. The
body is base64-encoded when the API treats every media type as binary
(Zappa's ``binary_support``).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

# Documentation addresses (RFC 5737): only ever text inside an event.
CLIENT_IP = "198.51.100.7"
EDGE_IP = "203.0.113.10"
USER_AGENT = "bookapi-rehearsal/1.0"


@dataclass(frozen=True)
class RestApiGateway:
    """One REST API stage, as the events that it sends to Lambda show it."""

    api_id: str
    region: str
    stage: str
    account_id: str
    binary_bodies: bool
    api_key: str
    api_key_id: str
    authorization: str

    @property
    def host(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"

    def event(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> dict[str, Any]:
        """Build the event for one request; ``path`` excludes the stage."""
        request_id = str(uuid.uuid4())
        all_headers = {
            "Accept": "application/json",
            "Authorization": self.authorization,
            "CloudFront-Forwarded-Proto": "https",
            "CloudFront-Viewer-Country": "NL",
            "Host": self.host,
            "User-Agent": USER_AGENT,
            "Via": "2.0 0123456789abcdef.cloudfront.net (CloudFront)",
            "X-Amz-Cf-Id": "rehearsal-" + request_id,
            "X-Amzn-Trace-Id": "Root=1-00000000-" + request_id.replace("-", "")[:24],
            "X-Forwarded-For": f"{CLIENT_IP}, {EDGE_IP}",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
            "x-api-key": self.api_key,
            **(headers or {}),
        }
        now = time.time()
        proxy = path.lstrip("/")
        encoded_body: str | None = None
        if body is not None:
            encoded_body = (
                base64.b64encode(body).decode()
                if self.binary_bodies
                else body.decode("utf-8")
            )
        return {
            "resource": "/{proxy+}" if proxy else "/",
            "path": path,
            "httpMethod": method,
            "headers": all_headers,
            "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": {"proxy": proxy} if proxy else None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "abc123",
                "resourcePath": "/{proxy+}" if proxy else "/",
                "httpMethod": method,
                "extendedRequestId": request_id,
                "requestTime": time.strftime(
                    "%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)
                ),
                "path": f"/{self.stage}{path}",
                "accountId": self.account_id,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": self.api_id,
                "requestTimeEpoch": int(now * 1000),
                "requestId": request_id,
                "identity": {
                    "sourceIp": CLIENT_IP,
                    "userAgent": USER_AGENT,
                    "apiKey": self.api_key,
                    "apiKeyId": self.api_key_id,
                    "accessKey": None,
                    "accountId": None,
                    "caller": None,
                    "user": None,
                    "userArn": None,
                },
                "domainName": self.host,
                "apiId": self.api_id,
            },
            "body": encoded_body,
            "isBase64Encoded": self.binary_bodies and body is not None,
        }


def keep_warm_event(rule_arn: str, region: str, account_id: str) -> dict[str, Any]:
    """Build the EventBridge event of Zappa's keep-warm schedule rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass(frozen=True)
class ApiResponse:
    """A handler's result as the client of API Gateway receives it."""

    status: int
    headers: dict[str, list[str]]
    body: bytes

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> ApiResponse:
        """Decode a proxy-integration result: status, headers, base64 body."""
        headers: dict[str, list[str]] = {}
        for name, value in (result.get("headers") or {}).items():
            headers[name.lower()] = [str(value)]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = [str(v) for v in values]
        body_text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body_text)
        else:
            body = body_text.encode("utf-8")
        return cls(status=int(result["statusCode"]), headers=headers, body=body)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ", ".join(values) if values else None

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";", 1)[0].strip()

    def json(self) -> Any:
        return json.loads(self.body)
