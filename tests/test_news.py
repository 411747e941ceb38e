"""News-native answers over the dated corpus (tests/data/dated): dated citations, time windows,
through the service, the CLI and the Telegram formatting, with the real model and Chroma."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsqa.bot.cli import main
from newsqa.bot.tgbot.app import build_application, serve
from newsqa.bot.tgbot.render import render_answer
from newsqa.index.config import Settings
from newsqa.index.service import QA
from newsqa.index.store.state import IndexConfig
from newsqa.index.types import When
from tests.botapi_emulator import TOKEN, bot_thread, parse_html
from tests.conftest import CITATION_KEYS, JSON_KEYS

DATED = Path(__file__).parent / "data" / "dated"
AS_OF = date(2025, 11, 30)
COUNCIL = "What did Norhaven council approve"


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> QA:
    base = tmp_path_factory.mktemp("dated")
    shutil.copytree(DATED, base / "corpus")
    qa = QA(Settings(corpus_dir=base / "corpus", index_dir=base / "index", as_of=AS_OF), embedder=embedder)
    qa.reindex()
    return qa


def published(answer) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [c.published for c in answer.citations]


def test_citations_carry_outlet_and_iso_date(dated: QA) -> None:
    answer = dated.ask("How many people joined the Riverside climate march?", k=2)
    first = answer.citations[0]
    assert first.source == "march-herald.md"
    assert (first.published, first.source_name) == ("2025-06-14", "Harbour Herald")
    data = answer.to_json()["citations"][0]
    assert (data["published"], data["source_name"]) == ("2025-06-14", "Harbour Herald")


@pytest.mark.parametrize(
    ("phrase", "first", "last"),
    [
        ("yesterday", "2025-11-29", "2025-11-29"),
        ("last week", "2025-11-23", "2025-11-30"),
        ("this month", "2025-11-01", "2025-11-30"),
        ("in 2024", "2024-01-01", "2024-12-31"),
        ("since January", "2025-01-01", "2025-11-30"),
    ],
)
def test_time_phrase_restricts_sources_to_its_window(dated: QA, phrase: str, first: str, last: str) -> None:
    answer = dated.ask(f"{COUNCIL} {phrase}?", k=5)
    assert not answer.abstained and answer.period is not None
    assert (answer.period.since, answer.period.until, answer.period.phrase) == (first, last, phrase)
    days = published(answer)
    assert days and all(d is not None and first <= d <= last for d in days), days
    assert answer.citations[0].text.startswith("Norhaven council approved")


def test_each_window_finds_its_own_council_decision(dated: QA) -> None:
    """Without the window the best passage is another decision: the filter, not luck, picks these."""
    expected = {
        "yesterday": "winter shelter",
        "in 2024": "library budget",
    }
    for phrase, decision in expected.items():
        assert decision in dated.ask(f"{COUNCIL} {phrase}?").answer
    unfiltered = dated.ask(f"{COUNCIL}?", k=8)
    assert len({c.published for c in unfiltered.citations}) > 2  # spans many dates


def test_as_of_moves_the_window(dated: QA) -> None:
    answer = dated.ask(f"{COUNCIL} yesterday?", when=When(as_of=date(2025, 11, 26)))
    assert published(answer) == ["2025-11-25"] and "cars on the seafront" in answer.answer


def test_empty_window_is_said_and_every_article_searched(dated: QA) -> None:
    """Nothing was published in 2021: the year may be the event's, so everything is searched, saying so."""
    answer = dated.ask(f"{COUNCIL} in 2021?")
    assert answer.period is not None and (answer.period.articles, answer.period.phrase) == (0, "in 2021")
    assert not answer.abstained and "Norhaven council approved" in answer.answer


def test_undated_corpus_reads_a_year_as_the_events(seed_qa: QA) -> None:
    answer = seed_qa.ask("Which city did ISIS capture in 2014?")
    assert "Mosul" in answer.answer and answer.period is not None and answer.period.articles == 0


def test_explicit_since_until_window(dated: QA) -> None:
    answer = dated.ask(COUNCIL + "?", k=5, when=When(since=date(2024, 1, 1), until=date(2024, 12, 31)))
    assert "library budget" in answer.answer
    assert all(d is not None and d.startswith("2024") for d in published(answer))


def test_undated_articles_still_answer_without_a_window(dated: QA) -> None:
    answer = dated.ask("Who designed the Norhaven lighthouse?")
    assert "Robert Stevenson" in answer.answer
    assert answer.citations[0].published is None


def test_cli_json_extends_the_contract_and_text_shows_outlet_and_date(dated: QA) -> None:
    settings = dated.settings
    common = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["ask", f"{COUNCIL} last week?", "--json", "--as-of", "2025-11-30", *common],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == JSON_KEYS
    assert data["window"] == {
        "since": "2025-11-23",
        "until": "2025-11-30",
        "phrase": "last week",
        "articles": 2,
    }
    for cite in data["citations"]:
        assert set(cite) == CITATION_KEYS
        assert "2025-11-23" <= cite["published"] <= "2025-11-30"
    text = runner.invoke(main, ["ask", f"{COUNCIL} yesterday?", "--as-of", "2025-11-30", *common]).stdout
    assert "[1] Winter shelter opens its doors — Harbour Herald, 29 Nov 2025" in text
    since = runner.invoke(
        main, ["ask", COUNCIL + "?", "--since", "2021-01-01", "--until", "2021-12-31", *common]
    ).stdout
    assert "No article in my sources was published 1 Jan 2021 – 31 Dec 2021; searched them all." in since


def test_telegram_answer_shows_outlet_and_date(dated: QA) -> None:
    answer = dated.ask(f"{COUNCIL} yesterday?")
    shown = "\n".join(parse_html(m) for m in render_answer(answer))
    assert "[1] Winter shelter opens its doors — Harbour Herald, 29 Nov 2025" in shown
    empty = render_answer(dated.ask(f"{COUNCIL} in 2021?"))
    assert parse_html(empty[0]).startswith(
        "No article in my sources was published 1 Jan 2021 – 31 Dec 2021; I searched them all."
    )


def test_present_question_prefers_the_newest_dated_figure_and_says_as_of(dated: QA) -> None:
    answer = dated.ask("How many people work at the Norhaven steelworks now?")
    assert answer.answer.startswith("As of March 2025, 2,400 people [1] — “About 2,400 people work")
    assert answer.citations[0].published == "2025-03-11"


def test_past_question_is_not_rewritten_as_of(dated: QA) -> None:
    answer = dated.ask("How many people worked at the Norhaven steelworks in 2019?")
    assert "4,200" in answer.answer and "As of" not in answer.answer


def test_disagreeing_outlets_are_each_shown_with_source_and_date(dated: QA) -> None:
    """Two outlets say 12,000 in other words (agreement: cited together), a third says 8,000."""
    answer = dated.ask("How many people joined the Riverside climate march?")
    assert answer.answer.startswith("12,000 [1] [2] — “Organisers said about 12,000 people joined")
    differ = "12,000 (Harbour Herald, 14 Jun 2025 [1]); 8,000 (Valley Times, 15 Jun 2025 [3])."
    assert f"” Sources differ: {differ}" in answer.answer
    assert [c.source for c in answer.citations] == [
        "march-herald.md",
        "march-coastline.md",
        "march-valley.html",
    ]


def test_index_from_before_dated_chunks_is_rebuilt_with_a_message(make_qa, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(DATED, tmp_path / "corpus")
    qa = make_qa(tmp_path / "corpus")
    qa.reindex()
    state = qa.store.read_state()
    assert state.config is not None
    qa.store.write_state(
        replace(state, config=replace(state.config, format=1))
    )  # as an older newsqa wrote it
    with caplog.at_level(logging.WARNING):
        summary = qa.reindex()
    assert "rebuilding it" in caplog.text
    rebuilt = qa.store.read_state()
    assert rebuilt.config == IndexConfig(
        state.config.embed_model, state.config.chunk_tokens, state.config.chunk_overlap
    )
    assert rebuilt.collection != state.collection and summary.embedded == summary.chunks
    days = {c.source: c.published for c in qa.snapshot().chunks}
    assert days["council-shelter.md"] == "2025-11-29" and days["lighthouse.txt"] is None


WIRE_COPIES = {"ferry-coastline.html", "ferry-herald.md", "ferry-valley.txt"}


def test_syndicated_copies_collapse_into_one_citation_that_names_the_others(dated: QA) -> None:
    answer = dated.ask("How much of a pay offer did the ferry union reject?", k=4)
    assert "3 percent" in answer.answer
    cited = [c.source for c in answer.citations]
    copies = [c for c in answer.citations if c.source in WIRE_COPIES]
    assert len(copies) == 1, cited  # one copy quoted, not three
    outlets = {"ferry-coastline.html": "Coastline Daily", "ferry-herald.md": "Harbour Herald"}
    outlets["ferry-valley.txt"] = "Valley Times"
    others = {outlets[s] for s in WIRE_COPIES - {copies[0].source}}
    assert set(copies[0].also_reported_by) == others
    assert "ferry-analysis.md" in cited  # another outlet's own story is no longer crowded out
    data = answer.to_json()["citations"]
    assert all("also_reported_by" in c for c in data)
    shown = "\n".join(parse_html(m) for m in render_answer(answer))
    assert "also reported by " + ", ".join(copies[0].also_reported_by) in shown


def test_wire_copies_are_indexed_as_one_group_quoting_the_earliest(dated: QA) -> None:
    state = dated.store.read_state()
    # All three are dated 8 Oct 2025: the tie goes to the first source path, Coastline Daily's.
    canonical = "ferry-coastline.html"
    assert state.copy_of == {"ferry-herald.md": canonical, "ferry-valley.txt": canonical}
    assert all(doc.signature for doc in state.documents.values())
    answer = dated.ask("What did the ferry strike do to the islands?", k=4)
    cited = [c.source for c in answer.citations]
    assert WIRE_COPIES & set(cited) == {canonical} and len(set(cited)) == len(cited) == 4, cited
    quoted = next(c for c in answer.citations if c.source == canonical)
    assert set(quoted.also_reported_by) == {"Harbour Herald", "Valley Times"}


def _copies_after_reindex(qa: QA) -> dict[str, str]:
    summary = qa.reindex()
    assert not summary.skipped
    return qa.store.read_state().copy_of


@pytest.fixture
def dated_copy(tmp_path: Path, embedder: object) -> QA:
    """A dated index of its own, to edit."""
    shutil.copytree(DATED, tmp_path / "corpus")
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", as_of=AS_OF)
    qa = QA(settings, embedder=embedder)
    qa.reindex()
    return qa


def test_reindex_drops_an_edited_copy_from_its_group_and_promotes_a_copy_of_a_deleted_canonical(
    dated_copy: QA,
) -> None:
    corpus = dated_copy.settings.corpus_dir
    valley = corpus / "ferry-valley.txt"
    original = valley.read_text(encoding="utf-8")
    own = [
        "Islanders queue for the last boat",
        "Our reporter rode the final crossing before the walkout and spoke to the crew on deck.",
        "Deckhands said rest hours, more than pay, had decided their vote to stop work.",
        "On the quay, families loaded cars with shopping for two days without a ferry.",
    ]
    valley.write_text("\n\n".join(own) + "\n", encoding="utf-8")  # Valley Times's own story, not the wire's
    assert _copies_after_reindex(dated_copy) == {"ferry-herald.md": "ferry-coastline.html"}
    valley.write_text(original, encoding="utf-8")
    (corpus / "ferry-coastline.html").unlink()
    assert _copies_after_reindex(dated_copy) == {"ferry-valley.txt": "ferry-herald.md"}
    answer = dated_copy.ask("How much of a pay offer did the ferry union reject?", k=4)
    assert answer.citations[0].source == "ferry-herald.md"
    assert answer.citations[0].also_reported_by == ["Valley Times"]


def test_a_copy_whose_passages_differ_too_much_for_query_time_folding_is_still_folded(dated_copy: QA) -> None:
    """The Island Courier runs the wire story with its own closing paragraph: its passage shares under 80%
    of its words with the others (no query-time fold), but its article is a copy, found at index time."""
    herald = (DATED / "ferry-herald.md").read_text(encoding="utf-8")
    own = (
        "\n\nIsland Courier readers told us the walkout left Kelby pier deserted, fishermen offering lifts "
        "in their trawlers, schoolchildren sitting lessons online, and the harbourmaster's cafe doing "
        "unusually brisk trade serving stranded tourists soup, sandwiches, tea and gossip until late.\n"
    )
    courier = herald.replace("Harbour Herald", "Island Courier").replace("2025-10-08", "2025-10-09")
    (dated_copy.settings.corpus_dir / "ferry-courier.md").write_text(courier + own, encoding="utf-8")
    assert _copies_after_reindex(dated_copy)["ferry-courier.md"] == "ferry-coastline.html"
    answer = dated_copy.ask("How much of a pay offer did the ferry union reject?", k=4)
    cited = [c.source for c in answer.citations]
    assert (WIRE_COPIES | {"ferry-courier.md"}) & set(cited) == {"ferry-coastline.html"}, cited
    quoted = next(c for c in answer.citations if c.source == "ferry-coastline.html")
    assert set(quoted.also_reported_by) == {"Harbour Herald", "Valley Times", "Island Courier"}


def test_an_index_built_before_copies_were_recorded_still_answers_and_learns_them_without_embedding(
    dated_copy: QA,
) -> None:
    state = dated_copy.store.read_state()
    unsigned = {s: replace(doc, signature="", copy_of=None) for s, doc in state.documents.items()}
    dated_copy.store.write_state(replace(state, generation=state.generation + 1, documents=unsigned))
    assert "copy_of" not in json.dumps(dated_copy.store.read_state().to_json())
    before = QA(dated_copy.settings, embedder=dated_copy.embedder)
    answer = before.ask("How much of a pay offer did the ferry union reject?", k=4)
    copies = [c for c in answer.citations if c.source in WIRE_COPIES]
    assert len(copies) == 1 and len(copies[0].also_reported_by) == 2  # folded at query time
    summary = before.reindex()
    assert summary.embedded == 0 and summary.updated == 0
    assert set(before.store.read_state().copy_of) == {"ferry-herald.md", "ferry-valley.txt"}


def test_undated_seed_corpus_still_answers_troops_with_its_three_sources(seed_qa: QA) -> None:
    answer = seed_qa.ask("How many US troops are in Iraq?")
    assert "2,500" in answer.answer and not answer.answer.startswith("As of")
    assert len(answer.citations) == 3 and all("2,500" in q for q in answer.quotes)
    assert all(c.published is None and c.also_reported_by == [] for c in answer.citations)
    assert answer.period is None


@pytest.mark.parametrize(
    ("question", "author", "source"),
    [
        (
            "Who wrote the article about the ferry strike costs?",
            "Sam Okoro",
            "ferry-analysis.md",
        ),  # front matter
        ("Who wrote the article about the climate march police estimate?", "Priya Nair", "march-valley.html"),
        ("Who wrote the story about the seafront car ban?", "Helen Marsh", "council-seafront.txt"),  # byline
    ],
)
def test_who_wrote_is_answered_from_metadata(dated: QA, question: str, author: str, source: str) -> None:
    answer = dated.ask(question)
    assert answer.answer.startswith(f"{author} wrote “") and answer.citations[0].source == source
    assert answer.citations[0].author == author and author not in answer.citations[0].text


def test_author_bio_stays_out_of_the_quoted_text_and_no_author_is_said(dated: QA) -> None:
    answer = dated.ask("Who wrote the article about the hospital cancer wing?")
    assert answer.answer == "“Hospital opens cancer wing” (Valley Times, 2 Jul 2025) names no author. [1]"
    assert "health reporter" not in answer.citations[0].text
    assert dated.ask("Who wrote the article about the Mars landing?").abstained


@pytest.mark.timeout(120)
def test_bot_answers_a_time_filtered_question_with_dated_sources(dated: QA, emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Through the real PTB application polling the Bot API emulator, over the same service."""
    settings = dated.settings.with_overrides(
        telegram_bot_token=TOKEN,
        telegram_base_url=emulator.base_url,
        feedback_log=tmp_path / "feedback.jsonl",
        rate_limit_per_minute=0,
    )
    app = build_application(settings, qa=dated)
    with bot_thread(app, lambda: serve(app, settings, stop_signals=None)):
        emulator.send("What did Norhaven council approve yesterday?", user=11)
        [reply] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 11)
        emulator.send("What did Norhaven council approve in 2021?", user=12)
        [empty] = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 12)
    shown = parse_html(reply.params["text"])
    assert (
        "winter shelter" in shown
        and "[1] Winter shelter opens its doors — Harbour Herald, 29 Nov 2025" in shown
    )
    assert parse_html(empty.params["text"]).startswith("No article in my sources was published 1 Jan 2021")


def test_disagreeing_years_are_shown_for_a_when_question(dated: QA) -> None:
    answer = dated.ask("When was the Old Bridge built?")
    assert answer.answer.endswith(
        "Sources differ: 1824 (Valley Times, 13 Mar 2025 [1]); 1820 (12 Mar 2025 [2])."
    )
    assert [c.source for c in answer.citations] == ["bridge-history.md", "bridge.txt"]


def test_agreeing_dated_sources_are_cited_together_without_a_difference(dated: QA) -> None:
    answer = dated.ask("How much of a pay offer did the ferry union reject?")
    assert "Sources differ" not in answer.answer


@pytest.fixture(scope="module")
def dated_model(dated: QA) -> QA:
    """The same dated index answered by the trained model (ANSWERER=model)."""
    return QA(dated.settings.model_copy(update={"answerer": "model"}), embedder=dated.embedder)


def test_model_answers_the_present_from_the_newest_dated_figure_and_says_as_of(dated_model: QA) -> None:
    answer = dated_model.ask("How many people work at the Norhaven steelworks now?")
    assert answer.answer.startswith("As of March 2025, ") and "2,400" in answer.answer.split("—")[0]
    assert answer.citations[0].published == "2025-03-11"
    past = dated_model.ask("How many people worked at the Norhaven steelworks in 2019?")
    assert "4,200" in past.answer and "As of" not in past.answer


def test_model_shows_disagreeing_outlets_and_cites_agreeing_ones_together(dated_model: QA) -> None:
    """Herald and Coastline both say 12,000 (in other words): cited together; Valley Times says 8,000."""
    answer = dated_model.ask("How many people joined the Riverside climate march?")
    assert answer.short_answer == "12,000"
    differ = "12,000 (Harbour Herald, 14 Jun 2025 [1]); 8,000 (Valley Times, 15 Jun 2025 [3])."
    assert answer.answer.startswith("12,000 [1] [2] — ") and answer.answer.endswith(
        f"Sources differ: {differ}"
    )
    assert [c.source for c in answer.citations] == [
        "march-herald.md",
        "march-coastline.md",
        "march-valley.html",
    ]
    bridge = dated_model.ask("When was the Old Bridge built?")
    assert bridge.answer.endswith(
        "Sources differ: 1824 (Valley Times, 13 Mar 2025 [1]); 1820 (12 Mar 2025 [2])."
    )
    agreed = dated_model.ask("How much of a pay offer did the ferry union reject?")
    assert not agreed.abstained and "Sources differ" not in agreed.answer


@pytest.mark.parametrize("mode", ["rules", "model"])
def test_disagreeing_names_are_shown_for_a_who_question(dated: QA, dated_model: QA, mode: str) -> None:
    """The Herald names Jane Okafor mayor; the Valley Times's early count named Tom Brennan."""
    answer = (dated if mode == "rules" else dated_model).ask("Who was elected mayor of Norhaven?")
    assert answer.answer.startswith("Jane Okafor")
    differ = "Jane Okafor (Harbour Herald, 7 Mar 2024 [1]); Tom Brennan (Valley Times, 6 Mar 2024 [2])."
    assert answer.answer.endswith(f"Sources differ: {differ}")
    assert [c.source for c in answer.citations] == ["election.md", "election-valley.md"]


def test_one_source_naming_someone_is_no_conflict(dated: QA) -> None:
    answer = dated.ask("Who designed the Norhaven lighthouse?")
    assert "Robert Stevenson" in answer.answer and "Sources differ" not in answer.answer
