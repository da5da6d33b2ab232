"""The API's one error shape, and the handler that makes every error take it.

    {"error": {"code": "conflict", "message": "...", "fields": {"lat": ["..."]}}}
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance.errors import DomainError


def error_body(code: str, message, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.field_errors), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = error_body("invalid", _("Some fields are not valid."), fields)
    else:
        detail = data.get("detail", data) if isinstance(data, dict) else data
        code = getattr(detail, "code", None) or (exc.default_code if hasattr(exc, "default_code") else "error")
        response.data = error_body(code, detail)
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data["error"]["code"] = "not_authenticated"
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


def _remake(field: serializers.Field) -> serializers.Field:
    """A new, unbound field with the arguments ``field`` was made with (``Field.__deepcopy__`` without the copy).

    A list's child (``many=True``, ``ListField``) is an argument that gets bound: it is made anew too.
    """
    kwargs = field._kwargs
    if "child" in kwargs:
        kwargs = {**kwargs, "child": _remake(kwargs["child"])}
    return field.__class__(*field._args, **kwargs)
