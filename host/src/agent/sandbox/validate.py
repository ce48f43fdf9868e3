# Aratta's code-sandbox validator. Run as `python3 -I -S -c <this file>` with the model's code on
# stdin; prints one JSON object: {"ok": true} or {"ok": false, "refusals": [...]}, each refusal
# naming the construct, its line and column, and why. It uses CPython's own parser (`ast`), so
# the grammar it checks is exactly the one the interpreter that runs the code accepts.
#
# The rules are an allow-list for imports and a deny-list for names and attributes. They are
# the first of two layers: the runner also installs an audit hook (see prelude.py) and runs the
# process under OS limits, so a construct these rules miss is still contained.
import ast
import json
import re
import sys

ALLOWED_MODULES = {
    "math", "cmath", "json", "re", "random", "statistics", "itertools", "functools",
    "collections", "datetime", "decimal", "fractions", "string", "textwrap", "heapq",
    "bisect", "operator", "copy", "dataclasses", "typing", "enum", "numbers",
    "unicodedata", "difflib", "pprint", "base64", "hashlib", "zlib", "time", "calendar",
}

# Built-ins that run code, reach the interpreter's internals or the file system.
FORBIDDEN_NAMES = {
    "exec": "runs arbitrary code",
    "eval": "runs arbitrary code",
    "compile": "builds code objects",
    "open": "opens files (the sandbox has no file API; print results instead)",
    "__import__": "imports modules around the allow-list",
    "globals": "exposes the module namespace",
    "locals": "exposes frame namespaces",
    "vars": "exposes object namespaces",
    "getattr": "reads attributes by computed name, around the attribute rules",
    "setattr": "writes attributes by computed name",
    "delattr": "deletes attributes by computed name",
    "breakpoint": "enters the debugger",
    "input": "reads the sandbox's standard input",
    "help": "starts the interactive help system",
    "memoryview": "gives raw memory access",
    "__builtins__": "exposes every built-in",
    "__loader__": "exposes the module loader",
    "__spec__": "exposes the module spec",
}

# Public attribute names that lead to modules or objects outside the sandbox: allowed modules
# import `sys`, `types`, `inspect`... and expose them as attributes (`dataclasses.sys`).
FORBIDDEN_ATTRIBUTES = {
    "sys", "os", "posix", "subprocess", "builtins", "inspect", "importlib", "types", "ctypes",
    "socket", "io", "shutil", "pathlib", "gc", "threading", "signal", "pickle", "marshal",
    "tempfile", "glob", "linecache", "tokenize", "codecs", "weakref", "abc", "modules",
    "environ", "system", "popen", "fork", "open", "load_module", "loader", "find_spec",
    "spec", "mro", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "gi_frame",
    "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next",
    "co_code", "func_globals", "exec", "eval", "compile",
}
FRAME_PREFIX = re.compile(r"^(f|gi|cr|ag|tb|co)_")
# A str.format field that walks attributes: "{0.__class__}".
FORMAT_WALK = re.compile(r"\{[^{}]*\.\s*_")

ALLOWED_DUNDER_NAMES = {"__name__"}


class Checker(ast.NodeVisitor):
    def __init__(self):
        self.refusals = []

    def refuse(self, node, construct, why):
        self.refusals.append({
            "construct": construct,
            "line": getattr(node, "lineno", 0),
            "col": getattr(node, "col_offset", 0) + 1,
            "message": why,
        })

    def check_module(self, node, name):
        root = (name or "").split(".")[0]
        if root not in ALLOWED_MODULES:
            self.refuse(node, f"import {name}",
                        f"module `{name}` is not in the allow-list ({', '.join(sorted(ALLOWED_MODULES))})")

    def visit_Import(self, node):
        for alias in node.names:
            self.check_module(node, alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if node.level:
            self.refuse(node, "relative import", "relative imports reach outside the sandboxed script")
        else:
            self.check_module(node, node.module)
            for alias in node.names:
                self.check_attribute_name(node, alias.name, f"from {node.module} import {alias.name}")
        self.generic_visit(node)

    def check_attribute_name(self, node, name, construct):
        if name.startswith("_"):
            kind = "dunder" if name.startswith("__") and name.endswith("__") else "private"
            self.refuse(node, construct, f"{kind} attribute `{name}` reaches interpreter internals")
        elif name in FORBIDDEN_ATTRIBUTES or FRAME_PREFIX.match(name):
            self.refuse(node, construct, f"attribute `{name}` leads outside the sandbox")

    def visit_Attribute(self, node):
        self.check_attribute_name(node, node.attr, f".{node.attr}")
        self.generic_visit(node)

    def visit_Name(self, node):
        name = node.id
        if name in FORBIDDEN_NAMES:
            self.refuse(node, name, f"`{name}` {FORBIDDEN_NAMES[name]}")
        elif name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDER_NAMES:
            self.refuse(node, name, f"dunder name `{name}` reaches interpreter internals")
        self.generic_visit(node)

    def visit_arg(self, node):
        if node.arg in FORBIDDEN_NAMES:
            self.refuse(node, node.arg, f"parameter named `{node.arg}` shadows a forbidden built-in")
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self.check_definition_name(node)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.check_definition_name(node)
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                self.refuse(node, "metaclass=", "metaclasses run code at class creation with interpreter internals")
        self.generic_visit(node)

    def check_definition_name(self, node):
        name = node.name
        if name.startswith("__") and name.endswith("__") and name not in ("__init__", "__repr__", "__str__", "__eq__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__len__", "__iter__", "__next__", "__contains__", "__add__", "__sub__", "__mul__", "__call__", "__post_init__"):
            self.refuse(node, f"def {name}", f"defining `{name}` hooks interpreter internals")

    def visit_MatchClass(self, node):
        # `case object(__class__=c)` reads attributes by name.
        for name in node.kwd_attrs:
            self.check_attribute_name(node, name, f"case ...({name}=...)")
        self.generic_visit(node)

    def visit_Global(self, node):
        for name in node.names:
            if name in FORBIDDEN_NAMES:
                self.refuse(node, f"global {name}", f"`{name}` {FORBIDDEN_NAMES[name]}")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and FORMAT_WALK.search(node.value):
            self.refuse(node, "format-string attribute walk",
                        "a format field reaching a private or dunder attribute (\"{0.__class__}\")")
        self.generic_visit(node)


def main():
    source = sys.stdin.read()
    try:
        tree = ast.parse(source, filename="<sandbox>", mode="exec")
    except SyntaxError as e:
        out = {"ok": False, "refusals": [{
            "construct": "syntax error", "line": e.lineno or 0, "col": e.offset or 0,
            "message": e.msg}]}
    except (RecursionError, MemoryError, ValueError) as e:
        out = {"ok": False, "refusals": [{
            "construct": "unparseable", "line": 0, "col": 0,
            "message": f"the parser gave up: {type(e).__name__}: {e}"}]}
    else:
        checker = Checker()
        try:
            checker.visit(tree)
        except RecursionError:
            checker.refusals.append({"construct": "nesting", "line": 0, "col": 0,
                                     "message": "the code is nested too deeply to check"})
        out = {"ok": not checker.refusals, "refusals": checker.refusals}
    sys.stdout.write(json.dumps(out))


main()
