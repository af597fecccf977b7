import datetime as dt
import secrets
import time
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from legislators import states
from legislators.models import Legislator, Official

from .messages import (
    MESSAGE_MAX_LENGTH,
    STATEMENT_HELP,
    STATEMENT_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    validate_message_template,
    validate_no_greeting,
    validate_no_sign_off,
    validate_subject_names_no_official,
    validate_subject_template,
    validate_suggested_message,
)
from .validators import validate_origin_lines, validate_single_line, validate_zip_code

CWC_TOPICS = (
    "Agriculture and Food", "Animals", "Armed Forces and National Security",
    "Arts, Culture, Religion", "Civil Rights and Liberties, Minority Issues", "Commerce",
    "Congress", "Crime and Law Enforcement", "Economics and Public Finance", "Education",
    "Emergency Management", "Energy", "Environmental Protection", "Families",
    "Finance and Financial Sector", "Foreign Trade and International Finance",
    "Government Operations and Politics", "Health", "Housing and Community Development",
    "Immigration", "International Affairs", "Labor and Employment", "Law",
    "Native Americans", "Public Lands and Natural Resources", "Science, Technology, Communications",
    "Social Sciences and History", "Social Welfare", "Sports and Recreation", "Taxation",
    "Transportation and Public Works", "Water Resources Development",
)  # fmt: skip

# Campaign slugs share the URL root with these paths.
RESERVED_SLUGS = {"admin", "static", "media", "privacy", "confirm", "healthz"}


def validate_campaign_slug(value):
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is reserved for the site's own pages."), params={"slug": value}
        )


STATEMENT_VALIDATORS = [validate_message_template, validate_no_greeting, validate_no_sign_off]


def validate_subject_fits(value):
    """No constituent's name or city, as long as the form takes them, renders the subject past
    its column."""
    field = Action._meta.get_field
    longest = {
        "constituent_name": field("first_name").max_length + 1 + field("last_name").max_length,
        "constituent_city": field("city").max_length,
    }
    validate_subject_template(value, longest=longest)


class CampaignQuerySet(models.QuerySet):
    def live(self, *, now=None):
        now = now or timezone.now()
        return self.filter(
            Q(starts_at__isnull=True) | Q(starts_at__lte=now),
            Q(ends_at__isnull=True) | Q(ends_at__gt=now),
            status=Campaign.Status.LIVE,
        )

    def ended(self, *, now=None):
        """Closed, or live past its end time (the beat closes those within a minute): their
        pages stay up and say the campaign has ended."""
        now = now or timezone.now()
        return self.filter(
            Q(status=Campaign.Status.CLOSED) | Q(status=Campaign.Status.LIVE, ends_at__lte=now)
        )


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        CLOSED = "closed", "Closed"

    slug = models.SlugField(max_length=80, unique=True, validators=[validate_campaign_slug])
    title = models.CharField(max_length=200)
    organization_name = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, help_text="One or two sentences for listings.")
    body = models.TextField(help_text="The story: why this matters now. Plain text, blank lines.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    goal = models.PositiveIntegerField(default=1000, help_text="Actions the organizers hope for.")

    # The organizer's templates are validated here, field by field, and nowhere else: the
    # admin's form and any other save get the same errors next to the same fields.
    message_subject = models.CharField(
        max_length=SUBJECT_MAX_LENGTH,
        validators=[
            validate_single_line,
            validate_message_template,
            validate_subject_names_no_official,
            validate_subject_fits,
        ],
        help_text="The subject constituents start from, filled in for each, theirs to change. "
        "Placeholders: {constituent_name}, {constituent_city}.",
    )
    suggested_message = models.TextField(
        max_length=MESSAGE_MAX_LENGTH,
        blank=True,
        validators=[validate_suggested_message, validate_no_greeting, validate_no_sign_off],
        help_text="Suggested words for the constituent's own part; they may change them. "
        "Placeholders: {constituent_name}, {constituent_city}, {policy_asks}.",
    )
    thank_template = models.TextField(
        "statement to cosigners",
        max_length=STATEMENT_MAX_LENGTH,
        validators=STATEMENT_VALIDATORS,
        help_text="The organization's statement to officials who signed a campaign letter. "
        + STATEMENT_HELP,
    )
    urge_template = models.TextField(
        "statement to non-signers",
        max_length=STATEMENT_MAX_LENGTH,
        validators=STATEMENT_VALIDATORS,
        help_text="The organization's statement to legislators who did not sign. " + STATEMENT_HELP,
    )
    executive_template = models.TextField(
        "statement to executive officials",
        max_length=STATEMENT_MAX_LENGTH,
        validators=STATEMENT_VALIDATORS,
        help_text="The organization's statement to the President, Secretaries and the like. "
        + STATEMENT_HELP,
    )
    cwc_topic = models.CharField(
        "CWC policy area",
        max_length=60,
        choices=[(t, t) for t in CWC_TOPICS],
        default="International Affairs",
        help_text="The Library of Congress policy area House offices file messages under.",
    )
    topic = models.CharField(
        "topic for offices' web forms",
        max_length=100,
        blank=True,
        help_text="The subject area offices' web forms ask for (e.g. 'Foreign Relations'); it "
        "is matched to each office's own list of topics. Empty: the CWC policy area.",
    )
    call_script_thank = models.TextField(
        "call script for cosigners",
        blank=True,
        validators=[validate_message_template],
        help_text="What a constituent says when they call an official who signed.",
    )
    call_script_urge = models.TextField(
        "call script for non-signers",
        blank=True,
        validators=[validate_message_template],
        help_text="What a constituent says when they call a legislator who did not sign.",
    )
    call_script_executive = models.TextField(
        "call script for executive offices",
        blank=True,
        validators=[validate_message_template],
        help_text="What a constituent says when they call an executive office.",
    )
    double_opt_in = models.BooleanField(
        default=True,
        help_text="Send nothing until the constituent confirms by clicking a link in an email.",
    )
    allowed_origins = models.TextField(
        blank=True,
        validators=[validate_origin_lines],
        help_text="Partner sites that may embed the form, one origin per line "
        "(e.g. https://partner.example).",
    )
    target_congress = models.BooleanField(
        "target the constituent's members of Congress",
        default=True,
        help_text="Offer each constituent their two senators and their representative.",
    )
    targets = models.ManyToManyField(
        Official,
        blank=True,
        related_name="campaigns",
        help_text="Fixed targets every constituent may write, such as executive officials.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()
    # Who changed what and when, for the admin's History page; `updated_at` moves on every save.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-starts_at", "title"]
        constraints = [
            models.CheckConstraint(
                name="campaign_ends_after_start",
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
            )
        ]

    def __str__(self):
        return self.title

    def has_ended(self, *, now=None) -> bool:
        """`Campaign.objects.ended()`, for a campaign in hand."""
        now = now or timezone.now()
        return self.status == Campaign.Status.CLOSED or (
            self.status == Campaign.Status.LIVE and self.ends_at is not None and self.ends_at <= now
        )


# The only moves a campaign's status may make. `lifecycle.campaign_status_set` refuses others,
# and an incomplete campaign going scheduled or live (`selectors.campaign_move_problems`).
#   draft ──schedule──► scheduled ──beat, at starts_at──► live ──beat at ends_at, by hand──► closed
#   scheduled ──► draft (unscheduled), or closed (cancelled, or its end came before it went live)
#   draft ──► live (go live now);  closed ──► live (reopened, with a later end)
CAMPAIGN_TRANSITIONS = {
    Campaign.Status.DRAFT: {Campaign.Status.SCHEDULED, Campaign.Status.LIVE},
    Campaign.Status.SCHEDULED: {
        Campaign.Status.DRAFT,
        Campaign.Status.LIVE,
        Campaign.Status.CLOSED,
    },
    Campaign.Status.LIVE: {Campaign.Status.CLOSED},
    Campaign.Status.CLOSED: {Campaign.Status.LIVE},
}


class PolicyAsk(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="asks")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="ask_unique_position")
        ]

    def __str__(self):
        return f"{self.position}. {self.title}"


class Letter(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="letters")
    title = models.CharField(max_length=200)
    sent_on = models.DateField()
    recipients = models.CharField(max_length=300, help_text="Whom the letter was addressed to.")
    summary = models.TextField(blank=True)
    source_url = models.URLField(blank=True)
    cosigners = models.ManyToManyField(Legislator, through="Cosignature", related_name="letters")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-sent_on"]

    def __str__(self):
        return f"{self.title} ({self.sent_on:%Y-%m-%d})"


class Cosignature(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        COSIGNER = "cosigner", "Cosigner"

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="cosignatures")
    legislator = models.ForeignKey(Legislator, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.COSIGNER)

    class Meta:
        ordering = ["letter", "role", "legislator__state", "legislator__last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "legislator"], name="cosignature_unique_per_letter"
            )
        ]

    def __str__(self):
        return f"{self.legislator} ({self.get_role_display()})"


# What House offices accept as a constituent's prefix (CWC).
PREFIXES = [
    (p, p)
    for p in ("Mx.", "Ms.", "Mrs.", "Miss", "Mr.", "Dr.", "Rev.", "Prof.", "Hon.", "Sgt.", "Capt.")
]
# The only prefixes the Senate's CWC takes: asked for, never guessed.
SENATE_PREFIXES = ("Mr.", "Mrs.", "Miss", "Ms.", "Dr.")


def new_referral_code():
    return secrets.token_urlsafe(6)


def time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): the time in milliseconds, then 74 random bits. Rows
    written together sit together in their unique index, so a submission into a table of
    millions touches the index's last pages, not one random page (read, dirtied and logged
    whole after each checkpoint) per row."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


class ActionQuerySet(models.QuerySet):
    def counted(self):
        """Actions that count toward a campaign's goal: confirmed, or needing no confirmation."""
        return self.filter(Q(confirmed_at__isnull=False) | Q(campaign__double_opt_in=False))

    def with_notices_due(self):
        """Those whose constituent has news to hear (`DeliveryQuerySet.notices_owed`) and none
        of whose deliveries is still in flight: the last attempt of the action has ended, so
        one email can say all there is to say."""
        deliveries = Delivery.objects.filter(action=OuterRef("pk"))
        return self.filter(Exists(deliveries.notices_owed())).exclude(
            Exists(deliveries.in_flight())
        )


class Action(models.Model):
    """One constituent's submission: who they are and what they wrote."""

    # Who the constituent is and where they live: what the form asks and the message signs.
    CONTACT_FIELDS = ("first_name", "last_name", "email", "street", "city", "state", "zip_code")

    public_id = models.UUIDField(default=time_ordered_uuid, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="actions")

    prefix = models.CharField(max_length=10, blank=True, choices=PREFIXES)
    first_name = models.CharField(max_length=100, validators=[validate_single_line])
    last_name = models.CharField(max_length=100, validators=[validate_single_line])
    email = models.EmailField(max_length=254)
    street = models.CharField(max_length=200, validators=[validate_single_line])
    city = models.CharField(max_length=100, validators=[validate_single_line])
    state = models.CharField(max_length=2, choices=states.CHOICES)
    zip_code = models.CharField("ZIP code", max_length=10, validators=[validate_zip_code])
    # Asked only when an office the constituent chose requires it (some web forms do).
    phone = models.CharField(max_length=20, blank=True, validators=[validate_single_line])

    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH, validators=[validate_single_line])
    message = models.TextField("own words", max_length=MESSAGE_MAX_LENGTH, blank=True)

    consent_text = models.TextField(help_text="The consent line the constituent agreed to.")
    # A separate, optional consent: to hear from the organization again (its mailing list).
    # Defaults in the database too, so rows written by SQL (bench, tests) need not name them.
    keep_informed = models.BooleanField(
        "keep me informed",
        default=False,
        db_default=False,
        help_text="Ticked on the form: may be emailed later.",
    )
    keep_informed_text = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="The keep-me-informed line as the constituent ticked it.",
    )
    source = models.CharField(max_length=100, blank=True, help_text="From ?source= on the link.")
    referral_code = models.CharField(max_length=12, unique=True, default=new_referral_code)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    ip_hash = models.CharField("IP address (salted hash)", max_length=64, blank=True)
    # Issued with the form; a second submission with the same token is the same action.
    form_token = models.CharField(max_length=100, unique=True, null=True, blank=True)
    skipped_officials = models.ManyToManyField(
        Official,
        blank=True,
        related_name="+",
        help_text="Officials this email had already written in the last 24 hours.",
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The 24-hour repeat check matches the email whatever its case (`email__iexact`,
            # UPPER(email) on PostgreSQL): without this it reads every action of the campaign.
            # The email first, so a person's actions on every campaign are found by it too.
            models.Index(Upper("email"), F("campaign"), name="action_upper_email_campaign"),
        ]
        constraints = [
            # A consent is kept with the words agreed to, and there are no words without one.
            models.CheckConstraint(
                condition=Q(keep_informed=False, keep_informed_text="")
                | (Q(keep_informed=True) & ~Q(keep_informed_text="")),
                name="action_keep_informed_has_its_text",
            )
        ]
        permissions = [("export_actions", "Can export actions (names, emails, addresses)")]

    def __str__(self):
        # The admin's titles; no email, and a name the purge blanked still says what it was.
        return f"{self.full_name.strip() or 'An erased constituent'} on {self.campaign.title}"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"


class ActionCount(models.Model):
    """A campaign's actions, counted as they are written (`services`), so the public counter
    reads a few rows however many actions there are. Each campaign's count is spread over up to
    `SLOTS` rows, so that concurrent submissions seldom wait on the same row; its total is the
    sum of its rows. `actions` counts every action, `confirmed` those confirmed: which of the two
    is the campaign's count depends on its `double_opt_in` (see `ActionQuerySet.counted`)."""

    SLOTS = 16

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    slot = models.PositiveSmallIntegerField()
    actions = models.BigIntegerField(default=0)
    confirmed = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slot"], name="action_count_unique_slot")
        ]

    def __str__(self):
        return f"{self.campaign_id}/{self.slot}: {self.actions} ({self.confirmed} confirmed)"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    MANUAL = "manual", "Manual (the constituent sends it)"


# The only moves a delivery's status may make; `DeliveryQuerySet.transition` refuses others.
#   pending ──confirm──► queued ──claim──► sending ──► sent
#                          ▲  ▲               ├──────► failed ──operator's retry──► queued
#                          │  └──retry, reclaim, release
#   pending, queued, sending ──► manual: no automatic way is left (a web form found broken,
#                                 a CAPTCHA), the constituent sends it themselves
DELIVERY_TRANSITIONS = {
    DeliveryStatus.PENDING: {DeliveryStatus.QUEUED, DeliveryStatus.MANUAL},
    DeliveryStatus.QUEUED: {DeliveryStatus.SENDING, DeliveryStatus.MANUAL},
    DeliveryStatus.SENDING: {
        DeliveryStatus.SENT,
        DeliveryStatus.QUEUED,
        DeliveryStatus.FAILED,
        DeliveryStatus.MANUAL,
    },
    DeliveryStatus.FAILED: {DeliveryStatus.QUEUED},
    DeliveryStatus.SENT: set(),
    DeliveryStatus.MANUAL: set(),
}


# Not ended yet: waiting for the constituent's confirmation, queued (a retry waiting for its
# time included), or being sent.
IN_FLIGHT = (DeliveryStatus.PENDING, DeliveryStatus.QUEUED, DeliveryStatus.SENDING)

# Undelivered after a try, and the constituent not told: failed, or fallen to them to send
# (manual) once an attempt was made. One manual from the start was shown as such when they
# wrote, and the confirmation email said so: nothing new to tell.
UNNOTIFIED_FAILURE = Q(constituent_notified_at__isnull=True) & (
    Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.MANUAL, attempts__gt=0)
)
# Sent after the constituent was told it had failed (only an operator's retry moves a failed
# delivery on), and they not told yet that it went through after all.
DELIVERED_UNNOTIFIED = Q(
    status=DeliveryStatus.SENT,
    delivered_notified_at__isnull=True,
    sent_at__gt=F("constituent_notified_at"),
)


def check_transition(*, source, target) -> None:
    """Refuse a move DELIVERY_TRANSITIONS does not allow."""
    sources = {source} if isinstance(source, str) else set(source)
    if not sources or any(target not in DELIVERY_TRANSITIONS[s] for s in sources):
        raise ValueError(f"a delivery cannot go from {sorted(sources)} to {target}")


class DeliveryQuerySet(models.QuerySet):
    """The states a delivery's work is found in, each named once, and the one way to move it."""

    def due(self, *, now=None):
        """Queued, and not parked until a later retry: a worker may claim these."""
        now = now or timezone.now()
        return self.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            status=DeliveryStatus.QUEUED,
        )

    def unhanded(self, *, now=None):
        """Due and not handed to the broker in the last DELIVERY_REQUEUE_AFTER_SECONDS: the
        broker was down, or lost the task."""
        now = now or timezone.now()
        handed_after = now - dt.timedelta(seconds=settings.DELIVERY_REQUEUE_AFTER_SECONDS)
        return self.due(now=now).filter(
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=handed_after)
        )

    def stuck(self, *, now=None):
        """Sending past the attempt's lease: its worker died or hung."""
        return self.filter(
            status=DeliveryStatus.SENDING, lease_expires_at__lt=now or timezone.now()
        )

    def in_flight(self):
        return self.filter(status__in=IN_FLIGHT)

    def unnotified_failures(self):
        return self.filter(UNNOTIFIED_FAILURE)

    def delivered_unnotified(self):
        return self.filter(DELIVERED_UNNOTIFIED)

    def notices_owed(self):
        """Deliveries the constituent is to hear about: see UNNOTIFIED_FAILURE and
        DELIVERED_UNNOTIFIED (each has a small index of its own)."""
        return self.filter(UNNOTIFIED_FAILURE | DELIVERED_UNNOTIFIED)

    def fail(self, *, reason: str, now=None) -> int:
        """Sending ended for good: no attempts left, or a refusal not worth retrying."""
        now = now or timezone.now()
        return self.transition(
            source=DeliveryStatus.SENDING,
            target=DeliveryStatus.FAILED,
            now=now,
            failed_at=now,
            lease_expires_at=None,
            last_error=reason,
        )

    def transition(self, *, source, target, now=None, **fields) -> int:
        """Move these deliveries from `source` (a status or several) to `target`, with
        `fields`, and return how many moved: the rows no longer in `source` (another worker,
        the sweep or an operator moved them first) are left alone, and the caller learns so."""
        check_transition(source=source, target=target)
        sources = {source} if isinstance(source, str) else set(source)
        return self.filter(status__in=sources).update(
            status=target, updated_at=now or timezone.now(), **fields
        )


class Delivery(models.Model):
    """One message to one official for one action, and what became of it."""

    Status = DeliveryStatus

    # A UUID, so the Message-ID (and later the CWC DeliveryId) can be derived from it.
    id = models.UUIDField(primary_key=True, default=time_ordered_uuid, editable=False)
    # Found by action through the (action, official) unique constraint's index.
    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    official = models.ForeignKey(Official, on_delete=models.PROTECT, related_name="deliveries")

    class Variant(models.TextChoices):
        THANK = "thank", "Thank (cosigned)"
        URGE = "urge", "Urge (did not sign)"
        EXECUTIVE = "executive", "Executive"

    channel = models.CharField(max_length=12, choices=Official.Channel.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    variant = models.CharField(max_length=9, choices=Variant.choices)

    # Whom the message was addressed to when it was written, kept as sent: a later holder of
    # the office, or an edited salutation, never rewrites what an action's pages show.
    addressed_title = models.CharField(max_length=120, blank=True, default="", db_default="")
    addressed_name = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="The holder named; empty when the message addressed the office alone.",
    )
    salutation = models.CharField(max_length=200, blank=True, default="", db_default="")
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    organization_statement = models.TextField()
    constituent_message = models.TextField(blank=True)
    body = models.TextField(help_text="The whole message as an email carries it.")

    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    manual_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the constituent sends this one themselves."
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    # When the broker last got this delivery's task; the sweep hands over what it lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # A retry waits in the database until then, not as a long broker countdown.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    # A sending attempt past its lease crashed; the sweep queues it again.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # When the constituent was told it could not be delivered (one email per action); then,
    # should an operator's retry send it after all, when they were told that.
    constituent_notified_at = models.DateTimeField(null=True, blank=True)
    delivered_notified_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "official"], name="delivery_unique_per_action_official"
            ),
            models.CheckConstraint(
                name="delivery_sent_iff_sent_at",
                condition=Q(status=DeliveryStatus.SENT, sent_at__isnull=False)
                | (~Q(status=DeliveryStatus.SENT) & Q(sent_at__isnull=True)),
            ),
        ]
        # Most deliveries end `sent` and stay so. These indexes hold only the few rows the
        # sweep (and an operator's "failed" filter) look for, so they stay small as the table
        # grows, and marking a delivery sent (thousands a second in a blast) adds to none.
        indexes = [
            models.Index(
                fields=["queued_at"],
                condition=Q(status=DeliveryStatus.QUEUED),
                name="delivery_queued",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status=DeliveryStatus.SENDING),
                name="delivery_sending",
            ),
            models.Index(
                fields=["failed_at"],
                condition=Q(status=DeliveryStatus.FAILED),
                name="delivery_failed",
            ),
            # The notices owed (`notices_owed`), by action: what the sweep and each notice read.
            models.Index(
                fields=["action"], condition=UNNOTIFIED_FAILURE, name="delivery_unnotified"
            ),
            models.Index(
                fields=["action"],
                condition=DELIVERED_UNNOTIFIED,
                name="delivery_delivered_unnotified",
            ),
        ]

    def __str__(self):
        return f"Delivery {self.id} to {self.official_id} ({self.status})"

    @property
    def message_id(self):
        """Stable across retries, so a receiver can drop the duplicate a crash may cause."""
        return f"<{self.id.hex}@{settings.MESSAGE_ID_DOMAIN}>"


class StuckDeliveryManager(models.Manager.from_queryset(DeliveryQuerySet)):
    def get_queryset(self):
        return super().get_queryset().stuck()


class StuckDelivery(Delivery):
    """Deliveries whose sending attempt outlived its lease: a crashed or hung worker."""

    objects = StuckDeliveryManager()

    class Meta:
        proxy = True
        verbose_name = "stuck delivery"
        verbose_name_plural = "stuck deliveries"


class Attempt(models.Model):
    """One try at sending a delivery, and how it ended."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed"

    # Found by delivery through the (delivery, number) unique constraint's index.
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", db_index=False
    )
    number = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=12)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=6, choices=Outcome.choices, blank=True)
    error = models.TextField(blank=True)
    # Evidence of a web form's fill: where the browser ended, whether the office's success
    # rule matched there, and a screenshot (a path under WEB_FORM_EVIDENCE_DIR).
    final_url = models.CharField(max_length=2000, blank=True)
    success_seen = models.BooleanField(null=True, blank=True)
    screenshot = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_unique_number")
        ]

    def __str__(self):
        return f"Attempt {self.number} of {self.delivery_id}: {self.outcome or 'running'}"


class Call(models.Model):
    """A constituent's "I called": counted per office for the organizers."""

    class Outcome(models.TextChoices):
        SPOKE = "spoke", "Spoke to staff"
        VOICEMAIL = "voicemail", "Left a voicemail"
        NO_ANSWER = "no_answer", "No answer"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calls")
    official = models.ForeignKey(Official, on_delete=models.PROTECT, related_name="calls")
    action = models.ForeignKey(
        Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    outcome = models.CharField(max_length=9, choices=Outcome.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["campaign", "official"])]

    def __str__(self):
        return f"Call to {self.official_id}: {self.outcome}"


class Erasure(models.Model):
    """A constituent's data erased on request (`manage.py erase_constituent`): that it
    happened and how much it touched, never whose."""

    created_at = models.DateTimeField(default=timezone.now)
    actions_erased = models.PositiveIntegerField()
    deliveries_erased = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Erasure {self.pk} at {self.created_at:%Y-%m-%d %H:%M}"


class ExportLog(models.Model):
    """One download of constituents' data from the admin: who took it, of what, and how many
    rows left. Nothing about the constituents themselves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, help_text="Kept if the account is deleted.")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filters = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="Rows sent.")
    complete = models.BooleanField(
        default=False, help_text="Sent to its end (not cut off by the browser or an error)."
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Export by {self.username} at {self.started_at:%Y-%m-%d %H:%M}"
