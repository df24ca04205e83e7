"""Access tokens through real clients: the OpenTelemetry Python SDK's exporters with
`headers={"authorization": "Bearer ..."}` over gRPC and HTTP, and the official `mcp` client with
a bearer header over streamable HTTP (and `redscope mcp --token` over stdio)."""
import asyncio
import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid

import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import ROOT, Server


def create_token(binary, data, scope):
    out = subprocess.run([binary, "token", "create", "--scope", scope, "--data", data],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def secured():
    binary = os.environ.get("REDSCOPE_BIN", os.path.join(ROOT, "target", "debug", "redscope"))
    data = tempfile.mkdtemp(prefix="redscope-auth-")
    tokens = {scope: create_token(binary, data, scope) for scope in ("ingest", "read", "admin")}
    s = Server(binary, data)
    s.tokens = tokens
    yield s
    s.stop()


def sql(server, query, token):
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.api}/api/v1/sql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def finished_spans(service):
    """Spans made by the real SDK, to hand to an exporter directly (so its result is seen)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("auth-test").start_as_current_span("GET /orders"):
        pass
    provider.shutdown()
    return memory.get_finished_spans()


def exporter(server, transport, token):
    headers = {"authorization": f"Bearer {token}"} if token else None
    if transport == "grpc":
        return GrpcSpanExporter(endpoint=f"http://127.0.0.1:{server.grpc}", insecure=True,
                                headers=headers, timeout=5)
    return HttpSpanExporter(endpoint=f"http://127.0.0.1:{server.http}/v1/traces",
                            headers=headers, timeout=5)


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_exporters_need_an_ingest_token(secured, transport):
    service = f"auth-{transport}-{uuid.uuid4().hex[:6]}"
    spans = finished_spans(service)
    for token in (None, "rs_ingest_forged", secured.tokens["read"]):
        e = exporter(secured, transport, token)
        assert e.export(spans) == SpanExportResult.FAILURE, token
        e.shutdown()
    e = exporter(secured, transport, secured.tokens["ingest"])
    assert e.export(spans) == SpanExportResult.SUCCESS
    e.shutdown()
    rows = sql(secured, f"SELECT count(*) FROM spans WHERE service_name = '{service}'",
               secured.tokens["read"])["rows"]
    assert rows[0][0] == 1


def test_the_api_answers_only_with_a_read_token(secured):
    with pytest.raises(urllib.error.HTTPError) as refused:
        secured.get("/api/v1/services")
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong_scope:
        sql(secured, "SELECT 1", secured.tokens["ingest"])
    assert wrong_scope.value.code == 403
    assert sql(secured, "SELECT 1 AS one", secured.tokens["read"])["rows"] == [[1]]


def mcp_over_http(server, token, mode):
    headers = {"authorization": f"Bearer {token}"} if token else None
    transport = streamable_http_client(f"http://127.0.0.1:{server.api}/mcp",
                                       http_client=create_mcp_http_client(headers=headers))
    return Client(transport, mode=mode, read_timeout_seconds=30)


async def tool_names(client):
    async with client:
        tools = (await client.list_tools()).tools
        services = await client.call_tool("list_services", {})
        assert not services.is_error, services
        return {t.name for t in tools}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_mcp_client_works_with_a_read_token_and_is_refused_without(secured, mode):
    names = asyncio.run(tool_names(mcp_over_http(secured, secured.tokens["read"], mode)))
    assert "list_services" in names and "run_sql" in names
    for token in (None, secured.tokens["ingest"]):
        with pytest.raises(Exception) as refused:
            asyncio.run(tool_names(mcp_over_http(secured, token, mode)))
        assert any(isinstance(e, MCPError) for e in leaves(refused.value)), refused.value


def leaves(error):
    """The exceptions inside (nested) exception groups, as the client's task groups raise them."""
    inner = getattr(error, "exceptions", None)
    if not inner:
        return [error]
    return [leaf for e in inner for leaf in leaves(e)]


def stdio_sql(server, token):
    env = dict(os.environ, REDSCOPE_LOG="warn")
    env.pop("REDSCOPE_TOKEN", None)
    if token:
        env["REDSCOPE_TOKEN"] = token
    params = StdioServerParameters(
        command=server.binary, args=["mcp", "--server", f"http://127.0.0.1:{server.api}"], env=env)

    async def go():
        async with Client(params, mode="legacy", read_timeout_seconds=30) as client:
            return await client.call_tool("run_sql", {"query": "SELECT 1 AS one"})

    return asyncio.run(go())


def test_stdio_mcp_server_sends_its_token(secured):
    assert not stdio_sql(secured, secured.tokens["read"]).is_error
    refused = stdio_sql(secured, None)
    assert refused.is_error
    assert "token is required" in refused.content[0].text
