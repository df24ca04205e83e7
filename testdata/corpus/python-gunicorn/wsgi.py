"""Tiny Flask order API served by gunicorn (Flask's own default log handler
is left in place, so app.logger records interleave with gunicorn's)."""
import random
import time

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
ORDERS = {i: {"id": i, "sku": "SKU-%04d" % (i * 37 % 9999), "qty": i % 7 + 1} for i in range(1, 60)}


@app.get("/healthz")
def health():
    return "ok\n"


@app.get("/api/orders/<int:oid>")
def get_order(oid):
    if oid not in ORDERS:
        app.logger.warning("order %d not found (client %s)", oid, request.remote_addr)
        abort(404)
    return jsonify(ORDERS[oid])


@app.post("/api/orders")
def create_order():
    body = request.get_json(silent=True)
    if not body or "sku" not in body:
        app.logger.warning("rejected order without sku: %r", request.get_data()[:60])
        abort(400)
    oid = max(ORDERS) + 1
    ORDERS[oid] = {"id": oid, "sku": body["sku"], "qty": int(body.get("qty", 1))}
    return jsonify(ORDERS[oid]), 201


@app.get("/api/report")
def report():
    # slow report: the worker may be killed by gunicorn's --timeout
    time.sleep(float(request.args.get("t", "0.1")))
    return jsonify({"orders": len(ORDERS)})


@app.get("/api/price/<sku>")
def price(sku):
    # bug: divides by the quantity, which may be zero
    qty = int(request.args.get("qty", "1"))
    return jsonify({"sku": sku, "unit": round(100.0 / qty, 2)})


@app.get("/api/stock/<sku>")
def stock(sku):
    levels = {"SKU-0001": 3}
    return jsonify({"sku": sku, "qty": levels[sku]})
