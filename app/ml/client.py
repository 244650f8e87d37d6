"""Talking to an ML backend over HTTP, the way Label Studio does (see the protocol reference):
/health, /setup, /predict and /webhook, with HTTP basic auth when the backend asks for it.

Every call returns an `Answer` instead of raising, so callers decide what a failure means: a job
retries it, the settings page shows it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import orjson

if TYPE_CHECKING:
    from app.tables import MLBackend

logging.getLogger("httpx").setLevel(logging.WARNING)  # not a log line per request to the model

# Label Studio's ML_TIMEOUT_HEALTH is 1 s and ML_TIMEOUT_SETUP 3 s; a shared machine running a
# model next to the server needs a little more slack, and these calls are never on a user's path
HEALTH_TIMEOUT = 3.0
SETUP_TIMEOUT = 10.0
CONNECT_TIMEOUT = 3.0
USER_AGENT = "labelwell (label-studio-ml compatible)"
MESSAGE_CHARS = 300


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer at all (refused, timed out)
    body: Any
    error: str = ""
    timed_out: bool = False  # sent, but no answer in time: the backend may still be working on it

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error

    @property
    def retryable(self) -> bool:
        """Worth another try: the network, a timeout, or the backend's own 5xx (a model still loading)."""
        return self.status is None or self.status >= 500


def _message(response: httpx.Response, body: Any) -> str:
    """What the backend said went wrong, short enough for a page: the status and the SDK's own
    `detail` (or `error`, …) message. Never the body otherwise: a URL pointing at some other
    internal service must not turn this server into a way of reading its answers."""
    if isinstance(body, dict):
        for key in ("detail", "error", "errors", "message"):
            if isinstance(body.get(key), (str, int, float)) and str(body[key]).strip():
                return f"HTTP {response.status_code}: {str(body[key]).strip()[:MESSAGE_CHARS]}"
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


def speaks_ml(answer: Answer) -> bool:
    """A /health answer in the label_studio_ml SDK's shape ({"status": "UP", …}, both generations)."""
    return answer.ok and isinstance(answer.body, dict) and answer.body.get("status") == "UP"


class MLApi:
    """One backend's endpoints. Use as `async with MLApi(backend) as api:` to share a connection."""

    def __init__(self, backend: MLBackend) -> None:
        self.backend = backend
        self.speaks_ml = False  # until /health answers as a label_studio_ml backend: no token in /setup
        auth = None
        if backend.auth_method == "BASIC_AUTH" and backend.basic_auth_user:
            auth = httpx.BasicAuth(backend.basic_auth_user, backend.basic_auth_pass)
        self.client = httpx.AsyncClient(base_url=backend.url.rstrip("/"), auth=auth, follow_redirects=False,
                                        headers={"User-Agent": USER_AGENT},
                                        timeout=httpx.Timeout(backend.timeout or 100.0, connect=CONNECT_TIMEOUT))

    async def __aenter__(self) -> MLApi:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, payload: Any = None, timeout: float | None = None) -> Answer:
        try:
            response = await self.client.request(
                method, path, content=None if payload is None else orjson.dumps(payload),
                headers={"Content-Type": "application/json"} if payload is not None else None,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout, connect=CONNECT_TIMEOUT))
        except httpx.TimeoutException:
            return Answer(None, None, f"no answer within {timeout or self.backend.timeout:g} s (timeout)", timed_out=True)
        except httpx.HTTPError as exc:
            return Answer(None, None, f"cannot reach {self.backend.url}: {type(exc).__name__} {exc}".strip())
        try:
            body = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            body = None
            if response.is_success:
                return Answer(response.status_code, None, f"HTTP {response.status_code} but the answer is not JSON")
        if not response.is_success:
            return Answer(response.status_code, body, _message(response, body))
        return Answer(response.status_code, body)

    async def health(self) -> Answer:
        answer = await self.call("GET", "/health", timeout=HEALTH_TIMEOUT)
        self.speaks_ml = speaks_ml(answer)
        return answer

    async def setup(self, project_uid: str, schema: str, hostname: str, access_token: str) -> Answer:
        # 1.0.9 reads hostname and access_token (to fetch task files back); 2.x reads extra_params.
        # No model_version, as Label Studio: 1.0.9 would load exactly that version and so never
        # pick up the model its training produced
        return await self.call("POST", "/setup", {
            "project": project_uid, "schema": schema, "hostname": hostname, "access_token": access_token,
            "extra_params": self.backend.extra_params or {}}, timeout=SETUP_TIMEOUT)

    async def predict(self, tasks: list[dict], project_uid: str, label_config: str,
                      context: dict | None = None) -> Answer:
        return await self.call("POST", "/predict", {
            "tasks": tasks, "project": project_uid, "label_config": label_config,
            "params": {"login": None, "password": None, "context": context}})

    async def webhook(self, payload: dict) -> Answer:
        return await self.call("POST", "/webhook", payload)
