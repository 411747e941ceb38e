"""A real Chroma server for tests: `chroma run` on 127.0.0.1, a free port and a temp folder."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMA = Path(sys.executable).parent / "chroma"
START_TIMEOUT_S = 60.0
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """`chroma run` as a child process; `stop()` and `start()` keep the port and the data."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path, self.host, self.port = path, "127.0.0.1", port or free_port()
        self.log = path.parent / f"chroma-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> dict[str, object]:
        return {"chroma_host": self.host, "chroma_port": self.port}

    def start(self) -> ChromaServer:
        assert self._proc is None, "already running"
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.alive():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chroma run did not come up on port {self.port}; see {self.log}")
            time.sleep(0.1)
        return self

    def alive(self) -> bool:
        url = f"http://{self.host}:{self.port}/api/v2/heartbeat"
        try:
            with _NO_PROXY.open(url, timeout=2) as response:
                return "nanosecond heartbeat" in json.load(response)
        except urllib.error.HTTPError as err:
            err.close()  # it holds the response's socket: unclosed, a ResourceWarning later
            return False
        except (OSError, ValueError):  # URLError is an OSError
            return False

    def pause(self) -> None:
        """Hang the server: connections are still accepted (by the kernel), nothing is answered."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
