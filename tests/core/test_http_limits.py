"""Limits before parsing: bodies are bounded while they stream in, encodings are decoded within bounds,
and JSON that would crash a parser or a database is refused with a 400 that names the field."""

from __future__ import annotations

import gzip
import json
import select
import socket
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tagora.app import create_app
from tagora.core.http import MAX_JSON_DEPTH, inflate
from tagora.core.stores import Stores
from tagora.settings import Settings
from tests.conftest import login, make_settings
from tests.ingest.tracking.server import Server

MB = 1024 * 1024
JSON = {"Content-Type": "application/json"}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _send_huge(port: int, path: str, content_type: str, total: int, chunked: bool) -> tuple[int, int]:
    """POST ``total`` bytes made on the fly (never held in memory); returns the status the server answered
    and how many bytes it let us send before it answered. One thread looks for the answer before every
    piece it sends (a reader thread only got the GIL back after tens of megabytes on a busy machine)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"{framing}\r\n\r\n".encode()
    )
    piece = b"[" * 65536
    frame = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    answer = bytearray()
    sent = 0
    try:
        while b"\r\n\r\n" not in answer:
            readable, writable, _ = select.select([sock], [sock] if sent < total else [], [], 10)
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                answer.extend(data)
            elif writable:
                sock.sendall(frame)
                sent += len(piece)
            else:
                break  # nothing to read or write for 10 s
    except OSError:
        pass  # the server answered and closed the connection: what a client sees when refused
    sock.close()
    return int(answer.split(b" ", 2)[1]), sent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("server"))
    running.start()
    yield running
    running.kill()


@pytest.mark.parametrize(
    ("path", "content_type", "chunked"),
    [
        ("/api/auth/login", "application/json", False),  # declared length: refused before reading
        ("/api/segments/count", "application/json", True),  # chunked: counted as it arrives
        ("/login", "application/x-www-form-urlencoded", True),
        ("/v1/batch", "application/json", False),
        ("/v1/batch", "application/json", True),
        ("/v1/track", "text/plain", True),
    ],
)
def test_a_400_mb_unauthenticated_body_is_refused_with_413_and_the_server_stays_small(
    server: Server, path: str, content_type: str, chunked: bool
) -> None:
    assert server.proc is not None
    before = _rss_mb(server.proc.pid)
    status, sent = _send_huge(server.port, path, content_type, 400 * MB, chunked)
    assert status == 413
    assert sent < 20 * MB  # the server stopped reading long before the end
    assert _rss_mb(server.proc.pid) - before < 40


def test_a_gzip_bomb_is_refused_with_413(client: TestClient) -> None:
    bomb = gzip.compress(b" " * (200 * MB))
    assert len(bomb) < MB // 2
    response = client.post("/api/auth/login", content=bomb, headers={**JSON, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_gzip_body_within_the_limit_is_read_as_if_sent_plain(
    client: TestClient, users: dict[str, str]
) -> None:
    body = gzip.compress(json.dumps({"username": "admin1", "password": "wrong password"}).encode())
    response = client.post("/api/auth/login", content=body, headers={**JSON, "Content-Encoding": "gzip"})
    assert response.status_code == 401  # parsed and checked: the password is wrong


@pytest.mark.parametrize("path", ["/api/auth/login", "/v1/track"])
def test_bytes_after_the_gzip_stream_are_refused(client: TestClient, path: str) -> None:
    body = gzip.compress(b'{"username": "a", "password": "b"}') + b"<script>trailing</script>"
    response = client.post(path, content=body, headers={**JSON, "Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert "bytes follow its compressed stream" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/auth/login", "/v1/track"])
def test_a_truncated_gzip_stream_is_refused(client: TestClient, path: str) -> None:
    body = gzip.compress(b'{"username": "a", "password": "b"}' * 50)[:-12]
    response = client.post(path, content=body, headers={**JSON, "Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert "corrupt" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/auth/login", "/v1/track", "/v1/batch"])
@pytest.mark.parametrize("encoding", ["br", "zstd", "compress"])
def test_an_unsupported_content_encoding_is_415(client: TestClient, path: str, encoding: str) -> None:
    response = client.post(path, content=b"{}", headers={**JSON, "Content-Encoding": encoding})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_encoding"
    assert encoding in response.json()["error"]["message"]


def test_gzip_made_of_several_members_inflates_whole() -> None:
    assert inflate(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip", 10) == b"abcd"
    assert inflate(zlib.compress(b"abcd"), "deflate", 10) == b"abcd"
    assert inflate(b"plain", "identity", 10) == b"plain"


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/segments/count", "/v1/track", "/v1/batch"])
def test_ten_thousand_nested_brackets_are_a_400(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"[" * 10_000, headers=JSON)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("bad_request", "invalid_event")


def test_nesting_past_the_depth_limit_is_named_where_it_happens(client: TestClient) -> None:
    deep: object = 1
    for _ in range(MAX_JSON_DEPTH):
        deep = [deep]
    response = client.post("/api/segments/count", json={"expression": {"all": deep}}, headers=JSON)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["data"]["field"].startswith("expression.all[0][0]")
    assert "nested more than 64 levels" in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/auth/login", '{"username": "\\ud800", "password": "x"}', "username"),
        ("POST", "/api/customers/c1/interactions", '{"kind": "note", "body": "hi \\udfff"}', "body"),
        ("POST", "/api/identity/merge", '{"a": "c1", "b": "\\uDBFF", "comment": ""}', "b"),
        ("POST", "/api/tags/vip/assign", '{"values": {"c1\\ud800": "yes"}}', "values.c1\ufffd"),
        ("POST", "/api/tags/compute", '{"tags": ["ok", "\\ud83d"]}', "tags[1]"),
        ("PATCH", "/api/segments/loyal", '{"name": "x", "expression": {"all": [{"tag": "\\ud800"}]}}',
         "expression.all[0].tag"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_is_a_400_naming_the_field(
    client: TestClient, users: dict[str, str], method: str, path: str, body: str, field: str
) -> None:
    login(client, users["admin"])
    response = client.request(method, path, content=body.encode(), headers=JSON)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["data"]["field"] == field
    assert "surrogate" in error["message"]


def test_a_lone_surrogate_sent_as_raw_bytes_is_refused_too(client: TestClient) -> None:
    body = b'{"username": "\xed\xa0\x80", "password": "x"}'  # what json's "surrogatepass" reads
    response = client.post("/api/auth/login", content=body, headers=JSON)
    assert response.status_code in (400, 422)
    assert response.status_code != 500


def test_a_surrogate_pair_and_an_escaped_backslash_are_ordinary_text(
    client: TestClient, users: dict[str, str]
) -> None:
    for username in ('"\\ud83d\\ude00"', '"\\\\ud800"'):  # 😀, and the six characters \ud800
        body = f'{{"username": {username}, "password": "x"}}'.encode()
        response = client.post("/api/auth/login", content=body, headers=JSON)
        assert response.status_code == 401  # checked like any other name


def test_a_form_over_the_body_limit_is_413_but_an_upload_may_be_larger(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", max_body_bytes=64 * 1024, max_upload_bytes=512 * 1024)
    big_form = b"username=" + b"a" * (100 * 1024)
    upload = {"username": (None, "a"), "file": ("big.csv", b"x" * (200 * 1024), "text/csv")}
    too_big = {"username": (None, "a"), "file": ("big.csv", b"x" * (600 * 1024), "text/csv")}
    from tagora.core.stores import open_stores

    stores: Stores = open_stores(settings)
    try:
        with TestClient(create_app(settings, stores)) as client:
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            assert client.post("/login", content=big_form, headers=form).status_code == 413
            assert client.post("/login", files=upload).status_code != 413
            response = client.post("/login", files=too_big)
            assert response.status_code == 413
            assert response.json()["error"]["data"]["limit_bytes"] == 512 * 1024
    finally:
        stores.close()


def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAGORA_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("TAGORA_MAX_UPLOAD_BYTES", "4096")
    settings = Settings(env="test", home=tmp_path, secret_key="s" * 32)
    assert (settings.max_body_bytes, settings.max_upload_bytes) == (2048, 4096)


def test_the_tracking_gateway_is_guarded_too(settings: Settings, stores: Stores) -> None:
    from tagora.ingest.tracking.gateway import create_gateway

    with TestClient(create_gateway(settings)) as gateway:
        huge = {**JSON, "Content-Length": str(400 * MB)}
        response = gateway.post("/v1/batch", content=b"{}", headers=huge)  # the declared length decides
        assert response.status_code == 413
        assert response.json()["error"]["data"]["limit_bytes"] == 500 * 1024
        response = gateway.post("/v1/track", content=b"{}", headers={**JSON, "Content-Encoding": "br"})
        assert response.status_code == 415
        health = gateway.get("/health")
        assert health.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in health.headers["content-security-policy"]
        assert gateway.get("/docs").status_code == 404  # no page that would load Swagger UI from a CDN
