"""Webhook mode and start-up checks: the real application serving a webhook on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from newsqa.bot.tgbot.app import build_application, run, serve
from newsqa.index.config import Settings
from newsqa.index.errors import ConfigError
from tests.botapi_emulator import TOKEN, bot_thread

pytestmark = pytest.mark.timeout(60)
SECRET = "s3cret-Webhook_token"



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        with err:  # it holds the response's socket: unclosed, a ResourceWarning later
            return err.code


def test_webhook_mode_registers_the_secret_and_answers_only_authentic_updates(emulator, tmp_path: Path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/newsqa-hook"
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index",
                        telegram_bot_token=TOKEN, telegram_base_url=emulator.base_url,
                        webhook_url=url, webhook_secret=SECRET,
                        webhook_listen="127.0.0.1", webhook_port=port, feedback_log=tmp_path / "fb.jsonl")
    app = build_application(settings)
    with bot_thread(app, lambda: serve(app, settings, stop_signals=None)):
        [hook] = emulator.wait_for("setWebhook")
        assert hook.params["url"] == url and hook.params["secret_token"] == SECRET
        assert hook.params["allowed_updates"] == ["message", "callback_query", "inline_query"]
        forged = {"update_id": 1, "message": emulator.message("/start", user=81)}
        assert _post(url, forged, None) == 403
        assert _post(url, forged, "wrong") == 403
        assert _post(url, {"update_id": 2, "message": emulator.message("/start", user=82)}, SECRET) == 200
        assert _post(url, {"update_id": 3, "message": emulator.message("any news?", user=82)}, SECRET) == 200
        replies = emulator.wait_for("sendMessage", lambda p: p["chat_id"] == 82, count=2)
    assert "How many US troops are in Iraq?" in replies[0].params["text"]
    assert replies[1].params["text"] == "I haven't indexed any articles yet. An admin can run /reindex."
    assert not emulator.sent(81)
    assert not [c for c in emulator.calls if c.method == "getUpdates"]


@pytest.mark.fast
@pytest.mark.parametrize("token", [None, "not-a-token", "12345:short"])
def test_run_refuses_a_missing_or_malformed_token_before_any_network_call(emulator, token):
    settings = Settings(telegram_bot_token=token, telegram_base_url=emulator.base_url)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN") as caught:
        run(settings)
    assert "\n" not in str(caught.value) and (token is None or token not in str(caught.value))
    assert emulator.calls == []


@pytest.mark.fast
def test_webhook_without_secret_is_a_config_error_naming_both_problems():
    settings = Settings(telegram_bot_token="bad", webhook_url="https://example.com/hook")
    with pytest.raises(ConfigError) as caught:
        run(settings)
    assert "TELEGRAM_BOT_TOKEN" in str(caught.value) and "WEBHOOK_SECRET" in str(caught.value)
