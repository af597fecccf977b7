import datetime as dt

import pytest

from alerts.models import Campaign, Cosignature, Letter
from alerts.operations.demo import demo_load
from legislators.matching import match_cosigners, parse_cosigner_text
from legislators.models import Chamber, Legislator, Term
from tests.factories import seated_legislator

pytestmark = pytest.mark.django_db

# Factory-made seats are dated far from the real data (1975 onwards), which other tests may have
# imported for the whole session: only the legislators a test makes serve on this day.
DAY = dt.date(1959, 9, 20)


def seat(first, last, *, middle="", suffix="", nickname="", official="", bioguide=None, **kwargs):
    """A legislator holding a seat on DAY (their present seat is the same unless changed)."""
    names = {"middle_name": middle, "suffix": suffix, "nickname": nickname}
    if bioguide:
        names["bioguide_id"] = bioguide
    return seated_legislator(first, last, on=DAY, official_full_name=official, **names, **kwargs)


def one(text, **kwargs):
    matches = match_cosigners(text, on=DAY, **kwargs)
    assert len(matches) == 1, matches
    return matches[0]


def assert_matched(text, legislator, **kwargs):
    match = one(text, **kwargs)
    assert (match.status, match.legislator) == ("matched", legislator), match.reason


# --- Parsing --------------------------------------------------------------------------------


def test_parse_splits_on_commas_semicolons_newlines_and_the_final_and():
    text = (
        "Representatives: Jake Auchincloss (D-MA), Joaquín Castro (D-TX); Tony Cardenas (D-CA)\n"
        "Judy Chu (D-CA),\n\n, and Bonnie Watson Coleman (D-NJ)."
    )
    parsed = parse_cosigner_text(text)
    assert [p.raw for p in parsed] == [
        "Jake Auchincloss (D-MA)",
        "Joaquín Castro (D-TX)",
        "Tony Cardenas (D-CA)",
        "Judy Chu (D-CA)",
        "Bonnie Watson Coleman (D-NJ)",
    ]
    assert [p.name for p in parsed][-1] == "Bonnie Watson Coleman"
    assert [(p.party, p.state) for p in parsed][:3] == [("D", "MA"), ("D", "TX"), ("D", "CA")]
    assert all(p.chamber == Chamber.HOUSE for p in parsed)  # from the "Representatives:" header


def test_parse_keeps_a_suffix_after_a_comma_with_its_name():
    parsed = parse_cosigner_text("Frank Pallone, Jr. (D-NJ), Gus Bilirakis (R-FL) and Al Green")
    assert [p.raw for p in parsed] == [
        "Frank Pallone, Jr. (D-NJ)",
        "Gus Bilirakis (R-FL)",
        "Al Green",
    ]
    pallone = parsed[0]
    assert (pallone.name, pallone.suffix, pallone.tokens) == (
        "Frank Pallone, Jr.",
        "jr",
        ("frank", "pallone"),
    )
    assert (pallone.party, pallone.state, pallone.district) == ("D", "NJ", None)


def test_parse_prefixes_districts_and_stray_words():
    parsed = parse_cosigner_text(
        "Rep. Rob Menendez (D-NJ-8); Sen. Bob Menendez (D-NJ); Del. Eleanor Holmes Norton "
        "(D-DC-AL); Senator Tim Kaine; Representative Don Beyer (D\u2013VA\u201308); and; "
        "Representatives:"
    )
    assert [(p.name, p.chamber, p.district) for p in parsed] == [
        ("Rob Menendez", Chamber.HOUSE, 8),
        ("Bob Menendez", Chamber.SENATE, None),
        ("Eleanor Holmes Norton", Chamber.HOUSE, 0),
        ("Tim Kaine", Chamber.SENATE, None),
        ("Don Beyer", Chamber.HOUSE, 8),
    ]
    assert parse_cosigner_text("  \n, ;  and .") == []


# --- Name difficulties ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "text"),
    [
        (("Tony", "Cárdenas"), "Tony Cardenas (D-CA)"),
        (("Tony", "Cardenas"), "Tony Cárdenas (D-CA)"),
        (("Joaquin", "Castro"), "Joaquín Castro (D-CA)"),
        (("Joaquín", "Castro"), "Joaquin Castro (D-CA)"),
        (("Linda", "Sánchez"), "Linda Sanchez"),
        (("Linda", "Sanchez"), "LINDA SÁNCHEZ"),
    ],
)
def test_accents_are_folded_both_ways(record, text):
    legislator = seat(*record)
    assert_matched(text, legislator)


@pytest.mark.parametrize("text", ["Adam Schiff (D-CA)", "Adam B. Schiff (D-CA)", "Adam B Schiff"])
def test_middle_initials_are_optional(text):
    schiff = seat("Adam", "Schiff", middle="B.", official="Adam B. Schiff")
    assert_matched(text, schiff)


def test_a_middle_initial_in_the_text_fits_a_record_without_one():
    schiff = seat("Adam", "Schiff", official="Adam Schiff")
    assert_matched("Adam B. Schiff (D-CA)", schiff)


def test_a_middle_initial_that_disagrees_with_the_record_is_not_a_match():
    seat("Adam", "Schiff", middle="B.", official="Adam B. Schiff")
    match = one("Adam Q. Schiff (D-CA)")
    assert match.status == "unmatched"
    assert [c.last_name for c in match.candidates] == ["Schiff"]


@pytest.mark.parametrize("text", ["Eleanor Holmes Norton (D-DC)", "Eleanor Norton (D-DC)"])
def test_a_middle_name_written_like_a_compound_surname(text):
    norton = seat("Eleanor", "Norton", middle="Holmes", state="DC", district=0)
    assert_matched(text, norton)


def test_a_compound_surname_in_the_record():
    norton = seat("Eleanor", "Holmes Norton", state="DC", district=0)
    assert_matched("Eleanor Holmes Norton (D-DC)", norton)


@pytest.mark.parametrize(
    "text",
    ["Frank Pallone, Jr. (D-NJ)", "Frank Pallone Jr (D-NJ)", "Frank Pallone (D-NJ)", "Pallone"],
)
def test_suffixes(text):
    pallone = seat(
        "Frank", "Pallone", middle="J.", suffix="Jr.", official="Frank Pallone, Jr.", state="NJ"
    )
    assert_matched(text, pallone)


def test_a_different_suffix_is_not_a_match():
    seat("Frank", "Pallone", suffix="Jr.", official="Frank Pallone, Jr.", state="NJ")
    assert one("Frank Pallone Sr. (D-NJ)").status == "unmatched"


def test_a_suffix_comma_inside_a_list_does_not_split_the_entry():
    pallone = seat("Frank", "Pallone", suffix="Jr.", official="Frank Pallone, Jr.", state="NJ")
    bilirakis = seat("Gus", "Bilirakis", party="R", state="FL", district=12)
    matches = match_cosigners("Frank Pallone, Jr. (D-NJ), Gus Bilirakis (R-FL)", on=DAY)
    assert [m.legislator for m in matches] == [pallone, bilirakis]


@pytest.mark.parametrize(
    ("written", "first"),
    [
        ("Jim", "James"),
        ("Jimmy", "James"),
        ("Jamie", "James"),
        ("Jamie", "Jamin"),
        ("Rob", "Robert"),
        ("Bob", "Robert"),
        ("Bobby", "Robert"),
        ("Mike", "Michael"),
        ("Chris", "Christopher"),
        ("Chris", "Christine"),
        ("Tony", "Anthony"),
        ("Tom", "Thomas"),
        ("Bill", "William"),
        ("Dick", "Richard"),
        ("Rick", "Richard"),
        ("Ted", "Theodore"),
        ("Ted", "Edward"),
        ("Dan", "Daniel"),
        ("Dave", "David"),
        ("Joe", "Joseph"),
        ("Chuck", "Charles"),
        ("Kate", "Katherine"),
        ("Katie", "Katherine"),
        ("Liz", "Elizabeth"),
        ("Sue", "Susan"),
        ("Susie", "Susan"),
        ("Gus", "Gustavus"),
        ("Abby", "Abigail"),
        # and the other way round: the formal name in the text, the short one on record
        ("James", "Jim"),
        ("Robert", "Rob"),
        ("Katherine", "Katie"),
    ],
)
def test_common_nicknames(written, first):
    legislator = seat(first, "Example", state="MD", district=8)
    assert_matched(f"{written} Example (D-MD)", legislator)


def test_two_names_do_not_match_through_a_third():
    seat("Christine", "Example")
    assert one("Christopher Example (D-CA)").status == "unmatched"
    tina = seat("Christine", "Smith", nickname="Tina", state="MN", chamber=Chamber.SENATE)
    chris = seat("Christopher", "Smith", nickname="Chris", state="NJ", district=4)
    assert_matched("Tina Smith", tina)
    assert_matched("Christine Smith", tina)
    assert_matched("Christopher Smith", chris)
    # "Chris" may be short for either formal name: only the text's party-state decides.
    assert one("Chris Smith").status == "ambiguous"
    assert_matched("Chris Smith (D-NJ)", chris)


def test_the_records_nickname_field():
    garcia = seat("Jesús", "García", middle="G.", nickname="Chuy", state="IL", district=4)
    crawford = seat("Eric", "Crawford", nickname="Rick", official='Eric A. "Rick" Crawford')
    assert_matched("Chuy Garcia (D-IL)", garcia)
    assert_matched('Jesús "Chuy" García', garcia)
    assert_matched("Rick Crawford", crawford)
    assert_matched('Eric A. "Rick" Crawford (D-CA)', crawford)


@pytest.mark.parametrize(
    ("record", "text"),
    [
        (("Bonnie", "Watson Coleman"), "Bonnie Watson Coleman (D-NJ)"),
        (("Bonnie", "Watson Coleman"), "Bonnie Watson-Coleman (D-NJ)"),
        (("Sydney", "Kamlager-Dove"), "Sydney Kamlager-Dove (D-NJ)"),
        (("Sydney", "Kamlager-Dove"), "Sydney Kamlager Dove"),
        (("Sydney", "Kamlager-Dove"), "Sydney Kamlager\u2013Dove"),
    ],
)
def test_compound_and_hyphenated_surnames(record, text):
    legislator = seat(*record, state="NJ")
    assert_matched(text, legislator)


def test_part_of_a_compound_surname_is_a_near_miss_not_a_match():
    kamlager_dove = seat("Sydney", "Kamlager-Dove")
    match = one("Sydney Kamlager (D-CA)")
    assert match.status == "unmatched"
    assert match.candidates == [kamlager_dove]


def test_the_same_surname_in_two_states_is_decided_by_the_text():
    barbara = seat("Barbara", "Lee", state="CA", district=12)
    susie = seat("Susie", "Lee", state="NV", district=3)
    assert_matched("Barbara Lee (D-CA)", barbara)
    assert_matched("Susie Lee (D-NV)", susie)
    assert_matched("Lee (D-NV)", susie)
    ambiguous = one("Lee")
    assert ambiguous.status == "ambiguous"
    assert set(ambiguous.candidates) == {barbara, susie}
    assert ambiguous.reason.startswith("2 legislators match")
    wrong_state = one("Barbara Lee (D-NV)")
    assert (wrong_state.status, wrong_state.candidates) == ("unmatched", [barbara])
    assert wrong_state.reason == f"state NV in the text but CA on {DAY}"


@pytest.fixture
def menendezes():
    rep = seat(
        "Robert",
        "Menendez",
        middle="Jacobsen",
        suffix="Jr.",
        official="Robert Menendez",
        state="NJ",
        district=8,
        bioguide="M001226",
    )
    sen = seat(
        "Robert",
        "Menendez",
        nickname="Bob",
        official="Robert Menendez",
        state="NJ",
        chamber=Chamber.SENATE,
        bioguide="M000639",
    )
    return rep, sen


def test_the_same_name_in_the_other_chamber_is_ambiguous_without_chamber_information(
    menendezes,
):
    rep, sen = menendezes
    for text in ("Rob Menendez (D-NJ)", "Robert Menendez", "Bob Menendez (D-NJ)"):
        match = one(text)
        assert match.status == "ambiguous", text
        assert match.legislator is None
        assert set(match.candidates) == {rep, sen}
        assert "2 legislators match" in match.reason


def test_the_chamber_or_a_prefix_decides_between_same_named_members(menendezes):
    rep, sen = menendezes
    assert_matched("Rob Menendez (D-NJ)", rep, chamber="house")
    assert_matched("Robert Menendez (D-NJ)", sen, chamber="senate")
    assert_matched("Rep. Rob Menendez (D-NJ)", rep)
    assert_matched("Sen. Bob Menendez (D-NJ)", sen)
    assert_matched("Sen. Robert Menendez", sen, chamber="house")  # the prefix overrides
    assert_matched("Rob Menendez (D-NJ-8)", rep)  # a district is a House seat
    matches = match_cosigners("Senators: Menendez\nRepresentatives: Menendez", on=DAY)
    assert [m.legislator for m in matches] == [sen, rep]


def test_a_party_that_disagrees_with_the_seat_is_not_accepted():
    cardenas = seat("Tony", "Cárdenas", party="D", district=29)
    match = one("Tony Cardenas (R-CA)")
    assert match.status == "unmatched"
    assert match.legislator is None
    assert match.candidates == [cardenas]
    assert match.reason == f"party R in the text but D on {DAY}"


def test_a_district_that_disagrees_with_the_seat_is_not_accepted():
    cardenas = seat("Tony", "Cárdenas", district=29)
    match = one("Tony Cardenas (D-CA-30)")
    assert (match.status, match.candidates) == ("unmatched", [cardenas])
    assert match.reason == f"district 30 in the text but D-CA-29 on {DAY}"


def test_a_member_of_the_other_chamber_is_offered_but_not_matched():
    kaine = seat("Tim", "Kaine", state="VA", chamber=Chamber.SENATE)
    match = one("Tim Kaine (D-VA)", chamber="house")
    assert (match.status, match.candidates) == ("unmatched", [kaine])
    assert match.reason == f"in the Senate, not the House, on {DAY}"


def test_party_state_and_chamber_come_from_the_term_on_the_day_not_the_present_seat():
    schiff = seat("Adam", "Schiff", middle="B.", official="Adam B. Schiff", district=30)
    Term.objects.create(
        legislator=schiff,
        chamber=Chamber.SENATE,
        state="CA",
        senate_class=1,
        party="I",
        start=DAY + dt.timedelta(days=800),
        end=DAY + dt.timedelta(days=3000),
    )
    Legislator.objects.filter(pk=schiff.pk).update(
        chamber=Chamber.SENATE, district=None, senate_class=1, party="I"
    )
    match = one("Adam Schiff (D-CA)", chamber="house")
    assert (match.status, match.legislator) == ("matched", schiff)
    assert (match.term.chamber, match.term.party, match.seat(schiff)) == ("house", "D", "D-CA-30")
    later = match_cosigners("Adam Schiff (D-CA)", on=DAY + dt.timedelta(days=900))
    assert later[0].status == "unmatched"
    assert later[0].reason.startswith("party D in the text but I")


def test_a_legislator_not_serving_on_the_day_is_not_a_candidate():
    seat("Tony", "Cárdenas", start=DAY + dt.timedelta(days=1))
    match = one("Tony Cardenas (D-CA)")
    assert (match.status, match.candidates) == ("unmatched", [])
    assert match.reason == f"no legislator of that name served on {DAY}"


def test_unmatched_names_offer_near_misses():
    krishnamoorthi = seat("Raja", "Krishnamoorthi", state="IL", district=8)
    seat("Grace", "Meng", state="NY")
    match = one("Raja Krishnamurthi (D-IL)")
    assert (match.status, match.candidates) == ("unmatched", [krishnamoorthi])
    other = one("Jon Meng (D-NY)")
    assert other.status == "unmatched"
    assert [c.last_name for c in other.candidates] == ["Meng"]


def test_candidates_are_loaded_in_one_query(django_assert_num_queries):
    seat("Judy", "Chu")
    seat("Grace", "Meng", state="NY")
    with django_assert_num_queries(1):
        matches = match_cosigners("Judy Chu (D-CA), Grace Meng (D-NY), Nobody Here", on=DAY)
    assert [m.status for m in matches] == ["matched", "matched", "unmatched"]


def test_an_unknown_chamber_is_refused():
    with pytest.raises(ValueError, match="chamber"):
        match_cosigners("Judy Chu", on=DAY, chamber="lords")


# --- Real data ------------------------------------------------------------------------------

SEED_LETTER_SIGNERS = (
    # All 45 signers of the seed letter, written as a press release would (names with party
    # and state), listed here from the last to the first.
    "Bonnie Watson Coleman (D-NJ), Lori Trahan (D-MA), Dina Titus (D-NV), "
    "Haley Stevens (D-MI), Abigail Spanberger (D-VA), Mikie Sherrill (D-NJ), "
    "Brad Sherman (D-CA), Janice Schakowsky (D-IL), John Sarbanes (D-MD), "
    "Linda Sanchez (D-CA), Jamie Raskin (D-MD), Mike Quigley (D-IL), Katie Porter (D-CA), "
    "Chris Pappas (D-NH), Eleanor Holmes Norton (D-DC), Grace Napolitano (D-CA), "
    "Kevin Mullin (D-CA), Grace Meng (D-NY), Rob Menendez (D-NJ), James McGovern (D-MA), "
    "Tom McClintock (R-CA), Nicole Malliotakis (R-NY), Seth Magaziner (D-RI), "
    "Zoe Lofgren (D-CA), Ted Lieu (D-CA), Susie Lee (D-NV), Barbara Lee (D-CA), "
    "John Larson (D-CT), Raja Krishnamoorthi (D-IL), Ro Khanna (D-CA), "
    "Sydney Kamlager-Dove (D-CA), Chrissy Houlahan (D-PA), Jim Himes (D-CT), "
    "Josh Gottheimer (D-NJ), Anna Eshoo (D-CA), Lloyd Doggett (D-TX), Jim Costa (D-CA), "
    "Judy Chu (D-CA), Joaquín Castro (D-TX), Tony Cardenas (D-CA), Jake Auchincloss (D-MA), "
    "David Valadao (R-CA), Adam Schiff (D-CA), Gus Bilirakis (R-FL), and Frank Pallone (D-NJ)."
)
LETTER_DAY = dt.date(2023, 9, 20)


def test_the_seed_letters_signers_all_match_their_seats_on_the_day(real_data):
    matches = match_cosigners(SEED_LETTER_SIGNERS, on=LETTER_DAY, chamber="house")
    assert len(matches) == 45
    unmatched = [(m.raw, m.status, m.reason) for m in matches if m.status != "matched"]
    assert unmatched == []
    assert len({m.legislator.pk for m in matches}) == 45
    for match in matches:
        assert (match.term.party, match.term.state) == (match.party, match.state), match.raw
        assert match.term.chamber == "house"
        assert match.term.start <= LETTER_DAY <= match.term.end

    by_raw = {m.raw: m.legislator.bioguide_id for m in matches}
    assert by_raw["Rob Menendez (D-NJ)"] == "M001226"
    assert by_raw["Jim Himes (D-CT)"] == "H001047"
    assert by_raw["Jamie Raskin (D-MD)"] == "R000606"
    assert by_raw["Tony Cardenas (D-CA)"] == "C001097"
    assert by_raw["Joaquín Castro (D-TX)"] == "C001091"
    assert by_raw["Eleanor Holmes Norton (D-DC)"] == "N000147"
    assert by_raw["Adam Schiff (D-CA)"] == "S001150"
    assert by_raw["Bonnie Watson Coleman (D-NJ)"] == "W000822"
    assert by_raw["Barbara Lee (D-CA)"] != by_raw["Susie Lee (D-NV)"]


def test_rob_menendez_without_a_chamber_is_ambiguous_in_real_data(real_data):
    [match] = match_cosigners("Rob Menendez (D-NJ)", on=LETTER_DAY)
    assert match.status == "ambiguous"
    assert sorted(c.bioguide_id for c in match.candidates) == ["M000639", "M001226"]


def test_demo_load_uses_the_imported_legislators(real_data):
    before = Legislator.objects.count()
    campaign = demo_load()
    letter = Letter.objects.get(campaign=campaign)
    cosignatures = Cosignature.objects.filter(letter=letter).select_related("legislator")
    assert cosignatures.count() == 45
    assert Legislator.objects.count() == before  # nobody was made up
    bioguides = {c.legislator.bioguide_id: c.role for c in cosignatures}
    assert bioguides["S001150"] == "lead"  # Schiff: a Senator now, a Representative then
    assert bioguides["M001226"] == "cosigner"
    assert "M000639" not in bioguides
    assert all(c.legislator.terms.exists() for c in cosignatures)

    snapshot = sorted(Cosignature.objects.values_list("pk", "letter_id", "legislator_id", "role"))
    demo_load()
    assert sorted(Cosignature.objects.values_list("pk", "letter_id", "legislator_id", "role")) == (
        snapshot
    )
    assert Campaign.objects.filter(slug=campaign.slug).count() == 1
    assert Legislator.objects.count() == before
