import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from . import states


class Party(models.TextChoices):
    DEMOCRAT = "D", "Democrat"
    REPUBLICAN = "R", "Republican"
    INDEPENDENT = "I", "Independent"
    LIBERTARIAN = "L", "Libertarian"


class Chamber(models.TextChoices):
    HOUSE = "house", "House"
    SENATE = "senate", "Senate"


class LegislatorQuerySet(models.QuerySet):
    def in_office(self):
        return self.filter(in_office=True)

    def senators(self):
        return self.filter(chamber=Chamber.SENATE)

    def representatives(self):
        return self.filter(chamber=Chamber.HOUSE)

    def serving_on(self, day):
        """Legislators with a term (in either chamber) that covers `day`."""
        return self.filter(terms__start__lte=day, terms__end__gte=day).distinct()


class Legislator(models.Model):
    bioguide_id = models.CharField("bioguide id", max_length=10, unique=True)
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    suffix = models.CharField(max_length=20, blank=True)
    nickname = models.CharField(max_length=100, blank=True)
    official_full_name = models.CharField(max_length=200, blank=True)

    party = models.CharField(max_length=1, choices=Party.choices)
    state = models.CharField(max_length=2, choices=states.CHOICES)
    chamber = models.CharField(max_length=6, choices=Chamber.choices)
    district = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="House only; 0 for at-large seats and delegates."
    )
    senate_class = models.PositiveSmallIntegerField(null=True, blank=True)
    in_office = models.BooleanField(default=True)

    phone = models.CharField(max_length=30, blank=True)
    office_address = models.CharField(max_length=300, blank=True)
    contact_form_url = models.URLField(blank=True)
    website = models.URLField(blank=True)
    cwc_office_code = models.CharField("CWC office code", max_length=5, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LegislatorQuerySet.as_manager()

    class Meta:
        ordering = ["state", "chamber", "district", "last_name"]
        constraints = [
            models.CheckConstraint(
                name="legislator_district_only_in_house",
                condition=Q(chamber=Chamber.HOUSE, district__isnull=False)
                | Q(chamber=Chamber.SENATE, district__isnull=True),
            ),
            models.CheckConstraint(
                name="legislator_senate_class_only_in_senate",
                condition=Q(chamber=Chamber.HOUSE, senate_class__isnull=True)
                | Q(chamber=Chamber.SENATE, senate_class__in=[1, 2, 3]),
            ),
        ]
        indexes = [models.Index(fields=["state", "chamber", "district"])]

    def __str__(self):
        return f"{self.display_name} ({self.party}-{self.state})"

    @property
    def display_name(self):
        return self.official_full_name or f"{self.first_name} {self.last_name}"

    @property
    def is_delegate(self):
        """Delegates and the Resident Commissioner sit in the House without a vote."""
        return self.state in states.TERRITORIES

    @property
    def seat(self):
        return (
            self.state if self.chamber == Chamber.SENATE else house_seat(self.state, self.district)
        )

    @property
    def title(self):
        if self.chamber == Chamber.SENATE:
            return "Senator"
        if self.state == "PR":
            return "Resident Commissioner"
        if self.is_delegate:
            return "Delegate"
        return "Representative"


class Official(models.Model):
    """Anything a message can be delivered to: a sitting legislator or an executive office."""

    class Kind(models.TextChoices):
        LEGISLATOR = "legislator", "Legislator"
        EXECUTIVE = "executive", "Executive official"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        CWC = "cwc", "Communicating With Congress"
        WEBHOOK = "webhook", "Webhook"
        WEB_FORM = "web_form", "Web form, filled by a browser"
        CONTACT_FORM = "contact_form", "Contact form only"

    key = models.SlugField(
        max_length=64, unique=True, help_text="Stable handle, e.g. 'us-president' or a bioguide id."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    legislator = models.OneToOneField(
        Legislator, null=True, blank=True, on_delete=models.PROTECT, related_name="official"
    )
    title = models.CharField(max_length=120, help_text="The office, e.g. 'Secretary of State'.")
    name = models.CharField(max_length=200, help_text="Who holds the office now.")
    last_name = models.CharField(max_length=100, help_text="Used in salutations.")
    salutation = models.CharField(
        max_length=200,
        blank=True,
        help_text="How a message greets this office, without the comma: 'Dear Secretary "
        "Rubio', 'Dear Madam Secretary'. A salutation naming the holder is used only while the "
        "holder is verified. Blank: the title's form of address and the last name ('Dear "
        "Senator Kim', 'Dear Secretary Rubio' for the Secretary of State), or the office alone "
        "('Dear Secretary of State') while an executive holder is not verified.",
    )

    channel = models.CharField(max_length=12, choices=Channel.choices)
    email = models.EmailField(blank=True)
    cwc_office = models.CharField("CWC office code", max_length=5, blank=True)
    webhook_url = models.URLField(blank=True)
    contact_form_url = models.URLField(blank=True)
    phone = models.CharField(
        max_length=30, blank=True, help_text="The office's main number (Washington, D.C.)."
    )
    holder_verified_on = models.DateField(
        null=True,
        blank=True,
        help_text="When someone last checked that the holder named here holds the office. "
        "Messages address the office alone when this is unknown or older than "
        "EXECUTIVE_VERIFY_DAYS.",
    )
    is_active = models.BooleanField(default=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "title", "name"]
        constraints = [
            models.CheckConstraint(
                name="official_legislator_iff_kind_legislator",
                condition=Q(kind="legislator", legislator__isnull=False)
                | Q(kind="executive", legislator__isnull=True),
            ),
            models.CheckConstraint(
                name="official_channel_has_address",
                condition=Q(channel="email", email__gt="")
                | Q(channel="cwc", cwc_office__gt="")
                | Q(channel="webhook", webhook_url__gt="")
                | Q(channel="web_form", contact_form_url__gt="")
                | Q(channel="contact_form", contact_form_url__gt=""),
            ),
        ]

    def __str__(self):
        return f"{self.title} {self.name}"

    def clean(self):
        super().clean()
        self._clean_salutation()

    def _clean_salutation(self):
        """A new holder with the old salutation would be greeted by their predecessor's name."""
        if self.pk is None or not self.salutation:
            return
        before = Official.objects.filter(pk=self.pk).values("last_name", "salutation").first()
        if (
            before
            and before["last_name"]
            and before["last_name"] != self.last_name
            and before["salutation"] == self.salutation
            and names_person(self.salutation, before["last_name"])
        ):
            raise ValidationError(
                {
                    "salutation": _(
                        "This salutation greets %(previous)s, who no longer holds the office "
                        "here: write one for %(holder)s, or clear it."
                    )
                    % {"previous": before["last_name"], "holder": self.name or _("the office")}
                }
            )


def names_person(text: str, last_name: str) -> bool:
    """Whether `text` mentions `last_name` as a word ("Dear Secretary Rubio" names Rubio)."""
    last_name = last_name.strip()
    if not last_name:
        return False
    return re.search(rf"(?<!\w){re.escape(last_name)}(?!\w)", text, re.IGNORECASE) is not None


def house_seat(state: str, district: int) -> str:
    """ "CA-30", or "WY-AL" for an at-large seat (district 0)."""
    return f"{state}-AL" if district == 0 else f"{state}-{district:02d}"


class TermQuerySet(models.QuerySet):
    def covering(self, day):
        return self.filter(start__lte=day, end__gte=day)


class Term(models.Model):
    """One term of office, as in congress-legislators: answers "who held this seat on day D"."""

    legislator = models.ForeignKey(Legislator, on_delete=models.CASCADE, related_name="terms")
    chamber = models.CharField(max_length=6, choices=Chamber.choices)
    state = models.CharField(max_length=2, choices=states.CHOICES)
    district = models.PositiveSmallIntegerField(null=True, blank=True)  # House: 0 is at-large
    senate_class = models.PositiveSmallIntegerField(null=True, blank=True)
    party = models.CharField(max_length=1, choices=Party.choices, blank=True)
    start = models.DateField()
    end = models.DateField()

    objects = TermQuerySet.as_manager()

    class Meta:
        ordering = ["legislator", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["legislator", "chamber", "start"], name="term_unique_start"
            ),
            models.CheckConstraint(name="term_ends_after_start", condition=Q(end__gte=F("start"))),
        ]
        indexes = [models.Index(fields=["start", "end"])]

    def __str__(self):
        return f"{self.legislator_id} {self.chamber} {self.state} {self.start} to {self.end}"

    @property
    def seat(self) -> str:
        """ "CA, Senate", or the House seat: "CA-30", "WY-AL"."""
        if self.chamber == Chamber.SENATE:
            return f"{self.state}, Senate"
        return house_seat(self.state, self.district)


class ZipDistrict(models.Model):
    """One (ZCTA, state, district) pair of one Congress. A ZIP in several districts has several."""

    congress = models.PositiveSmallIntegerField()
    zip_code = models.CharField("ZIP code", max_length=5)
    state = models.CharField(max_length=2, choices=states.CHOICES)
    district = models.PositiveSmallIntegerField(help_text="0 for at-large seats and delegates.")

    class Meta:
        ordering = ["congress", "zip_code", "state", "district"]
        constraints = [
            models.UniqueConstraint(
                fields=["congress", "zip_code", "state", "district"], name="zip_district_unique"
            )
        ]
        indexes = [models.Index(fields=["congress", "zip_code"])]

    def __str__(self):
        return f"{self.zip_code} → {self.state}-{self.district} ({self.congress}th)"


class DistrictOffice(models.Model):
    """A member of Congress's office at home (legislators-district-offices)."""

    legislator = models.ForeignKey(
        Legislator, on_delete=models.CASCADE, related_name="district_offices"
    )
    office_id = models.CharField(max_length=100, unique=True, help_text="<bioguide>-<city>")
    address = models.CharField(max_length=300, blank=True)
    suite = models.CharField(max_length=100, blank=True)
    building = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, choices=states.CHOICES)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["legislator", "city"]

    def __str__(self):
        return f"{self.legislator} in {self.city}, {self.state}"


class SenateCwcOffice(models.Model):
    """An entry of the Senate's CWC active-offices list: a seat (S + state + 0 + class) whose
    office takes CWC messages."""

    office_code = models.CharField(max_length=5, unique=True)
    name = models.CharField(max_length=200, help_text="As the list gives it.")
    bioguide_id = models.CharField(max_length=10, blank=True)
    listed = models.BooleanField(default=True, help_text="On the latest list imported.")
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = "Senate CWC office"
        ordering = ["office_code"]

    def __str__(self):
        return self.office_code


class ContactForm(models.Model):
    """How to fill an office's own web form, step by step (the contact-congress format), as
    imported from CONTACT_FORMS_DIR; the web_form channel runs it in a browser."""

    class Status(models.TextChoices):
        WORKING = "working", "Working"
        CAPTCHA = "captcha", "Has a CAPTCHA: never attempted"
        BROKEN = "broken", "Broken: failed repeatedly"

    official = models.OneToOneField(Official, on_delete=models.CASCADE, related_name="contact_form")
    source = models.CharField(max_length=200, help_text="The definition's file, as imported.")
    definition = models.JSONField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    version = models.PositiveIntegerField(default=1, help_text="Raised with each new content.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WORKING)
    enabled = models.BooleanField(
        default=True, help_text="Untick to stop filling this form (deliveries go manual)."
    )
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["official"]

    def __str__(self):
        return f"Web form of {self.official} (v{self.version}, {self.status})"


class BrokenContactFormManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(status=ContactForm.Status.BROKEN)


class BrokenContactForm(ContactForm):
    """Web forms that failed WEB_FORM_BROKEN_AFTER times in a row: their deliveries went to the
    constituents; an operator checks the office's page, re-imports or fixes the definition."""

    objects = BrokenContactFormManager()

    class Meta:
        proxy = True
        verbose_name = "broken web form"
