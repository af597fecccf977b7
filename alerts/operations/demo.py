"""The demo campaign: a 2023 alert asking the US to press for a UN protection mission for the
Armenians of Artsakh (Nagorno-Karabakh). Facts come from the alert; all copy is our own."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from legislators.matching import match_cosigners
from legislators.models import Chamber, Legislator, Official, Term

from ..models import Campaign, Letter, PolicyAsk
from ..services import cosignatures_save

SLUG = "artsakh-un-protection-mandate"
LETTER_DATE = dt.date(2023, 9, 20)

CAMPAIGN = {
    "title": "Ask Washington to protect the Armenians of Artsakh at the UN",
    "organization_name": "Armenian National Committee of America (demo)",
    "summary": (
        "Azerbaijan's assault has left 120,000 Armenians in Artsakh without protection. "
        "Tell the Administration and your members of Congress to lead at the UN Security Council."
    ),
    "body": (
        "For months a blockade cut Artsakh (Nagorno-Karabakh) off from food and medicine. "
        "Then Azerbaijani forces launched a full military offensive against its 120,000 "
        "Armenian residents, the gravest escalation yet.\n\n"
        "On September 20, 2023, forty-five members of the House, led by the co-chairs of the "
        "Congressional Armenian Caucus, wrote to the Secretary of State and our Ambassador to "
        "the United Nations. They asked the United States to push the Security Council for a "
        "mandate and a peacekeeping presence, independent monitors on the ground, emergency "
        "aid, an open Lachin Corridor, enforcement of Section 907 limits on military aid to "
        "Azerbaijan, and sanctions on the officials responsible.\n\n"
        "The Security Council takes up the crisis on September 21. Add your voice: thank the "
        "members who signed, urge those who did not, and ask the White House and the State "
        "Department to act before it is too late."
    ),
    "goal": 5000,
    # Offices' web forms file it under their own list; most call it "Foreign Relations".
    "topic": "Foreign Relations",
    "message_subject": "Lead at the UN to protect the Armenians of Artsakh",
    "thank_template": (
        "Thank you for signing the September 20, 2023 letter that asked the Administration to "
        "lead at the UN Security Council for the Armenians of Artsakh. Your name on it matters "
        "to me and to my community. Please keep pressing for these priorities:\n{policy_asks}"
    ),
    "urge_template": (
        "On September 20, 2023, forty-five of your House colleagues asked the Administration to "
        "lead at the UN Security Council for the 120,000 Armenians of Artsakh. I urge you to add "
        "your voice and to press for these priorities:\n{policy_asks}"
    ),
    "executive_template": (
        "I ask you to put American leadership behind a UN Security Council mandate that protects "
        "the 120,000 Armenians of Artsakh, and to act on these priorities:\n{policy_asks}"
    ),
    "suggested_message": (
        "I am writing as your constituent from {constituent_city}. After a months-long blockade, "
        "Azerbaijan has attacked the civilian population outright, and families now face "
        'expulsion or worse. The world said "never again". This is the moment to mean it.'
    ),
}

ASKS = [
    ("A lasting status for Artsakh", "Back a durable settlement built on the right of Artsakh's people to decide their own future."),
    ("A UN mandate to administer Artsakh", "Work for a Security Council mandate that puts the region under international administration."),
    ("Safety for the people of Artsakh", "Guarantee the physical security of the Armenians who live there."),
    ("Sanctions for genocide and war crimes", "Hold Azerbaijan's leaders to account with targeted sanctions."),
    ("Aid for relief and rebuilding", "Fund emergency relief now, then recovery and reconstruction."),
    ("A safe way home", "Make it possible for displaced Armenians to return to their homes in safety."),
    ("An open road to Armenia", "Keep passage between Artsakh and Armenia open, safe and free of interference."),
]  # fmt: skip

LETTER = {
    "title": "House letter calling for a UN protection mission",
    "recipients": "Secretary of State Antony Blinken and U.S. Ambassador to the UN Linda Thomas-Greenfield",
    "summary": (
        "The four co-chairs of the Congressional Armenian Caucus and forty-one colleagues from "
        "both parties asked the Administration to lead at the Security Council."
    ),
}


@dataclass(frozen=True)
class ExecutiveTarget:
    key: str
    title: str
    contact_form_url: str
    phone: str = ""
    salutation: str = ""  # names no one, so it holds whoever holds the office


# The offices the alert names. Offices, not people: the demo runs long after the letter, and a
# message must never greet someone who no longer holds the office, so no holder is named here
# (the letter's own addressees stay in LETTER as facts). import_executive names the President
# and Vice President with a verified date; other holders are named only once an organizer
# verifies them (alerts.messages.holder_is_current). Phone numbers are the offices' published
# public lines: the White House comment line, the State Department's main number and the U.S.
# Mission to the UN in New York; check them before a campaign goes live.
EXECUTIVE_TARGETS = [
    ExecutiveTarget("us-president", "President", "https://www.whitehouse.gov/contact/", "202-456-1111"),
    ExecutiveTarget("us-vice-president", "Vice President", "https://www.whitehouse.gov/contact/", "202-456-1111"),
    ExecutiveTarget("us-secretary-of-state", "Secretary of State", "https://www.state.gov/contact-us/", "202-647-4000", "Dear Secretary"),
    ExecutiveTarget("us-ambassador-to-the-un", "U.S. Ambassador to the United Nations", "https://usun.usmission.gov/contact-us/", "212-415-4000", "Dear Ambassador"),
]  # fmt: skip

# (bioguide id, first, last, official full name, party, state, district, role)
SIGNERS_2023_09_20 = [
    ('P000034', 'Frank', 'Pallone', 'Frank Pallone, Jr.', 'D', 'NJ', 6, 'lead'),
    ('B001257', 'Gus', 'Bilirakis', 'Gus M. Bilirakis', 'R', 'FL', 12, 'lead'),
    ('S001150', 'Adam', 'Schiff', 'Adam B. Schiff', 'D', 'CA', 30, 'lead'),
    ('V000129', 'David', 'Valadao', 'David G. Valadao', 'R', 'CA', 22, 'lead'),
    ('A000148', 'Jake', 'Auchincloss', 'Jake Auchincloss', 'D', 'MA', 4, 'cosigner'),
    ('C001097', 'Tony', 'Cárdenas', 'Tony Cárdenas', 'D', 'CA', 29, 'cosigner'),
    ('C001091', 'Joaquin', 'Castro', 'Joaquin Castro', 'D', 'TX', 20, 'cosigner'),
    ('C001080', 'Judy', 'Chu', 'Judy Chu', 'D', 'CA', 28, 'cosigner'),
    ('C001059', 'Jim', 'Costa', 'Jim Costa', 'D', 'CA', 21, 'cosigner'),
    ('D000399', 'Lloyd', 'Doggett', 'Lloyd Doggett', 'D', 'TX', 37, 'cosigner'),
    ('E000215', 'Anna', 'Eshoo', 'Anna G. Eshoo', 'D', 'CA', 16, 'cosigner'),
    ('G000583', 'Josh', 'Gottheimer', 'Josh Gottheimer', 'D', 'NJ', 5, 'cosigner'),
    ('H001047', 'James', 'Himes', 'James A. Himes', 'D', 'CT', 4, 'cosigner'),
    ('H001085', 'Chrissy', 'Houlahan', 'Chrissy Houlahan', 'D', 'PA', 6, 'cosigner'),
    ('K000400', 'Sydney', 'Kamlager-Dove', 'Sydney Kamlager-Dove', 'D', 'CA', 37, 'cosigner'),
    ('K000389', 'Ro', 'Khanna', 'Ro Khanna', 'D', 'CA', 17, 'cosigner'),
    ('K000391', 'Raja', 'Krishnamoorthi', 'Raja Krishnamoorthi', 'D', 'IL', 8, 'cosigner'),
    ('L000557', 'John', 'Larson', 'John B. Larson', 'D', 'CT', 1, 'cosigner'),
    ('L000551', 'Barbara', 'Lee', 'Barbara Lee', 'D', 'CA', 12, 'cosigner'),
    ('L000590', 'Susie', 'Lee', 'Susie Lee', 'D', 'NV', 3, 'cosigner'),
    ('L000582', 'Ted', 'Lieu', 'Ted Lieu', 'D', 'CA', 36, 'cosigner'),
    ('L000397', 'Zoe', 'Lofgren', 'Zoe Lofgren', 'D', 'CA', 18, 'cosigner'),
    ('M001223', 'Seth', 'Magaziner', 'Seth Magaziner', 'D', 'RI', 2, 'cosigner'),
    ('M000317', 'Nicole', 'Malliotakis', 'Nicole Malliotakis', 'R', 'NY', 11, 'cosigner'),
    ('M001177', 'Tom', 'McClintock', 'Tom McClintock', 'R', 'CA', 5, 'cosigner'),
    ('M000312', 'James', 'McGovern', 'James P. McGovern', 'D', 'MA', 2, 'cosigner'),
    ('M001226', 'Robert', 'Menendez', 'Robert Menendez', 'D', 'NJ', 8, 'cosigner'),
    ('M001188', 'Grace', 'Meng', 'Grace Meng', 'D', 'NY', 6, 'cosigner'),
    ('M001225', 'Kevin', 'Mullin', 'Kevin Mullin', 'D', 'CA', 15, 'cosigner'),
    ('N000179', 'Grace', 'Napolitano', 'Grace F. Napolitano', 'D', 'CA', 31, 'cosigner'),
    ('N000147', 'Eleanor', 'Norton', 'Eleanor Holmes Norton', 'D', 'DC', 0, 'cosigner'),
    ('P000614', 'Chris', 'Pappas', 'Chris Pappas', 'D', 'NH', 1, 'cosigner'),
    ('P000618', 'Katie', 'Porter', 'Katie Porter', 'D', 'CA', 47, 'cosigner'),
    ('Q000023', 'Mike', 'Quigley', 'Mike Quigley', 'D', 'IL', 5, 'cosigner'),
    ('R000606', 'Jamie', 'Raskin', 'Jamie Raskin', 'D', 'MD', 8, 'cosigner'),
    ('S001156', 'Linda', 'Sánchez', 'Linda T. Sánchez', 'D', 'CA', 38, 'cosigner'),
    ('S001168', 'John', 'Sarbanes', 'John P. Sarbanes', 'D', 'MD', 3, 'cosigner'),
    ('S001145', 'Janice', 'Schakowsky', 'Janice D. Schakowsky', 'D', 'IL', 9, 'cosigner'),
    ('S000344', 'Brad', 'Sherman', 'Brad Sherman', 'D', 'CA', 32, 'cosigner'),
    ('S001207', 'Mikie', 'Sherrill', 'Mikie Sherrill', 'D', 'NJ', 11, 'cosigner'),
    ('S001209', 'Abigail', 'Spanberger', 'Abigail Davis Spanberger', 'D', 'VA', 7, 'cosigner'),
    ('S001215', 'Haley', 'Stevens', 'Haley M. Stevens', 'D', 'MI', 11, 'cosigner'),
    ('T000468', 'Dina', 'Titus', 'Dina Titus', 'D', 'NV', 1, 'cosigner'),
    ('T000482', 'Lori', 'Trahan', 'Lori Trahan', 'D', 'MA', 3, 'cosigner'),
    ('W000822', 'Bonnie', 'Watson Coleman', 'Bonnie Watson Coleman', 'D', 'NJ', 12, 'cosigner'),
]  # fmt: skip


class DemoDataError(Exception):
    """The imported legislators do not account for every signer of the demo letter."""


def _signers_matched() -> list[tuple[Legislator, str]]:
    """The signers found among the imported legislators, as an organizer would: by pasting
    "Name (P-ST)" entries into the matcher. Every entry must match, and match the embedded
    bioguide id."""
    text = ", ".join(
        f"{first} {last} ({party}-{state})"
        for _, first, last, _, party, state, _, _ in SIGNERS_2023_09_20
    )
    matches = match_cosigners(text, on=LETTER_DATE, chamber=Chamber.HOUSE)
    problems = []
    if len(matches) != len(SIGNERS_2023_09_20):
        problems.append(f"{len(matches)} entries parsed, {len(SIGNERS_2023_09_20)} expected")
    for match, signer in zip(matches, SIGNERS_2023_09_20, strict=False):
        if match.status != "matched":
            problems.append(f"{match.raw}: {match.status} ({match.reason})")
        elif match.legislator.bioguide_id != signer[0]:
            problems.append(
                f"{match.raw}: matched {match.legislator.bioguide_id}, expected {signer[0]}"
            )
    if problems:
        raise DemoDataError(
            f"The legislators serving on {LETTER_DATE} do not account for every signer of "
            "the demo letter: " + "; ".join(problems)
        )
    pairs = zip(matches, SIGNERS_2023_09_20, strict=True)
    return [(match.legislator, signer[7]) for match, signer in pairs]


def _signers_created() -> list[tuple[Legislator, str]]:
    """Without imported data: the signers from the embedded table, created if missing."""
    signers = []
    for bioguide_id, first, last, full, party, state, district, role in SIGNERS_2023_09_20:
        legislator, _ = Legislator.objects.get_or_create(
            bioguide_id=bioguide_id,
            defaults={
                "first_name": first,
                "last_name": last,
                "official_full_name": full,
                "party": party,
                "state": state,
                "chamber": Chamber.HOUSE,
                "district": district,
            },
        )
        signers.append((legislator, role))
    return signers


@transaction.atomic
def demo_load() -> Campaign:
    """Create or refresh the demo campaign; running it again changes nothing."""
    campaign, _ = Campaign.objects.update_or_create(
        slug=SLUG,
        defaults={
            **CAMPAIGN,
            "status": Campaign.Status.LIVE,
            "starts_at": dt.datetime(2023, 9, 20, 12, tzinfo=dt.UTC),
        },
    )
    for position, (title, detail) in enumerate(ASKS, start=1):
        PolicyAsk.objects.update_or_create(
            campaign=campaign, position=position, defaults={"title": title, "detail": detail}
        )
    PolicyAsk.objects.filter(campaign=campaign, position__gt=len(ASKS)).delete()

    letter, _ = Letter.objects.update_or_create(
        campaign=campaign, sent_on=LETTER_DATE, defaults=LETTER
    )
    if Term.objects.covering(LETTER_DATE).exists():
        signers = _signers_matched()
    else:
        signers = _signers_created()
    for role in dict.fromkeys(role for _, role in signers):
        cosignatures_save(
            letter=letter, legislator_ids=[s.pk for s, r in signers if r == role], role=role
        )

    # Offices the importer or an organizer keeps current are only created when missing, so the
    # demo never replaces a verified holder; created here, an office has no holder named.
    officials = []
    for target in EXECUTIVE_TARGETS:
        official, _ = Official.objects.get_or_create(
            key=target.key,
            defaults={
                "kind": Official.Kind.EXECUTIVE,
                "title": target.title,
                "name": "",
                "last_name": "",
                "channel": Official.Channel.CONTACT_FORM,
                "contact_form_url": target.contact_form_url,
                "phone": target.phone,
                "salutation": target.salutation,
            },
        )
        if target.salutation and not official.salutation:
            official.salutation = target.salutation
            official.save(update_fields=["salutation", "updated_at"])
        officials.append(official)
    campaign.targets.add(*officials)
    return campaign
