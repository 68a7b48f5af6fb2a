"""The SOAP guide's flow, as written, in the engine: a zeep client calls it, a mapping answers."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest
from soap_harness import STOCK_WSDL, async_service, zeep_client
from zeep.exceptions import Fault

from splice.config import load_project
from splice.runtime.engine import Engine

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "soap.md"
FLOW = next(  # the guide's example of a served operation, run as written
    block
    for block in re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(), re.S | re.M)
    if "integration: stock-quotes" in block
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def project(tmp_path: Path, port: int) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "wsdl").mkdir()
    shutil.copy(STOCK_WSDL, tmp_path / "wsdl" / "stockquote.wsdl")
    (tmp_path / "splice.yaml").write_text(f"project: soap-demo\nhttp: {{port: {port}}}\n")
    (tmp_path / "flows" / "stock.yaml").write_text(FLOW)
    return tmp_path


async def test_the_flow_answers_a_zeep_client_and_faults_a_bad_ticker(tmp_path: Path) -> None:
    port = free_port()
    engine = Engine(load_project(project(tmp_path, port)))
    await engine.start()
    try:
        async with zeep_client(STOCK_WSDL) as client:
            service = async_service(client, f"http://127.0.0.1:{port}/soap/stock")
            assert await service.GetLastTradePrice(tickerSymbol="ACME") == 12.5
            with pytest.raises(Fault) as caught:
                await service.GetLastTradePrice(tickerSymbol="NOPE")
    finally:
        await engine.stop()
    assert caught.value.code == "soap:Client"
    assert "unknown ticker NOPE" in caught.value.message
    assert len(list((tmp_path / "audit").iterdir())) == 1  # the reply was delivered first
