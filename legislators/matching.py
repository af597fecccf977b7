"""Match a pasted list of cosigners ("Jake Auchincloss (D-MA), Tony Cardenas (D-CA), … and
Bonnie Watson Coleman (D-NJ).") to the legislators who held a seat on a letter's date.

Names in press releases differ from the records: accents (Cárdenas/Cardenas), middle names and
initials, suffixes ("Frank Pallone, Jr."), nicknames ("Jim" Himes = James), compound surnames
("Watson Coleman", "Kamlager-Dove") and shared names (Rep. Rob Menendez and Sen. Bob Menendez,
both D-NJ in 2023). The matcher never guesses: one candidate is a match, several are ambiguous,
none is unmatched, and a party, state or district in the text that disagrees with the seat held
on that day means "not matched", with the disagreeing legislator offered as a candidate.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from .models import Chamber, Legislator, Term

Status = Literal["matched", "ambiguous", "unmatched"]
MATCHED: Status = "matched"
AMBIGUOUS: Status = "ambiguous"
UNMATCHED: Status = "unmatched"

CHAMBER_NAMES = {Chamber.HOUSE: "the House", Chamber.SENATE: "the Senate"}

# Formal given name → the short forms people go by. Read both ways: "Jim" matches James and
# "James" matches a record whose first name is Jim. Two names never match through a third: Kate
# is not Katie, Christopher is not Christine, and Tina (Christine) is not Chris (Christopher).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abby", "abbie", "abi", "gail"),
    "abraham": ("abe",),
    "albert": ("al", "bert"),
    "alexander": ("alex", "al", "sandy"),
    "alexandra": ("alex", "sandy", "lexi"),
    "alfred": ("al", "fred"),
    "andrew": ("andy", "drew"),
    "angela": ("angie",),
    "anthony": ("tony",),
    "antonio": ("tony",),
    "arthur": ("art",),
    "augustus": ("gus",),
    "barbara": ("barb", "barbie"),
    "benjamin": ("ben", "benji"),
    "bradley": ("brad",),
    "catherine": ("cathy", "cate", "kate", "katie"),
    "charles": ("chuck", "charlie", "chas"),
    "christina": ("chris", "chrissy", "tina"),
    "christine": ("chris", "chrissy", "christy", "tina"),
    "christopher": ("chris", "topher"),
    "cynthia": ("cindy",),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey"),
    "deborah": ("debbie", "deb", "debby"),
    "debra": ("debbie", "deb"),
    "donald": ("don", "donnie"),
    "douglas": ("doug",),
    "edward": ("ed", "eddie", "ted", "ned"),
    "elizabeth": ("liz", "beth", "betsy", "betty", "lizzie", "eliza"),
    "francis": ("frank",),
    "franklin": ("frank",),
    "frederick": ("fred", "freddie"),
    "gerald": ("jerry",),
    "gregory": ("greg",),
    "gustavus": ("gus",),
    "henry": ("hank", "harry"),
    "jacob": ("jake",),
    "james": ("jim", "jimmy", "jamie"),
    "jamin": ("jamie",),
    "jeffrey": ("jeff",),
    "jennifer": ("jen", "jenny"),
    "jerome": ("jerry",),
    "jesus": ("chuy",),
    "john": ("jack", "johnny"),
    "jonathan": ("jon",),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "katherine": ("kate", "katie", "kathy", "kat"),
    "kathleen": ("kathy", "kate", "katie"),
    "kenneth": ("ken", "kenny"),
    "lawrence": ("larry",),
    "leonard": ("len", "lenny"),
    "margaret": ("maggie", "meg", "peggy"),
    "matthew": ("matt",),
    "michael": ("mike", "mikey", "mick"),
    "nathaniel": ("nate",),
    "nicholas": ("nick",),
    "pamela": ("pam",),
    "patricia": ("pat", "patty", "trish"),
    "patrick": ("pat",),
    "raymond": ("ray",),
    "randall": ("randy",),
    "rebecca": ("becky",),
    "richard": ("dick", "rick", "ricky", "rich", "richie"),
    "robert": ("rob", "bob", "bobby", "robbie", "bert"),
    "ronald": ("ron", "ronnie"),
    "samuel": ("sam",),
    "stephen": ("steve",),
    "steven": ("steve",),
    "susan": ("sue", "susie", "suzy"),
    "suzanne": ("sue", "susie", "suzy"),
    "theodore": ("ted", "teddy", "theo"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim",),
    "valerie": ("val",),
    "wesley": ("wes",),
    "william": ("bill", "billy", "will", "willie"),
    "zachary": ("zach", "zack"),
}

SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
# Words that say which chamber an entry is in when they come before the name.
HOUSE_PREFIXES = {
    "rep",
    "reps",
    "representative",
    "representatives",
    "congressman",
    "congresswoman",
    "congressmember",
    "del",
    "delegate",
    "delegates",
}
SENATE_PREFIXES = {"sen", "sens", "senator", "senators"}
COURTESY_PREFIXES = {"hon", "honorable", "the", "mr", "mrs", "ms", "dr"}
# Entries made only of these words are not names ("Representatives:", "and").
STRAY_WORDS = (
    HOUSE_PREFIXES
    | SENATE_PREFIXES
    | COURTESY_PREFIXES
    | {"and", "members", "member", "of", "congress", "house", "senate", "cosigners", "signers"}
)

_PREFIX_RE = re.compile(
    r"^(?:(resident\s+commissioner)|([a-z]+))\.?\s+(?=\S)",
    re.IGNORECASE,
)
_DASH = "\\s*[-\u2010\u2011\u2013\u2014]\\s*"  # hyphens, en and em dashes
_TAG_BODY = rf"([A-Za-z]){_DASH}([A-Za-z]{{2}})(?:{_DASH}(\d{{1,2}}|AL|al))?"
_TAG_RE = re.compile(rf"[(\[]\s*{_TAG_BODY}\s*[)\]]")
_BARE_TAG_RE = re.compile(rf"^{_TAG_BODY}$")
_TRAILING_BARE_TAG_RE = re.compile(rf",\s*{_TAG_BODY}\s*$")
_AND_RE = re.compile(r"(?:^|\s+)(?:and|&)\s+", re.IGNORECASE)


# --- Text normalisation ---------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents: "Joaquín Cárdenas" → "joaquin cardenas"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_tokens(text: str) -> list[str]:
    """Folded words of a name; hyphens, periods, commas and quotes separate or vanish."""
    folded = fold(text)
    folded = re.sub("['`\u2018\u2019]", "", folded)  # O'Halleran → ohalleran
    return re.sub(r"[^a-z0-9]+", " ", folded).split()


@cache
def name_forms(name: str) -> frozenset[str]:
    """A folded given name and the names it may stand for (see NICKNAMES)."""
    forms = {name, *NICKNAMES.get(name, ())}
    forms.update(formal for formal, shorts in NICKNAMES.items() if name in shorts)
    return frozenset(forms)


# --- Parsing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedName:
    raw: str  # the entry as pasted
    name: str  # the name alone: no tag, prefix or trailing punctuation
    tokens: tuple[str, ...]  # folded words of the name, suffix removed
    suffix: str = ""  # folded: "jr", "iii"
    party: str | None = None
    state: str | None = None
    district: int | None = None
    chamber: str | None = None  # from a prefix ("Rep.", "Sen.") or a header ("Senators:")


def _split_top_level(text: str) -> list[str]:
    """Split on commas, semicolons and newlines outside brackets."""
    pieces, current, depth = [], [], 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        if depth == 0 and char in ",;\n\r":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _is_suffix_piece(piece: str) -> bool:
    tokens = name_tokens(_TAG_RE.sub(" ", piece))
    return bool(tokens) and all(t in SUFFIXES for t in tokens)


def _strip_trailing_period(text: str) -> str:
    """ "Coleman (D-NJ)." → "Coleman (D-NJ)", but "Pallone, Jr." and "Adam B." keep theirs."""
    text = text.rstrip()
    while text.endswith("."):
        words = name_tokens(text)
        last = words[-1] if words else ""
        if last in SUFFIXES or len(last) == 1:
            break
        text = text[:-1].rstrip()
    return text


def _entries(text: str) -> list[str]:
    pieces: list[str] = []
    for fragment in _split_top_level(text):
        for piece in _AND_RE.split(fragment):
            piece = piece.strip()
            if not piece:
                continue
            # "Frank Pallone, Jr." and "Jake Auchincloss, D-MA": the comma did not end an entry.
            if pieces and (_is_suffix_piece(piece) or _BARE_TAG_RE.match(piece.rstrip(". "))):
                pieces[-1] = f"{pieces[-1]}, {piece}"
            else:
                pieces.append(piece)
    return pieces


def _chamber_of_words(words: list[str]) -> str | None:
    if any(w in SENATE_PREFIXES or w == "senate" for w in words):
        return Chamber.SENATE
    if any(w in HOUSE_PREFIXES or w == "house" for w in words):
        return Chamber.HOUSE
    return None


def _parse_entry(raw: str, header_chamber: str | None) -> ParsedName | None:
    body = raw
    party = state = None
    district = None
    tag = _TAG_RE.search(body) or _TRAILING_BARE_TAG_RE.search(body)
    if tag:
        party, state = tag.group(1).upper(), tag.group(2).upper()
        if tag.group(3):
            district = 0 if tag.group(3).upper() == "AL" else int(tag.group(3))
        # "Name (P-ST)": whatever follows the tag is prose, not part of the name.
        body = body[: tag.start()] if body[: tag.start()].strip() else body[tag.end() :]

    chamber = header_chamber
    while True:
        prefix = _PREFIX_RE.match(body.strip())
        if not prefix:
            break
        word = fold(prefix.group(0)).strip().rstrip(".")
        if prefix.group(1) or word in HOUSE_PREFIXES:
            chamber = Chamber.HOUSE
        elif word in SENATE_PREFIXES:
            chamber = Chamber.SENATE
        elif word not in COURTESY_PREFIXES:
            break
        body = body.strip()[prefix.end() :]

    name = _strip_trailing_period(re.sub(r"\s+", " ", body).strip(" ,;"))
    tokens = name_tokens(name)
    if not tokens or all(t in STRAY_WORDS for t in tokens):
        return None
    suffix = ""
    while len(tokens) > 1 and tokens[-1] in SUFFIXES:
        suffix = tokens.pop()
    return ParsedName(
        raw=_strip_trailing_period(raw),
        name=name,
        tokens=tuple(tokens),
        suffix=suffix,
        party=party,
        state=state,
        district=district,
        chamber=chamber,
    )


def parse_cosigner_text(text: str) -> list[ParsedName]:
    """The entries of a pasted list, in order. Empty entries and stray words are dropped.

    A header such as "Senators:" or "Representatives:" says the chamber of the entries after
    it (until the next header); "Rep."/"Sen."/"Del." before a name says it for that name.
    """
    parsed: list[ParsedName] = []
    header_chamber: str | None = None
    for entry in _entries(text):
        if ":" in entry:
            label, entry = entry.split(":", 1)
            words = name_tokens(label)
            if words and all(w in STRAY_WORDS for w in words):
                header_chamber = _chamber_of_words(words) or header_chamber
            else:  # not a header: keep it, so nothing pasted vanishes unseen
                labelled = _parse_entry(label.strip(), header_chamber)
                if labelled:
                    parsed.append(labelled)
            entry = entry.strip()
        result = _parse_entry(entry, header_chamber)
        if result:
            parsed.append(result)
    return parsed


# --- Matching -------------------------------------------------------------------------------


@dataclass
class CosignerMatch:
    raw: str
    name: str
    party: str | None
    state: str | None
    status: Status
    legislator: Legislator | None = None
    candidates: list[Legislator] = field(default_factory=list)
    reason: str = ""
    district: int | None = None
    chamber: str | None = None  # the chamber the entry was matched in, if restricted
    # The term each legislator above (match and candidates) held on the day, by legislator pk.
    terms: dict[int, Term] = field(default_factory=dict)

    @property
    def term(self) -> Term | None:
        return self.terms.get(self.legislator.pk) if self.legislator else None

    @property
    def choices(self) -> list[Legislator]:
        """Everyone an organizer may pick for this entry: the match and the candidates."""
        chosen = [self.legislator] if self.legislator else []
        return chosen + [c for c in self.candidates if c not in chosen]

    def seat(self, legislator: Legislator) -> str:
        term = self.terms.get(legislator.pk)
        return seat_label(term) if term else ""


def term_party(term: Term) -> str:
    return term.party or term.legislator.party


def seat_label(term: Term) -> str:
    """ "D-CA-30" for a Representative, "D-DC-AL" at large, "D-NJ, Senate" for a Senator."""
    return f"{term_party(term)}-{term.seat}"


@dataclass(frozen=True)
class _Profile:
    """How one legislator's name may be written."""

    last: tuple[str, ...]
    first_forms: frozenset[str]  # what the first given word may be
    given_words: frozenset[str]  # any word the given names may contain
    initials: frozenset[str]
    suffix: str
    knows_middle: bool  # the record has a middle name or initial to check the text against
    written: frozenset[tuple[str, ...]]  # given names exactly as on record ("j", "d" for J.D.)


def _profile(legislator: Legislator) -> _Profile:
    last = tuple(name_tokens(legislator.last_name))
    first = name_tokens(legislator.first_name)
    middle = name_tokens(legislator.middle_name)
    nickname = name_tokens(legislator.nickname)
    official = [t for t in name_tokens(legislator.official_full_name) if t not in SUFFIXES]
    ends_with_last = bool(last) and official[-len(last) :] == list(last)
    official_given = official[: -len(last)] if ends_with_last else []
    # The name they go by: "H. Morgan Griffith" goes by Morgan.
    goes_by = [w for w in official_given if len(w) > 1][:1]
    others = [*nickname[:1], *official_given[:1], *goes_by]
    if first and first[0] in NICKNAMES:
        # A formal first name decides what its short forms stand for: the nickname "Chris" of
        # a Christopher is not also a Christine's.
        first_forms = name_forms(first[0]) | set(others)
    else:
        first_forms = frozenset().union(*(name_forms(n) for n in [*first[:1], *others]))
    words = set(first) | set(middle) | set(nickname) | set(official_given) | first_forms
    initials = {w[0] for w in [*first, *middle, *official_given] if w}
    suffix = next(iter(t for t in name_tokens(legislator.suffix) if t in SUFFIXES), "")
    middles = set(middle) | set(official_given[1:])
    knows_middle = bool(middles - set(first) - set(nickname) - first_forms)
    written = {tuple(w) for w in (first, nickname, official_given, first + middle) if w}
    return _Profile(
        last,
        first_forms,
        frozenset(words),
        frozenset(initials),
        suffix,
        knows_middle,
        frozenset(written),
    )


def _given_fits(given: tuple[str, ...], profile: _Profile) -> bool:
    if not given:
        return True  # a surname alone; party, state and uniqueness still have to agree
    if given in profile.written:
        return True
    if not any(len(word) > 1 and word in profile.first_forms for word in given):
        return False
    if not profile.knows_middle:
        return True  # "Adam B. Schiff" for a record without a middle name
    return all(
        word in profile.given_words or (len(word) == 1 and word in profile.initials)
        for word in given
    )


def _name_fit(parsed: ParsedName, profile: _Profile) -> Literal["full", "near"] | None:
    """ "full" if the name is this legislator's, "near" if it resembles it, else None."""
    tokens, last = parsed.tokens, profile.last
    if not last:
        return None
    if parsed.suffix and profile.suffix and parsed.suffix != profile.suffix:
        return "near" if tokens[-1:] == last[-1:] else None
    if len(tokens) >= len(last) and tokens[-len(last) :] == last:
        return "full" if _given_fits(tokens[: -len(last)], profile) else "near"
    surname = tokens[-1]
    if surname in last:  # one part of a compound surname: "Kamlager" for Kamlager-Dove
        return "near"
    similar = difflib.SequenceMatcher(None, surname, "".join(last))
    if (
        similar.real_quick_ratio() >= 0.8
        and similar.quick_ratio() >= 0.8
        and similar.ratio() >= 0.8
    ):
        return "near"  # a misspelling
    return None


def _legislator_sort_key(legislator: Legislator):
    return (legislator.last_name, legislator.first_name, legislator.bioguide_id)


def _distinct(pairs: list[tuple[Legislator, Term]]) -> list[Legislator]:
    seen: dict[int, Legislator] = {}
    for legislator, _ in pairs:
        seen.setdefault(legislator.pk, legislator)
    return sorted(seen.values(), key=_legislator_sort_key)


def _values(pairs, get) -> str:
    return ", ".join(sorted({str(get(term)) for _, term in pairs}))


def _one_match(
    parsed: ParsedName,
    pool: list[tuple[Legislator, Term, _Profile]],
    *,
    on: dt.date,
    chamber: str | None,
) -> CosignerMatch:
    chamber = parsed.chamber or chamber
    result = CosignerMatch(
        raw=parsed.raw,
        name=parsed.name,
        party=parsed.party,
        state=parsed.state,
        district=parsed.district,
        chamber=chamber,
        status=UNMATCHED,
    )
    fits = [(leg, term, _name_fit(parsed, profile)) for leg, term, profile in pool]
    named = [(leg, term) for leg, term, fit in fits if fit == "full"]

    def unmatched(pairs, reason):
        result.candidates = _distinct(pairs)
        result.terms = {leg.pk: term for leg, term in pairs}
        result.reason = reason
        return result

    if not named:
        near = [(leg, term) for leg, term, fit in fits if fit == "near"]
        if chamber:
            near = [(leg, term) for leg, term in near if term.chamber == chamber] or near
        near.sort(key=lambda p: (p[1].state != parsed.state, term_party(p[1]) != parsed.party))
        return unmatched(near[:12], f"no legislator of that name served on {on}")

    steps = [named]
    if chamber:
        in_chamber = [(leg, term) for leg, term in steps[-1] if term.chamber == chamber]
        if not in_chamber:
            where = _values(steps[-1], lambda t: CHAMBER_NAMES[t.chamber])
            return unmatched(steps[-1], f"in {where}, not {CHAMBER_NAMES[chamber]}, on {on}")
        steps.append(in_chamber)
    if parsed.party:
        same = [(leg, term) for leg, term in steps[-1] if term_party(term) == parsed.party]
        if not same:
            theirs = _values(steps[-1], term_party)
            return unmatched(steps[-1], f"party {parsed.party} in the text but {theirs} on {on}")
        steps.append(same)
    if parsed.state:
        same = [(leg, term) for leg, term in steps[-1] if term.state == parsed.state]
        if not same:
            theirs = _values(steps[-1], lambda t: t.state)
            return unmatched(steps[-1], f"state {parsed.state} in the text but {theirs} on {on}")
        steps.append(same)
    if parsed.district is not None:
        same = [
            (leg, term)
            for leg, term in steps[-1]
            if term.chamber == Chamber.HOUSE and term.district == parsed.district
        ]
        if not same:
            theirs = _values(steps[-1], seat_label)
            return unmatched(
                steps[-1], f"district {parsed.district} in the text but {theirs} on {on}"
            )
        steps.append(same)

    final = steps[-1]
    legislators = _distinct(final)
    result.terms = {leg.pk: term for leg, term in final}
    if len(legislators) == 1:
        result.status = MATCHED
        result.legislator = legislators[0]
        return result
    result.status = AMBIGUOUS
    result.candidates = legislators
    result.reason = f"{len(legislators)} legislators match"
    if len({term.chamber for _, term in final}) > 1:
        result.reason += "; a Rep./Sen. prefix or a chamber would decide"
    elif not (parsed.party and parsed.state):
        result.reason += "; a (party-state) tag may decide"
    return result


def candidates_on(on: dt.date) -> list[tuple[Legislator, Term]]:
    """(legislator, term) for every term covering `on`, in one query."""
    terms = Term.objects.covering(on).select_related("legislator")
    return [(term.legislator, term) for term in terms.order_by("legislator_id", "start")]


def match_cosigners(text: str, *, on: dt.date, chamber: str | None = None) -> list[CosignerMatch]:
    """Match each entry of a pasted list to the legislator who held a seat on `on`.

    `chamber` ("house", "senate" or None for either) restricts the candidates; a "Rep."/"Sen."
    prefix on an entry overrides it for that entry. Party, state and district come from each
    seat's term on that day, not from the legislator's present seat.
    """
    if chamber not in (None, Chamber.HOUSE, Chamber.SENATE):
        raise ValueError(f"chamber must be 'house', 'senate' or None, not {chamber!r}")
    parsed = parse_cosigner_text(text)
    if not parsed:
        return []
    pool = []
    profiles: dict[int, _Profile] = {}
    for legislator, term in candidates_on(on):
        if legislator.pk not in profiles:
            profiles[legislator.pk] = _profile(legislator)
        pool.append((legislator, term, profiles[legislator.pk]))
    return [_one_match(entry, pool, on=on, chamber=chamber) for entry in parsed]
