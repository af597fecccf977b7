"""Whom a constituent may write on a campaign: the one function the views ask."""

from dataclasses import dataclass

from legislators.lookup import Delegation, delegation_for_address
from legislators.models import Official

from ..models import Campaign


@dataclass
class Recipients:
    fixed: list[Official]
    delegation: Delegation | None  # None when the campaign does not target Congress

    @property
    def is_split(self) -> bool:
        return bool(self.delegation and self.delegation.is_split)

    @property
    def checkable(self) -> list[Official]:
        """Officials offered as checkboxes: fixed targets, senators, and an unambiguous rep."""
        if self.delegation is None:
            return list(self.fixed)
        congress = list(self.delegation.senators)
        if not self.is_split:
            congress += self.delegation.candidate_representatives
        return [*congress, *self.fixed]

    @property
    def representative_choices(self) -> list[Official]:
        """For a ZIP split between districts: the representatives to pick one from."""
        return self.delegation.candidate_representatives if self.is_split else []


def fixed_targets(campaign: Campaign) -> list[Official]:
    """The campaign's own active targets, in the order the form lists them."""
    return list(campaign.targets.filter(is_active=True).order_by("kind", "title"))


def recipients_for(
    *,
    campaign: Campaign,
    zip_code: str,
    state: str = "",
    street: str = "",
    city: str = "",
    fixed: list[Official] | None = None,
) -> Recipients:
    """Raises legislators.lookup.AddressError with a message for the constituent. `fixed`:
    the campaign's `fixed_targets`, when the caller has them."""
    delegation = None
    if campaign.target_congress:
        delegation = delegation_for_address(
            zip_code=zip_code, state=state or None, street=street, city=city
        )
    if fixed is None:
        fixed = fixed_targets(campaign)
    return Recipients(fixed=list(fixed), delegation=delegation)
