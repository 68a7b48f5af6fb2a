"""``email`` sink: send each message as an email through an SMTP server.

How an outcome is classified::

    every recipient accepted, data accepted (250)      delivered
    an SMTP reply 4xx (greylisting, mailbox busy)      TransientError
    an SMTP reply 5xx (no such user, policy refusal)   PermanentError(status)
    connection refused, lost, timed out                TransientError

Recipients are static configuration (``to``). A message may add recipients only through the
header named by ``to_header``, and only addresses whose domain is in ``allow_domains``:
an address built from data that is not allowed makes the message a MessageError, and
nothing is sent. The SMTP server, the sender and the credentials never come from data.
aiosmtplib is imported only when a message is sent.
"""

from __future__ import annotations

import email.utils
import re
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import Field, SecretStr, field_validator, model_validator

from splice.components.context import Context
from splice.components.interfaces import Sink
from splice.components.spec import ComponentConfig, ComponentSpec
from splice.errors import MessageError, NotConnected, PermanentError, TransientError
from splice.message import Message
from splice.types import Duration

if TYPE_CHECKING:
    import aiosmtplib

__all__ = ["SPEC", "EmailSink", "EmailSinkConfig", "Template", "check_address"]

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_HEADER_FIELD = re.compile(r"^headers\[([^\[\]]+)\]$")
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class Template:
    """``{id}``, ``{correlation_id}`` and ``{headers[NAME]}`` filled from a message.

    Nothing else is evaluated: no attribute access, no format specs. ``{{`` and ``}}``
    write literal braces. A missing header renders as an empty string.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._parts: list[tuple[str, str | None]] = []  # (literal, field)
        position = 0
        for match in _TOKEN.finditer(text):
            literal = text[position : match.start()]
            token = match.group(0)
            position = match.end()
            if token in ("{{", "}}"):
                self._parts.append((literal + token[0], None))
                continue
            field_name = match.group(1)
            if field_name is None:
                raise ValueError(f"unbalanced '{token}' in template '{text}': write '{token * 2}'")
            field_name = field_name.strip()
            if field_name not in ("id", "correlation_id") and not _HEADER_FIELD.match(field_name):
                raise ValueError(
                    f"unknown field '{{{field_name}}}' in template '{text}': "
                    "use {id}, {correlation_id} or {headers[NAME]}"
                )
            self._parts.append((literal, field_name))
        self._parts.append((text[position:], None))

    def render(self, message: Message) -> str:
        out: list[str] = []
        for literal, field_name in self._parts:
            out.append(literal)
            if field_name == "id":
                out.append(message.id)
            elif field_name == "correlation_id":
                out.append(message.correlation_id)
            elif field_name is not None:
                header = _HEADER_FIELD.match(field_name)
                assert header is not None
                out.append(message.headers.get(header.group(1), ""))
        return "".join(out)


def _template(value: str) -> str:
    Template(value)
    return value


def check_address(address: str) -> str:
    """The address if it is a plain ``local@domain`` (no display name); else ValueError."""
    address = address.strip()
    match = _ADDRESS.match(address)
    if match is None:
        raise ValueError(f"'{_CONTROL.sub(' ', address)[:100]}' is not a plain email address")
    return address


class EmailSinkConfig(ComponentConfig):
    host: str = Field(description="SMTP server host name (static).")
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port (default: 465 with `tls`, 587 with `starttls`, else 25).",
    )
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS (port 587).")
    tls: bool = Field(False, description="Connect over TLS from the start (port 465).")
    validate_certs: bool = Field(True, description="Check the server's TLS certificate.")
    username: str | None = Field(None, description="Login name, when the server asks for one.")
    password: SecretStr | None = Field(None, description="Password, by reference: `${env:NAME}`.")
    sender: str = Field(alias="from", description="Envelope and `From:` address (static).")
    to: list[str] = Field(default_factory=list, description="Recipients (static).")
    to_header: str | None = Field(
        None,
        description="Header with more recipients (comma-separated), checked by `allow_domains`.",
    )
    allow_domains: list[str] = Field(
        default_factory=list,
        description="Domains that addresses from `to_header` may have (exact match).",
    )
    subject: str = Field(
        "{id}", description="Subject template: `{id}`, `{correlation_id}`, `{headers[NAME]}`."
    )
    attach: bool = Field(False, description="Send the body as an attachment instead of as text.")
    filename: str = Field("{id}", description="Attachment file name template (with `attach`).")
    text: str = Field("", description="Text of the mail when the body is attached (template).")
    timeout: Duration = Field(30.0, gt=0, description="Seconds to wait for each SMTP answer.")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return check_address(value)

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        return [check_address(address) for address in value]

    @field_validator("allow_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        domains = [domain.strip().lower() for domain in value]
        for domain in domains:
            if not _DOMAIN.match(domain):
                raise ValueError(f"'{domain}' is not a domain name")
        return domains

    @field_validator("subject", "filename", "text")
    @classmethod
    def _templates(cls, value: str) -> str:
        return _template(value)

    @model_validator(mode="after")
    def _consistent(self) -> EmailSinkConfig:
        if self.tls and self.starttls:
            raise ValueError("choose one of tls (implicit TLS) and starttls")
        if self.to_header is not None and not self.allow_domains:
            raise ValueError("to_header needs allow_domains: addresses from data need an allowlist")
        if self.to_header is None and not self.to:
            raise ValueError("set to (static recipients) or to_header with allow_domains")
        if self.password is not None and self.username is None:
            raise ValueError("password needs username")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 465 if self.tls else 587 if self.starttls else 25


SPEC = ComponentSpec(
    kind="sink",
    name="email",
    summary="Send each message as an email through an SMTP server.",
    config=EmailSinkConfig,
    example=(
        "email: {host: smtp.example.com, starttls: true, from: splice@example.com, "
        "to: [ops@example.com], subject: 'Order {headers[order_id]}'}"
    ),
    factory="splice.connectors.email.sink:EmailSink",
    description=(
        "SMTP 4xx answers and connection errors are retried under the flow's policy; 5xx "
        "answers are permanent failures. Recipients from data only through `to_header`, "
        "checked against `allow_domains`."
    ),
    tags=("smtp",),
)


class EmailSink(Sink):
    def __init__(self, config: EmailSinkConfig, context: Context) -> None:
        self.config = config
        self._subject = Template(config.subject)
        self._filename = Template(config.filename)
        self._text = Template(config.text)
        self._target = f"{config.host}:{config.effective_port}"
        self._open = False

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    def recipients(self, message: Message) -> list[str]:
        """The static recipients plus the allowed ones from ``to_header`` (MessageError else)."""
        found = list(self.config.to)
        if self.config.to_header is not None:
            raw = message.headers.get(self.config.to_header, "")
            if _CONTROL.search(raw):
                raise MessageError(
                    f"header {self.config.to_header} holds control characters",
                    code="email-recipient",
                    field=self.config.to_header,
                )
            for _, address in email.utils.getaddresses([raw]):
                if not address:
                    continue
                try:
                    address = check_address(address)
                except ValueError as exc:
                    raise MessageError(
                        str(exc), code="email-recipient", field=self.config.to_header
                    ) from None
                domain = address.rpartition("@")[2].lower()
                if domain not in self.config.allow_domains:
                    raise MessageError(
                        f"recipient domain '{domain}' from header {self.config.to_header} "
                        "is not in allow_domains",
                        code="email-recipient",
                        field=self.config.to_header,
                    )
                if address not in found:
                    found.append(address)
        if not found:
            raise MessageError(
                f"no recipients: header {self.config.to_header} is missing or empty",
                code="email-recipient",
                field=self.config.to_header,
            )
        return found

    def compose(self, message: Message, recipients: list[str]) -> EmailMessage:
        mail = EmailMessage(policy=SMTP_POLICY)
        mail["From"] = self.config.sender
        mail["To"] = ", ".join(recipients)
        mail["Subject"] = _one_line(self._subject.render(message))
        mail["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = email.utils.make_msgid(domain=self.config.sender.rpartition("@")[2])
        mail["X-Splice-Message-Id"] = _one_line(message.id)
        mail["X-Splice-Correlation-Id"] = _one_line(message.correlation_id)
        body = _body_bytes(message)
        if self.config.attach:
            mail.set_content(self._text.render(message))
            maintype, _, subtype = (message.content_type or "application/octet-stream").partition(
                "/"
            )
            subtype = subtype.partition(";")[0].strip() or "octet-stream"
            mail.add_attachment(
                body,
                maintype=maintype.strip() or "application",
                subtype=subtype,
                filename=_filename(self._filename.render(message)),
            )
        else:
            mail.set_content(body.decode("utf-8", "replace"))
        return mail

    async def send(self, message: Message) -> None:
        if not self._open:
            raise NotConnected(f"email sink to {self._target} is not open")
        recipients = self.recipients(message)
        mail = self.compose(message, recipients)
        import aiosmtplib

        smtp = aiosmtplib.SMTP(
            hostname=self.config.host,
            port=self.config.effective_port,
            username=self.config.username,
            password=self.config.password.get_secret_value() if self.config.password else None,
            use_tls=self.config.tls,
            start_tls=self.config.starttls,
            validate_certs=self.config.validate_certs,
            timeout=self.config.timeout,
        )
        try:
            try:
                await smtp.connect()
                refused, _ = await smtp.send_message(
                    mail, sender=self.config.sender, recipients=recipients
                )
            finally:
                await _quit(smtp)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _refused({r.recipient: r.code for r in exc.recipients}, self._target) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc.code, exc.message, self._target) from None
        except aiosmtplib.SMTPNotSupported as exc:
            raise PermanentError(f"{self._target}: {exc}", code="email-unsupported") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientError(
                f"{self._target} unreachable: {type(exc).__name__}", code="email-connect"
            ) from exc
        if refused:
            raise _refused({rcpt: reply.code for rcpt, reply in refused.items()}, self._target)


def _classify(code: int, text: str, target: str) -> TransientError | PermanentError:
    excerpt = " ".join(_CONTROL.sub(" ", text).split())[:200]
    if 400 <= code < 500:
        return TransientError(f"{target} answered {code} {excerpt}", code="email-status")
    if 500 <= code < 600:
        return PermanentError(
            f"{target} answered {code} {excerpt}", status=code, code="email-status"
        )
    return TransientError(f"{target} answered {code} {excerpt}", code="email-status")


def _refused(codes: dict[str, int], target: str) -> TransientError | PermanentError:
    """Some recipients refused: transient if any refusal was 4xx, else permanent."""
    listing = ", ".join(f"{rcpt} ({code})" for rcpt, code in sorted(codes.items()))
    if any(400 <= code < 500 for code in codes.values()):
        return TransientError(f"{target} refused recipients: {listing}", code="email-recipient")
    worst = max(codes.values(), default=550)
    return PermanentError(
        f"{target} refused recipients: {listing}", status=worst, code="email-recipient"
    )


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except Exception:  # the outcome is already decided; just hang up
        smtp.close()


def _body_bytes(message: Message) -> bytes:
    if message.is_encoded or isinstance(message.body, str):
        return message.body_bytes()
    body: Any = message.body
    return orjson.dumps(body)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _filename(text: str) -> str:
    name = _one_line(text).replace("/", "_").replace("\\", "_").strip(". ")
    return name or "message"
