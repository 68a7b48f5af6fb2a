"""Profile scenario 1's splice server with py-spy under wrk load; print the hot frames.

    python bench/profile.py [seconds]
Writes bench/results/profile-http-json-xml.txt (collapsed stacks) and prints the top frames
by own time and by inclusive time (a frame counted once per sample).
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import threading
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "scenarios")]

import http_json_xml  # noqa: E402
import setup_peers  # noqa: E402
from lib import free_port, log, wrk  # noqa: E402


def main(seconds: int = 15, top: int = 10) -> None:
    pyspy = setup_peers.pyspy_bin()
    if pyspy is None:
        sys.exit("py-spy is not installed (bench/setup_peers.py)")
    out = BENCH / "results" / "profile-http-json-xml.txt"
    out.parent.mkdir(exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/order"
    with http_json_xml.splice_server(port, "splice-profile") as server:
        server.wait_http(url, data=http_json_xml.ORDER)
        load = threading.Thread(target=wrk, args=(url, f"{seconds + 4}s"))
        load.start()
        subprocess.run(
            [
                pyspy,
                "record",
                "-p",
                str(server.pid),
                "-d",
                str(seconds),
                "-r",
                "200",
                "-f",
                "raw",
                "-o",
                str(out),
                "--nonblocking",
            ],
            check=True,
            capture_output=True,
        )
        load.join()
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        # inclusive time per function (line numbers dropped), each function once per sample
        for func in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            incl[func] += n
    print(f"samples: {total}")
    print(f"\ntop {top} frames by own time:")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")
    print(f"\ntop {top * 2} functions by inclusive time (the entry chain above 85% left out):")
    shown = [(f, n) for f, n in incl.most_common() if n / total < 0.85][: top * 2]
    for frame, n in shown:
        print(f"  {100 * n / total:5.1f}%  {frame}")
    log(f"collapsed stacks in {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
