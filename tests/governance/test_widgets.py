"""QuickSelect writes the markup Django's Select template writes."""

import pytest
from django import forms

from governance.core.widgets import QuickSelect

CHOICES = [("", "全部"), ("1", "市政设施 / 道路破损"), ("2", "<b>不是标签</b> & 引号\""),
           ("消防", [("3", "消防通道堵塞"), ("4", "电动车违规充电")])]


@pytest.mark.parametrize("value", [None, "", "2", "4", "not a choice"])
def test_quick_select_renders_what_django_renders(value):
    attrs = {"id": "id_category", "class": "wide", "required": True, "disabled": False}
    django_html = forms.Select(choices=CHOICES).render("category", value, attrs=attrs)
    quick_html = QuickSelect(choices=CHOICES).render("category", value, attrs=attrs)
    assert quick_html == django_html
    assert "&lt;b&gt;" in quick_html  # labels are escaped


def test_a_model_choice_field_renders_the_same_through_quick_select(db):
    from incidents.models import Category
    from tests.incidents.conftest import categories  # noqa: F401

    field = forms.ModelChoiceField(queryset=Category.objects.all(), widget=QuickSelect)
    django_field = forms.ModelChoiceField(queryset=Category.objects.all())
    assert field.widget.render("c", None) == django_field.widget.render("c", None)
