"""examples/partner-edi end to end with the real engine: 850 in, JSON order to a live HTTP
receiver, 997 and 810 written to outbound/ and parsed back with the x12 codec."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.runtime.engine_harness import eventually, files, start

from splice.codecs import get_codec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "partner-edi"
EXAMPLE_URL = "http://127.0.0.1:8081/erp/orders"
CORPUS_850 = ROOT / "../shared/corpora/x12/node_x12/test/test-data/850.edi"


class Receiver:
    """A local ERP stand-in: records every JSON order POSTed to /erp/orders."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.url = ""

    async def _orders(self, request: Request) -> JSONResponse:
        self.orders.append(json.loads(await request.body()))
        self.content_types.append(request.headers.get("content-type", ""))
        return JSONResponse({"status": "created"}, status_code=201)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/erp/orders", self._orders, methods=["POST"])])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recorder = Receiver()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(recorder.app(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(30):
        while not server.started:
            await asyncio.sleep(0.02)
    recorder.url = f"http://127.0.0.1:{port}/erp/orders"
    yield recorder
    server.should_exit = True
    await asyncio.wait_for(task, 30)
    sock.close()


def _project(tmp_path: Path, url: str) -> Path:
    project = tmp_path / "partner-edi"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("tests"))
    flow = project / "flows" / "850-to-erp.yaml"
    text = flow.read_text()
    assert EXAMPLE_URL in text
    flow.write_text(text.replace(EXAMPLE_URL, url))
    for folder in ("inbound", "invoices"):
        (project / folder).mkdir(exist_ok=True)
    return project


def _drop(folder: Path, name: str, data: bytes) -> None:
    """Write hidden, then rename into place: the file source never sees a partial file."""
    hidden = folder / f".{name}"
    hidden.write_bytes(data)
    hidden.rename(folder / name)


def _segments(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for item in items:
        flat.extend(_segments(item["segments"]) if "loop" in item else [item])
    return flat


async def test_850_becomes_an_order_and_a_997_and_an_invoice_becomes_an_810(
    tmp_path: Path, receiver: Receiver
) -> None:
    project = _project(tmp_path, receiver.url)
    outbound = project / "outbound"
    engine = await start(project)
    try:
        _drop(
            project / "inbound",
            "po-4500012345.edi",
            (project / "fixtures" / "po-4500012345.edi").read_bytes(),
        )
        _drop(
            project / "invoices",
            "invoice-INV-9001.json",
            (project / "fixtures" / "invoice-INV-9001.json").read_bytes(),
        )
        await eventually(lambda: len(receiver.orders) >= 1, timeout=60)
        await eventually(
            lambda: {"997-000000101.edi", "810-INV-9001.edi"} <= set(files(outbound)), timeout=60
        )
        await eventually(lambda: files(project / "inbound" / "done") != [], timeout=60)
    finally:
        await engine.stop()

    assert receiver.orders == [
        {
            "poNumber": "4500012345",
            "date": "2024-03-15",
            "buyer": "ACMEBUYER",
            "lines": [
                {"line": "1", "sku": "WID-BLUE", "qty": 10, "unit": "EA", "price": 9.25},
                {"line": "2", "sku": "GEAR-7", "qty": 3, "unit": "BX", "price": 120.5},
            ],
        }
    ]
    assert receiver.content_types[0].startswith("application/json")
    assert files(project / "inbound" / "done") == ["po-4500012345.edi"]

    codec = get_codec("x12")
    ack = codec.decode((outbound / "997-000000101.edi").read_bytes())["interchange"]
    assert ack["ISA"]["ISA06"].strip() == "WIDGETCO"
    assert ack["ISA"]["ISA08"].strip() == "ACMEBUYER"
    assert ack["ISA"]["ISA13"] == ack["IEA"]["IEA02"] == "000000101"
    [group] = ack["groups"]
    assert group["GS"]["GS01"] == "FA"
    [transaction] = group["transactions"]
    assert transaction["ST"]["ST01"] == "997"
    by_id = {s["id"]: s["elements"] for s in _segments(transaction["segments"])}
    assert by_id["AK1"] == ["PO", "101"]
    assert by_id["AK2"] == ["850", "0001"]
    assert by_id["AK5"] == ["A"]
    assert by_id["AK9"][0] == "A"

    invoice = codec.decode((outbound / "810-INV-9001.edi").read_bytes())["interchange"]
    assert invoice["ISA"]["ISA13"] == "000002001"
    [group] = invoice["groups"]
    assert group["GS"]["GS01"] == "IN"
    [transaction] = group["transactions"]
    assert transaction["ST"]["ST01"] == "810"
    segments = _segments(transaction["segments"])
    assert [s["id"] for s in segments] == ["BIG", "IT1", "IT1", "TDS", "CTT"]
    assert segments[0]["elements"] == ["20240320", "INV-9001", "", "4500012345"]
    assert segments[1]["elements"] == ["1", "10", "EA", "9.25", "", "VP", "WID-BLUE"]
    assert segments[3]["elements"] == ["45400"]
    assert transaction["SE"]["SE01"] == "7"


@pytest.mark.skipif(not CORPUS_850.is_file(), reason="shared x12 corpus not present")
async def test_a_corpus_850_is_posted_and_acknowledged(tmp_path: Path, receiver: Receiver) -> None:
    project = _project(tmp_path, receiver.url)
    data = CORPUS_850.read_bytes()
    received = get_codec("x12").decode(data)["interchange"]
    engine = await start(project)
    try:
        _drop(project / "inbound", "corpus-850.edi", data)
        await eventually(lambda: len(receiver.orders) >= 1, timeout=60)
        await eventually(lambda: files(project / "outbound") != [], timeout=60)
    finally:
        await engine.stop()

    [order] = receiver.orders
    beg = next(
        s
        for s in _segments(received["groups"][0]["transactions"][0]["segments"])
        if s["id"] == "BEG"
    )
    assert order["poNumber"] == beg["elements"][2]
    [name] = files(project / "outbound")
    ack = get_codec("x12").decode((project / "outbound" / name).read_bytes())["interchange"]
    assert ack["ISA"]["ISA13"] == received["ISA"]["ISA13"]
    ak1 = next(
        s for s in _segments(ack["groups"][0]["transactions"][0]["segments"]) if s["id"] == "AK1"
    )
    assert ak1["elements"][1] == received["groups"][0]["GS"]["GS06"]
