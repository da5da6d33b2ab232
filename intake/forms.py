from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from intake.services import resident_categories


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}"


class QuickReportForm(forms.Form):
    category = CategoryChoiceField(label=_("What kind of problem?"), queryset=None, empty_label=_("Choose…"))
    description = forms.CharField(label=_("What did you see, and where exactly?"), max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    photo = forms.ImageField(label=_("Photo (optional)"), required=False,
                             widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    phone = forms.CharField(label=_("Phone number (optional, only for a call back)"), required=False, max_length=20,
                            validators=[RegexValidator(r"^\+?[0-9 \-]{5,20}$", _("Enter a phone number."))],
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    # The honeypot: hidden from people by the stylesheet, filled by bots that fill every field.
    website = forms.CharField(required=False, label=_("Leave this field empty"),
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = resident_categories()

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lng") is None):
            data["lat"] = data["lng"] = None  # half a location is no location
        return data


class TrackForm(forms.Form):
    code = forms.CharField(label=_("Tracking code"), max_length=24)
