"""The API's one error shape, and the handler that makes every error take it.

    {"error": {"code": "conflict", "message": "...", "fields": {"lat": ["..."]}}}
"""

from django.core.exceptions import PermissionDenied
from django.db.models.manager import BaseManager
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
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
