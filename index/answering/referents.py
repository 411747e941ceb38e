"""What a turn of a chat (`Turn`) names, by kind: people, places, dates, groups ("US troops") and
things ("the withdrawal timetable"), for follow-ups to refer back to.

Questions are often typed in lower case, so places are recognised from a list (countries, capitals,
big cities, regions) and people from the answers' text, where the articles spell them with capitals:
a run of capitalised words after a title ("Defense Secretary Lloyd Austin"), of two or more words
that name no place or organisation ("Sean Parnell"), or one such word inside a sentence
("…Lavrentyev emphasized…").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from newsqa.index.text.numbers import MONTHS


@dataclass(frozen=True)
class Turn:
    """One exchange of a chat: the question as answered (resolved) and the answer given."""

    question: str
    answer: str
    at: float


_COUNTRIES = """
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas
bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei
bulgaria burkina burundi cambodia cameroon canada chad chile china colombia congo croatia cuba cyprus
czechia czech denmark djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland
france gabon gambia georgia germany ghana greece grenada guatemala guinea guyana haiti honduras
hungary iceland india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya
kiribati kosovo kuwait kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania
luxembourg madagascar malawi malaysia maldives mali malta mauritania mauritius mexico micronesia
moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru nepal netherlands
nicaragua niger nigeria norway oman pakistan palau palestine panama paraguay peru philippines poland
portugal qatar romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia
somalia spain sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga
tunisia turkey turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen
zambia zimbabwe scotland wales england britain holland gaza kurdistan crimea
"""
_MULTI = """
united states|united kingdom|united arab emirates|saudi arabia|south africa|south korea|north korea|
new zealand|sri lanka|costa rica|el salvador|ivory coast|west bank|hong kong|middle east|east timor|
new york|los angeles|san francisco|tel aviv|abu dhabi|latin america|south america|north america|
the levant|persian gulf|the gulf|sierra leone|puerto rico|dominican republic|papua new guinea
"""
_CITIES_REGIONS = """
washington london paris berlin moscow beijing tokyo baghdad damascus tehran kabul ankara istanbul
cairo riyadh doha dubai beirut amman jerusalem mosul basra erbil kirkuk fallujah ramadi tikrit
aleppo raqqa idlib homs kyiv kiev brussels rome madrid lisbon vienna warsaw prague budapest athens
dublin edinburgh cardiff belfast manchester liverpool birmingham glasgow leeds oxford cambridge
chicago boston houston dallas miami seattle sydney melbourne toronto montreal vancouver delhi mumbai
karachi islamabad lahore dhaka jakarta manila seoul shanghai geneva zurich stockholm oslo helsinki
copenhagen amsterdam lagos nairobi johannesburg asia europe africa america antarctica arctic
levant mesopotamia balkans caucasus scandinavia sahara sahel maxmur ukraine usa uk uae us eu
"""
PLACES = frozenset(
    [*_COUNTRIES.split(), *_CITIES_REGIONS.split(), *(p.strip() for p in _MULTI.split("|") if p.strip())]
)
_PLACE_ALIASES = {
    "u.s.": "us",
    "u.s": "us",
    "usa": "us",
    "united states": "us",
    "america": "us",
    "the us": "us",
    "the usa": "us",
    "u.k.": "uk",
    "united kingdom": "uk",
    "britain": "uk",
    "the uk": "uk",
}
_ACRONYMS = frozenset({"us", "uk", "uae", "eu", "usa"})
_TITLES = frozenset(
    """secretary minister president spokesman spokeswoman spokesperson general prime senator
    representative ambassador mr mrs ms dr chancellor king queen prince princess governor mayor
    commander chief director leader pope sheikh ayatollah colonel captain lieutenant sergeant judge
    coach manager chairman chairwoman envoy premier vice deputy defense defence foreign interior
    finance state home health special chief""".split()
)
# Capitalised words that make a run an organisation, a people or an event rather than a person.
_NOT_PERSON = frozenset(
    """department ministry commission council nations union forces force army navy party government
    news agency office court parliament bank company group islamic committee organization organisation
    house congress senate university pentagon coalition military security league association corp
    inc ltd times post tass reuters isis isil hamas hezbollah taliban nato un iraqi shiite sunni kurdish
    peshmerga arab western eastern jihadist christian muslim jewish catholic the a an this that these
    those his her their its our my your mr january february march april may june july august
    september october november december monday tuesday wednesday thursday friday saturday sunday
    god previous next more article details what happened whats""".split()
)
PREPOSITIONS = "in|at|for|about|on|with|from|of|to|during|after|before|by|against|under|inside|near"
LOCATIVE = re.compile(rf"\b(?:{PREPOSITIONS}|into|across|inside|throughout)\s+$", re.IGNORECASE)
AUX = r"are|is|were|was|do|does|did|have|has|had|will|would|can|could|should"
_FUNCTION_WORDS = frozenset(
    "as and but or so in on at by for from with after before when while if since although though "
    "then also yet still thus here there where who what which".split()
)
_SPEECH = re.compile(
    r"^\s*(?:['’]s\b|(?:has |had |have |also |then )?(?:said|says|stated|told|added|announced|"
    r"emphasized|emphasised|clarified|argued|warned|noted|pointed|declared|claimed|insisted)\b)"
)
_RUN = re.compile(r"[A-Z][\w'’.-]*(?:[ ](?:al-|bin |de |van |von )?[A-Z][\w'’.-]*)*")
_STARTS_SENTENCE = re.compile(r"(?:^|[.!?:;\"“”(\]]\s*|\n\s*)$")
_SEASON = r"(?:(?:the )?(?:early |late )?(?:spring|summer|fall|autumn|winter) of )"
_MONTH = "(?:" + "|".join(m for m in MONTHS if len(m) > 3 or m == "may") + ")"
DATE_PHRASE = re.compile(
    rf"\b(?:{_SEASON}?{_MONTH}(?: \d{{1,2}})?(?:,? (?:1\d|20)\d\d)?|{_SEASON}?(?:1[89]|20)\d\d)\b",
    re.IGNORECASE,
)


def _demonym_of_place(word: str) -> bool:
    low = word.lower()
    return any(
        low.endswith(end) and low[: len(low) - len(end)] + add in PLACES
        for end, add in (("i", ""), ("ian", ""), ("n", ""), ("ian", "ia"), ("ese", ""), ("ish", ""))
    )


def canonical_place(phrase: str) -> str:
    """One spelling per place, lower case: "U.S." and "United States" are "us"."""
    low = " ".join(phrase.lower().split())
    return _PLACE_ALIASES.get(low, low)


def is_place(phrase: str) -> bool:
    low = canonical_place(phrase)
    return low in PLACES or (low.startswith("the ") and low[4:] in PLACES)


def cased(phrase: str, *, name: bool = False) -> str:
    """A phrase typed in lower case with its places capitalised ("us troops" → "US troops"), and all
    its words when it is a `name` ("lloyd austin"), so that the answerer recognises them as names."""
    words = phrase.split()
    if name and phrase.islower() and not phrase.startswith(("the ", "a ")) and not _STOP.intersection(words):
        return " ".join(w.upper() if w in _ACRONYMS else w.capitalize() for w in words)
    for place, start in reversed(places_in(phrase)):
        if place.islower():
            spelt = " ".join(
                w.upper() if w in _ACRONYMS else w if w == "the" else w.capitalize() for w in place.split()
            )
            phrase = phrase[:start] + spelt + phrase[start + len(place) :]
    return phrase


def places_in(text: str) -> list[tuple[str, int]]:
    """The places `text` names (any case), with where each starts, in order."""
    found: list[tuple[str, int]] = []
    for match in re.finditer(r"[A-Za-z][A-Za-z.]*(?: [A-Za-z][A-Za-z.]*){0,2}", text):
        words = match.group(0).split(" ")
        start = match.start()
        i = 0
        while i < len(words):
            for n in (3, 2, 1):
                phrase = " ".join(words[i : i + n]).rstrip(".")
                if (
                    len(words[i : i + n]) == n
                    and is_place(phrase)
                    and not _is_pronoun_us(text, start, phrase)
                ):
                    found.append((phrase, start))
                    start += len(" ".join(words[i : i + n])) + 1
                    i += n
                    break
            else:
                start += len(words[i]) + 1
                i += 1
    return found


def _is_pronoun_us(text: str, start: int, phrase: str) -> bool:
    """ "tell us", "give us": the pronoun, not the country (lower-case "us" before a verb or at the end)."""
    if phrase != "us":
        return False
    after = text[start + 2 :]
    before = text[:start].rstrip().split(" ")[-1:] or [""]
    return not re.match(r"\s+[a-z]", after) or before[0].lower() in ("tell", "give", "show", "let", "help")


@dataclass(frozen=True)
class Person:
    name: str  # as the text spells it, without the title: "Lloyd Austin"
    start: int


def people_in(text: str) -> list[Person]:
    """The people `text` names with capitals, in order; a title before the name marks it as one."""
    found: list[Person] = []
    for match in _RUN.finditer(text):
        words = [w.rstrip(".,") for w in match.group(0).split(" ")]
        words = [re.sub(r"['’]s$", "", w) for w in words]
        titled = False
        while words and words[0].lower() in _FUNCTION_WORDS:  # "As Colin Powell once said"
            words = words[1:]
        while words and (words[0].lower() in _TITLES or _demonym_of_place(words[0])):
            titled = titled or words[0].lower() in _TITLES
            words = words[1:]
        if not words or any(
            w.lower() in _NOT_PERSON or is_place(w) or w.isupper() or _demonym_of_place(w) for w in words
        ):
            continue
        first_at = match.start() + match.group(0).find(words[0])
        lone = len(words) == 1 and not titled
        said = _SPEECH.match(text[match.end() :]) or re.search(r"['’]s$", match.group(0))
        if lone and (_STARTS_SENTENCE.search(text[:first_at]) or not said):
            continue
        name = " ".join(words)
        if name not in (p.name for p in found):
            found.append(Person(name, first_at))
    return found


# Words that end a noun phrase: verbs that glue questions together, prepositions, question words.
_STOP = frozenset(
    """is are was were be been being do does did done has have had will would can could should shall
    may might must to of in on at for from by with about into over after before during since than
    that which who whom whose what when where why how and or but not if as say said says think want
    wants wanted take took taken start started end ended mean means happen happened really still
    also ever currently now rn reflects wants says means needs takes makes seems shows plans continues
    remains includes controls believes expects thinks knows gets goes comes looks works leads happens
    starts ends calls holds runs requires supports affects involves emphasizes emphasises faces gives
    keeps sees suggests tells uses wins exists claims argues reports""".split()
)
_NOT_PLURAL = frozenset(
    """is was has does us this its his hers yours ours theirs status news process analysis always
    whereas perhaps series species thus plus bus gas less unless across various previous famous
    serious obvious afghanistan isis hamas tass""".split()
)


def noun_phrases(question: str) -> list[tuple[str, bool]]:
    """(phrase, plural) for each noun phrase of a question led by "the", "which", "how many" or a
    plural noun: "the withdrawal timetable" (False), "us troops" (True)."""
    words = re.findall(r"[\w'’.-]+", question)
    phrases: list[tuple[str, bool]] = []
    i = 0
    while i < len(words):
        low = words[i].lower()
        if low in ("the", "its", "their", "his", "her") or (
            low in ("which", "many", "much") and i + 1 < len(words)
        ):
            j = i + 1
            while j < len(words) and j - i <= 4 and words[j].lower() not in _STOP:
                if j > i + 1 and words[j].lower().endswith("ed"):
                    break  # "the training mission focused on": a verb ends it
                j += 1
            body = words[i + 1 : j]
            if j == len(words) and len(body) > 1 and _DO.intersection(w.lower() for w in words[:i]):
                body = body[:-1]  # "what does the training mission emphasize": the verb ends it
                j -= 1
            if body and not (len(body) == 1 and words[i + 1].lower() in _NOT_PERSON - {"pentagon"}):
                keep = words[i:j] if low == "the" else body
                phrases.append((" ".join(keep), _plural(body[-1])))
            i = max(j, i + 1)
            continue
        if _plural(words[i]) and low not in _STOP:
            j = i
            while j > 0 and words[j - 1].lower() not in _STOP and j > i - 3:
                j -= 1
            phrases.append((" ".join(words[j : i + 1]), True))
        i += 1
    return phrases


_DO = frozenset("do does did will would can could should".split())


def _plural(word: str) -> bool:
    low = word.lower()
    return (
        len(low) > 3
        and low.endswith("s")
        and not low.endswith(("ss", "us", "is", "'s", "’s"))
        and low not in _NOT_PLURAL
        and not is_place(low)
    ) or low in ("people", "forces", "militias", "children", "men", "women", "police")


@lru_cache(maxsize=1024)
def title_words(text: str) -> frozenset[str]:
    """Content words of a text, lower-cased, for matching a question's words to an answer's names."""
    return frozenset(w for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in _STOP)


def locative(question: str, places: list[tuple[str, int]]) -> tuple[str, int]:
    """The place a question is about: the last one after "in"/"from"/"to"…, else the last one."""
    after = [p for p in places if LOCATIVE.search(question[: p[1]])]
    return (after or places)[-1]


def find_phrase(text: str, phrase: str) -> tuple[int, int] | None:
    match = re.search(r"\b" + re.escape(phrase) + r"\b", text, re.IGNORECASE)
    if match is None and " " in phrase:  # "Parnell" for "Sean Parnell"
        match = re.search(r"\b" + re.escape(phrase.split()[-1]) + r"\b", text, re.IGNORECASE)
    return match.span() if match else None
