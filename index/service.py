"""`QA`: the one service the CLI, the Telegram bot, the benchmarks and the tests all call."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from newsqa.index.answering.answer import extract, passage_coverage, with_further_sources, within_sources
from newsqa.index.answering.conversation import Conversations
from newsqa.index.answering.metadata import author_answer, author_topic
from newsqa.index.answering.question import Question, analyse, spelled_as_indexed, tidy
from newsqa.index.answering.window import asked_window
from newsqa.index.config import Settings
from newsqa.index.errors import (
    AnswerModelError,
    EmbeddingError,
    IndexModelError,
    QuestionError,
)
from newsqa.index.ingest.chunking import Chunker
from newsqa.index.retrieval.hybrid import rerank, retrieve
from newsqa.index.store.live import LiveIndex
from newsqa.index.store.locks import exclusive_reindex
from newsqa.index.store.snapshot import Snapshot
from newsqa.index.types import Answer, Passage, Progress, ReindexSummary, When

log = logging.getLogger(__name__)

CANDIDATES = 30  # fetched from each retriever
POOL = 20  # fused candidates reranked
RANKED = 12  # reranked passages kept: the answerer reads the best of them, -k cites further ones
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def clean_question(text: str, limit: int) -> str:
    """The question as asked, trimmed; QuestionError when empty or longer than `limit`.

    Bytes that were not UTF-8 (an argv or stdin decoded with surrogateescape, a lone surrogate from
    JSON) become U+FFFD, the replacement character: the rest of the question is still answered."""
    text = _LONE_SURROGATES.sub("\ufffd", text)
    question = " ".join(text.replace("\x00", " ").split())
    if not question:
        raise QuestionError("the question is empty: type a question, e.g. 'How many US troops are in Iraq?'")
    if len(question) > limit:
        raise QuestionError(
            f"the question is {len(question):,} characters long; the limit is {limit:,} "
            "(MAX_QUESTION_CHARS): ask something shorter",
            length=len(question),
        )
    return question


class QA:
    """Answers questions from the index and keeps the index in line with the corpus."""

    def __init__(self, settings: Settings, embedder: Any | None = None) -> None:
        from newsqa.index.runtime import configure

        configure()
        self.settings = settings
        self._embedder = embedder
        self.index = LiveIndex(settings)
        self._open_lock = threading.Lock()
        self._reindex_lock = threading.Lock()
        self.conversations = Conversations(settings.context_turns, settings.context_idle_s)
        self._llm: Any = None
        # The trained reader (ANSWERER=model) is imported and built only when asked for.
        self.reader: Any = None
        if settings.answerer == "model":
            from newsqa.index.answering.reader import Reader

            self.reader = Reader()
        self.last_reindex: ReindexSummary | None = None
        self._news: Any = None

    # -- wiring ------------------------------------------------------------------------------

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            with self._open_lock:
                if self._embedder is None:
                    from newsqa.index.retrieval.registry import make_embedder

                    s = self.settings
                    self._embedder = make_embedder(
                        s.embed_model,
                        base_url=s.embed_base_url,
                        api_key=s.embed_api_key,
                        concurrency=s.embed_concurrency,
                    )
        return self._embedder

    @property
    def store(self) -> Any:
        """The store, for reading: IndexNotFoundError rather than creating an empty index."""
        return self.index.store

    @property
    def llm(self) -> Any:
        """The `LLMAnswerer` when LLM_BASE_URL/LLM_MODEL are set, else None (extractive answers)."""
        if self._llm is None and self.settings.llm_enabled:
            with self._open_lock:
                if self._llm is None:
                    from newsqa.index.llm.answerer import LLMAnswerer
                    from newsqa.index.llm.client import LLMClient

                    self._llm = LLMAnswerer(LLMClient(self.settings))
        return self._llm

    def _load_model_in_background(self) -> None:
        """First question: load the models while the index opens (on 2+ cores the two overlap)."""
        load = getattr(self.embedder, "load", None)

        def preload() -> None:
            try:
                if load is not None:
                    load()
                if self.reader is not None:
                    self.reader.load()
            except (EmbeddingError, AnswerModelError):
                log.debug("model preload failed; the question will load it again", exc_info=True)

        threading.Thread(target=preload, name="newsqa-model-load", daemon=True).start()

    def has_index(self) -> bool:
        """Whether an index was built (a damaged one raises IndexCorruptError: it is not "no index")."""
        return self.index.has_index()

    def snapshot(self) -> Snapshot:
        """The live index generation (store/live.py); IndexNotFoundError says when one is being built."""
        return self.index.snapshot()

    def snapshot_for_questions(self) -> Snapshot:
        """The live snapshot, if this embedder built it: IndexModelError when another model did (a
        question's vector compared with another model's vectors finds nonsense, or fails in Chroma)."""
        snapshot = self.snapshot()
        built = None if snapshot.config is None else snapshot.config.embed_model
        if built is not None and built != self.model_id:
            from newsqa.index.retrieval.registry import model_note

            note = model_note(built)
            was = f"{built} ({note})" if note else built
            raise IndexModelError(
                f"the index in the {self.store.where} was built with embedding model {was}, "
                f"but questions are now embedded with {self.model_id} "
                f"(EMBED_MODEL={self.settings.embed_model}): run `newsqa index` to rebuild it",
                built=built,
                model=self.model_id,
            )
        return snapshot

    # -- the service -------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        chat_id: str | None = None,
        when: When | None = None,
    ) -> Answer:
        """Answer `question` from the index; `chat_id` lets a follow-up borrow the last question;
        `when` sets "today" for time phrases and an explicit window (--as-of, --since, --until)."""
        *_, final = self._answer(question, k, chat_id, when or When(), stream=False)
        assert isinstance(final, Answer)
        return final

    def ask_stream(
        self, question: str, *, k: int | None = None, chat_id: str | None = None, when: When | None = None
    ) -> Iterator[str | Answer]:
        """As `ask`, but while an LLM writes, first yield its verified text so far; the Answer last."""
        if self.llm is None:
            yield self.ask(question, k=k, chat_id=chat_id, when=when)
            return
        yield from self._answer(question, k, chat_id, when or When(), stream=True)

    def new_conversation(self, chat_id: str) -> None:
        """Forget the context of `chat_id`'s conversation: its next question starts afresh (`/new`)."""
        self.conversations.forget(chat_id)

    def _resolve(self, chat_id: str | None, asked: str) -> tuple[str | None, bool]:
        """How `asked` reads in its conversation (None: as asked), and whether an LLM condensed it."""
        turns = self.conversations.recent(chat_id)
        if turns and self.llm is not None:
            condensed = self.llm.condense(turns, asked, self.settings.max_question_chars)
            if condensed:
                return (None if condensed == asked else str(condensed)), True
        return self.conversations.resolve(chat_id, asked), False

    def _answer(
        self, question: str, k: int | None, chat_id: str | None, when: When, *, stream: bool
    ) -> Iterator[str | Answer]:
        started = time.perf_counter()
        asked = clean_question(question, self.settings.max_question_chars)
        tidied = tidy(asked)
        rewritten, condensed = self._resolve(chat_id, tidied)
        resolved = rewritten or tidied
        t_resolved = time.perf_counter()
        if not self.index.loaded:
            self._load_model_in_background()
        snapshot = self.index.reopening(self.snapshot_for_questions)
        window, searched = asked_window(resolved, when, self.settings.as_of or date.today())
        period = None
        if window is not None:
            period = window.period(sum(window.holds(day) for day in snapshot.published()))
            if not period.articles:
                # Nothing was published then: "in 2014" may name the event's year, not the article's
                # (an undated corpus has no article in any window). Search everything, and say so.
                window, searched = None, resolved
        t_open = time.perf_counter()
        topic = author_topic(searched)  # "who wrote the article about X": search for X
        searched = topic or searched
        embedding = self.embedder.get_query_embedding(searched)
        t_embed = time.perf_counter()
        days = None if window is None else window.days
        snapshot, question_info, passages, coverage = self._passages(
            embedding, searched, k, days, follow_up=rewritten is not None
        )
        t_retrieve = time.perf_counter()
        if topic is not None:
            result = author_answer(question_info, passages, coverage, snapshot.article_text)
        elif self.reader is not None:
            result = self._read(question_info, passages, snapshot, follow_up=rewritten is not None)
        else:
            result = extract(question_info, passages, snapshot.lexical, snapshot.article_text)
        t_answer = time.perf_counter()
        citations = with_further_sources(result, passages, k) if k else result.citations
        answer = Answer(
            question=asked,
            answer=within_sources(result.answer, len(citations)),
            abstained=result.abstained,
            citations=citations,
            quotes=result.quotes[: len(citations)],
            short_answer=result.short_answer,
            resolved_question=rewritten,
            retrieved=passages,
            period=period,
            timings_ms={
                "open": (t_open - t_resolved) * 1000,
                "embed": (t_embed - t_open) * 1000,
                "retrieve": (t_retrieve - t_embed) * 1000,
                "answer": (t_answer - t_retrieve) * 1000,
            },
        )
        if condensed:
            answer.timings_ms["condense"] = (t_resolved - started) * 1000
        # The answerer decides abstention: nothing found that answers, no LLM call.
        if not result.abstained and self.llm is not None:
            answer = yield from self._with_llm(answer, resolved, result, passages, k, stream)
        answer.timings_ms["total"] = _ms(started)
        self.conversations.remember(chat_id, resolved, answer.answer, follow_up=rewritten is not None)
        yield answer

    def _read(
        self, question: Question, passages: list[Passage], snapshot: Snapshot, *, follow_up: bool
    ) -> Any:
        """The answer model's Extract, or for a follow-up rewritten from the chat ("what was discussed
        there?" → "What was discussed in Washington?") the rules'. Such rewrites read vaguer than any
        question the chooser was fitted on: with the model, follow-ups were answered right 0.78 of the
        time on bench/sets/conversations.jsonl against the rules' 0.87 (it abstained on nine the rules
        answer), and 0.59 against 0.70 on conversations-holdout.jsonl (docs/answer-model.md)."""
        from newsqa.index.answering import learned

        if follow_up:
            return extract(question, passages, snapshot.lexical, snapshot.article_text)
        return learned.extract(
            question, passages, self.reader, snapshot.article_text, snapshot.lexical, snapshot.chunks.span
        )

    def _retrieve(
        self, embedding: list[float], question: str, days: tuple[int, int] | None
    ) -> tuple[Snapshot, Any]:
        snapshot = self.snapshot_for_questions()
        dense = snapshot.dense_index(self.store)  # the vectors on disk when the snapshot cache has them
        return snapshot, retrieve(snapshot, dense, embedding, question, POOL, CANDIDATES, days)

    def _with_llm(
        self, answer: Answer, resolved: str, result: Any, passages: list[Any], k: int | None, stream: bool
    ) -> Generator[str, None, Answer]:
        """The LLM's answer when it verifies, else `answer` marked as a fallback; yields partial text."""
        written = None
        for item in self.llm.write(resolved, result, passages, max_sources=k, stream=stream):
            if isinstance(item, str):
                yield item
            else:
                written = item
        if written is None:  # write() always ends with a Written
            raise RuntimeError("the LLM answerer returned no result")
        answer.timings_ms["llm"] = written.seconds * 1000
        if not written.ok:
            return replace(answer, mode="llm-fallback")
        return replace(
            answer,
            answer=written.answer,
            citations=list(written.citations),
            quotes=list(written.quotes),
            mode="llm",
            verified=written.verified,
        )

    def passages(self, question: str) -> tuple[Question, list[Passage], Snapshot]:
        """What the answerer reads for `question` (as asked, no chat context): its analysis, the
        reranked passages and the snapshot they come from. For bench/fit_chooser.py."""
        embedding = self.embedder.get_query_embedding(question)
        snapshot, question_info, passages, _ = self._passages(embedding, question, None, None)
        return question_info, passages, snapshot

    def _passages(
        self,
        embedding: list[float],
        question: str,
        k: int | None,
        days: tuple[int, int] | None,
        follow_up: bool = False,
    ) -> tuple[Snapshot, Question, list[Passage], dict[str, float]]:
        """The snapshot read, the question's analysis, the reranked passages (published within `days`
        when set) and each passage's coverage of the question."""
        snapshot, found = self.index.reopening(lambda: self._retrieve(embedding, question, days))
        question_info = analyse(question, follow_up=follow_up)
        question_info = spelled_as_indexed(question_info, snapshot.lexical.spelled_like)  # typos in words
        coverage = passage_coverage(question_info, found.passages, snapshot.lexical)
        top = max(k or self.settings.top_k, RANKED)
        return snapshot, question_info, rerank(found.passages, coverage)[:top], coverage

    def reindex(
        self, *, rebuild: bool = False, progress: Callable[[Progress], None] | None = None
    ) -> ReindexSummary:
        """Bring the index in line with the corpus; questions keep being answered meanwhile."""
        with self._exclusive() as still_exclusive:
            return self._reindex_held(still_exclusive, rebuild, progress)

    def _exclusive(self) -> Any:
        """The reindex lock (embedded) or lease (server), held across processes and replicas."""
        store = lambda: self.index.live_store(create=True)  # noqa: E731 - opened only once the locks are held
        return exclusive_reindex(self.settings, store, self._reindex_lock)

    def _reindex_held(
        self, still_exclusive: Any, rebuild: bool, progress: Callable[[Progress], None] | None
    ) -> ReindexSummary:
        from newsqa.index.ingest.indexer import Budget, Indexer

        if rebuild:
            self.index.set_aside_if_unreadable()
        chunker = Chunker(self.settings.chunk_tokens, self.settings.chunk_overlap)
        budget = Budget(self.settings.max_article_chunks, self.settings.max_reindex_chunks)
        indexer = Indexer(
            self.index.live_store(create=True),
            self.embedder,
            chunker,
            self.settings.corpus_dir,
            self.model_id,
            still_exclusive,
            budget,
            before_switch=self.index.prepare,
        )
        summary = indexer.run(rebuild=rebuild, progress=progress)
        self.last_reindex = summary
        self.index.recheck()  # make the next ask() pick up the new generation
        return summary

    # -- following the news (ingest/web): fetch into the corpus, then reindex, under one lock ---

    @property
    def news(self) -> Any:
        """The `News` fetcher of articles and feeds (ingest/web/news.py), made on first use."""
        if self._news is None:
            with self._open_lock:
                if self._news is None:
                    from newsqa.index.ingest.web.news import News

                    self._news = News(self.settings)
        return self._news

    def add_urls(self, urls: list[str], progress: Callable[[Progress], None] | None = None) -> Any:
        """Fetch article pages into CORPUS_DIR/web/ and reindex: a `WebSummary` (failures included)."""
        from newsqa.index.ingest.web.news import WebSummary

        with self._exclusive() as still_exclusive:
            pages = self.news.add(urls, progress)
            return WebSummary(pages=pages, reindex=self._reindex_held(still_exclusive, False, progress))

    def refresh_feeds(
        self, progress: Callable[[Progress], None] | None = None, *, scheduled: bool = False
    ) -> Any:
        """Poll every feed, fetch new and changed entries, prune past KEEP_DAYS, reindex: a
        `WebSummary`. `scheduled`: None instead when a refresh (here or on a replica sharing the
        corpus) ran within half of FEED_REFRESH_MINUTES; ReindexBusyError while another runs."""
        from dataclasses import replace as with_reindex

        with self._exclusive() as still_exclusive:
            if scheduled and not self.news.due(self.settings.feed_refresh_minutes):
                return None
            done = self.news.refresh(progress, today=self.settings.as_of)
            return with_reindex(done, reindex=self._reindex_held(still_exclusive, False, progress))

    def feeds(self) -> list[Any]:
        """The followed feeds (`FollowedFeed`: url, title, added)."""
        return list(self.news.feeds())

    def follow_feed(self, url: str) -> Any:
        """Follow a feed once it is fetched and read as one: (FollowedFeed, entries); WebError if not."""
        return self.news.follow(url)

    def unfollow_feed(self, url: str) -> bool:
        """Stop following a feed (its articles stay); False when it was not in the list."""
        return bool(self.news.unfollow(url))

    @property
    def model_id(self) -> str:
        return str(getattr(self.embedder, "model_id", self.settings.embed_model))

    def sources(self) -> list[dict[str, Any]]:
        """The indexed articles: source, title, url, chunks, published (ISO day or None), site, author."""
        snapshot = self.snapshot()
        return [
            {
                "source": s,
                "title": s if d.title is None else d.title,
                "url": d.url,
                "chunks": d.chunks,
                "published": d.published,
                "site": d.site,
                "author": d.author,
            }
            for s, d in sorted(snapshot.documents.items())
        ]

    def stats(self) -> dict[str, Any]:
        """Counts and settings that are safe to show (no secrets)."""
        snapshot = self.snapshot()
        last = self.last_reindex
        return {
            "articles": len(snapshot.documents),
            "chunks": len(snapshot.chunks),
            "generation": snapshot.generation,
            "store": "chroma-server" if self.settings.server_mode else "chroma-embedded",
            "embed_model": self.settings.embed_model,
            "chunk_tokens": self.settings.chunk_tokens,
            "chunk_overlap": self.settings.chunk_overlap,
            "last_reindex": None if last is None else last.to_json(),
        }

    def close(self) -> None:
        self.index.close()
        if self._news is not None:
            self._news.close()
            self._news = None
