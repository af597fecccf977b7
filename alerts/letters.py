"""Services for letters and their cosigners."""

from collections.abc import Iterable

from django.db import transaction

from .models import Cosignature, Letter


@transaction.atomic
def cosignatures_save(*, letter: Letter, legislator_ids: Iterable[int], role: str) -> int:
    """Record that these legislators signed `letter` in `role`; an existing cosignature keeps
    its row and takes the new role. Returns how many distinct legislators were saved."""
    if role not in Cosignature.Role.values:
        raise ValueError(f"unknown cosignature role {role!r}")
    ids = list(dict.fromkeys(legislator_ids))
    Cosignature.objects.bulk_create(
        [Cosignature(letter=letter, legislator_id=pk, role=role) for pk in ids],
        update_conflicts=True,
        unique_fields=["letter", "legislator"],
        update_fields=["role"],
    )
    return len(ids)
