from django import forms
from django.utils.translation import gettext_lazy as _

from governance.ledgers.models import ProgressStatus, ProjectLevel, ProjectStatus


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class FilingForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"))
    status = forms.ChoiceField(label=_("Status"), choices=ProgressStatus.choices)
    percent = forms.IntegerField(label=_("Percent complete"), min_value=0, max_value=100)
    narrative = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    evidence = MultipleFileField(label=_("Evidence files (PDF, images, office documents)"), required=False)

    def __init__(self, *args, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p, p) for p in periods]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("return", _("Return"))])
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              max_length=2000)


class NoticeForm(forms.Form):
    content = forms.CharField(label=_("What the unit must do"), widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=5000)
    due_on = forms.DateField(label=_("Respond by"), widget=forms.DateInput(attrs={"type": "date"}))


class ResponseForm(forms.Form):
    response = forms.CharField(label=_("Response"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    level = forms.ChoiceField(label=_("Level"), choices=ProjectLevel.choices)
    region = forms.ChoiceField(label=_("Territory"))
    status = forms.ChoiceField(label=_("Status"), choices=ProjectStatus.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=10000)
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.pk, r.name) for r in regions]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Task breakdown (xlsx)"))
