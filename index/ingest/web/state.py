"""What following the news remembers, in two JSON files under CORPUS_DIR/web/ (beside the articles,
so replicas sharing the corpus share them, and a backup of the corpus keeps them):

- `feeds.json`: the feed list, `{"feeds": [{"url": …, "title": …, "added": …}]}`; the admin may
  edit it. Created from FEEDS when missing.
- `.fetched.json`: machine state: each page's ETag/Last-Modified and file, each feed's validators
  and entries (guid → link), the last refresh. Losing it costs only full downloads next time.

Both are written whole to a temporary file and renamed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newsqa.index.errors import CorpusError
from newsqa.index.ingest.web.pages import WEB_FOLDER, write_atomically

FEEDS_FILE = "feeds.json"
STATE_FILE = ".fetched.json"


@dataclass(frozen=True)
class FollowedFeed:
    url: str
    title: str | None = None
    added: str | None = None  # ISO time

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "added": self.added}


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class FeedList:
    """The followed feeds, in CORPUS_DIR/web/feeds.json."""

    def __init__(self, corpus_dir: Path, seed: tuple[str, ...] = ()) -> None:
        self.path = corpus_dir / WEB_FOLDER / FEEDS_FILE
        self.seed = seed

    def read(self) -> list[FollowedFeed]:
        if not self.path.exists():
            return [FollowedFeed(url) for url in dict.fromkeys(self.seed)]
        data = _load(self.path)
        items = data.get("feeds") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise CorpusError(f'{self.path} has no "feeds" list; fix or delete it', path=str(self.path))
        feeds = []
        for item in items:
            if isinstance(item, str):
                feeds.append(FollowedFeed(item))
            elif isinstance(item, dict) and isinstance(item.get("url"), str):
                feeds.append(FollowedFeed(item["url"], item.get("title"), item.get("added")))
        return feeds

    def write(self, feeds: list[FollowedFeed]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"feeds": [f.to_json() for f in feeds]}, indent=2, ensure_ascii=False)
        write_atomically(self.path, text + "\n")


class FetchState:
    """Validators and ids of what was fetched, in CORPUS_DIR/web/.fetched.json."""

    def __init__(self, corpus_dir: Path) -> None:
        self.path = corpus_dir / WEB_FOLDER / STATE_FILE
        data = _load(self.path) if self.path.exists() else {}
        data = data if isinstance(data, dict) else {}
        self.pages: dict[str, dict[str, Any]] = dict(data.get("pages") or {})
        self.feeds: dict[str, dict[str, Any]] = dict(data.get("feeds") or {})
        self.refreshed: str | None = data.get("refreshed")

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"refreshed": self.refreshed, "feeds": self.feeds, "pages": self.pages}
        write_atomically(self.path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"cannot read {path} ({exc}); fix or delete it", path=str(path)) from None
