"""Errors a service raises; the API maps each to one HTTP status with a clear message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Refusal:
    """What the audit trail records about a refused attempt."""

    subject_type: str
    subject_id: int
    subject_version: int
    action: str
    from_status: str
    actor_id: int | None
    actor_role: str
    actor_address: str


class ServiceError(Exception):
    status_code = 400

    def __init__(self, message: str, *, refusal: Refusal | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.refusal = refusal


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    status_code = 409


class Gone(ServiceError):
    status_code = 410


class Invalid(ServiceError):
    status_code = 422
