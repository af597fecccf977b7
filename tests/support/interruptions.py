"""Something striking at a chosen moment that the code under test does not take for an error:
the soft time limit, or Ctrl-C (a BaseException, as KeyboardInterrupt is)."""


class CutOff(BaseException):
    pass


def cut_off(*args, **kwargs):
    """A stand-in for any call: it is cut off."""
    raise CutOff()


def cut_off_at_call(number: int, call, *, raising: type[BaseException] = CutOff):
    """`call`, but its `number`-th call (from 1) is cut off before it does anything."""
    calls = 0

    def cut_or_call(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == number:
            raise raising()
        return call(*args, **kwargs)

    return cut_or_call
