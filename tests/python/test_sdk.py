"""The real OpenTelemetry Python SDK sends traces, logs and metrics over gRPC and HTTP/protobuf;
everything comes back through the API with its attributes intact."""
import logging
import time
import uuid

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode


def exporters(server, transport):
    if transport == "grpc":
        ep = f"http://127.0.0.1:{server.grpc}"
        return (GrpcSpanExporter(endpoint=ep, insecure=True),
                GrpcLogExporter(endpoint=ep, insecure=True),
                GrpcMetricExporter(endpoint=ep, insecure=True))
    base = f"http://127.0.0.1:{server.http}"
    return (HttpSpanExporter(endpoint=f"{base}/v1/traces"),
            HttpLogExporter(endpoint=f"{base}/v1/logs"),
            HttpMetricExporter(endpoint=f"{base}/v1/metrics"))


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_sdk_signals_round_trip(server, transport):
    service = f"py-{transport}-{uuid.uuid4().hex[:6]}"
    resource = Resource.create({"service.name": service, "service.version": "2.1.0", "deployment.environment.name": "test"})
    span_exp, log_exp, metric_exp = exporters(server, transport)

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exp))
    tracer = tracer_provider.get_tracer("sdk-test", "0.1")
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exp))
    reader = PeriodicExportingMetricReader(metric_exp, export_interval_millis=60_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = meter_provider.get_meter("sdk-test")

    log = logging.getLogger(f"sdk.{transport}")
    log.setLevel(logging.INFO)
    handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
    log.addHandler(handler)

    with tracer.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER,
                                      attributes={"http.route": "/orders/{id}", "http.request.method": "GET",
                                                  "http.response.status_code": 500, "retries": 3,
                                                  "cache.hit": False, "ratio": 0.5,
                                                  "tags": ["a", "b"]}) as root:
        root.add_event("validation", {"field": "id"})
        with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT,
                                          attributes={"db.system.name": "postgresql",
                                                      "db.query.text": "SELECT * FROM orders WHERE id = $1"}):
            time.sleep(0.01)
            log.warning("order lookup slow", extra={"order.id": 42, "user": "alice"})
        root.set_status(Status(StatusCode.ERROR, "database timeout"))
        trace_id = format(root.get_span_context().trace_id, "032x")

    counter = meter.create_counter("orders.placed", unit="{order}", description="orders")
    counter.add(5, {"region": "eu"})
    counter.add(2, {"region": "us"})
    hist = meter.create_histogram("order.value", unit="EUR")
    for v in (3, 30, 300):
        hist.record(v, {"region": "eu"})
    updown = meter.create_up_down_counter("queue.size")
    updown.add(7)
    meter.create_observable_gauge("temperature", callbacks=[lambda _opts: [Observation(21.5, {"room": "lab"})]])

    tracer_provider.force_flush()
    logger_provider.force_flush()
    meter_provider.force_flush()

    deadline = time.time() + 10
    while time.time() < deadline:
        services = {s["name"]: s for s in server.get("/api/v1/services")["services"]}
        s = services.get(service)
        if s and s["spans"] >= 2 and s["logs"] >= 1 and s["metric_points"] >= 5:
            break
        time.sleep(0.2)
    assert s["spans"] == 2, s
    assert s["logs"] == 1, s

    traces = server.get(f"/api/v1/traces?service={service}&status=error")["traces"]
    assert [t["trace_id"] for t in traces] == [trace_id]
    assert traces[0]["root_name"] == "GET /orders/{id}"
    assert traces[0]["span_count"] == 2

    detail = server.get(f"/api/v1/traces/{trace_id}")
    root = next(sp for sp in detail["spans"] if sp["parent_span_id"] == "")
    child = next(sp for sp in detail["spans"] if sp["parent_span_id"] != "")
    assert child["parent_span_id"] == root["span_id"]
    assert root["kind"] == "SERVER" and child["kind"] == "CLIENT"
    assert root["status_code"] == "ERROR" and root["status_message"] == "database timeout"
    assert root["attributes"]["http.response.status_code"] == 500
    assert root["attributes"]["retries"] == 3
    assert root["attributes"]["cache.hit"] is False
    assert root["attributes"]["ratio"] == 0.5
    assert root["attributes"]["tags"] == ["a", "b"]
    assert root["resource_attributes"]["service.version"] == "2.1.0"
    assert root["resource_attributes"]["telemetry.sdk.language"] == "python"
    assert root["events"][0]["name"] == "validation"
    assert root["events"][0]["attributes"]["field"] == "id"
    assert root["scope_name"] == "sdk-test"
    assert child["attributes"]["db.query.text"] == "SELECT * FROM orders WHERE id = $1"

    records = server.get(f"/api/v1/logs?service={service}")["records"]
    assert len(records) == 1
    rec = records[0]
    assert rec["body"] == "order lookup slow"
    assert rec["severity_text"] == "WARN" or rec["severity_text"] == "WARNING"
    assert rec["severity_number"] == 13
    assert rec["attributes"]["order.id"] == 42
    assert rec["attributes"]["user"] == "alice"
    assert rec["trace_id"] == trace_id
    assert rec["span_id"] == child["span_id"]

    metrics = {m["name"]: m for m in server.get("/api/v1/metrics")["metrics"] if service in m["services"]}
    assert metrics["orders.placed"]["type"] == "sum"
    assert metrics["order.value"]["type"] == "histogram"
    assert metrics["queue.size"]["type"] == "sum"
    assert metrics["temperature"]["type"] == "gauge"
    placed = server.get(f"/api/v1/metrics/query?name=orders.placed&service={service}&agg=max&group_by=region")
    by_region = {s["labels"]["region"]: s["points"][-1][1] for s in placed["series"]}
    assert by_region == {"eu": 5.0, "us": 2.0}
    temp = server.get(f"/api/v1/metrics/query?name=temperature&service={service}&agg=avg&group_by=room")
    assert temp["series"][0]["labels"]["room"] == "lab"
    assert temp["series"][0]["points"][-1][1] == 21.5
    value = server.get(f"/api/v1/metrics/query?name=order.value&service={service}&agg=avg")
    assert value["series"][0]["points"][-1][1] == pytest.approx(111.0)

    log.removeHandler(handler)
    tracer_provider.shutdown()
    logger_provider.shutdown()
    meter_provider.shutdown()
