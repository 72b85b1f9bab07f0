"""The exchange with SP4N-LAPOR! for provincial staff: export the complaints new or changed on a
day or since a mark (CSV or JSON), and import a national file of dispositions and status
updates: upload, read the dry-run report, confirm. ``complaints.national`` does the work."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods

from complaints import national

from .common import staff_scope_or_403

FORMATS = (("csv", "CSV"), ("json", "JSON"))


class ExportForm(forms.Form):
    day = forms.DateField(
        label=_l("Day (WITA)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    since = forms.DateTimeField(
        label=_l("Or changed since (a mark)"),
        required=False,
        help_text=_l("The “sampai” of the previous export, e.g. 2026-12-05T23:59:59+08:00."),
    )
    format = forms.ChoiceField(label=_l("Format"), choices=FORMATS, initial="csv")

    def clean(self):
        data = super().clean()
        if not self.errors and (data.get("day") is None) == (data.get("since") is None):
            raise forms.ValidationError(_("Choose a day or give a mark, not both."))
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_l("National file (CSV or JSON)"),
        required=False,
        help_text=_l("UTF-8, at most 2 MB and 5000 rows; the columns of docs/sp4n-lapor.md."),
    )
    text = forms.CharField(widget=forms.HiddenInput, required=False, max_length=national.MAX_BYTES)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            try:
                data["text"] = national.decode(upload.read(national.MAX_BYTES + 1))
            except national.FileError as exc:
                self.add_error("file", exc.message)
        elif not data.get("text"):
            self.add_error("file", _("Choose the file."))
        return data


def _province_or_403(request) -> None:
    if not staff_scope_or_403(request).is_province:
        raise PermissionDenied(_("This page is for provincial staff."))


def _page(request, *, export_form, import_form, check=None, status=200) -> HttpResponse:
    context = {"export_form": export_form, "import_form": import_form, "check": check}
    return render(request, "dashboard/national.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def national_exchange(request):
    _province_or_403(request)
    export_form = ExportForm(initial={"day": timezone.localdate(), "format": "csv"})
    if request.method != "POST":
        return _page(request, export_form=export_form, import_form=ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, export_form=export_form, import_form=form, status=400)
    text = form.cleaned_data["text"]
    try:
        if request.POST.get("action") == "apply":
            check = national.import_apply(request.user, text)
            messages.success(
                request,
                _("Applied %(n)s row(s) from SP4N-LAPOR! through the workflow.")
                % {"n": check.changes},
            )
            return redirect("dashboard-national")
        check = national.import_check(request.user, text)
    except national.FileError as exc:
        form.add_error("file", exc.message)
        return _page(request, export_form=export_form, import_form=form, status=400)
    except national.ImportRefused as exc:
        form = ImportForm(initial={"text": text})
        if exc.message:
            form.add_error(None, exc.message)
        return _page(
            request, export_form=export_form, import_form=form, check=exc.check, status=400
        )
    form = ImportForm(initial={"text": text})
    return _page(
        request,
        export_form=export_form,
        import_form=form,
        check=check,
        status=200 if check.ok else 400,
    )


@login_required
@require_GET
def national_export(request):
    _province_or_403(request)
    form = ExportForm(request.GET)
    if not form.is_valid():
        return _page(request, export_form=form, import_form=ImportForm(), status=400)
    data = form.cleaned_data
    if data["day"] is not None:
        since, until = national.day_period(data["day"])
        stamp = data["day"].strftime("%Y%m%d")
    else:
        since, until = data["since"], timezone.now()
        stamp = timezone.localtime(since).strftime("%Y%m%d-%H%M%S")
    rows = national.export_rows(request.user, since=since, until=until)
    if data["format"] == "json":
        response: HttpResponse | StreamingHttpResponse = HttpResponse(
            national.export_json(rows, since=since, until=until),
            content_type="application/json; charset=utf-8",
        )
    else:
        response = StreamingHttpResponse(
            national.export_csv(rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="sp4n-lapor-{stamp}.{data["format"]}"'
    response["Cache-Control"] = "private, no-store"
    return response
