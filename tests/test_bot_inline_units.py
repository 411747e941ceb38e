"""Inline mode and deep links without Telegram: signed payloads, result formatting, the command table."""

from __future__ import annotations

import pytest

from newsqa.bot.tgbot.access import Debounce
from newsqa.bot.tgbot.commands import COMMANDS, Command, menu
from newsqa.bot.tgbot.deeplink import MAX_PAYLOAD, DeepLinks, PayloadError
from newsqa.bot.tgbot.handlers import reindex
from newsqa.bot.tgbot.inline_render import inline_items
from newsqa.bot.tgbot.render import MAX_MESSAGE, utf16_len
from newsqa.index.types import Answer, Chunk, Citation, Passage
from tests.botapi_emulator import _START_PARAMETER, parse_html

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`

HOSTILE = '<script>alert("x")</script> & *_[ </blockquote> &amp;'


@pytest.mark.parametrize("question", ["how many US troops are in Iraq?",
                                      "Wie viele US-Soldaten sind im Irak? Ünïcödé & <b> " * 3, "abc"])
def test_deep_link_carries_the_question_in_a_valid_start_parameter(question):
    links = DeepLinks("token-a")
    link = links.make(question)
    assert _START_PARAMETER.fullmatch(link.payload) and len(link.payload) <= MAX_PAYLOAD
    assert link.url("newsqa_bot") == f"https://t.me/newsqa_bot?start={link.payload}"
    assert links.question(link.payload) == question


def test_short_question_links_survive_a_restart_and_long_ones_expire_with_a_clear_reason():
    short, long = "who is Lloyd Austin?", "what did the Iraqi prime minister say about the withdrawal?"
    before = DeepLinks("token-a")
    short_link, long_link = before.make(short), before.make(long)
    after = DeepLinks("token-a")  # the same bot, restarted
    assert after.question(short_link.payload) == short
    with pytest.raises(PayloadError, match="expired"):
        after.question(long_link.payload)


def tamper(payload: str) -> str:
    i = len(payload) // 2
    return payload[:i] + ("A" if payload[i] != "A" else "B") + payload[i + 1:]


@pytest.mark.parametrize("forge", [
    lambda p: tamper(p),                                   # one character changed
    lambda p: DeepLinks("another-bot").make("how many US troops are in Iraq?").payload,  # other key
    lambda p: "q" + p[1:-11] + "A" * 11,                   # made-up signature
    lambda p: "hello",                                     # too short to be signed
    lambda p: p[:-1] + "%",                                # outside Telegram's alphabet
    lambda p: p + "x" * (MAX_PAYLOAD + 1 - len(p)),        # oversized
    lambda p: "k" + "A" * 16 + p[-11:],                    # an id with someone else's tag
], ids=["tampered", "other-key", "made-up-tag", "short", "bad-chars", "oversized", "forged-id"])
def test_forged_malformed_or_oversized_payloads_are_refused_with_a_reason(forge):
    links = DeepLinks("token-a")
    forged = forge(links.make("how many US troops are in Iraq?").payload)
    with pytest.raises(PayloadError, match="not one of mine|too long") as refused:
        links.question(forged)
    assert str(refused.value).endswith(".")  # a sentence for the user


def test_deep_link_memory_is_bounded():
    links = DeepLinks("token-a", size=2)
    first = links.make("x" * 60)
    links.make("y" * 60)
    links.make("z" * 60)
    with pytest.raises(PayloadError, match="expired"):
        links.question(first.payload)


def test_debounce_answers_only_the_newest_query_of_a_user():
    debounce = Debounce()
    debounce.arrived(1, "q1")
    debounce.arrived(2, "other user")
    debounce.arrived(1, "q2")
    assert not debounce.settled(1, "q1")
    assert debounce.settled(1, "q2") and debounce.settled(2, "other user")


def chunk(source: str, text: str, title: str, url: str | None = None) -> Chunk:
    return Chunk(f"{source}#0", source, 0, text, title, url, "2025-03-12", site="Harbour Herald")


def answer_with(citations: list[Citation], retrieved: list[Chunk], **kw: object) -> Answer:
    return Answer("how many ferries?", "Three new ferries will join the fleet. [1]", False, citations,
                  retrieved=[Passage(c, 1.0) for c in retrieved], **kw)  # type: ignore[arg-type]


def test_inline_results_are_the_answer_then_passages_of_other_articles():
    a, b, c, d = (chunk(f"{n}.txt", f"Passage of article {n}.", f"Article {n}", f"https://x.org/{n}?a=1&b=2")
                  for n in "abcd")
    cited = Citation(1, "a.txt", "Article a", "https://x.org/a?a=1&b=2", "Three new ferries will join the "
                     "fleet.", 1.0, "2025-03-12", "Harbour Herald")
    quote = "Three new ferries will join the fleet."
    items = inline_items(answer_with([cited], [a, a, b, c, d], quotes=[quote]))
    assert [i.id for i in items] == ["answer", "passage1", "passage2"]
    first = parse_html(items[0].html)
    assert "Three new ferries will join the fleet. [1]" in first
    assert "[1] Article a — Harbour Herald, 12 Mar 2025" in first
    assert '<a href="https://x.org/a?a=1&amp;b=2">Article a</a>' in items[0].html
    assert [i.title for i in items[1:]] == ["Article b", "Article c"]  # other articles, best first
    assert "Passage of article b." in parse_html(items[1].html)


def test_inline_answer_shows_short_answer_and_quote_when_the_answer_is_not_the_quote():
    cited = Citation(1, "a.txt", "A", None, "passage", 1.0)
    answer = Answer("how many?", "2,500 [1] — “roughly 2,500 troops”", False, [cited], short_answer="2,500",
                    quotes=["There are roughly 2,500 troops in Iraq today."])
    [item] = inline_items(answer)
    assert item.title == "2,500" and "<b>2,500</b>" in item.html
    assert "<blockquote>There are roughly 2,500 troops in Iraq today.</blockquote>" in item.html


def test_inline_results_escape_hostile_text_and_stay_within_telegrams_limits():
    long = (HOSTILE + " word") * 400
    hostile = chunk("h.txt", long, long, "https://x.org/?q=<x>&y=\"1\"")
    cited = [Citation(n, f"{n}.txt", long, None, long, 1.0) for n in range(1, 21)]
    answer = Answer(long[:2000], long[:500] + " [1]", False, cited, quotes=[long],
                    retrieved=[Passage(hostile, 1.0)])
    items = inline_items(answer)
    assert len(items) == 2
    for item in items:
        assert utf16_len(parse_html(item.html)) <= MAX_MESSAGE  # parse_html fails like Telegram on bad HTML
        assert len(item.title) <= 101 and len(item.description) <= 201


def test_abstained_inline_answer_says_not_in_my_sources():
    answer = Answer("capital of Peru?", "", True, retrieved=[Passage(chunk("a.txt", "Iraq.", "Iraq"), 0.1)])
    items = inline_items(answer)
    assert items[0].title == "Not in my sources" and "couldn't find an answer" in items[0].html
    assert [i.title for i in items[1:]] == ["Iraq"]


def test_admin_command_is_one_line_in_the_table_and_joins_only_the_admin_menu():
    extra = (*COMMANDS, Command("purge", "Forget old articles (admins)", reindex, admin=True))
    public = [c.command for c in menu(admin=False, commands=extra)]
    admin = [c.command for c in menu(admin=True, commands=extra)]
    assert not {"purge", "reindex", "stats", "add", "feeds", "refresh"} & set(public)
    assert admin[-1] == "purge" and {"reindex", "stats", "add", "feeds", "refresh"} < set(admin)
    assert set(public) < set(admin)
