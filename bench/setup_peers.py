"""Install every peer the benchmark suite needs, pinned, into ``bench/.peers/`` (git-ignored).

- npm: node-red, node-red-contrib-amqp, jsonata  -> bench/.peers/node/
- Debian: wrk (+ libluajit2) extracted with ``dpkg -x`` -> bench/.peers/deb/ (no system change)
- PyPI: matplotlib, py-spy, aio-pika, aiormq     -> bench/.peers/py/ (``pip --target``, the
  project venv is left as it is)

Idempotent: a stamp file per group records the pinned versions it installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / ".peers"
NODE_DIR = PEERS / "node"
DEB_DIR = PEERS / "deb"
PY_DIR = PEERS / "py"

NPM_PINS = ["node-red@4.1.8", "node-red-contrib-amqp@0.4.5", "jsonata@2.1.0"]
APT_PINS = ["wrk=4.1.0-3+b2", "libluajit2-5.1-2"]
PIP_PINS = ["matplotlib==3.10.8", "py-spy==0.4.1", "aio-pika==10.2.1", "aiormq==7.2.4"]


def _log(msg: str) -> None:
    print(f"[setup] {msg}", file=sys.stderr, flush=True)


def _stamp_ok(stamp: Path, pins: list[str]) -> bool:
    return stamp.exists() and stamp.read_text() == "\n".join(pins)


def _write_stamp(stamp: Path, pins: list[str]) -> None:
    stamp.write_text("\n".join(pins))


def setup_npm() -> None:
    stamp = NODE_DIR / ".stamp"
    if _stamp_ok(stamp, NPM_PINS):
        return
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    _log("npm install " + " ".join(NPM_PINS))
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(NODE_DIR),
            "--no-audit",
            "--no-fund",
            "--save-exact",
            "--loglevel=error",
            *NPM_PINS,
        ],
        check=True,
    )
    _write_stamp(stamp, NPM_PINS)


def setup_wrk() -> None:
    stamp = DEB_DIR / ".stamp"
    if _stamp_ok(stamp, APT_PINS) and wrk_cmd():
        return
    dl = DEB_DIR / "download"
    dl.mkdir(parents=True, exist_ok=True)
    _log("apt-get download " + " ".join(APT_PINS))
    r = subprocess.run(["apt-get", "download", *APT_PINS], cwd=dl)
    if r.returncode != 0:
        _log("apt-get download failed; running apt-get update and retrying")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "download", *APT_PINS], cwd=dl, check=True)
    root = DEB_DIR / "root"
    root.mkdir(exist_ok=True)
    for deb in sorted(dl.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    _write_stamp(stamp, APT_PINS)


def wrk_cmd() -> tuple[list[str], dict[str, str]] | None:
    """The wrk binary from bench/.peers and the environment it needs (its luajit)."""
    binary = DEB_DIR / "root" / "usr" / "bin" / "wrk"
    if not binary.exists():
        return None
    libdirs = sorted(
        {
            str(Path(p).parent)
            for p in glob.glob(str(DEB_DIR / "root/usr/lib/**/*.so*"), recursive=True)
        }
    )
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(libdirs + [env.get("LD_LIBRARY_PATH", "")]).rstrip(":")
    return [str(binary)], env


def setup_pip() -> None:
    stamp = PY_DIR / ".stamp"
    if _stamp_ok(stamp, PIP_PINS):
        return
    PY_DIR.mkdir(parents=True, exist_ok=True)
    _log("pip install --target bench/.peers/py " + " ".join(PIP_PINS))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(PY_DIR),
            "--upgrade",
            *PIP_PINS,
        ],
        check=True,
    )
    _write_stamp(stamp, PIP_PINS)


def py_env() -> dict[str, str]:
    """Environment for a Python subprocess that may import the bench-only packages."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(PY_DIR)]))
    return env


def node_bin(name: str) -> str:
    return str(NODE_DIR / "node_modules" / ".bin" / name)


def pyspy_bin() -> str | None:
    path = PY_DIR / "bin" / "py-spy"
    return str(path) if path.exists() else shutil.which("py-spy")


def setup_all() -> None:
    for step in (setup_pip, setup_npm, setup_wrk):
        try:
            step()
        except (subprocess.CalledProcessError, OSError) as error:
            _log(f"{step.__name__} failed: {error} (the scenarios needing it will be skipped)")


if __name__ == "__main__":
    setup_all()
