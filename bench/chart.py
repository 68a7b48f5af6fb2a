"""PNG chart of bench/results/latest.json: per scenario, splice and its peers as bars
normalised to the best of the three (the absolute values are printed on the bars)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("[bench] warning: matplotlib unavailable, skipping the PNG chart", file=sys.stderr)
    sys.exit(1)

CONTESTANTS = ("splice", "node-red", "jsonata-js", "ceiling")
COLOURS = {
    "splice": "#2b6cb0",
    "node-red": "#c53030",
    "jsonata-js": "#dd6b20",
    "ceiling": "#718096",
}


def main(src: Path, dst: Path) -> None:
    doc = json.loads(src.read_text())
    scenarios = [
        s
        for s in doc["scenarios"]
        if not s.get("skipped") and isinstance(s.get("splice"), (int, float))
    ]
    if not scenarios:
        print("[bench] nothing to chart", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, len(scenarios), figsize=(3.2 * len(scenarios), 4), squeeze=False)
    for ax, sc in zip(axes[0], scenarios):
        names = [c for c in CONTESTANTS if isinstance(sc.get(c), (int, float))]
        values = [sc[c] for c in names]
        bars = ax.bar(names, values, color=[COLOURS[n] for n in names])
        for bar, value in zip(bars, values):
            ax.annotate(
                f"{value:,.0f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_title(
            f"{sc['id']}\n({sc['metric']}, {'lower' if sc.get('lower_is_better') else 'higher'} is better)",
            fontsize=9,
        )
        ax.tick_params(axis="x", labelsize=8)
    m = doc.get("machine", {})
    fig.suptitle(
        f"splice benchmarks - {m.get('date', '')} - {m.get('commit', '')} - "
        f"{m.get('cpu', '')} x{m.get('cores', '')}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print(f"written: {dst}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
