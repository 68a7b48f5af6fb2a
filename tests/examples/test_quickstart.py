"""The quickstart, end to end, through real HTTP against a real `splice run` process."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
ORDER = {
    "orderId": "A-1",
    "customer": {"name": "Acme"},
    "items": [{"sku": "X", "qty": 2, "price": 5.5}, {"sku": "Y", "qty": 1, "price": 10}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    project = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", project)
    port = free_port()
    splice = Path(sys.executable).parent / "splice"
    process = subprocess.Popen(
        [str(splice), "run", str(project), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"splice run exited early:\n{output}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("splice run did not start serving within 30 s")
    yield base, project, process
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


def test_an_order_comes_back_as_an_xml_sales_order_with_an_exact_total(
    quickstart: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, project, _ = quickstart
    response = httpx.post(f"{base}/orders", json=ORDER, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    order = etree.fromstring(response.content)
    assert order.tag == "SalesOrder" and order.get("id") == "A-1"
    assert order.findtext("Customer") == "Acme"
    assert [line.get("sku") for line in order.findall("Line")] == ["X", "Y"]
    assert order.findtext("Total") in {"21", "21.0"}
    assert (project / "outbox" / "A-1.xml").read_bytes() == response.content


def test_an_accepted_order_appends_a_line_to_the_audit_file(
    quickstart: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, project, _ = quickstart
    money = {**ORDER, "orderId": "B-2", "items": [{"sku": "Z", "qty": 3, "price": 0.1}]}
    assert httpx.post(f"{base}/orders", json=money, timeout=10).status_code == 200
    audit = (project / "audit" / "orders.csv").read_text().splitlines()
    assert audit == ["B-2,Acme,0.3"]


def test_an_invalid_order_gets_400_problem_json_naming_the_field(
    quickstart: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, project, _ = quickstart
    bad = {**ORDER, "items": [{"sku": "X", "qty": "two", "price": 5.5}]}
    response = httpx.post(f"{base}/orders", json=bad, timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert "/items/0/qty" in problem["detail"]
    assert not (project / "outbox").exists() or not list((project / "outbox").iterdir())


def test_sigterm_stops_the_engine_cleanly(
    quickstart: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    _, _, process = quickstart
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
