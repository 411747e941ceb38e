"""A polite and safe HTTP fetcher for article pages and feeds (the only module that goes online).

Rules, each a setting in config.py: an identifying User-Agent (FETCH_USER_AGENT); conditional GET
(the ETag and Last-Modified of the last fetch, a 304 is `Fetched.not_modified`); connect and read
timeouts plus a whole-request deadline (FETCH_TIMEOUT_S), so a server dripping a byte a second
cannot hold a refresh; a body cap (FETCH_MAX_BYTES, checked on Content-Length and while reading);
at most FETCH_MAX_REDIRECTS redirects, each hop checked like the first; one request at a time per
host, FETCH_DELAY_S apart; http and https only.

Addresses: the host is resolved once, every address is checked, and the connection goes to that
address (the Host header and TLS name stay the host's), so a name that resolves to a public address
for the check and to 127.0.0.1 for the connection (DNS rebinding) gets nowhere. Loopback, private,
link-local, shared (100.64/10), multicast, reserved and unspecified addresses are refused unless
ALLOW_PRIVATE_URLS is set: whoever may send `/add` must not reach the bot's own network.

Every failure is a `FetchError` whose message names the URL and the reason, in one line.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from newsqa.index.config import Settings
from newsqa.index.errors import FetchError

CHUNK = 65536


@dataclass(frozen=True)
class Fetched:
    """One response: `url` is where it ended up after redirects; body is empty when not modified."""

    url: str
    status: int
    body: bytes
    content_type: str  # the media type alone, lower case ("text/html")
    charset: str | None  # from the Content-Type header
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Validators:
    """What a conditional GET sends back: the last response's ETag and Last-Modified."""

    etag: str | None = None
    last_modified: str | None = None


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local, …)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; FetchError for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(url, f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs can be fetched, not {scheme or 'a bare name'}")
    if not parts.hostname:
        raise FetchError(url, "the URL names no host")
    if parts.username or parts.password:
        raise FetchError(url, "URLs with a user name or password are refused")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


class Fetcher:
    """Fetches with the rules above; thread-safe, one request per host at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._hosts: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}
        self._guard = threading.Lock()
        timeout = settings.fetch_timeout_s
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            # a connection per request: hosts are visited seconds apart, and none is left open
            limits=httpx.Limits(max_keepalive_connections=0),
            trust_env=False,  # no proxy from the environment: the address checks would be moot
            headers={"User-Agent": settings.fetch_user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, validators: Validators | None = None, accept: str = "text/html") -> Fetched:
        """GET `url`, following redirects; a 304 (conditional GET) is returned, other non-2xx raise."""
        limit = self.settings.fetch_max_redirects
        current = url
        for _ in range(limit + 1):
            response = self._once(current, validators, accept)
            if isinstance(response, str):  # a redirect, to this URL
                current = response
                continue
            return response
        raise FetchError(url, f"more than {limit} redirects (FETCH_MAX_REDIRECTS); last to {current}")

    def _once(self, url: str, validators: Validators | None, accept: str) -> Fetched | str:
        """The response, or where it redirects to."""
        scheme, host, port = check_url(url)
        address = self._address(url, host, port)
        headers = {"Accept": f"{accept}, */*;q=0.5", "Host": _host_header(host, port, scheme)}
        if validators is not None and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators is not None and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        target = _with_address(url, address)
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        deadline = time.monotonic() + self.settings.fetch_timeout_s
        with self._turn(host):
            try:
                request = self._client.build_request("GET", target, headers=headers, extensions=extensions)
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(url, f"timed out after {self.settings.fetch_timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                raise FetchError(url, f"cannot connect ({_why(exc)})") from None
            try:
                return self._read(url, response, deadline)
            finally:
                response.close()

    def _read(self, url: str, response: httpx.Response, deadline: float) -> Fetched | str:
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise FetchError(url, f"HTTP {status} redirect without a Location")
            return urljoin(url, location)
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        media, charset = _content_type(response.headers.get("Content-Type", ""))
        if status == 304:
            return Fetched(url, status, b"", media, charset, etag, modified)
        if status >= 400 or status < 200 or status == 204:
            reason = response.reason_phrase or ""
            raise FetchError(url, f"HTTP {status}{' ' + reason if reason else ''}")
        limit = self.settings.fetch_max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"{_mb(int(declared))} is over the {_mb(limit)} limit (FETCH_MAX_BYTES)")
        body = bytearray()
        try:
            for chunk in response.iter_bytes(CHUNK):
                body += chunk
                if len(body) > limit:
                    raise FetchError(url, f"the page is over the {_mb(limit)} limit (FETCH_MAX_BYTES)")
                if time.monotonic() > deadline:
                    raise FetchError(url, f"timed out after {self.settings.fetch_timeout_s:g} s")
        except httpx.TimeoutException:
            raise FetchError(url, f"timed out after {self.settings.fetch_timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"the connection failed while reading ({_why(exc)})") from None
        return Fetched(url, status, bytes(body), media, charset, etag, modified)

    def _address(self, url: str, host: str, port: int) -> str:
        """The address to connect to: `host`'s first, once every address it has passed the rules."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(url, f"cannot resolve {host} ({exc})") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise FetchError(url, f"cannot resolve {host}")
        if not self.settings.allow_private_urls:
            private = [a for a in addresses if not is_public(a)]
            if private:
                raise FetchError(
                    url,
                    f"{host} resolves to a private or local address ({private[0]}); refused unless "
                    "ALLOW_PRIVATE_URLS is set",
                )
        return addresses[0]

    def _turn(self, host: str) -> _HostTurn:
        with self._guard:
            lock = self._hosts.setdefault(host, threading.Lock())
        return _HostTurn(self, host, lock)


class _HostTurn:
    """Holds `host`'s lock for one request, starting at least FETCH_DELAY_S after the last one."""

    def __init__(self, fetcher: Fetcher, host: str, lock: threading.Lock) -> None:
        self.fetcher, self.host, self.lock = fetcher, host, lock

    def __enter__(self) -> None:
        self.lock.acquire()
        last = self.fetcher._last.get(self.host)
        if last is not None:
            time.sleep(max(0.0, last + self.fetcher.settings.fetch_delay_s - time.monotonic()))

    def __exit__(self, *exc: object) -> None:
        self.fetcher._last[self.host] = time.monotonic()
        self.lock.release()


def _with_address(url: str, address: str) -> str:
    """`url` with its host replaced by the resolved address (the Host header keeps the name)."""
    parts = urlsplit(url)
    shown = f"[{address}]" if ":" in address else address
    netloc = shown if parts.port is None else f"{shown}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"


def _content_type(header: str) -> tuple[str, str | None]:
    message = Message()
    message["Content-Type"] = header or "application/octet-stream"
    return message.get_content_type().lower(), message.get_content_charset()


def _why(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f}".removesuffix(".0") + " MB"
