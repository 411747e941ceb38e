"""Following the news: fetch article pages and feeds, extract them, keep them as corpus files.

fetch (the polite, safe HTTP client) · extract (trafilatura, its only importer) · feeds (feedparser,
its only importer) · pages (canonical URLs, the corpus/web/ Markdown files, retention) · state (the
feed list and what was fetched) · results (what a run did) · news (`News`: add URLs, follow feeds,
refresh), which the service (`QA.add_urls`, `QA.refresh_feeds`, …) calls and then reindexes.
"""
