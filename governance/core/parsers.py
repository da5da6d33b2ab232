"""The API's JSON parser, bounded (its own module: DRF reads parser classes from the settings while
``rest_framework.views`` is still being imported, so this must not import it)."""

import codecs
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

# JSON deeper than this is refused: nothing the API takes nests more than a few levels.
MAX_JSON_DEPTH = 32


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with bounds: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused (413) before
    it is read whole, and nesting deeper than ``MAX_JSON_DEPTH`` is a parse error (400), never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("JSON body too large")
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=json_strict_constant)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON is nested too deeply.")) from None
        except (ValueError, LookupError) as exc:
            raise exceptions.ParseError(_("The body is not valid JSON: %(reason)s") % {"reason": exc}) from None
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(_("The JSON is nested more than %(n)d levels deep.") % {"n": MAX_JSON_DEPTH})
        return data


def json_strict_constant(value):
    raise ValueError(f"{value} is not valid JSON")


def _depth_exceeds(data, limit: int) -> bool:
    """Whether ``data`` nests deeper than ``limit`` levels, without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
