"""Plain ASGI app (no framework) served by uvicorn: a small key/value API with
lifespan start-up/shutdown, an endpoint that raises, and a slow endpoint."""
import asyncio
import json
import logging

log = logging.getLogger("uvicorn.error")  # share uvicorn's configured logger
STORE = {}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                STORE.update({"a": "1", "b": "2"})
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    body = b""
    while True:
        m = await receive()
        body += m.get("body", b"")
        if not m.get("more_body"):
            break
    status, out = 200, {}
    if path.startswith("/kv/"):
        key = path[4:]
        if method == "GET":
            if key in STORE:
                out = {"key": key, "value": STORE[key]}
            else:
                status, out = 404, {"error": "no such key"}
        elif method == "PUT":
            STORE[key] = json.loads(body)["value"]   # KeyError / JSONDecodeError on bad input
            status, out = 201, {"key": key}
        else:
            status, out = 405, {"error": "method not allowed"}
    elif path == "/slow":
        await asyncio.sleep(0.5)
        out = {"slept": 0.5}
    elif path == "/crash":
        raise RuntimeError("simulated failure in request handler")
    elif path == "/health":
        out = {"status": "ok", "keys": len(STORE)}
    else:
        status, out = 404, {"error": "not found"}
    data = json.dumps(out).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
