"""Learned answering (ANSWERER=model): trained models pick the passage, the short answer and when
to abstain.

The reader (`reader.py`) reads the best reranked passages and finds each one's best answer span.
The chooser (`chooser.py`), fitted on training-split questions, weighs that against retrieval's
rank and the question's coverage to pick the passage that answers, and gives the probability that
the answer is right; below its one threshold newsqa abstains. The span is the short answer; the
sentence holding it is quoted, with the passage's best-covering sentence when that is another one,
and other articles whose best span is the same answer are cited beside it (docs/answer-model.md).
As with the rules (timeline.py), a question about the present is answered from the newest dated
passage that answers about as well, led "As of March 2025, …", and dated sources that give another
count or year are listed after the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from newsqa.index.answering.answer import (
    MAX_ANSWER_CHARS,
    POINTS_BACK,
    STRICT_KINDS,
    Extract,
    candidates,
    grounded,
    holds_asked,
    term_weights,
)
from newsqa.index.answering.chooser import Scored, answer_features, passage_features
from newsqa.index.answering.question import Question
from newsqa.index.answering.reader import Reader, Reading
from newsqa.index.answering.timeline import (
    CLOSE_COVERAGE,
    FIGURE_KINDS,
    MAX_RIVALS,
    as_of,
    asks_present,
    differing,
    figures,
    recency,
    same_figure,
)
from newsqa.index.retrieval.lexical import LexicalIndex
from newsqa.index.text.dates import byline
from newsqa.index.text.sentences import sentence_pieces
from newsqa.index.text.shorten import shorten
from newsqa.index.types import Chunk, Citation, Passage, outlet

PASSAGES_READ = 4  # reranked passages the reader reads
# A read passage that a chunk border cut inside a paragraph goes on to the paragraph's end, by whole
# sentences up to this many characters: an answer just past the border ("… Parnell stated. [border]
# “This reduction reflects our shared success …,” the official added.") is read with the context that
# names what was asked. Set by hand; on the chooser's SQuAD training questions (bench/fit_chooser.py,
# cross-validated) it moved "answered right" by 2–3 questions of 423–555, as did going on across
# paragraphs too, which reads more text (docs/answer-model.md).
CONTINUATION_CHARS = 300
# A span longer than this is no short answer: the quoted sentence says it all.
SHORT_ANSWER_MAX_CHARS = 120

_WORDS = re.compile(r"\w+")


def score(
    question: Question,
    passages: list[Passage],
    reader: Reader,
    article_folded: Callable[[str], str],
    lexical: LexicalIndex,
    article_chunks: Callable[[str], list[Chunk]] | None = None,
) -> list[Scored]:
    """The first PASSAGES_READ `passages` whose article names what the question names
    (`article_folded(source)`: the article's folded text), read and described for the chooser; one
    that a chunk border cut inside a paragraph is read on into the next chunk of its article
    (`article_chunks(source)`, in order; see `continued`).

    As with the rules, a "how many"/"when" question reads only passages that themselves name what it
    names and hold a number/date, and weighs only their sentences that do: without that, the chooser
    answered "how many us troops r in iraq now" with "over", from a passage about the 2014 withdrawal
    whose best-covering sentence gives no number (tests/test_answer_model.py).
    """
    read = [p for p in passages if grounded(question, article_folded(p.chunk.source))]
    if question.kind in STRICT_KINDS:
        read = [p for p in read if holds_asked(question, p)]
    read = read[:PASSAGES_READ]
    if not read:
        return []
    if article_chunks is not None:
        read = [continued(p, article_chunks(p.chunk.source)) for p in read]
    readings = reader.read(question.text, [p.chunk.text for p in read])
    ranked = candidates(question, read, term_weights(question, lexical)) if question.terms else []
    if question.kind in STRICT_KINDS:
        ranked = [c for c in ranked if c.fits]  # the sentences that can answer it, as for the rules
    return passage_features(read, readings, ranked)


def extract(
    question: Question,
    passages: list[Passage],
    reader: Reader,
    article_folded: Callable[[str], str],
    lexical: LexicalIndex,
    article_chunks: Callable[[str], list[Chunk]] | None = None,
) -> Extract:
    """The answer the chooser picks among what the reader read, or an abstention."""
    scored = score(question, passages, reader, article_folded, lexical, article_chunks)
    if not scored:
        return Extract("", True, [], [])
    chooser = reader.chooser
    p = chooser.passage_probabilities(scored)
    chosen = max(range(len(scored)), key=lambda i: p[i])
    p_right = chooser.answer.probability(answer_features(len(question.entities), scored, p, chosen))
    if p_right < chooser.threshold:
        return Extract("", True, [], [])
    present = asks_present(question.text)
    if present:
        chosen = _newest_close(scored, chosen)
    best = scored[chosen]
    text = best.passage.chunk.text
    if best.reading is not None:
        span = text[best.reading.start : best.reading.end].strip()
        sentence = quote(text, best.reading)
        # The passage's best sentence by question coverage is quoted too when it is another one:
        # on 300 validation-article questions the answer is then quoted 0.85 of the time, against
        # 0.77 for the span's sentence alone and 0.79 for the coverage sentence alone.
        rule = best.best.sentence if best.best is not None else None
        if rule and rule not in sentence:
            sentence = " ".join(sorted([sentence, rule], key=text.find))
    elif best.best is not None:
        span, sentence = "", best.best.sentence
    else:
        return Extract("", True, [], [])
    quoted = [(best.passage, sentence)]
    # Other articles whose own best span is the same answer are cited beside the chosen passage, when
    # the passage model gives them at least a quarter of its probability (set by hand, not fitted),
    # and so are passages whose span states the same count, year or name in other words ("about 12,000
    # people" and "around 12,000 marchers"; "Okafor" and "Jane Okafor").
    sources = {best.passage.chunk.source}
    rivals = _rivals(question, scored, chosen, span)
    sources |= {scored[i].passage.chunk.source for i in rivals}
    mine = figures(span, question) if question.kind in FIGURE_KINDS else frozenset()
    for i, other in enumerate(scored):
        reading = other.reading
        if i == chosen or reading is None or other.passage.chunk.source in sources:
            continue
        theirs = _span(other)
        if (p[i] >= 0.25 and span and _same_answer(span, theirs)) or (
            mine and same_figure(mine, figures(theirs, question), question.kind)
        ):
            sources.add(other.passage.chunk.source)
            quoted.append((other.passage, quote(other.passage.chunk.text, reading)))
    agreeing = len(quoted)
    for i in rivals:
        reading = scored[i].reading
        assert reading is not None
        quoted.append((scored[i].passage, quote(scored[i].passage.chunk.text, reading)))
    confidence = round(p_right, 4)
    citations = [Citation.of(n, q, confidence) for n, (q, _) in enumerate(quoted, 1)]
    short = span if 0 < len(span) <= SHORT_ANSWER_MAX_CHARS else None
    # A span that is nearly the whole sentence is not repeated before it.
    lead = short if short and len(short) < 0.8 * len(sentence) else None
    published = best.passage.chunk.published if present else None
    answer = compose(lead, sentence, agreeing, published)
    if rivals:
        stated = [(best.passage, span, 1)]
        stated += [(scored[i].passage, _span(scored[i]), agreeing + n) for n, i in enumerate(rivals, 1)]
        note = differing(
            [
                (said, figures(said, question), byline(outlet(q.chunk), q.chunk.published), n)
                for q, said, n in stated
            ],
            question.kind,
        )
        if note and len(answer) + len(note) < MAX_ANSWER_CHARS:
            answer = f"{answer} {note}"
    return Extract(answer, False, citations, [q for _, q in quoted], short)


def continued(passage: Passage, chunks: list[Chunk]) -> Passage:
    """`passage` with its chunk's text going on into the next chunk of `chunks` (its article's, in
    order) when the chunk ended inside a paragraph: to the paragraph's end, by whole sentences, up to
    CONTINUATION_CHARS. Where the chunks' overlap cannot be found, the chunk is left as it is."""
    chunk = passage.chunk
    following = next((c for c in chunks if c.n == chunk.n + 1), None)
    rest = _after_overlap(chunk.text, following.text) if following is not None else None
    if not rest or rest[0].isspace():
        return passage  # the last chunk, no overlap found, or the chunk ended with its paragraph
    taken = ""
    for sentence in sentence_pieces(rest.split("\n", 1)[0]):
        if taken and len(taken) + len(sentence) > CONTINUATION_CHARS:
            break
        taken += sentence
    if not taken.strip() or len(taken) > 2 * CONTINUATION_CHARS:
        return passage
    return replace(passage, chunk=replace(chunk, text=f"{chunk.text.rstrip()} {taken.strip()}"))


def _after_overlap(text: str, following: str) -> str | None:
    """`following` after the longest of its beginnings (whole sentences, the whitespace after them
    kept with them) that ends `text`: chunks overlap by a sentence or two. None when none does."""
    pieces = sentence_pieces(following)
    tail = text.rstrip()
    end = 0
    for i in range(1, len(pieces) + 1):
        head = "".join(pieces[:i]).strip()
        if len(head) > len(tail):
            break
        if tail.endswith(head):
            end = i
    if end == 0:
        return None
    # The whitespace that followed the overlap's last sentence starts what is left when it was a
    # paragraph break; sentence_pieces keeps it with that sentence.
    last = pieces[end - 1]
    gap = last[len(last.rstrip()) :]
    return gap.replace(" ", "") + "".join(pieces[end:]) if "\n" in gap else "".join(pieces[end:])


def _span(scored: Scored) -> str:
    reading = scored.reading
    return scored.passage.chunk.text[reading.start : reading.end].strip() if reading else ""


def _close(scored: list[Scored], chosen: int) -> list[int]:
    """Passages with a span whose best sentence holds what was asked and covers the question about as
    well as the chosen passage's (timeline.CLOSE_COVERAGE, as for the rules), the chosen one first."""
    mine = scored[chosen].best
    floor = CLOSE_COVERAGE * mine.coverage if mine is not None else 0.0
    return [chosen] + [
        i
        for i, s in enumerate(scored)
        if i != chosen
        and s.reading is not None
        and s.best is not None
        and s.best.fits
        and s.best.coverage >= floor
    ]


def _newest_close(scored: list[Scored], chosen: int) -> int:
    """For a question about the present, the newest dated passage of those close to the chosen one
    (the chosen one on a tie); undated passages come last."""
    close = _close(scored, chosen)
    return max(close, key=lambda i: recency(scored[i].passage.chunk.published))


def _rivals(question: Question, scored: list[Scored], chosen: int, span: str) -> list[int]:
    """Dated passages of other articles, close to the chosen one, whose span states another count (year
    for "when", name for "who") than the chosen span: at most MAX_RIVALS, one per article."""
    mine = figures(span, question)
    if question.kind not in FIGURE_KINDS or not mine or not scored[chosen].passage.chunk.published:
        return []
    seen = {scored[chosen].passage.chunk.source}
    out = []
    for i in _close(scored, chosen)[1:]:
        chunk = scored[i].passage.chunk
        theirs = figures(_span(scored[i]), question)
        if chunk.source in seen or not chunk.published or not theirs:
            continue
        if same_figure(theirs, mine, question.kind):
            continue
        seen.add(chunk.source)
        out.append(i)
    return out[:MAX_RIVALS]


def quote(text: str, reading: Reading) -> str:
    """The sentence(s) of `text` holding the span, with the one before when the first points back."""
    pieces = sentence_pieces(text)
    bounds, position = [], 0
    for piece in pieces:
        bounds.append((position, position + len(piece)))
        position += len(piece)
    held = [i for i, (a, b) in enumerate(bounds) if a < reading.end and b > reading.start] or [0]
    first, last = held[0], held[-1]
    if first > 0 and POINTS_BACK.match(pieces[first].strip()):
        first -= 1
    return " ".join(p.strip() for p in pieces[first : last + 1] if p.strip())


def _same_answer(a: str, b: str) -> bool:
    words = _WORDS.findall(a.lower())
    return bool(words) and words == _WORDS.findall(b.lower())


def compose(short: str | None, sentence: str, cited: int, published: str | None = None) -> str:
    """'Short answer [1] [2] — “sentence”', or the sentence and its markers; at most MAX_ANSWER_CHARS.
    With `published` (a question about the present), the lead says when: "As of March 2025, …"."""
    markers = " ".join(f"[{n}]" for n in range(1, cited + 1))
    if published:
        if short:
            short = as_of(published, short)
        else:
            sentence = as_of(published, sentence)
    if short:
        head = f"{short[0].upper()}{short[1:]} {markers} — “"
        return f"{head}{shorten(sentence, MAX_ANSWER_CHARS - len(head) - 2)}”"
    return f"{shorten(sentence, MAX_ANSWER_CHARS - len(markers) - 2)} {markers}"
