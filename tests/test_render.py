"""Formatting without Telegram: escaping, splitting under 4,096, and the plain-text fallback."""

from __future__ import annotations

import pytest

from newsqa.bot.tgbot.render import (
    MAX_MESSAGE,
    plain_text,
    render_answer,
    render_help,
    render_progress,
    render_sources,
    render_stats,
    render_summary,
    split_text,
    utf16_len,
    visible_len,
)
from newsqa.index.types import Answer, Citation, Progress, ReindexSummary
from tests.botapi_emulator import parse_html

pytestmark = pytest.mark.fast  # no model, no Chroma, no subprocess: `make test-fast`

HOSTILE = '<script>alert("x")</script> & *_[ `code` &amp; </blockquote>'


def cite(n: int, text: str = "The passage.", title: str = "Title", url: str | None = None) -> Citation:
    return Citation(n, f"{n}.txt", title, url, text, 1.0 / n)


def shown(messages: list[str]) -> str:
    """What Telegram would display; parse_html fails like Telegram on bad markup."""
    return "\n".join(parse_html(m) for m in messages)


def test_answer_lists_sources_with_linked_titles_and_quoted_passages():
    answer = Answer("q", "About 2,500 troops [1], says [2].", False,
                    [cite(1, "About 2,500 troops.", "Iraq talks", "https://example.com/a?x=1&y=2"),
                     cite(2, "Another passage.", "No link")])
    [message] = render_answer(answer)
    assert message.startswith("About 2,500 troops [1], says [2].\n\n<b>Sources</b>\n[1] ")
    assert '<a href="https://example.com/a?x=1&amp;y=2">Iraq talks</a>\n<blockquote>About 2,500' in message
    assert "[2] No link\n<blockquote>Another passage.</blockquote>" in message


def test_a_follow_up_opens_with_how_it_was_read_escaped_in_italics():
    answer = Answer("and <b>there</b>?", "About 2,500 troops [1].", False, [cite(1)],
                    resolved_question=f"How many troops are in {HOSTILE}?")
    [message] = render_answer(answer)
    assert message.startswith("<i>Reading it as: How many troops are in &lt;script&gt;")
    assert shown([message]).startswith(f"Reading it as: How many troops are in {HOSTILE}?\n\nAbout 2,500")
    abstained = Answer("and in Peru?", "", True, resolved_question="How many troops are in Peru?")
    assert render_answer(abstained)[0].startswith("<i>Reading it as: How many troops are in Peru?</i>\n\n")
    assert "Reading it as" not in render_answer(Answer("q", "About 2,500 troops [1].", False, [cite(1)]))[0]


def test_everything_from_articles_and_questions_is_escaped():
    answer = Answer(HOSTILE, HOSTILE + " [1]", False,
                    [cite(1, HOSTILE, title=HOSTILE, url='https://e.com/"><script>')])
    messages = render_answer(answer)
    text = shown(messages)
    assert text.count(HOSTILE) == 3
    assert "<script>" not in "".join(messages)


def test_non_http_links_are_not_linked():
    [message] = render_answer(Answer("q", "a [1]", False, [cite(1, url="javascript:alert(1)")]))
    assert "<a " not in message and "[1] Title" in message


def test_abstention_says_so_and_suggests_rephrasing():
    [message] = render_answer(Answer("q", "", True, [cite(1, title="Closest & nearest")]))
    assert "couldn't find an answer" in message and "rephrasing" in message
    assert "Closest &amp; nearest" in message and "<blockquote>" not in message


@pytest.mark.parametrize("size", [4000, 4097, 9000, 20000])
def test_long_answers_split_under_the_limit_at_paragraph_boundaries(size):
    paragraph = "Troops & tanks <moved> north. " * 20
    body = "\n\n".join([paragraph.strip()] * (size // len(paragraph) + 1))
    answer = Answer("q", body, False, [cite(i, "Quoted & passage. " * 50) for i in range(1, 6)])
    messages = render_answer(answer)
    assert all(visible_len(m) <= MAX_MESSAGE for m in messages)
    assert all(len(parse_html(m)) <= MAX_MESSAGE for m in messages)
    assert shown(messages).count("Troops & tanks <moved> north.") == body.count("north.")
    assert all(m.rstrip().endswith(("north.", "</blockquote>")) for m in messages)


def test_one_enormous_passage_is_split_inside_well_formed_quotes():
    messages = render_answer(Answer("q", "Short [1].", False, [cite(1, "word & " * 3000)]))
    assert len(messages) >= 3 and messages[1].startswith("<b>Sources</b>\n[1] Title\n<blockquote")
    for m in messages[2:]:
        assert m.startswith("<blockquote") and m.endswith("</blockquote>")
    assert shown(messages).count("word &") == 3000


def test_split_counts_utf16_units_like_telegram():
    emoji = "🗞" * 3000  # two UTF-16 units each
    parts = split_text(emoji, MAX_MESSAGE)
    assert [utf16_len(p) for p in parts] == [4096, 1904] and "".join(parts) == emoji
    assert split_text("one two three", 8) == ["one two", "three"]
    with pytest.raises(ValueError, match="positive"):
        split_text("x", 0)


def test_plain_text_fallback_keeps_links_and_drops_markup():
    [message] = render_answer(Answer("q", "a & b [1]", False, [cite(1, "<p>", "T&C", "https://e.com/?a=1&b=2")]))
    assert plain_text(message) == "a & b [1]\n\nSources\n[1] T&C (https://e.com/?a=1&b=2)\n<p>"


def test_sources_stats_progress_summary_and_help_are_valid_html():
    sources = [{"source": f"{i}.txt", "title": f"Title <{i}> & co", "url": None, "chunks": i}
               for i in range(300)]
    messages = render_sources(sources)
    assert len(messages) > 1 and "Indexed articles (300)" in messages[0]
    assert "Title <299> & co — 299 passages" in shown(messages)
    assert render_sources([]) == ["No articles are indexed yet. An admin can run /reindex."]
    stats = render_stats({"articles": 6, "embed_model": "<mini>", "last_reindex": None})
    assert "embed model: <mini>" in parse_html(stats)
    assert render_progress(None) == "Reindexing… starting"
    assert render_progress(Progress("embedding", 5, 20)) == "Reindexing… embedding 5/20 (25%)"
    summary = render_summary(ReindexSummary(added=1, unchanged=4, chunks=23, seconds=2.04, generation=3,
                                            skipped=["bad<file>.txt: not UTF-8"]))
    assert "1 added" in summary and "23 passages indexed (generation 3)" in summary
    assert "bad<file>.txt" in parse_html(summary)
    assert "@my_bot" in parse_html(render_help("my_bot"))
