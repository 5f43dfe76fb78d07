"""Serializer fields for text input, each carrying the control-character rule of validators.py.

`LineField` is for identifiers and one-line values (names, usernames, external ids): no control
character at all. `TextField` is for free text (notes, reasons, descriptions): tab and line breaks
only. `ModelSerializer` maps model CharFields and TextFields onto them, so a configuration
serializer gets the rule without declaring its fields. (SlugField, EmailField, URLField and
RegexField input is held by their own patterns.)
"""

from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from rest_framework import serializers

from .validators import free_text, single_line


def _with(validators: list, rule) -> list:
    # The rule covers NUL, so DRF's own NUL check would only repeat the message.
    return [v for v in validators if not isinstance(v, ProhibitNullCharactersValidator)] + [rule]


class LineField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = _with(self.validators, single_line)


class TextField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = _with(self.validators, free_text)


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: LineField,
        models.TextField: TextField,
    }
