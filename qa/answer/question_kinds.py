"""The kind of fact a question asks for, and whether a sentence holds one.

"How much did Rangers pay for him?" asks for a sum of money, "How old is she?" for an age, "Why
did profits fall?" for a reason. The sentence that answers holds that kind of fact; the sentence
that merely repeats the question's words (a news story's opening line, say) often does not. And
when no sentence about the question's subject holds it, the documents don't say. Each kind is a
pattern over the question and one over sentences, written for English text; a question asks for
at most one kind (the first that matches, most specific first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from qa.text.words import letters_and_digits, terms, words

_CARDINAL_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                   r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                   r"hundred|thousand|million|billion|trillion|dozen|dozens|hundreds|thousands|millions|billions|"
                   r"a few|several|both")
_NUMBER_WORDS = rf"{_CARDINAL_WORDS}|half|quarter|third"
_NUMBER = rf"(?:\d[\d,.]*|\b(?:{_NUMBER_WORDS})\b)"
ORDINAL_WORDS = (r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|twentieth|"
                 r"hundredth")
"""Ordinal numbers in words, as a regular-expression alternation."""
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_NAMES = rf"{_MONTHS}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
_YEAR = r"(?:1\d{3}|20\d{2})"
_DATE_NUMBER = (rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_NAMES})\b(?:,?\s+{_YEAR}\b)?"
                rf"|\b(?:{_MONTH_NAMES})\.?\s+(?:\d{{1,2}}\b(?:,?\s+{_YEAR}\b)?|{_YEAR}\b)"
                rf"|\b(?:in|since|from|until|till|before|after|during|early|late|mid)[\s-]+{_YEAR}s?\b"
                rf"|\b{_YEAR}\s?(?:-|–|to|and)\s?(?:{_YEAR}|\d{{2}})\b|\b{_YEAR}s?\b(?!\s+(?-i:[a-z]))")
"""Numbers that are dates: days of months, and years (after a preposition, in a range, or not
followed by a lower-case word: "in 1466", "1980-84", "the 1998 Olympics", but "by 2000 guests")."""
_SCORE = r"\b\d{1,2}[-–]\d{1,2}\b(?![-–])"
"""A match's score ("lost 1-0"): two numbers, neither of them a count of anything asked for."""
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_UNITS = (r"metres?|meters?|kilometres?|kilometers?|km|miles?|feet|foot|ft|inches|inch|yards?|cm|mm|m|"
          r"kilograms?|kg|grams?|g|tonnes?|tons?|pounds|lb|lbs|ounces?|litres?|liters?|gallons?|acres?|hectares?|"
          r"degrees?|°[CF]?|mph|km/h|knots?|square|cubic")
_TIME_UNITS = r"seconds?|minutes?|hours?|days?|weeks?|fortnights?|months?|years?|decades?|centuries|century"

_CAPITALISED = r"[A-Z][\w'.&-]*(?:\s+(?:of |de |von |van |the |and |& )?[A-Z0-9][\w'.&-]*)*"
"""A name of several capitalised words: Stockholm, The Hague, Pirates of the Caribbean, Pro Evolution Soccer 4."""
_NOT_NAMES = (r"Association|Championship|Championships|Cup|Award|Awards|Party|Council|League|Club|United|City|"
              r"Department|Office|Ministry|Bank|Group|Company|News|University|Commission|Committee|Foundation|"
              r"Institute|Court|Parliament|Government|Service|Services|Agency|Society|Union|Corporation|Inc|Ltd|"
              rf"Plc|Games|Olympics|Open|Festival|Street|Road|Park|Stadium|Times|Post|Journal|Day|Week|{_MONTHS}|{_DAYS}")
_PERSON = (rf"(?!(?:{_NOT_NAMES})\b)[A-Z][a-z'’]+(?:-[A-Z][a-z]+)?(?:\s+(?:de |van |von |da |le |al-)?"
           rf"(?!(?:{_NOT_NAMES})\b)[A-Z][a-z'’]+(?:-[A-Z][a-z]+)?)+")
"""A person's name: two or more capitalised words that are not words of institutions or dates."""
_HONORIFICS = r"Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady|Dame|Prof|Professor|President|Chairman|Chief|Judge|Coach|Rev"

I = re.IGNORECASE


@dataclass(frozen=True)
class AnswerType:
    """A kind of fact: how a question asks for it, and how a sentence that states it reads."""

    name: str
    asks: re.Pattern
    """How a question asks for it; what it matches is the asking phrase alone ("how much", "what
    share"), without the rest of the question."""
    holds: re.Pattern
    names_something: bool = False
    """The fact is a name: a capitalised word the question does not already hold."""
    ignores: re.Pattern | None = None
    """What reads like a fact of this kind in a sentence but is not one (a date, for a count)."""


ANSWER_TYPES = (
    AnswerType(
        "money",
        re.compile(r"\bhow much\b(?! (?:time|longer|more time|of|weight|land|area|space|water|energy|power)\b)"
                   r"(?=.*\b(?:cost|costs|pay|paid|pays|price|prices|worth|spend|spent|raise|raised|sell|sold|earn|"
                   r"earns|earned|fine|fined|owe|owed|money|fee|fees|salary|wage|budget|bid|offer|offered|charge|"
                   r"charges|save|saved|donate|donated|invest|invested|lose|lost|take|took|make|made|value)\b)"
                   r"|\bwhat (?:fee|price|sum)\b|\bhow big\b(?=.*\bbudget\b)", I),
        re.compile(rf"[£$€¥]\s?\d[\d,.]*\d?(?:\s?(?:bn|m|k|million|billion|trillion)\b)?|\d[\d,.]*\s?(?:bn|m|k)\b|\b{_NUMBER}\s+(?:pounds|dollars|euros?|yen|pence|cents|"
                   r"francs|rupees|yuan|roubles|rubles)\b|\d[\d,.]*\s?-?(?:euro|dollar|pound)s?\b|\bfree\b", I),
    ),
    AnswerType(
        "share",
        re.compile(r"\b(?:what|which) (?:share|percentage|proportion|fraction|per ?cent|amount of)\b"
                   r"|\bhow much (?:weight|of)\b|\bby (?:what|how much) (?:percentage|per ?cent)\b"
                   r"|\bat what percentage\b", I),
        re.compile(rf"\d\s?%|\b{_NUMBER}\s?(?:per ?cent|percent|percentage points?)\b|\b(?:half|a third|"
                   r"a quarter|two-thirds|three-quarters|majority|minority)\b", I),
    ),
    AnswerType(
        "age",
        re.compile(r"\bhow old\b|\b(?:what|which) age\b|\bat what age\b|\baged how\b", I),
        re.compile(r"\baged? \d{1,3}\b|\bage of \d{1,3}\b|\b\d{1,3}-year-old\b|\b\d{1,3} years? old\b|,\s\d{1,3},|\(\d{1,3}\)"
                   r"|\bin (?:his|her|their) (?:teens|twenties|thirties|forties|fifties|sixties|seventies|"
                   r"eighties|nineties)\b", I),
    ),
    AnswerType(
        "duration",
        re.compile(r"\bhow long\b(?!.*\b(?:is|are|was|were) (?:the|a|an|it)\b.*\b(?:bridge|river|road|wall|"
                   r"tunnel|line|runway|coast|border)\b)|\bfor how many (?:years|months|weeks|days|hours|minutes)\b"
                   r"|\bwhat (?:length of time|period)\b|\bhow much (?:longer|more )?time\b", I),
        re.compile(rf"\b{_NUMBER}[\s-]+(?:{_TIME_UNITS})\b|\b(?:a|an|one) (?:{_TIME_UNITS})\b|\b\d{{1,2}}:\d{{2}}\b"
                   rf"|\b(?:since|until|till|to|through|for) (?:the )?(?:\d{{4}}|{_MONTHS}|end|death|present)\b"
                   r"|\bbetween \d{4} and\b|\b\d{4}s?\s?(?:-|–|to|until)\s?\d{2,4}\b|\bcentur(?:y|ies)\b", I),
    ),
    AnswerType(
        "measure",
        re.compile(r"\b(?:by )?how (?:far|high|tall|deep|wide|long|big|large|heavy|fast|hot|cold)\b", I),
        re.compile(rf"\b\d[\d,.]*\s?(?:{_UNITS})\b|\b{_NUMBER}\s(?:[a-z]+\s)?(?:{_UNITS})\b", I),
    ),
    AnswerType(
        "time",
        re.compile(r"\b(?:at )?what time\b(?!\s*(?:frame|fram\w*|period|span|scale))", I),
        re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{3,4}\s?(?:GMT|BST|UTC|ET|PT|CET|hours|hrs)\b|\b\d{1,2}\s?(?:am|pm|a\.m\.|"
                   r"p\.m\.)|\b(?:noon|midnight|midday|morning|afternoon|evening|night)\b", I),
    ),
    AnswerType(
        "date",
        re.compile(r"\bwhen\b|\b(?:what|which|in what|in which|on what|on which) (?:year|years|century|decade|date|"
                   r"month|day|season)\b", I),
        re.compile(rf"\b{_YEAR}s?\b|\b(?:{_MONTHS}|{_DAYS})\b|\bcentur(?:y|ies)\b|\b(?:yesterday|"
                   r"today|tomorrow|tonight|last|next|this) (?:year|month|week|season|spring|summer|autumn|winter)?\b"
                   r"|\b(?:spring|summer|autumn|fall|winter)\b|\b\d{1,2}(?:st|nd|rd|th)\b", I),
    ),
    AnswerType(
        "score",
        re.compile(r"\bwhat (?:was|is|were) the (?:final |half-time |full-time )?score\b|\b(?:by|with|at) what score\b", I),
        re.compile(_SCORE),
    ),
    AnswerType(
        "rank",
        re.compile(r"\bwhich number\b|\bwhat number in\b", I),
        re.compile(rf"\b\d+(?:st|nd|rd|th)\b|\b(?:{ORDINAL_WORDS})\b|\bnumber (?:\d+|one|two|three)\b", I),
    ),
    AnswerType(
        "count",
        re.compile(r"\bhow many\b|\bwhat (?:number|size|population)\b|\b(?:how much|how big|how large)\b", I),
        re.compile(rf"\d[\d,.]*(?![\d,.]*(?:st|nd|rd|th)\b)|\b(?:{_CARDINAL_WORDS})\b", I),
        ignores=re.compile(rf"{_DATE_NUMBER}|{_SCORE}", I),
    ),
    AnswerType(
        "reason",
        re.compile(r"^\s*why\b|\bwhat (?:made|caused|led|prompted|forced|causes|makes|leads|drove)\b"
                   r"|\bfor what reason\b|\bhow come\b", I),
        re.compile(r"\b(?:because|due to|owing to|as a result|thanks to|after|since|so that|in order to|"
                   r"following|led to|lead to|leads to|caused|causes|blamed|amid|means|meant|so)\b", I),
    ),
    AnswerType(
        "place",
        re.compile(r"\bwhere\b|\b(?:in|at|from|to) (?:which|what) (?:city|cities|country|countries|town|towns|"
                   r"place|region|state|county|area|venue|stadium|capital)\b|\bwhich (?:city|cities|country|"
                   r"countries|town|place|region|state|county|venue|stadium)\b", I),
        re.compile(rf"\b(?:in|at|from|to|near|outside|across|throughout|into|of|based in|city of) (?:the )?"
                   rf"({_CAPITALISED})"),
        names_something=True,
    ),
    AnswerType(
        "person",
        re.compile(r"^\s*(?:who|whom|whose)\b|\b(?:by|with|to|for|from|of) whom\b|\bwhose\b|\bwhich (?:[\w-]+ ){0,2}(?:lawyer|"
                   r"player|players|actor|actress|singer|MP|minister|analyst|author|writer|coach|manager|director|"
                   r"defender|striker|president|chairman|person|man|woman|referee|judge|politician|"
                   r"leader|official|spokesman|spokeswoman|artist|musician|presenter|chief|boss)\b"
                   r"|\bname of the (?:man|woman|person|boy|girl|photographer|player|author|writer|actor)\b", I),
        re.compile(rf"(?:\b(?:{_HONORIFICS})\.? )?({_PERSON})"),
        names_something=True,
    ),
    AnswerType(
        "name",
        re.compile(r"\b(?:what|which) (?:is|was|are|were)? ?(?:the )?(?:name|names|title|titles)\b|\bcalled\b"
                   r"|\bnamed\b|\bwhich (?:[\w-]+ ){0,2}(?:company|companies|firm|team|club|band|group|game|film|films|book|books|"
                   r"album|newspaper|paper|bank|party|charity|agency|organisation|organization|studio|acts?|"
                   r"programme|program|show|brand|product)\b|\bwhat (?:alias|nickname|group|company|vehicle|"
                   r"constituency|web address|real name)\b", I),
        re.compile(rf"(?<=[\s(\"'‘“])({_CAPITALISED})|\b\w+\.(?:com|org|net|co\.uk|gov)\b"),
        names_something=True,
    ),
)


MEASURABLE = frozenset({"money", "share", "age", "duration", "measure", "time", "score", "count"})
"""Kinds whose facts have few forms (numbers and their units), so their absence can be trusted."""


def asked_type(question: str) -> AnswerType | None:
    """The kind of fact ``question`` asks for, or None (a "what" or "how" question of no one kind).

    The kind asked for earliest in the question wins ("Where was he when ..." asks for a place);
    at the same place, the more specific kind listed first.
    """
    found = [(match.start(), order, kind) for order, kind in enumerate(ANSWER_TYPES)
             if (match := kind.asks.search(question))]
    return min(found, key=lambda item: item[:2])[2] if found else None


def facts(kind: AnswerType, sentence: str, question_words: set[str]) -> set[str]:
    """The facts of this kind that ``sentence`` states and the question does not already hold
    (lower-cased), so that a fact told in one sentence only can be told from a repeated one."""
    return {fact for fact, _ in _new_facts(kind, sentence, question_words)}


def named_beside(kind: AnswerType, sentence: str, question_words: set[str], question_terms: set[str]) -> bool:
    """Whether ``sentence`` names a person the question does not, right beside one of the
    question's terms (``qa.text.words.terms``), a word rather than a number: "race director Ann Kerr"
    answers "Who is the race director?", where a sentence that only names the race's winner, or
    a shirt number beside a player's name, does not."""
    if kind.name != "person":
        return False
    for _, match in _new_facts(kind, sentence, question_words):
        beside = _words_around(sentence, match, 1)
        if question_terms.intersection(terms(" ".join(word for word in beside if word.isalpha()))):
            return True
    return False


def fact_surroundings(kind: AnswerType, sentence: str, question_words: set[str], words_each_side: int) -> Iterator[str]:
    """The words around each fact of this kind in ``sentence`` that the question does not already
    hold: up to ``words_each_side`` words before it and as many after it, the fact left out."""
    for _, match in _new_facts(kind, sentence, question_words):
        yield " ".join(_words_around(sentence, match, words_each_side))


def _words_around(sentence: str, match: re.Match, each_side: int) -> list[str]:
    """Up to ``each_side`` words (``qa.text.words.words``) of ``sentence`` before ``match`` and as many after it."""
    before = words(sentence[: match.start()])
    return before[max(0, len(before) - each_side) :] + words(sentence[match.end() :])[:each_side]


def _new_facts(kind: AnswerType, sentence: str, question_words: set[str]) -> Iterator[tuple[str, re.Match]]:
    """Each fact of this kind in ``sentence`` that the question does not already hold, lower-cased, with its match."""
    if kind.ignores:  # blanked out, so that matches keep their places in the sentence
        sentence = kind.ignores.sub(lambda match: " " * len(match.group()), sentence)
    for match in kind.holds.finditer(sentence):
        fact = (match.group(match.lastindex or 0) or "").strip(" .,'\"‘’“”").lower()
        if fact and not set(letters_and_digits(fact)) <= question_words:
            yield fact, match
