"""The API's one error shape, and everything that makes every error under ``/api/`` take it.

    {"error": {"code": "conflict", "message": "...", "fields": {"lat": ["..."]}}}

* ``exception_handler``: DRF's errors, the domain's (``governance.core.errors``) and Django's
  own refusals of a request body (too large, too many fields or files);
* ``api_error_response``: the same shape for what happens outside a view (no URL matched,
  a server error, a CSRF failure), used by the project's error handlers for ``/api/`` paths;
* ``governance.core.parsers.SafeJSONParser``: JSON bodies bounded in size and depth.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.db.models.manager import BaseManager
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.fields import SkipField
from rest_framework.pagination import PageNumberPagination
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance.core.errors import DomainError

try:  # Django 5.2: TooManyFilesSent lives beside TooManyFieldsSent
    from django.core.exceptions import TooManyFilesSent
except ImportError:  # pragma: no cover
    TooManyFilesSent = TooManyFieldsSent

API_PREFIX = "/api/"


def error_body(code: str, message, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def flatten_field_errors(data, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as ``{"field": ["..."]}`` with dotted keys for list items and nested fields.

    ``{"photos": {"0": ["Not an image."]}}`` becomes ``{"photos.0": ["Not an image."]}``, so
    ``fields`` is always a map of field names to lists of messages, as documented.
    """
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub_key, messages in flatten_field_errors(value, name).items():
                flat.setdefault(sub_key, []).extend(messages)
        return flat
    if isinstance(data, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in data):
            return {prefix or "non_field_errors": [str(item) for item in data]}
        flat = {}
        for index, item in enumerate(data):
            if item in ({}, [], None, ""):
                continue  # DRF puts an empty entry for each list item that was fine
            for sub_key, messages in flatten_field_errors(item, f"{prefix}.{index}" if prefix else str(index)).items():
                flat.setdefault(sub_key, []).extend(messages)
        return flat
    return {prefix or "non_field_errors": [str(data)]}


def _request_refusal(exc) -> tuple[int, str, str] | None:
    """Django's refusals of a request body (raised while it is parsed): status, code and message."""
    if isinstance(exc, RequestDataTooBig):
        return (status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "request_too_large",
                _("The request is larger than the %(mb)s MB the server accepts.")
                % {"mb": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024):g}"})
    if isinstance(exc, TooManyFilesSent):
        return (status.HTTP_400_BAD_REQUEST, "too_many_files",
                _("The request carries more files than the server accepts."))
    if isinstance(exc, TooManyFieldsSent):
        return (status.HTTP_400_BAD_REQUEST, "too_many_fields",
                _("The request carries more fields than the server accepts."))
    if isinstance(exc, SuspiciousOperation):
        return status.HTTP_400_BAD_REQUEST, "bad_request", _("The request could not be read.")
    return None


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.field_errors), status=exc.status_code)
    refusal = _request_refusal(exc)
    if refusal is not None:
        code_status, code, message = refusal
        return Response(error_body(code, message), status=code_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", _("Some fields are not valid."), flatten_field_errors(data))
    else:
        detail = data.get("detail", data) if isinstance(data, dict) else data
        code = getattr(detail, "code", None) or (exc.default_code if hasattr(exc, "default_code") else "error")
        response.data = error_body(code, detail)
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data["error"]["code"] = "not_authenticated"
    return response


# --- Outside the views: the project's error handlers answer /api/ paths in the same shape ----------------

_PAGE_ERRORS = {
    400: ("bad_request", "The request could not be read."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "Not found."),
    500: ("server_error", "The server could not answer just now. Try again in a moment."),
}


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)


def api_error_response(request, status_code: int, exception=None) -> JsonResponse:
    refusal = _request_refusal(exception) if exception is not None else None
    if refusal is not None:
        status_code, code, message = refusal
    else:
        code, message = _PAGE_ERRORS[status_code]
        message = _(message)
    response = JsonResponse(error_body(code, message), status=status_code, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


class OutputSerializer(serializers.ModelSerializer):
    """A read-only ModelSerializer that reads its model's fields once per class, not once per instance.

    DRF's ``ModelSerializer.get_fields`` inspects the model (field kwargs, choices,
    validators) every time a serializer is made, then deep-copies every field's
    arguments: a nested answer makes a dozen serializers, on every request. Output
    serializers, whose fields depend on nothing but the class, build them once and
    give each instance new fields made from the same arguments. Fields never change
    their arguments, and a field is bound to one serializer only, so each instance
    still gets fields of its own; only the deep copy of the arguments is saved.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built
        return {name: _remake(field) for name, field in built.items()}

    def to_representation(self, instance) -> dict:
        """DRF's ``Serializer.to_representation``, through fields made and bound once per class.

        Rendering needs no field of its own per serializer: plain fields only read and
        convert, so the class's prototype fields serve every instance. A method field
        calls this serializer's ``get_<name>``, and a nested serializer is made with this
        one's context, so every context read (``request``, ``now``…) is this answer's.
        tests/incidents/test_serializers.py holds it to DRF's own rendering.
        """
        out = {}
        for name, kind, field in _plan(type(self)):
            if kind is _METHOD:
                out[name] = getattr(self, field.method_name)(instance)
                continue
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            if value is None or (isinstance(value, PKOnlyObject) and value.pk is None):
                out[name] = None
            elif kind is _LIST:
                child = field.child.__class__(context=self.context)
                items = value.all() if isinstance(value, BaseManager) else value
                out[name] = [child.to_representation(item) for item in items]
            elif kind is _NESTED:
                out[name] = field.__class__(context=self.context).to_representation(value)
            else:
                out[name] = field.to_representation(value)
        return out


_PLAIN, _METHOD, _NESTED, _LIST = "plain", "method", "nested", "list"


def _plan(cls: type[OutputSerializer]) -> list[tuple[str, str, serializers.Field]]:
    """(name, kind, field bound to the class's prototype) for each readable field, made once per class."""
    plan = cls.__dict__.get("_plan_once")
    if plan is None:
        plan = []
        for field in cls()._readable_fields:
            if isinstance(field, serializers.SerializerMethodField):
                kind = _METHOD
            elif isinstance(field, serializers.ListSerializer):
                kind = _LIST
            elif isinstance(field, serializers.BaseSerializer):
                kind = _NESTED
            else:
                kind = _PLAIN
            plan.append((field.field_name, kind, field))
        cls._plan_once = plan
    return plan


def _remake(field: serializers.Field) -> serializers.Field:
    """A new, unbound field with the arguments ``field`` was made with (``Field.__deepcopy__`` without the copy).

    A list's child (``many=True``, ``ListField``) is an argument that gets bound: it is made anew too.
    """
    kwargs = field._kwargs
    if "child" in kwargs:
        kwargs = {**kwargs, "child": _remake(kwargs["child"])}
    return field.__class__(*field._args, **kwargs)


# --- Input fields ----------------------------------------------------------------------------------------

class CleanTextField(serializers.CharField):
    """Text a service stores through ``governance.core.text.clean_text``.

    Parsing is DRF's own; the mark tells the OpenAPI schema (``governance.core.openapi``) that required text
    must keep a character after cleaning, which the service checks (400).
    """

    meaningful = True


# --- Output fields ---------------------------------------------------------------------------------------

_POSITION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3,
             "description": "[longitude, latitude]"}
_RING = {"type": "array", "items": _POSITION, "minItems": 4}


@extend_schema_field({
    "oneOf": [
        {"type": "object", "properties": {"type": {"type": "string", "enum": ["Polygon"]},
                                          "coordinates": {"type": "array", "items": _RING}},
         "required": ["type", "coordinates"]},
        {"type": "object", "properties": {"type": {"type": "string", "enum": ["MultiPolygon"]},
                                          "coordinates": {"type": "array", "items": {"type": "array", "items": _RING}}},
         "required": ["type", "coordinates"]},
    ],
    "description": "A GeoJSON Polygon or MultiPolygon (RFC 7946).",
}, component_name="GeoJSONGeometry")
class GeoJSONGeometryField(serializers.JSONField):
    """A boundary as stored (``grids.geometry`` admits only polygons), for the OpenAPI schema."""


# --- The error shape, for the OpenAPI schema ------------------------------------------------------------

class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=gettext_lazy("A stable machine code, e.g. conflict, outside_city, not_your_grid."))
    message = serializers.CharField(help_text=gettext_lazy("A sentence for the person who acted, in their language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=gettext_lazy("Messages per input field (a list item or nested field as name.0 or name.sub); "
                               "empty when the error is not a field's."))


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (governance.core.api)."""

    error = ErrorBodySerializer()



# --- Pagination that refuses what it cannot read ------------------------------------------------------

class StrictPageNumberPagination(PageNumberPagination):
    """DRF's page numbers, but ``?page=abc`` or ``?page_size=-3`` is a 400 naming the parameter,
    like every other query parameter; a page past the end stays a 404."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name) if name else None
            if not raw:  # not given, or empty as a form sends it: the first page, the usual size
                continue
            if raw == "last" and name == self.page_query_param:
                continue
            if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
                errors[name] = [_("Give a whole number from 1.")]
        if errors:
            raise exceptions.ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {"name": self.page_query_param, "required": False, "in": "query",
             "description": "A page number from 1, or `last`; a page past the end is 404.",
             "schema": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["last"]}]}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Results per page, from 1; more than {self.max_page_size} gives {self.max_page_size}.",
             "schema": {"type": "integer", "minimum": 1}},
        ]
