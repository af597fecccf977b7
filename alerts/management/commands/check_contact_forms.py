import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from alerts.delivery.webforms import runner, values
from legislators.contact_forms import captcha_reason
from legislators.models import ContactForm


def check_form(form: ContactForm, *, origin: str, dry_run: bool, topic: str, wait_cap) -> dict:
    """Run one office's definition with a made-up constituent; {"office", "result", "detail"}
    with result ok, captcha, no_option_match or "broken at step N: ..."."""
    office = form.official.key
    reason = captcha_reason(form.definition)
    if reason:
        return {"office": office, "result": "captcha", "detail": reason}
    try:
        plan = values.plan(form.definition, values.test_identity(topic=topic), origin=origin)
    except values.Unfillable as exc:
        return {"office": office, "result": exc.code, "detail": exc.reason}
    try:
        result = runner.fill(plan, dry_run=dry_run, origin=origin, wait_cap=wait_cap)
    except runner.StepFailed as exc:
        return {
            "office": office,
            "result": f"broken at step {exc.number}: {exc.detail}",
            "detail": exc.final_url,
        }
    except runner.BrowserGone as exc:
        return {"office": office, "result": f"broken: the browser stopped: {exc}", "detail": ""}
    if dry_run:
        return {"office": office, "result": "ok", "detail": "dry run: stopped before submitting"}
    if not result.success_seen:
        last = plan.steps[-1].index + 1 if plan.steps else 0
        return {
            "office": office,
            "result": f"broken at step {last}: the success rule did not match",
            "detail": result.final_url,
        }
    return {"office": office, "result": "ok", "detail": result.final_url}


class Command(BaseCommand):
    help = (
        "Fill offices' web forms with a test identity and report per office: ok, captcha, "
        "no_option_match or 'broken at step N: ...'. --dry-run stops before the final click "
        "(a daily canary against the live sites never submits)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--office", action="append", default=[], help="Official key.")
        parser.add_argument("--origin", help="Replicas' origin (default CONTACT_FORMS_ORIGIN).")
        parser.add_argument("--dry-run", action="store_true", help="Never submit.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="A JSON list on stdout."
        )
        parser.add_argument("--topic", default="Foreign Relations", help="The test's topic.")
        parser.add_argument(
            "--wait-cap", type=float, help="Shorten the definitions' waits to this (replicas)."
        )

    def handle(self, *args, office, origin, dry_run, as_json, topic, wait_cap, **options):
        origin = settings.CONTACT_FORMS_ORIGIN if origin is None else origin
        forms = ContactForm.objects.select_related("official").order_by("official__key")
        if office:
            forms = forms.filter(official__key__in=office)
            missing = set(office) - set(forms.values_list("official__key", flat=True))
            if missing:
                raise CommandError(f"no web form for: {', '.join(sorted(missing))}")
        try:
            report = [
                check_form(f, origin=origin, dry_run=dry_run, topic=topic, wait_cap=wait_cap)
                for f in forms
            ]
        finally:
            runner.close()
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
            return
        for row in report:
            self.stdout.write(f"{row['office']}: {row['result']}")
        ok = sum(row["result"] == "ok" for row in report)
        self.stdout.write(f"{ok} of {len(report)} ok" + (" (dry run)" if dry_run else ""))
