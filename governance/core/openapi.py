"""The published OpenAPI schema says what the server does (drf-spectacular's ``AutoSchema``, made honest).

* **Descriptions are written for API clients.** An operation's description is the one its
  ``extend_schema`` gives, never the view's docstring; a component's is the one its
  ``extend_schema_serializer`` gives, never the serializer's docstring; a method field's comes
  from its ``help_text``, never from the method's docstring. Docstrings are for the code's readers.
* **Every operation lists the errors it can answer**, each with the one error shape
  (``governance.core.api.ErrorSerializer``). Those that follow from the operation's shape are added
  here, so no view can forget them:

  - 401 ``not_authenticated`` (with ``WWW-Authenticate``) when it needs a login;
  - 403 ``csrf_failed`` on a write a session client may send;
  - 404 when it looks an object up by its path, or pages a list (a page past the end);
  - 400 when it reads a query or a body; 413 and 415 when it reads a body;
  - 503 ``storage_unavailable`` when it takes files (a multipart body): the file store may not answer;
  - 406 on every operation (an ``Accept`` header the API cannot answer).

  Those that follow from what the operation means (403 for the right to act, 409, 422, 429,
  the codes a 400 may carry) are declared by the view with :func:`errors`.
* **Inputs say what the server refuses.** A request string never holds NUL (DRF and Django's
  form fields refuse it); a required text cannot be blank, nor only characters the services
  clean away (``governance.core.text.MEANINGFUL_TEXT_PATTERN``).
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication

from governance.core.api import ErrorSerializer
from governance.core.text import MEANINGFUL_TEXT_PATTERN, NO_NUL_PATTERN, NON_BLANK_PATTERN

# What each status means on this API, and the codes a client meets with it (docs/api.md says the same).
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The input is not valid: `invalid` (the fields at fault in `fields`), or the body or query could not be "
         "read: `parse_error` (not JSON, or nested more than 32 levels), `too_many_fields`, `too_many_files`.",
    401: "No token or session, or an invalid one: `not_authenticated`. The `WWW-Authenticate` header names the "
         "scheme (`Token`).",
    403: "A session client sent a write without the CSRF token of a portal page: `csrf_failed`.",
    404: "No such object, or one outside your territory (the two are indistinguishable), or a page past the end "
         "of a list: `not_found`.",
    406: "The `Accept` header asks for something other than JSON: `not_acceptable`.",
    409: "Not allowed in the incident's state (`transition_not_allowed`), or someone changed it since the "
         "`version` you sent (`conflict`): nothing was changed.",
    413: "The body is larger than the server accepts outside its files (`DATA_UPLOAD_MAX_MEMORY_SIZE`, 5 MiB): "
         "`request_too_large`.",
    415: "The body is not JSON, a form or a multipart form: `unsupported_media_type`.",
    422: "The idempotency key already filed a different report: `idempotency_key_reused`; nothing was filed.",
    429: "The account is locked after too many failed logins: `locked_out`, even with the right password.",
    503: "The file store did not answer: `storage_unavailable`. Nothing was stored; send the same request again.",
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def errors(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """Error responses for ``extend_schema(responses=...)``: the shared description of each status,
    or the one given as ``e403="..."`` (what this operation's 403 means)."""
    return {status: OpenApiResponse(ErrorSerializer, description=descriptions.get(f"e{status}",
                                                                                  ERROR_DESCRIPTIONS[status]))
            for status in statuses}


class AutoSchema(openapi.AutoSchema):
    def get_description(self) -> str:
        return ""  # only what extend_schema(description=...) says; a docstring is for the code's readers

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query":
                _refuse_nul(parameter.get("schema", {}))
                if not parameter.get("required") and parameter.get("schema", {}).get("type") != "array":
                    parameter["allowEmptyValue"] = True  # `?open=` is "not given", as a page's form sends it
        responses = operation["responses"]
        for status in self._implied_errors(operation):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(errors(status)[status], str(status))
        if "401" in responses:
            responses["401"].setdefault("headers", {})["WWW-Authenticate"] = {
                "schema": {"type": "string"}, "required": True,
                "description": "The scheme to authenticate with: `Token`.",
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _implied_errors(self, operation: dict) -> list[int]:
        security = operation.get("security") or []
        parameters = operation.get("parameters", [])
        reads_query = any(p.get("in") == "query" for p in parameters)
        reads_body = "requestBody" in operation
        looks_up = any(p.get("in") == "path" for p in parameters)
        pages = any(p.get("in") == "query" and p.get("name") == "page" for p in parameters)
        session_write = self.method in WRITE_METHODS and any(
            isinstance(a, SessionAuthentication) for a in self.view.get_authenticators())
        implied = [406]
        if security and {} not in security:
            implied.append(401)
        if session_write:
            implied.append(403)
        if looks_up or pages:
            implied.append(404)
        if reads_query or reads_body:
            implied.append(400)
        if reads_body:
            implied += [413, 415]
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
            implied.append(503)  # files go to the file store, which may not answer (StorageUnavailable)
        return implied

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if not openapi.get_override(serializer, "description"):
            schema.pop("description", None)  # the serializer's docstring
        return schema

    def _map_response_type_hint(self, method):
        schema = super()._map_response_type_hint(method)
        if isinstance(schema, dict) and "$ref" not in schema:
            schema = {**schema}
            schema.pop("description", None)  # the method's docstring; help_text is added after this
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (direction == "request" and schema is not None and isinstance(field, serializers.CharField)
                and not field.read_only and schema.get("type") == "string"
                and not {"enum", "format", "pattern"} & set(schema)):
            if getattr(field, "meaningful", False) and not field.allow_blank:
                schema["pattern"] = MEANINGFUL_TEXT_PATTERN
            elif not field.allow_blank and field.trim_whitespace:
                schema["pattern"] = NON_BLANK_PATTERN
            else:  # drf-spectacular adds the blank string as a oneOf of its own: this branch must not match it
                schema["pattern"] = NO_NUL_PATTERN.replace("*", "+")
            if not field.allow_blank:
                schema.setdefault("minLength", 1)
        return schema


def _refuse_nul(schema: dict) -> None:
    """A free-text query parameter: Django's form fields refuse NUL (400), so the schema says so."""
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
        schema["pattern"] = NO_NUL_PATTERN
