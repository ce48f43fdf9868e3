# Aratta's code sandbox, the guest side: CPython built as a WebAssembly component by
# componentize-py, implementing the `aratta:sandbox/sandbox` world (wit/sandbox/world.wit).
#
# componentize-py snapshots the interpreter after importing this module, and the component has
# no standard library on disk at run time: only the modules imported here (and those the
# interpreter itself loaded) exist for the model's code. That is the allow-list's second line;
# the first is checker.ALLOWED_MODULES, which must stay a subset of what is imported below.
import sys
import traceback

import wit_world
from wit_world import Ending_Completed, Ending_Exited, Ending_Raised, Refusal

import checker

# The modules model code may import (checker.ALLOWED_MODULES), loaded into the snapshot.
import base64, bisect, calendar, cmath, collections, copy, dataclasses, datetime  # noqa: E401,F401
import decimal, difflib, enum, fractions, functools, hashlib, heapq, itertools  # noqa: E401,F401
import json, math, numbers, operator, pprint, random, re, statistics, string  # noqa: E401,F401
import textwrap, time, typing, unicodedata, zlib  # noqa: E401,F401


class WitWorld(wit_world.WitWorld):
    def check(self, code: str) -> list:
        return [Refusal(r["construct"], r["line"], r["col"], r["message"])
                for r in checker.refusals(code)]

    def run(self, code: str):
        # The snapshot froze the generator's state at build time; without this every run would
        # draw the same "random" numbers. os.urandom reads wasi:random, fresh per store.
        random.seed()
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        try:
            exec(compile(code, "main.py", "exec"), namespace)
            ending = Ending_Completed()
        except SystemExit as e:
            code_ = e.code
            ending = Ending_Exited(code_ if isinstance(code_, int) else (0 if code_ is None else 1))
            if code_ is not None and not isinstance(code_, int):
                print(code_, file=sys.stderr)
        except BaseException as e:  # noqa: BLE001 - everything the code raised is its result
            traceback.print_exc()
            ending = Ending_Raised(f"{type(e).__name__}: {e}")
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a closed or full pipe loses only output
                pass
        return ending
