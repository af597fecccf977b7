"""What a channel raises when the receiver did not accept a message."""


class DeliveryError(Exception):
    def __init__(self, message: str, *, body: bytes = b""):
        super().__init__(message)
        self.body = body  # what the receiver answered, when it answered


class TransientError(DeliveryError):
    pass


class PermanentError(DeliveryError):
    pass
