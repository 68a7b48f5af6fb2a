"""splice side of the mapping scenario: evaluations/s of compile_mapping(expr).evaluate."""

from __future__ import annotations

import json
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

from splice.mapping import compile_mapping


def main(expr_file: str, data_file: str, seconds: float) -> None:
    mapping = compile_mapping(Path(expr_file).read_text())
    # the data as splice's json codec gives it to a flow (exact numbers)
    from splice.codecs import get_codec

    data = get_codec("json").decode(Path(data_file).read_bytes())

    def loop(duration: float) -> tuple[int, float, object]:
        n, result = 0, None
        start = time.perf_counter()
        end = start + duration
        while True:
            for _ in range(20):
                result = mapping.evaluate(data)
            n += 20
            if time.perf_counter() >= end:
                break
        return n, time.perf_counter() - start, result

    loop(1.0)
    n, secs, result = loop(seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"evals_per_s": n / secs, "evaluations": n, "peak_rss_mb": peak, "result": result},
            default=lambda o: float(o) if isinstance(o, Decimal) else str(o),
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
