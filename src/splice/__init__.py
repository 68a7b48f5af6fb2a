"""splice: declarative, governed integration flows."""

from splice.errors import (
    CodecError,
    ConfigError,
    ConnectorError,
    ContractViolation,
    MappingError,
    MessageError,
    NotConnected,
    PermanentError,
    SpliceError,
    TransientError,
)
from splice.message import Message

__version__ = "0.1.0"

__all__ = [
    "CodecError",
    "ConfigError",
    "ConnectorError",
    "ContractViolation",
    "MappingError",
    "Message",
    "MessageError",
    "NotConnected",
    "PermanentError",
    "SpliceError",
    "TransientError",
    "__version__",
]
