"""Conformance with the node-soap request/response samples and the WSDL corpora.

Each covered sample runs through splice itself, not through zeep alone:

- ``request``: the sink is given ``request.json`` and the envelope it puts on the wire
  carries a Body equal to ``request.xml``'s (namespaces by URI, prefixes and blank text
  ignored);
- ``response``: a loopback service answers ``response.xml`` and the sink's reply, as data,
  equals ``response.json`` (values compared as text, absent and null elements alike);
- ``inbound``: the source receives ``request.xml`` and hands the flow ``request.json``.

Samples not covered are listed in ``NOT_COVERED`` with the reason; a test checks that every
sample folder is in one list or the other.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from soap_harness import CORPUS, NODE_WSDLS, SAMPLES, Canned, make_context, pulling, serving

from splice.components import registry
from splice.components.interfaces import Delivery
from splice.connectors.soap import SoapSink, SoapSource, WsdlError
from splice.connectors.soap._envelope import body_child, parse_envelope
from splice.message import Message

BOTH = ("request", "response")
COVERED: dict[str, tuple[str, ...]] = {
    "DefaultNamespace__no_xmlns_prefix_used_for_default_namespace": (*BOTH, "inbound"),
    "Dummy__should_deserialize_basic_types": (*BOTH, "inbound"),
    "Dummy__should_handle_datetime_transformation": ("request",),  # _DATES
    "Dummy__should_handle_inline_types": ("request", "inbound"),
    "GET_DATA__should_work_with_more_deeply_nested_XML_messages_and_without_security": (
        "response",
    ),
    "Message__Messages_suffixed_with_Input_Output": ("response",),
    "Message__overriding_namespace_prefix": ("response",),
    "OneWay__should_handle_one_way_operation": ("request", "inbound"),
    "RequestHeaders__propogate_basic_security backward compatible check": (*BOTH, "inbound"),
    "RequestHeaders__propogate_basic_security_invalid_options": (*BOTH, "inbound"),
    "RequestHeaders__propogate_basic_security_no_token_created": (*BOTH, "inbound"),
    "ResponseHeaders__return_soap_headers": (*BOTH, "inbound"),
    # inbound: node-soap collapses a one-item maxOccurs=unbounded list into its item
    "execFile__add_default_namespace_prefix": BOTH,
    "execFile__valid_xml_generated_on_request_with_complex_type_element_form_default_qualified": (
        "request",
    ),
}

_IMPORT_NS = "zeep refuses an xsd:import whose namespace differs from the imported targetNamespace"
_MISSING = "imports ../platform/platform.coreTypes.xsd, which the corpus does not include"
_ENCODING = "imports http://schemas.xmlsoap.org/soap/encoding/ (refused: WSDLs load offline)"
_DATES = "response.json holds node-soap's JavaScript conversions of dates and times"
_ATTRS = "node-soap's `attributes` / `$value` JSON convention, not zeep's (`_value_1`)"
NOT_COVERED: dict[str, str] = {
    "Dummy__ref_element_should_have_correct_namespace_with_overrideElementKey": (
        "the WSDL spells xs:simpletype in lower case; zeep cannot load it"
    ),
    "Dummy__should_extract_envelope_from_response": _IMPORT_NS,
    "Dummy__should_handle_attributes_in_response": _IMPORT_NS,
    "Dummy__should_handle_nil": _IMPORT_NS,
    "Dummy__should_handle_nil_false": _IMPORT_NS,
    "Dummy__should_ignore_commented_envelope_in_response": _IMPORT_NS,
    "Dummy__should_ignore_defined_namespaces": _IMPORT_NS,
    "Dummy__should_preserve_leading_and_trailing_whitespace_when_preserveWhitespace_is_true": (
        _IMPORT_NS
    ),
    "Dummy__should_use_defined_value_key": _IMPORT_NS,
    "Dummy__should_use_defined_xml_key_in_first_level_for_rpc": _IMPORT_NS,
    "Dummy__should_use_empty_tags_when_directed": _IMPORT_NS,
    "Dummy__should_work_with_imported_schemas_that_have_aliases": _IMPORT_NS,
    "RetrieveFareQuoteDateRange__should_handle_child_namespaces": _IMPORT_NS,
    "GetItemInformation__should_ignore_default_namespace_from_schema": (
        "request.json omits a required element (SupplierId) and response.xml uses elements "
        "the schema does not declare; zeep refuses both"
    ),
    "GetSubscription__should_handle_ref_minOccurs_and_maxOccurs": (
        "the WSDL's service has no SOAP port for GetSubscription"
    ),
    "SetResource__should_correctly_set_element_if_complex-type_has_same_name": (
        "the WSDL's service has no SOAP port for SetResource"
    ),
    "Login__unsupported_response_name_returned_and_local_xs_schema_missed": _ENCODING,
    "multiCall__rpc_stype_request_xsi_attributes": _ENCODING,
    "addList__complex_extension_namespace_for_arrays": _MISSING,
    "get__complex_extension_without_explicit_namespace": _MISSING,
    "login__attributes_namespace_should_be_configurable": _MISSING,
    "login__complex_schema_xmlns_with_array_and_any_type_and_other_types": _MISSING,
    "update__complex_extension_with_array_attributes": _MISSING,
    "UpdateProfile__correct_namespaces_for_elements_with_base_ignorednamespaces": _ATTRS,
    "UpdateProfile__correct_namespaces_other_prefixes": _ATTRS,
    "SendCDATA__cdata_preserves_leading_and_trailing_whitespace_when_preserveWhitespace_option_is_true": (  # noqa: E501
        "node-soap passes a CDATA section through as markup; zeep escapes it as text"
    ),
    "addPrefix__should_add_namespace_on_output_message": (
        "the WSDL's targetNamespace is the relative URI 'app' and the response elements do "
        "not match its output message"
    ),
    "attachments__should_send_binary_data": "no wsdl:service (attachments are node-only)",
    "fooOp__should_return_back_good_response_object": (
        "request.xml is unqualified although the schema is elementFormDefault qualified"
    ),
    "getAttachments__should_handle_MTOM_response": "MTOM/XOP multipart responses",
    "getAvailability__should_not_fail_without_children": (
        "the WSDL uses an undeclared prefix ('auth:doItSOAP')"
    ),
    "getMessage__force_use_schema_xmlns": (
        "request.json wraps the arguments in node-soap's own `Body` key"
    ),
    "readMetadata__should_support_XMLSchema_Instance_override": (
        "the WSDL refers to a message 'Header' it does not define"
    ),
}
_ = _DATES  # why the date samples' responses are not compared
SOURCE_OPTIONS = {  # name.xsd names a local simpleType, which XSD forbids: xmlschema refuses
    "Dummy__should_handle_inline_types": {"validate": False},
}

ARGUMENTS = {  # request.json spells bstrResourceID as bstrResourceId: node-soap does not check
    "Message__Messages_suffixed_with_Input_Output": {"bstrResourceID": "r1"},
    "Message__overriding_namespace_prefix": {"bstrResourceID": "r1"},
}


def test_every_sample_is_covered_or_listed_with_a_reason() -> None:
    samples = {p.name for p in SAMPLES.iterdir() if p.is_dir()}
    assert set(COVERED) | set(NOT_COVERED) == samples
    assert not set(COVERED) & set(NOT_COVERED)


def canon(element: Any) -> Any:
    """Tag (by namespace URI), attributes other than xsi:*, stripped text, children."""
    attributes = sorted((k, v) for k, v in element.attrib.items() if "XMLSchema-instance" not in k)
    children = tuple(canon(c) for c in element if isinstance(c.tag, str))
    return element.tag, tuple(attributes), (element.text or "").strip(), children


def text_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: text_values(v) for k, v in value.items() if v not in (None, [])}
    if isinstance(value, list):
        return [text_values(v) for v in value]
    return str(value).lower() if isinstance(value, bool) else str(value)


def operation_of(sample: str) -> str:
    return sample.split("__")[0]


def sink_for(folder: Path, address: str, tmp_path: Path) -> SoapSink:
    spec = registry.get("sink", "soap")
    raw = {"wsdl": str(folder / "soap.wsdl"), "operation": operation_of(folder.name)}
    sink = spec.build(spec.parse({**raw, "address": address}), make_context(tmp_path))
    assert isinstance(sink, SoapSink)
    return sink


async def sink_round_trip(folder: Path, tmp_path: Path) -> tuple[bytes, Any]:
    response = folder / "response.xml"
    app = Canned(200, response.read_bytes()) if response.exists() else Canned(202, b"")
    async with serving(app) as base:
        sink = sink_for(folder, base, tmp_path)
        await sink.open()
        try:
            arguments = ARGUMENTS.get(folder.name)
            if arguments is None:
                arguments = json.loads((folder / "request.json").read_text())
            await sink.send(Message(arguments))
        finally:
            await sink.close()
    return app.requests[0][1], sink.last_reply


SINK_CASES = [
    pytest.param(name, directions, id=name[:60])
    for name, directions in COVERED.items()
    if {"request", "response"} & set(directions)
]


@pytest.mark.parametrize(("sample", "directions"), SINK_CASES)
async def test_sink_requests_and_replies_match_the_samples(
    sample: str, directions: tuple[str, ...], tmp_path: Path
) -> None:
    folder = SAMPLES / sample
    sent, reply = await sink_round_trip(folder, tmp_path)
    if "request" in directions:
        expected = body_child(parse_envelope((folder / "request.xml").read_bytes()))
        assert canon(body_child(etree.fromstring(sent))) == canon(expected)
    if "response" in directions:
        expected_reply = json.loads((folder / "response.json").read_text())
        assert text_values(reply) == text_values(expected_reply)


INBOUND_CASES = [pytest.param(name, id=name[:60]) for name, d in COVERED.items() if "inbound" in d]


@pytest.mark.parametrize("sample", INBOUND_CASES)
async def test_the_source_hands_the_flow_the_samples_request(sample: str, tmp_path: Path) -> None:
    import httpx

    folder = SAMPLES / sample
    spec = registry.get("source", "soap")
    raw = {"path": "/svc", "wsdl": str(folder / "soap.wsdl"), "operation": operation_of(sample)}
    raw.update(SOURCE_OPTIONS.get(sample, {}))
    source = spec.build(spec.parse(raw), make_context(tmp_path))
    assert isinstance(source, SoapSource)
    await source.open()

    async def settle(delivery: Delivery) -> None:
        await delivery.ack([])

    try:
        async with pulling(source, settle) as pulled, httpx.AsyncClient() as client:
            await client.post(
                f"http://127.0.0.1:{source.server.port}/svc",
                content=(folder / "request.xml").read_bytes(),
            )
        assert pulled, "the request was refused"
        expected = json.loads((folder / "request.json").read_text())
        assert text_values(pulled[0].message.body) == text_values(expected)
    finally:
        await source.close()
        await source.server.stop()


# -- the WSDL corpora: every file loads or fails cleanly -------------------------------------

WSDL_FILES = sorted(
    [*NODE_WSDLS.rglob("*.wsdl"), *NODE_WSDLS.glob("*.txt"), *(CORPUS / "zeep").rglob("*.wsdl")]
)


@pytest.mark.parametrize("wsdl", WSDL_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_wsdl_loads_or_fails_with_a_wsdl_error(wsdl: Path, tmp_path: Path) -> None:
    spec = registry.get("sink", "soap")
    raw = {"wsdl": str(wsdl), "operation": "Anything", "address": "http://127.0.0.1:9/"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(WsdlError) as caught:
            spec.build(spec.parse(raw), make_context(tmp_path))
    assert "Traceback" not in str(caught.value)
    assert len(str(caught.value)) < 600


def test_the_malformed_node_soap_wsdls_name_the_file(tmp_path: Path) -> None:
    spec = registry.get("sink", "soap")
    for name in ("bad.txt", "bad2.txt"):
        raw = {"wsdl": str(NODE_WSDLS / name), "operation": "x", "address": "http://h/"}
        with pytest.raises(WsdlError, match=f"cannot load WSDL .*{name}"):
            spec.build(spec.parse(raw), make_context(tmp_path))
