"""A news site on 127.0.0.1 for the web tests: article pages in heavy chrome, RSS and Atom feeds, and
the bad inputs a fetcher meets (a slow page, 50 MB, a redirect loop, 404, 500, a PDF, Latin-1).

Pages answer conditional GETs (ETag / If-None-Match, Last-Modified / If-Modified-Since) with 304, and
every request is recorded, so tests can check what the fetcher sent."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tests.webpages import seed_articles, site_page

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
BIG = 50_000_000
LAST_MODIFIED = formatdate(1735689600, usegmt=True)  # 1 Jan 2025


@dataclass
class Page:
    body: bytes | Callable[[], bytes] = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    stream_bytes: int = 0  # instead of body: this many bytes, sent in chunks without a Content-Length
    validators: bool = True
    gate: threading.Event | None = None  # the response waits until a test sets it (at most 30 s)


@dataclass
class Request:
    path: str
    headers: dict[str, str]


class NewsSite:
    """The site; `with NewsSite() as site:` serves it, `site.url(path)` addresses it."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None
        self.articles = seed_articles(CORPUS)
        self._build()

    # -- content --------------------------------------------------------------------------------

    def article(self, path: str, n: int, *, published: str = "2025-03-12", **kwargs: Any) -> None:
        title, paragraphs = self.articles[n]
        self.pages[path] = Page(
            site_page(title, paragraphs, url=self.url(path), published=published, **kwargs).encode()
        )

    def _build(self) -> None:
        self.pages["/feeds/rss.xml"] = Page(
            lambda: self.rss(["/news/troops-talks.html", "/news/withdrawal-countdown.html"]),
            "application/rss+xml",
        )
        self.pages["/feeds/atom.xml"] = Page(
            lambda: self.atom(["/news/drawdown.html", "/news/invasion.html"]), "application/atom+xml"
        )
        self.pages["/feeds/broken.xml"] = Page(
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><item><title>Half an it',
            "application/rss+xml",
        )
        self.pages["/slow.html"] = Page(b"<html><body><p>late</p></body></html>", delay_s=6.0)
        self.pages["/huge.html"] = Page(stream_bytes=BIG)
        self.pages["/huge-declared.html"] = Page(b"", headers={"Content-Length": str(BIG)})
        self.pages["/loop/a"] = Page(status=302, headers={"Location": "/loop/b"}, validators=False)
        self.pages["/loop/b"] = Page(status=302, headers={"Location": "/loop/a"}, validators=False)
        self.pages["/moved"] = Page(status=301, headers={"Location": "/news/invasion.html"}, validators=False)
        self.pages["/missing.html"] = Page(b"<html><body>Not found</body></html>", status=404)
        self.pages["/error.html"] = Page(b"<html><body>Oops</body></html>", status=500)
        self.pages["/report.pdf"] = Page(
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 8,
            "application/pdf",
        )
        self.pages["/binary"] = Page(bytes(range(256)) * 40, "application/octet-stream")

    def serve_articles(self) -> None:
        """The pages the feeds link to (needs the port: canonical URLs name it)."""
        for n, path in enumerate(
            [
                "/news/troops-talks.html",
                "/news/withdrawal-countdown.html",
                "/news/drawdown.html",
                "/news/invasion.html",
            ]
        ):
            self.article(path, n, published=f"2025-03-1{n}")
        title, paragraphs = self.articles[4]
        latin = site_page(
            "Café owners in Zürich say façades matter",
            [
                "The café owners of Zürich’s old town say the façades of their buildings draw more tourists "
                "than any advertising campaign, and the city council agreed on Monday to pay for repairs.",
                "Renée Müller, who runs a café on the Limmatquai, said the grant of 40,000 francs would "
                "cover "
                "about half of the work on her façade before the summer season begins.",
            ],
            url=self.url("/latin1.html"),
            charset="iso-8859-1",
        )
        self.pages["/latin1.html"] = Page(
            latin.replace('<meta charset="iso-8859-1">', "").encode("cp1252"), "text/html; charset=iso-8859-1"
        )

    def rss(self, paths: list[str]) -> bytes:
        items = "".join(
            f"<item><title>{escape(self.title_of(p))}</title><link>{self.url(p)}</link>"
            f'<guid isPermaLink="false">rss-{p}</guid><pubDate>Wed, 12 Mar 2025 08:00:00 GMT</pubDate></item>'
            for p in paths
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Harbour Herald: World'
            f"</title><link>{self.url('/')}</link><description>World news</description>{items}"
            "</channel></rss>"
        ).encode()

    def atom(self, paths: list[str]) -> bytes:
        entries = "".join(
            f'<entry><title>{escape(self.title_of(p))}</title><link href="{self.url(p)}"/>'
            f"<id>urn:herald:{p}</id><updated>2025-03-13T08:00:00Z</updated></entry>"
            for p in paths
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Valley Times</title><id>urn:valley</id><updated>2025-03-13T08:00:00Z</updated>"
            f"{entries}</feed>"
        ).encode()

    def title_of(self, path: str) -> str:
        page = self.pages.get(path)
        body = page.body if page and isinstance(page.body, bytes) else b""
        start = body.find(b"<title>")
        return body[start + 7 : body.find(b" |", start)].decode() if start >= 0 else path

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # -- serving --------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        assert self._server is not None, "start the site first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> NewsSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                site.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
                page = site.pages.get(self.path.split("?", 1)[0])
                if page is None:
                    self._send(404, b"no such page", {"Content-Type": "text/plain"})
                    return
                if page.delay_s:
                    time.sleep(page.delay_s)
                if page.gate is not None:
                    page.gate.wait(30)
                if page.stream_bytes:
                    self._stream(page)
                    return
                body = page.body() if callable(page.body) else page.body
                headers = {"Content-Type": page.content_type, **page.headers}
                if page.validators and page.status == 200:
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    headers.update(ETag=etag, **{"Last-Modified": LAST_MODIFIED})
                    if self.headers.get("If-None-Match") == etag:
                        self._send(304, b"", {"ETag": etag})
                        return
                self._send(page.status, body, headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if "Content-Length" in headers and not body:
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def _stream(self, page: Page) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                chunk = b"<p>" + b"filler text " * 5000 + b"</p>\n"
                sent = 0
                try:
                    while sent < page.stream_bytes:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the fetcher stopped reading at its limit, as it should

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="news-site", daemon=True).start()
        self.serve_articles()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
