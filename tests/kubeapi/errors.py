"""``Status`` failures, shaped as the API server returns them.

Clients branch on ``code`` and ``reason`` (the cncf provider retries only 409, the kubernetes
watch raises on a 410 ``ERROR`` event), so the body must look exactly like the real one.
"""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "AlreadyExists",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def status_body(
    code: int,
    message: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``v1.Status`` failure object."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


class ApiError(Exception):
    """Raised anywhere in request handling; the router turns it into a ``Status`` response."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.body = status_body(code, message, reason, details)
        self.headers = headers or {}

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, message)

    @classmethod
    def not_found(cls, resource: str, group: str, name: str) -> ApiError:
        qualified = f"{resource}.{group}" if group else resource
        return cls(
            404,
            f'{qualified} "{name}" not found',
            details={"name": name, "group": group, "kind": resource},
        )

    @classmethod
    def already_exists(cls, resource: str, group: str, name: str) -> ApiError:
        qualified = f"{resource}.{group}" if group else resource
        return cls(
            409,
            f'{qualified} "{name}" already exists',
            details={"name": name, "group": group, "kind": resource},
        )

    @classmethod
    def conflict(cls, resource: str, group: str, name: str) -> ApiError:
        qualified = f"{resource}.{group}" if group else resource
        return cls(
            409,
            f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again",
            reason="Conflict",
            details={"name": name, "group": group, "kind": resource},
        )

    @classmethod
    def gone(cls, requested: int, oldest: int) -> ApiError:
        return cls(410, f"too old resource version: {requested} ({oldest})", reason="Expired")
