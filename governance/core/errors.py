"""Domain errors: one exception type, mapped to a response in one place.

Services raise these; ``governance.core.api.exception_handler`` turns them into the
API's JSON error shape and ``governance.views.DomainErrorMixin`` into a page
message. The message is written for the person who acted.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    code = "invalid"
    default_message = _("The request is not valid.")

    def __init__(self, message=None, *, code: str | None = None, field_errors: dict | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.field_errors = field_errors or {}
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid"


class PermissionDeniedError(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = _("You may see this, but you may not do this.")


class NotFoundError(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _("Not found.")


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"
    default_message = _("Someone else changed this at the same time. Reload and try again.")


class TransitionNotAllowed(DomainError):
    status_code = 409
    code = "transition_not_allowed"


class StorageUnavailable(DomainError):
    """The file storage (a local folder, an S3-compatible store) did not answer: nothing was stored."""

    status_code = 503
    code = "storage_unavailable"
    default_message = _("The file store does not answer just now: nothing was saved. Try again in a few minutes.")
