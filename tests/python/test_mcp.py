"""The MCP server through the official Python `mcp` client, on the live demo shop.

Both transports (streamable HTTP at /mcp, stdio through `redscope mcp --server URL`) and both
protocol eras: the handshake era (`mode="legacy"`: initialize, 2025-11-25; plus a raw
2025-06-18 exchange below) and the stateless 2026-07-28 protocol (`mode="2026-07-28"`: no
initialize, per-request `_meta`), and `mode="auto"`, which discovers the newest one.
"""
import asyncio
import json
import os
import re
import urllib.request

import pytest
from mcp import Client, StdioServerParameters

from conftest import free_port

TRANSPORTS = ["http", "stdio"]
ERAS = ["legacy", "2026-07-28"]
TOOLS = {
    "list_services", "service_overview", "find_traces", "get_trace", "search_logs",
    "log_patterns", "get_dependencies", "list_metrics", "query_metric", "run_sql", "triage",
    "find_sessions", "get_session", "web_errors", "web_vitals", "alerts", "usage",
}
# ≈4 characters per token: default answers stay near 2,000 tokens, a trace digest a few thousand.
DEFAULT_TOKENS = 2_300
DIGEST_TOKENS = 3_500
TRACE_ID = re.compile(r"\b[0-9a-f]{32}\b")


def make_client(demo, transport, mode, server_url=None):
    if transport == "http":
        return Client(f"{demo.url}/mcp", mode=mode, read_timeout_seconds=60)
    params = StdioServerParameters(
        command=demo.binary,
        args=["mcp", "--server", server_url or demo.url],
        env=dict(os.environ, REDSCOPE_LOG="warn"),
    )
    return Client(params, mode=mode, read_timeout_seconds=60)


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")


async def call(client, name, args=None, *, error=False, tokens=DEFAULT_TOKENS):
    result = await client.call_tool(name, args or {})
    text = text_of(result)
    assert bool(result.is_error) == error, f"{name}({args}) is_error={result.is_error}:\n{text}"
    assert len(text) / 4 < tokens, f"{name} answered {len(text)} characters"
    return text


def assert_windowed(text):
    first = text.splitlines()[0]
    assert first.startswith("window: ") and "server time now: " in first, first


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lists_every_tool_with_a_schema(demo, transport, mode):
    async def go():
        async with make_client(demo, transport, mode) as client:
            if mode == "legacy":
                assert client.protocol_version == "2025-11-25"
                assert "untrusted-telemetry" in (client.instructions or "")
            else:
                assert client.protocol_version == "2026-07-28"
            tools = (await client.list_tools()).tools
            assert {t.name for t in tools} == TOOLS
            for t in tools:
                assert len(t.description or "") > 80, t.name
                assert t.input_schema.get("type") == "object", t.name
                assert t.annotations is not None and t.annotations.read_only_hint, t.name
            by_name = {t.name: t for t in tools}
            assert "from" in by_name["list_services"].input_schema["properties"]
            assert "trace_id" in by_name["get_trace"].input_schema["required"]
            assert "metric_points" in by_name["run_sql"].description

    asyncio.run(go())


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_tool_answers_from_demo_data(demo, transport, mode):
    metric = demo.get("/api/v1/metrics")["metrics"][0]["name"]

    async def go():
        async with make_client(demo, transport, mode) as client:
            text = await call(client, "list_services", {"from": "now-1h"})
            assert_windowed(text)
            assert "| checkout |" in text
            assert "<untrusted-telemetry>" in text and "</untrusted-telemetry>" in text
            assert f"{demo.url}/services?" in text

            text = await call(client, "service_overview", {"service": "checkout"})
            assert_windowed(text)
            assert "service checkout:" in text and "## top operations" in text
            assert f"{demo.url}/service/checkout?" in text

            text = await call(client, "find_traces", {"service": "frontend", "limit": 3})
            assert_windowed(text)
            ids = TRACE_ID.findall(text)
            assert len(ids) >= 3, text
            cursor = re.search(r'more: call again with cursor="([^"]+)"', text)
            assert cursor, text
            page2 = await call(client, "find_traces", {"service": "frontend", "limit": 3,
                                                        "cursor": cursor.group(1)})
            # The cursor pins the window; offsets over live data may shift (late traces).
            assert page2.split(" · server time")[0] == text.split(" · server time")[0]
            assert TRACE_ID.search(page2), page2

            text = await call(client, "find_traces", {"status": "error", "limit": 5})
            assert TRACE_ID.search(text), text

            # Longest first: the same traces the API lists by their longest span, in its order
            # (a window ending a minute ago: no trace of it is still arriving).
            text = await call(client, "find_traces", {"service": "frontend", "limit": 5, "sort": "longest",
                                                      "from": "now-16m", "to": "now-1m"})
            assert "(longest first;" in text and "sort=longest" in text, text
            window = re.search(r"from=(\d+)&to=(\d+)", text)
            assert window, text
            api = demo.get(f"/api/v1/traces?service=frontend&limit=5&sort=longest"
                           f"&from={window.group(1)}&to={window.group(2)}")
            assert TRACE_ID.findall(text)[:5] == [t["trace_id"] for t in api["traces"]], text
            text = await call(client, "find_traces", {"sort": "shortest"}, error=True)
            assert "'sort'" in text and "longest" in text

            trace_id = ids[0]
            spans = demo.get(f"/api/v1/traces/{trace_id}")["spans"]
            root = next(s for s in spans if s["parent_span_id"] == "")
            text = await call(client, "get_trace", {"trace_id": trace_id}, tokens=DIGEST_TOKENS)
            assert f"trace {trace_id}: {len(spans)} spans" in text, text
            assert root["name"] in text
            assert "## critical path" in text
            assert f"{demo.url}/trace/{trace_id}" in text
            full = await call(client, "get_trace", {"trace_id": trace_id, "detail": "full", "limit": 5})
            assert "| # | start | duration |" in full
            if len(spans) > 5:
                assert 'cursor="5"' in full

            text = await call(client, "search_logs", {"service": "checkout", "limit": 5})
            assert_windowed(text)
            assert "| time | service | severity |" in text
            text = await call(client, "search_logs", {"trace_id": trace_id})
            assert "log records" in text

            text = await call(client, "log_patterns", {"limit": 10})
            assert_windowed(text)
            assert "| template_id | service | count | previous | change |" in text

            text = await call(client, "get_dependencies")
            assert "| from | to | to kind |" in text
            text = await call(client, "get_dependencies", {"service": "checkout"})
            assert "## blast radius of checkout" in text

            text = await call(client, "list_metrics", {"limit": 10})
            assert_windowed(text)
            assert "| name | type | unit |" in text

            text = await call(client, "query_metric", {"name": metric, "group_by": ["service.name"]})
            assert_windowed(text)
            assert f"metric {metric}" in text and "| series | points | min | avg | max | last | trend |" in text

            text = await call(client, "usage", {"limit": 10})
            assert_windowed(text)
            assert "| signal | service | records | bytes |" in text and "| spans | checkout |" in text
            assert "a month at this rate" in text
            text = await call(client, "usage", {"group_by": "attribute_key", "signal": "spans"})
            assert "| signal | attribute_key |" in text

            text = await call(client, "run_sql", {
                "query": "SELECT service_name, count(*) AS n FROM spans GROUP BY service_name ORDER BY n DESC"})
            assert "| service_name | n |" in text and "| checkout |" in text

            # Triage belongs to another part of the server: here only that it answers clearly.
            # The demo deployed a bad shipping version three minutes ago.
            text = await call(client, "triage", {"from": "now-2m"})
            assert_windowed(text)
            ranked = [line for line in text.splitlines() if line.startswith("| 1 ")]
            assert ranked and "shipping" in ranked[0], text
            assert "1.5.0" in text, text
            assert TRACE_ID.search(text), text

    asyncio.run(go())


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bad_arguments_get_actionable_errors(demo, transport, mode):
    async def go():
        async with make_client(demo, transport, mode) as client:
            text = await call(client, "service_overview", {"service": "chekout"}, error=True)
            assert "unknown service 'chekout' — did you mean 'checkout'?" in text
            text = await call(client, "find_traces", {"service": "paymnt"}, error=True)
            assert "did you mean 'payment'?" in text
            text = await call(client, "list_services", {"from": "yesterday"}, error=True)
            assert "'from'" in text and "now-15m" in text and "RFC 3339" in text
            text = await call(client, "search_logs", {"to": "soon"}, error=True)
            assert "'to'" in text
            text = await call(client, "run_sql", {"query": "DELETE FROM spans"}, error=True)
            assert "read-only" in text
            text = await call(client, "get_trace", {"trace_id": "0" * 32}, error=True)
            assert "not found" in text and "find_traces" in text
            text = await call(client, "get_trace", {"trace_id": "xyz"}, error=True)
            assert "'trace_id'" in text
            text = await call(client, "find_traces", {"status": "ok"}, error=True)
            assert "'status'" in text
            text = await call(client, "list_services", {"limit": 100000}, error=True)
            assert "'limit'" in text
            text = await call(client, "query_metric", {"name": "http.server.duraton"}, error=True)
            assert "unknown metric" in text

    asyncio.run(go())


def test_auto_mode_discovers_the_stateless_protocol(demo):
    async def go():
        async with make_client(demo, "http", "auto") as client:
            assert client.protocol_version == "2026-07-28"
            text = await call(client, "list_services")
            assert "| checkout |" in text

    asyncio.run(go())


def post_mcp(demo, body, headers=None):
    """One JSON-RPC POST; the answer from a JSON body or the first SSE data line."""
    req = urllib.request.Request(
        f"{demo.url}/mcp", data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json",
                 "accept": "application/json, text/event-stream", **(headers or {})})
    with urllib.request.urlopen(req, timeout=60) as r:
        session = r.headers.get("mcp-session-id")
        raw = r.read().decode()
    if not raw.strip():
        return session, None
    if raw.lstrip().startswith("{"):
        return session, json.loads(raw)
    for line in raw.splitlines():
        if line.startswith("data:") and line[5:].strip():
            return session, json.loads(line[5:])
    return session, None


def test_2025_06_18_handshake_over_raw_http(demo):
    session, init = post_mcp(demo, {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "raw", "version": "1"}}})
    assert init["result"]["protocolVersion"] == "2025-06-18"
    assert session
    headers = {"mcp-session-id": session, "mcp-protocol-version": "2025-06-18"}
    post_mcp(demo, {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
    _, listed = post_mcp(demo, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers)
    assert {t["name"] for t in listed["result"]["tools"]} == TOOLS
    _, called = post_mcp(demo, {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                                "params": {"name": "list_services", "arguments": {}}}, headers)
    assert "| checkout |" in called["result"]["content"][0]["text"]


def test_stdio_says_how_to_reach_a_missing_server(demo):
    dead = f"http://127.0.0.1:{free_port()}"

    async def go():
        async with make_client(demo, "stdio", "legacy", server_url=dead) as client:
            text = await call(client, "list_services", error=True)
            assert f"could not reach redscope at {dead}" in text
            assert "redscope serve" in text

    asyncio.run(go())
