"""Hand-written ceiling for scenario 1: the same work as the splice flow, no engine.

Plain ASGI on uvicorn (httptools + uvloop, like splice), orjson to parse, the order schema's
rules checked by hand, the mapping written out (exact money with Decimal, as splice does),
lxml to serialise. Run: ``python bench/ceiling/http_json_xml.py PORT``.
"""

from __future__ import annotations

import re
import sys
from decimal import Decimal

import orjson
import uvicorn
from lxml import etree

_ORDER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_XML_HEADERS = [(b"content-type", b"application/xml")]
_PROBLEM_HEADERS = [(b"content-type", b"application/problem+json")]


def _num(value: object) -> Decimal:
    # splice keeps JSON numbers exact; orjson's float repr is the shortest round trip
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _text(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return text


def validate(order: object) -> str | None:
    """The order schema's rules; the first problem found or None."""
    if not isinstance(order, dict):
        return "/: not an object"
    order_id = order.get("orderId")
    if not isinstance(order_id, str) or not _ORDER_ID.match(order_id):
        return "/orderId: missing or invalid"
    customer = order.get("customer")
    if not isinstance(customer, dict):
        return "/customer: missing or not an object"
    name = customer.get("name")
    if not isinstance(name, str) or not name:
        return "/customer/name: missing or empty"
    items = order.get("items")
    if not isinstance(items, list) or not items:
        return "/items: missing or empty"
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            return f"/items/{i}: not an object"
        sku, qty, price = item.get("sku"), item.get("qty"), item.get("price")
        if not isinstance(sku, str) or not sku:
            return f"/items/{i}/sku: missing or empty"
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            return f"/items/{i}/qty: not an integer >= 1"
        if not isinstance(price, (int, float)) or isinstance(price, bool) or price < 0:
            return f"/items/{i}/price: not a number >= 0"
    return None


def to_xml(order: dict) -> bytes:
    root = etree.Element("SalesOrder", id=order["orderId"])
    etree.SubElement(root, "Customer").text = order["customer"]["name"]
    total = Decimal(0)
    for item in order["items"]:
        qty, price = _num(item["qty"]), _num(item["price"])
        amount = qty * price
        total += amount
        line = etree.SubElement(root, "Line", sku=item["sku"])
        etree.SubElement(line, "Qty").text = _text(qty)
        etree.SubElement(line, "Price").text = _text(price)
        etree.SubElement(line, "Amount").text = _text(amount)
    etree.SubElement(root, "Total").text = _text(total)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    if scope["path"] == "/healthz":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    body = b""
    more = True
    while more:
        event = await receive()
        body += event.get("body", b"")
        more = event.get("more_body", False)
    try:
        order = orjson.loads(body)
        problem = validate(order)
    except orjson.JSONDecodeError as error:
        problem = f"not JSON: {error}"
    if problem is None:
        status, headers, reply = 200, _XML_HEADERS, to_xml(order)
    else:
        status, headers = 400, _PROBLEM_HEADERS
        reply = orjson.dumps({"title": "Bad message", "status": 400, "detail": problem})
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": reply})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        loop="uvloop",
        http="httptools",
    )
