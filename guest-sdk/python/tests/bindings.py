"""Puts the ``aratta:scri`` world's Python bindings and ``aratta_adapter`` on ``sys.path``, so the
helpers' pure parts can be tested with an ordinary CPython. The bindings are generated into a
temporary directory by componentize-py (``$ARATTA_COMPONENTIZE_PY``, else the one on PATH).

The generated code relies on Python 3.14's lazily evaluated annotations (a method named ``chat``
shadows the ``chat`` module inside ``class Provider``); on older interpreters each generated
file gets ``from __future__ import annotations``, which has the same effect.
"""

import atexit
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[3]


def install() -> None:
    tool = os.environ.get("ARATTA_COMPONENTIZE_PY") or shutil.which("componentize-py")
    if not tool:
        raise SystemExit("componentize-py is required: pip install componentize-py==0.25.1")
    out = pathlib.Path(tempfile.mkdtemp(prefix="aratta-py-bindings-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    subprocess.run(
        [tool, "-d", str(ROOT / "wit"), "-w", "adapter", "bindings", str(out)],
        check=True, stdout=subprocess.DEVNULL,
    )
    if sys.version_info < (3, 14):
        for path in (out / "wit_world").rglob("*.py"):
            path.write_text("from __future__ import annotations\n" + path.read_text())
    sys.path[:0] = [str(out), str(ROOT / "guest-sdk/python")]


install()
