"""What a channel tells the engine: the evidence of an attempt, and how it did not succeed."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """What a browser saw at the end of a web form's fill, kept on the attempt."""

    final_url: str = ""
    success_seen: bool | None = None
    screenshot: str = ""  # a path under WEB_FORM_EVIDENCE_DIR


class DeliveryError(Exception):
    def __init__(self, message: str, *, body: bytes = b"", evidence: Evidence | None = None):
        super().__init__(message)
        self.body = body  # what the receiver answered, when it answered
        self.evidence = evidence


class TransientError(DeliveryError):
    """Worth retrying. With `resume_at` (aware), the receiver said when: the delivery waits
    until then, and the try does not count against DELIVERY_MAX_ATTEMPTS."""

    def __init__(self, message: str, *, resume_at=None, **kwargs):
        super().__init__(message, **kwargs)
        self.resume_at = resume_at


class PermanentError(DeliveryError):
    pass


class NeedsConstituent(DeliveryError):
    """No automatic way is left for this message (a CAPTCHA, a choice the office requires that
    nothing matches, a form found broken): the constituent sends it, and is told why."""
