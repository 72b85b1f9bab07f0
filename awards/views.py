"""The public ranking pages, their CSV, a regency's figures, and the provincial staff's page."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_http_methods

from agencies.models import Region
from agencies.selectors import staff_scope_for
from lapor import spreadsheet
from lapor.pagecache import public_page

from . import imports, report, selectors, services, tables, whatif
from .models import (
    ALLOWED_NORMALISATIONS,
    LOWER_IS_BETTER,
    Indicator,
    Level,
    Normalisation,
    Result,
    ResultStatus,
    Scheme,
    ThinData,
)
from .services import FIRST_YEAR, RankingError


def _level_and_region(request, level_default=Level.REGENCY):
    """The ``level`` and (agencies) ``region`` query parameters, or an error message."""
    level = request.GET.get("level") or level_default
    if level not in Level.values:
        return (
            None,
            None,
            _("Unknown level “%(level)s”: use regency or agency.") % {"level": level[:20]},
        )
    region = None
    code = request.GET.get("region")
    if level == Level.AGENCY and code:
        region = Region.objects.filter(code=code).first()
        if region is None:
            return None, None, _("Unknown regency or city code “%(code)s”.") % {"code": code[:12]}
    return level, region, None


def _check_year_in_range(year: int) -> None:
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise Http404(_("There is no ranking for that year."))


@public_page
def rankings(request):
    """The latest published year, else the current year's provisional draft."""
    year = selectors.latest_published_year() or timezone.localdate().year
    return _ranking_page(request, year, is_index=True)


@public_page
def ranking_year(request, year: int):
    _check_year_in_range(year)
    return _ranking_page(request, year, is_index=False)


def _ranking_page(request, year: int, *, is_index: bool):
    level, region, error = _level_and_region(request)
    context = {
        "year": year,
        "years": selectors.ranking_years(),
        "levels": Level.choices,
        "regions": selectors.ranked_regions(),
        "is_index": is_index,
    }
    if error:
        context.update(level=Level.REGENCY, error=error)
        return render(request, "awards/ranking.html", context, status=400)
    result = selectors.result_shown(year=year, level=level)
    context.update(level=level, region=region, result=result)
    if result is None:
        return render(request, "awards/ranking.html", context, status=200 if is_index else 404)
    rows = selectors.result_rows(result, region=region)
    by_region = region is not None
    has_previous = tables.has_previous_year(rows)
    table_rows = [
        (row, tables.row_cells(result, row, has_previous=has_previous, by_region=by_region))
        for row in rows
    ]
    context.update(
        rows=rows,
        criteria=tables.criteria(result),
        compact=tables.compact(result, rows, has_previous=has_previous, by_region=by_region),
        table_rows=table_rows,
        # The full table as shown: numbers in the page's language (2,01 on Indonesian pages).
        full_rows=[(row, [c.in_language() for c in cells]) for row, cells in table_rows],
        header=tables.header(result, by_region=by_region),
        chart=tables.chart(result, rows, by_region=by_region),
        bands=tables.bands(result),
        previous_year=next((r.previous_year for r in rows if r.previous_year), None),
        thin=tables.thin(result),
        csv_query=request.GET.urlencode(),
    )
    return render(request, "awards/ranking.html", context)


def _export(request, year: int):
    """(result, header, rows of cells, file name stem) for the ranking's downloads, or an
    error response."""
    _check_year_in_range(year)
    level, region, error = _level_and_region(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    result = selectors.result_shown(year=year, level=level)
    if result is None:
        raise Http404(_("There is no ranking for that year."))
    rows = selectors.result_rows(result, region=region)
    by_region = region is not None
    has_previous = tables.has_previous_year(rows)
    status = "" if result.is_published else "-provisional"
    scope = f"-{region.code}" if region else ""
    cells = [
        tables.row_cells(result, row, has_previous=has_previous, by_region=by_region)
        for row in rows
    ]
    stem = f"lapor-ranking-{year}-{level}{scope}{status}"
    return result, tables.header(result, by_region=by_region), cells, stem


def _download(content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_page
def ranking_csv(request, year: int):
    """The full table, numbers with a decimal point, comma-separated (UTF-8 with a BOM)."""
    export = _export(request, year)
    if isinstance(export, HttpResponse):
        return export
    _result, header, rows, stem = export
    response = _download("text/csv; charset=utf-8", f"{stem}.csv")
    response.write(spreadsheet.BOM)  # so spreadsheet programs read UTF-8
    writer = spreadsheet.safe_writer(response)
    writer.writerow(header)
    writer.writerows([c.text for c in cells] for cells in rows)
    return response


@public_page
def ranking_csv_excel(request, year: int):
    """The same table in the form Indonesian Excel opens: ";", decimal comma, UTF-8 BOM."""
    export = _export(request, year)
    if isinstance(export, HttpResponse):
        return export
    _result, header, rows, stem = export
    response = _download("text/csv; charset=utf-8", f"{stem}-excel-id.csv")
    response.write(spreadsheet.BOM)
    writer = spreadsheet.excel_id_writer(response)
    writer.writerow(header)
    writer.writerows([c.shown(",") for c in cells] for cells in rows)
    return response


@public_page
def ranking_xlsx(request, year: int):
    """The same table as an Excel workbook: numbers as numbers, text formula-safe."""
    export = _export(request, year)
    if isinstance(export, HttpResponse):
        return export
    result, header, rows, stem = export
    body = spreadsheet.xlsx_bytes(
        [
            header,
            *(
                [
                    c.text if c.number is None else spreadsheet.Number(c.number, c.places)
                    for c in cells
                ]
                for cells in rows
            ),
        ],
        title=f"{result.year} {result.get_level_display()}",
    )
    response = _download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{stem}.xlsx"
    )
    response.write(body)
    return response


@public_page
def region_figures(request, year: int, code: str):
    _check_year_in_range(year)
    region = get_object_or_404(selectors.ranked_regions(), code=code)
    figures = selectors.region_figures(region=region, year=year)
    result = selectors.result_shown(year=year, level=Level.REGENCY)
    row = result.rows.filter(region=region).first() if result else None
    history = selectors.region_history(region)
    ranked = [h for h in history if h.rank is not None]
    top_score = max(
        (Decimal(h.result.scheme_snapshot.get("max_score") or h.score) for h in history),
        default=Decimal(1),
    )
    agency_result, agencies = selectors.region_agencies(year=year, region=region)
    context = {
        "year": year,
        "region": region,
        "figures": figures,
        "result": result,
        "row": row,
        "history": history,
        "score_chart": tables.line_chart([(h.result.year, h.score) for h in history], top=top_score)
        if len(history) > 1
        else None,
        "rank_chart": tables.line_chart(
            [(h.result.year, h.rank) for h in ranked],
            top=Decimal(max(13, *(h.rank for h in ranked))) if ranked else Decimal(13),
            invert=True,
            places=0,
        )
        if len(ranked) > 1
        else None,
        "against_median": [
            {
                "name": c["value"].name,
                "raw": tables.localised(tables.raw_text(c["value"].indicator, c["value"].raw)),
                "median": tables.localised(tables.raw_text(c["value"].indicator, c["median"])),
                "below": c["median"] is not None
                and (c["value"].raw or 0) < c["median"]
                and c["value"].indicator not in LOWER_IS_BETTER,
            }
            for c in (selectors.criteria_against_median(result, row) if row else [])
        ],
        "agency_result": agency_result,
        "agencies": agencies,
    }
    return render(request, "awards/region.html", context)


def _province_staff_or_403(request):
    if not staff_scope_for(request.user).is_province:
        raise PermissionDenied(_("This page is for provincial Kominfo staff."))


@login_required
@require_http_methods(["GET", "POST"])
def ranking_staff(request):
    _province_staff_or_403(request)
    now = timezone.now()
    try:
        year = int(
            request.POST.get("year") or request.GET.get("year") or timezone.localdate(now).year
        )
    except ValueError:
        year = timezone.localdate(now).year
    level = request.POST.get("level") or request.GET.get("level") or Level.REGENCY
    errors = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            services.check_level(level)
            services.check_year(year, now=now)
            if action == "apply_scheme":
                services.scheme_apply_ready_made(
                    year=year,
                    level=level,
                    template_id=request.POST.get("scheme") or None,
                    actor=request.user,
                )
                messages.success(request, _("The year's scheme has been replaced."))
            elif action == "compute":
                services.ranking_compute(year=year, level=level, actor=request.user)
                messages.success(request, _("The draft has been computed."))
            elif action in ("publish", "withdraw"):
                result = get_object_or_404(
                    Result, pk=request.POST.get("result"), year=year, level=level
                )
                if action == "publish" and not request.POST.get("confirmed"):
                    return _publish_confirmation(request, result, now=now)
                if action == "publish":
                    services.ranking_publish(
                        result=result, actor=request.user, reason=request.POST.get("reason", "")
                    )
                    messages.success(request, _("The ranking has been published."))
                else:
                    services.ranking_withdraw(
                        result=result, actor=request.user, reason=request.POST.get("reason", "")
                    )
                    messages.success(request, _("The ranking has been withdrawn."))
            else:
                raise RankingError(_("Unknown action."))
        except RankingError as exc:
            errors = {exc.field or "__all__": exc.message, "action": action}
            if action == "publish" and request.POST.get("confirmed"):
                return _publish_confirmation(request, result, now=now, errors=errors, status=400)
        else:
            return redirect(f"{reverse('ranking-staff')}?year={year}&level={level}")
    if level not in Level.values:
        level = Level.REGENCY
    draft = Result.objects.filter(year=year, level=level, status=ResultStatus.DRAFT).first()
    published = Result.objects.filter(year=year, level=level, status=ResultStatus.PUBLISHED).first()
    compare_with = selectors.last_published(level=level, before_or_in=year)
    comparison = _compare(draft, compare_with) if draft else []
    context = {
        "year": year,
        "level": level,
        "levels": Level.choices,
        "years": range(timezone.localdate(now).year, FIRST_YEAR - 1, -1),
        "draft": draft,
        "published": published,
        "compare_with": compare_with,
        "comparison": comparison,
        "log": selectors.ranking_log(year=year, level=level),
        "ready_made": services.ready_made_schemes(level),
        "year_scheme": Scheme.objects.filter(year=year, level=level).first(),
        "errors": errors,
        "reason": request.POST.get("reason", "") if errors else "",
    }
    return render(request, "awards/staff.html", context, status=400 if errors else 200)


def _compare(draft: Result, other: Result | None) -> list[dict]:
    """The draft's rows beside the same groups in ``other`` (the last published result)."""
    key = "region_id" if draft.level == Level.REGENCY else "agency_id"
    before = {}
    if other is not None:
        before = {getattr(r, key): r for r in other.rows.all()}
    out = []
    for row in draft.rows.order_by("rank", "name"):
        old = before.get(getattr(row, key))
        out.append(
            {
                "row": row,
                "old": old,
                "rank_change": (old.rank - row.rank) if old else None,
                "score_change": (row.score - old.score) if old else None,
            }
        )
    return out


def _publish_confirmation(request, result: Result, *, now, errors=None, status=200):
    """What publishing will freeze, what changed since the last draft, and whether the year is
    over; publishing happens only from this page (``confirmed``)."""
    key = services.group_key_field(result.level)
    replaced = result.replaced_draft or {}
    before = replaced.get("rows", {})
    changes = []
    for row in result.rows.order_by("rank", "name"):
        old = before.get(str(getattr(row, key)))
        if old is None:
            changes.append({"row": row, "old": None})
        elif old["rank"] != row.rank or Decimal(old["score"]) != row.score:
            changes.append({"row": row, "old": old, "old_score": Decimal(old["score"])})
    published = Result.objects.filter(
        year=result.year, level=result.level, status=ResultStatus.PUBLISHED
    ).first()
    context = {
        "result": result,
        "year": result.year,
        "level": result.level,
        "row_count": result.rows.count(),
        "criteria": tables.criteria(result),
        "bands": tables.bands(result),
        "thin": tables.thin(result),
        "replaced": replaced,
        "scheme_changed": bool(replaced)
        and replaced.get("scheme", {}).get("criteria") != result.scheme_snapshot.get("criteria"),
        "changes": changes,
        "year_over": services.year_is_over(result.year, now),
        "published": published,
        "errors": errors or {},
        "reason": request.POST.get("reason", ""),
    }
    return render(request, "awards/publish_confirm.html", context, status=status)


class ImportForm(forms.Form):
    year = forms.IntegerField(label=_l("Year"), min_value=FIRST_YEAR, max_value=9999)
    scheme_name = forms.CharField(
        label=_l("Scheme the province used"),
        max_length=150,
        help_text=_l("E.g. “Penilaian SP4N-LAPOR! 2022, Diskominfo Kalimantan Selatan”."),
    )
    source = forms.CharField(
        label=_l("Source"),
        max_length=300,
        required=False,
        help_text=_l("Where it was published, e.g. a press release and its date."),
    )
    file = forms.FileField(
        label=_l("CSV file"),
        required=False,
        help_text=_l(
            "Columns region, score, rank, predicate; “,” or “;” between cells; UTF-8. "
            "See docs/awards-2022-example.csv."
        ),
    )
    text = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200_000)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            try:
                data["text"] = imports.decode(upload.read(imports.MAX_BYTES + 1))
            except RankingError as exc:
                self.add_error("file", exc.message)
        elif not data.get("text"):
            self.add_error("file", _("Choose the CSV file."))
        return data


@login_required
@require_http_methods(["GET", "POST"])
def ranking_import(request):
    """Import a past year's published ranking: check first (every row's errors), then save."""
    _province_staff_or_403(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    check = None
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        apply = request.POST.get("action") == "apply"
        try:
            check, result = imports.ranking_import(
                year=data["year"],
                text=data["text"],
                scheme_name=data["scheme_name"],
                source=data["source"],
                actor=request.user,
                dry_run=not apply,
            )
        except RankingError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = 400
        else:
            if result is not None:
                messages.success(
                    request,
                    _("The %(year)s ranking has been imported.") % {"year": result.year},
                )
                return redirect("ranking-year", result.year)
            form = ImportForm(initial={**data, "text": data["text"]})
            status = 200 if check.ok else 400
    elif request.method == "POST":
        status = 400
    return render(request, "awards/import.html", {"form": form, "check": check}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def ranking_what_if(request):
    """Other weights or criteria for the year's draft, ranked beside the year's scheme; saved
    as the year's scheme only when asked (and only before publication)."""
    _province_staff_or_403(request)
    now = timezone.now()
    source = request.POST if request.method == "POST" else request.GET
    try:
        year = int(source.get("year") or timezone.localdate(now).year)
    except ValueError:
        year = timezone.localdate(now).year
    level = source.get("level") or Level.REGENCY
    try:
        services.check_level(level)
        services.check_year(year, now=now)
        scheme = services.scheme_for_year(year=year, level=level)
    except RankingError as exc:
        return render(
            request, "awards/what_if.html", {"fatal": exc.message, "year": year}, status=400
        )
    errors, rows = {}, None
    if request.method == "POST":
        proposal, errors = whatif.proposal_from_form(request.POST, level=level, current=scheme)
    else:
        proposal = whatif.proposal_from_scheme(scheme)
    if request.method == "POST" and not errors:
        try:
            if request.POST.get("action") == "save":
                whatif.scheme_save(year=year, level=level, proposal=proposal, actor=request.user)
                messages.success(
                    request,
                    _("The year's scheme has been saved. Compute the draft again to apply it."),
                )
                return redirect(f"{reverse('ranking-staff')}?year={year}&level={level}")
            rows = whatif.what_if(year=year, level=level, proposal=proposal, now=now)
        except RankingError as exc:
            errors = {exc.field or "__all__": exc.message}
    chosen = {c.indicator: c for c in proposal.criteria}
    fields = [
        {
            "indicator": indicator,
            "label": Indicator(indicator).label,
            "weight": request.POST.get(f"weight_{indicator}", "")
            if request.method == "POST"
            else (str(chosen[indicator].weight) if indicator in chosen else ""),
            "normalisation": chosen[indicator].normalisation
            if indicator in chosen
            else request.POST.get(f"norm_{indicator}", ""),
            "normalisations": [
                (n, Normalisation(n).label) for n in sorted(ALLOWED_NORMALISATIONS[indicator])
            ],
            "error": errors.get(f"weight_{indicator}") or errors.get(f"norm_{indicator}"),
        }
        for indicator in whatif.indicators_for(level)
    ]
    published = Result.objects.filter(year=year, level=level, status=ResultStatus.PUBLISHED)
    context = {
        "year": year,
        "level": level,
        "scheme": scheme,
        "fields": fields,
        "proposal": proposal,
        "thin_choices": ThinData.choices,
        "errors": errors,
        "rows": rows,
        "can_save": not scheme.is_locked and not published.exists(),
    }
    return render(request, "awards/what_if.html", context, status=400 if errors else 200)


def _report_result(request, year: int) -> Result:
    """The year's regency ranking the report is about: staff see it always, the public once
    it is published (a draft's report is not found for them)."""
    _check_year_in_range(year)
    result = selectors.result_shown(year=year, level=Level.REGENCY)
    if result is None or (not result.is_published and not staff_scope_for(request.user).is_staff):
        raise Http404(_("There is no monitoring report for that year yet."))
    return result


def ranking_report(request, year: int):
    """The year's monitoring and evaluation report, as a printable page."""
    result = _report_result(request, year)
    context = report.context(result)
    context["can_write_plans"] = staff_scope_for(request.user).is_province
    return render(request, "awards/report.html", context)


def ranking_report_pdf(request, year: int):
    """The same report as an A4 PDF (WeasyPrint)."""
    result = _report_result(request, year)
    html = render_to_string("awards/report_pdf.html", report.context(result), request=request)
    status = "" if result.is_published else "-provisional"
    response = _download("application/pdf", f"lapor-monitoring-report-{year}{status}.pdf")
    response.write(report.pdf_bytes(html))
    return response


class PlanForm(forms.Form):
    text = forms.CharField(
        label=_l("Follow-up plan"),
        widget=forms.Textarea(attrs={"rows": 10}),
        min_length=services.PLAN_MIN_CHARS,
        max_length=services.PLAN_MAX_CHARS,
        help_text=_l(
            "What the province and the regency or city will do, by whom and by when. Each save "
            "keeps the earlier versions."
        ),
    )


@login_required
def ranking_plans(request, year: int):
    """The year's regencies and cities, the lagging ones marked, with their follow-up plans."""
    _province_staff_or_403(request)
    _check_year_in_range(year)
    result = selectors.result_shown(year=year, level=Level.REGENCY)
    rows = selectors.result_rows(result) if result else []
    behind = report.lagging(result, rows) if result else set()
    written = selectors.action_plans(year=year)
    regions = [
        {
            "region": row.region,
            "row": row,
            "lagging": row.region_id in behind,
            "version": written.get(row.region_id),
        }
        for row in rows
    ]
    context = {"year": year, "result": result, "regions": regions}
    return render(request, "awards/plans.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def ranking_plan_edit(request, year: int, code: str):
    """Write the follow-up plan with one regency or city for the year (a new version)."""
    _province_staff_or_403(request)
    _check_year_in_range(year)
    region = get_object_or_404(selectors.ranked_regions(), code=code)
    versions = selectors.action_plan_versions(year=year, region=region)
    initial = {"text": versions[0].text} if versions else {}
    form = PlanForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.action_plan_write(
                    year=year, region=region, text=form.cleaned_data["text"], actor=request.user
                )
            except RankingError as exc:
                form.add_error("text" if exc.field == "text" else None, exc.message)
            else:
                messages.success(request, _("The follow-up plan has been saved."))
                return redirect("ranking-plans", year)
        status = 400
    context = {"year": year, "region": region, "form": form, "versions": versions}
    return render(request, "awards/plan_edit.html", context, status=status)
