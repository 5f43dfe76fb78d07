"""Domain errors raised by services. Views and the API turn them into 4xx answers a person can act on."""


class DomainError(Exception):
    """Base class: `message` is shown to the user as is."""

    status_code = 400

    def __init__(self, message: str, *, field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidInput(DomainError):
    status_code = 400


class NotAllowed(DomainError):
    """The actor may not do this to this object (beyond the role check done by the view)."""

    status_code = 403


class Conflict(DomainError):
    """The object is not in a state that allows this (e.g. someone else holds the case)."""

    status_code = 409


class NotFound(DomainError):
    status_code = 404
