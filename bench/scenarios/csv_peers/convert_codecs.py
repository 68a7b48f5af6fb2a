"""Stand-in for ``splice convert`` while the CLI command does not exist: the same codec path
a convert would take, ``get_codec(src).iter_decode(file)`` -> ``get_codec(dst).write_records``.

usage: convert_codecs.py SRC_FORMAT DST_FORMAT INPUT OUTPUT   (prints the record count)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from splice.codecs import get_codec


def main(src: str, dst: str, input_path: str, output_path: str) -> None:
    decoder, encoder = get_codec(src), get_codec(dst)
    count = 0

    def counted(records: Iterator[Any]) -> Iterator[Any]:
        nonlocal count
        for record in records:
            count += 1
            yield record

    with (
        open(input_path, "rb", buffering=1 << 20) as inp,
        open(output_path, "wb", buffering=1 << 20) as out,
    ):
        encoder.write_records(counted(decoder.iter_decode(inp)), out)
    print(count)


if __name__ == "__main__":
    main(*sys.argv[1:5])
