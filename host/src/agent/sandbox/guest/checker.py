# Aratta's code-sandbox checker: the first layer, for clear refusals. It runs inside the sandbox
# component (guest.py calls `refusals`), so it parses with the CPython that runs the code: the
# grammar checked is exactly the one executed, and the host needs no Python of its own.
#
# The rules are an allow-list for imports and a deny-list for names, attributes and strings that
# reach interpreter internals by reflection. They are a first layer, not the containment: what
# they miss still runs inside WebAssembly (no files but a scratch directory, no network, no
# processes, bounded CPU, memory, time and output).
import ast
import re

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

# Helpers that read attributes, call methods or evaluate strings by a name held in data: the
# same reach as `getattr`, out of sight of the attribute rules (`attrgetter("__globals__")(f)`,
# `string.Formatter().get_field("0.__globals__", ...)`).
REFLECTION = {
    "attrgetter": "reads attributes by a name held in a string",
    "methodcaller": "calls methods by a name held in a string",
    "Formatter": "walks attributes named in format fields",
    "get_field": "walks attributes named in format fields",
    "vformat": "walks attributes named in format fields",
    "format_map": "walks attributes named in format fields",
    "get_type_hints": "evaluates strings as code",
    "ForwardRef": "evaluates strings as code",
    "currentframe": "exposes interpreter frames",
    "getframe": "exposes interpreter frames",
    "getattr_static": "reads attributes by a name held in a string",
    "__getattribute__": "reads attributes by a name held in a string",
}
FRAME_PREFIX = re.compile(r"^(f|gi|cr|ag|tb|co)_")
# A str.format field that walks attributes or indexes with a private key: "{0.__class__}",
# "{0[_x]}".
FORMAT_WALK = re.compile(r"\{[^{}]*[.\[]\s*_")
# A dunder name anywhere in a string: "__globals__", f"{'__'}...": the names reflection needs.
DUNDER_TEXT = re.compile(r"__\w+__")
# Dunder strings with no reach: the `if __name__ == "__main__":` idiom.
HARMLESS_DUNDER_TEXT = {"__main__"}

ALLOWED_DUNDER_NAMES = {"__name__"}


def static_text(node):
    """The text of a string expression as far as the source fixes it: literals, `+` and `*` of
    literals, f-strings (each replacement field reads as "x"); None when it is computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = [static_text(v) if isinstance(v, ast.Constant) else "x" for v in node.values]
        return None if None in parts else "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = static_text(node.left), static_text(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for text, times in ((node.left, node.right), (node.right, node.left)):
            if isinstance(times, ast.Constant) and type(times.value) is int and 0 <= times.value <= 64:
                value = static_text(text)
                if value is not None:
                    return value * times.value
    return None


class Checker(ast.NodeVisitor):
    def __init__(self):
        self.refusals = []

    def refuse(self, node, construct, why):
        line = getattr(node, "lineno", 0)
        if any(r["construct"] == construct and r["line"] == line for r in self.refusals):
            return
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
        elif name in REFLECTION:
            self.refuse(node, construct, f"`{name}` {REFLECTION[name]}")

    def visit_Attribute(self, node):
        self.check_attribute_name(node, node.attr, f".{node.attr}")
        if node.attr == "format" and not (
                isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            # The fields of a computed format string cannot be checked: `fmt.format(f)` with
            # fmt = "{0." + "__globals__}" walks attributes like getattr.
            self.refuse(node, ".format", "`.format` on a computed string walks attributes named "
                        "in its fields; call it on a string literal or use an f-string")
        self.generic_visit(node)

    def visit_Name(self, node):
        name = node.id
        if name in FORBIDDEN_NAMES:
            self.refuse(node, name, f"`{name}` {FORBIDDEN_NAMES[name]}")
        elif name in REFLECTION:
            self.refuse(node, name, f"`{name}` {REFLECTION[name]}")
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

    def visit_JoinedStr(self, node):
        self.check_text(node, static_text(node))
        self.generic_visit(node)

    def visit_BinOp(self, node):
        # Only the outermost of `"a" + "b" + "c"` is checked whole; its parts are visited too.
        self.check_text(node, static_text(node))
        self.generic_visit(node)

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        self.check_text(node, value)
        self.generic_visit(node)

    def check_text(self, node, value):
        if isinstance(value, str):
            dunder = next((m for m in DUNDER_TEXT.finditer(value)
                           if m.group(0) not in HARMLESS_DUNDER_TEXT), None)
            if dunder:
                self.refuse(node, f"\"{dunder.group(0)}\"",
                            f"dunder name `{dunder.group(0)}` in a string: reflection reaches "
                            "interpreter internals by such names")
            elif FORMAT_WALK.search(value):
                self.refuse(node, "format-string attribute walk",
                            "a format field reaching a private or dunder attribute (\"{0.__class__}\")")


def refusals(source):
    """The rules `source` breaks, as dicts (construct, line, col, message); empty when it may run."""
    try:
        tree = ast.parse(source, filename="<sandbox>", mode="exec")
    except SyntaxError as e:
        return [{"construct": "syntax error", "line": e.lineno or 0, "col": e.offset or 0,
                 "message": e.msg}]
    except (RecursionError, MemoryError, ValueError) as e:
        return [{"construct": "unparseable", "line": 0, "col": 0,
                 "message": f"the parser gave up: {type(e).__name__}: {e}"}]
    checker = Checker()
    try:
        checker.visit(tree)
    except RecursionError:
        checker.refusals.append({"construct": "nesting", "line": 0, "col": 0,
                                 "message": "the code is nested too deeply to check"})
    return checker.refusals
