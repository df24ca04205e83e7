"""The real user monitoring MCP tools through the official Python `mcp` client: browser events
sent to the API port as the browser SDK sends them, then find_sessions, get_session, web_errors
and web_vitals answer about them."""
import asyncio
import json
import time
import urllib.request

from mcp import Client

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.6367.91 Safari/537.36")


def attrs(d):
    out = []
    for k, v in d.items():
        if isinstance(v, bool):
            value = {"boolValue": v}
        elif isinstance(v, int):
            value = {"intValue": str(v)}
        elif isinstance(v, float):
            value = {"doubleValue": v}
        else:
            value = {"stringValue": v}
        out.append({"key": k, "value": value})
    return out


def record(t_ns, name, a):
    return {"timeUnixNano": str(t_ns), "attributes": attrs({"event.name": name, **a})}


def post_browser_events(server):
    t = time.time_ns() - 60_000_000_000
    s = {"session.id": "py-sess-1", "user.id": "grace"}
    page = {**s, "page_view.id": "pv1", "url.full": "https://shop.example.com/orders/42"}
    records = [
        record(t, "browser.page_view", page),
        record(t + 1_000_000_000, "browser.web_vital",
               {**page, "browser.web_vital.name": "LCP", "browser.web_vital.value": 3300.0,
                "browser.web_vital.rating": "needs-improvement"}),
        record(t + 2_000_000_000, "browser.error",
               {**page, "exception.type": "TypeError", "exception.message": "order 42 has no total",
                "exception.stacktrace": "TypeError: order 42 has no total\n"
                                        "    at total (https://shop.example.com/app.js:1:20)"}),
    ]
    body = {"resourceLogs": [{"resource": {"attributes": attrs({
        "service.name": "shop-web", "service.version": "3.1.0",
        "telemetry.sdk.name": "redscope-browser", "user_agent.original": CHROME})},
        "scopeLogs": [{"logRecords": records}]}]}
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.api}/v1/logs", data=json.dumps(body).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")


def test_rum_tools_answer_about_browser_sessions(server):
    post_browser_events(server)

    async def go():
        async with Client(f"http://127.0.0.1:{server.api}/mcp", read_timeout_seconds=60) as client:
            sessions = text_of(await client.call_tool("find_sessions", {"from": "now-1h"}))
            assert sessions.splitlines()[0].startswith("window: ")
            assert "| py-sess-1 |" in sessions and "grace" in sessions and "Chrome" in sessions, sessions

            one = text_of(await client.call_tool("get_session", {"session_id": "py-sess-1"}))
            assert "session py-sess-1:" in one and "/orders/:id" in one, one
            assert "needs-improvement" in one, one
            missing = await client.call_tool("get_session", {"session_id": "nope"})
            assert missing.is_error and "find_sessions" in text_of(missing)

            errors = text_of(await client.call_tool("web_errors", {}))
            assert "TypeError" in errors and "3.1.0" in errors, errors
            fingerprint = next(line.split("|")[1].strip() for line in errors.splitlines()
                               if "TypeError" in line and line.startswith("|"))
            group = text_of(await client.call_tool("web_errors", {"fingerprint": fingerprint}))
            assert "## breadcrumbs" in group and "page_view" in group, group

            vitals = text_of(await client.call_tool("web_vitals", {"group_by": "route"}))
            assert "/orders/:id" in vitals and "LCP" in vitals, vitals
            assert f"http://127.0.0.1:{server.api}/web/pages?" in vitals, vitals

    asyncio.run(go())
