"""Hostile servers on loopback for the callback tests: each answers a POST in one bad way, and a
listener notes whether anything reached it (where a redirect would lead)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable


class LoopbackServer:
    """A TCP server on 127.0.0.1 that hands each connection to `handle`, in a thread of its own,
    until closed."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handled, args=(conn,), daemon=True).start()

    def _handled(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class Listener(LoopbackServer):
    """A port that notes every connection and the first bytes sent on it (an FTP or HTTP server
    a redirect might point at)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.connections = 0
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        self.connections += 1
        conn.settimeout(1.0)
        conn.sendall(b"220 ready\r\n")  # an FTP greeting: a client would say USER next
        self.received.append(conn.recv(4096))


class HostileServer(LoopbackServer):
    """An HTTP-ish server whose `answer(conn)` misbehaves; it records each request's first
    line."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.answer = answer
        self.request_lines: list[bytes] = []
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5.0)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
        self.request_lines.append(head.split(b"\r\n", 1)[0])
        self.answer(conn)


def redirect_to(location: str) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        conn.sendall(
            f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
        )

    return answer


def trickle(seconds_per_byte: float) -> Callable[[socket.socket], None]:
    """A 200 answer sent one byte at a time, slowly: per-read timeouts never fire."""

    def answer(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            conn.sendall(bytes([byte]))
            time.sleep(seconds_per_byte)

    return answer


def raw(data: bytes) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        conn.sendall(data)

    return answer


def silent(conn: socket.socket) -> None:
    """Reads the request and never answers (until the client gives up)."""
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
