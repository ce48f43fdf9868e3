# Aratta's code-sandbox runner: `python3 -I -S -c <this file>` in the scratch directory, which
# holds the validated code as main.py. It compiles the code, then installs an audit hook (PEP 578;
# a hook cannot be removed once added) and runs it. The hook is the second layer behind the AST
# rules: whatever construct reaches a process, socket, native-code or out-of-scratch file
# operation anyway is stopped here with a PermissionError naming the event.
import os
import sys


def _install():
    scratch = os.path.realpath(os.getcwd())
    # `sys._getframe` is not blocked: the standard library calls it (namedtuple, enum); the AST
    # rules keep `sys` and private names out of the model's reach.
    # Reads are allowed in the scratch directory and where the interpreter's own library lives
    # (imports of allowed modules read those files).
    readable = {scratch, os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix),
                os.path.realpath(sys.exec_prefix)}
    readable.update(os.path.realpath(p) for p in sys.path if p)
    readable = tuple(readable)
    blocked = ("os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn",
               "os.kill", "os.killpg", "os.putenv", "os.unsetenv", "os.chroot", "os.setuid",
               "subprocess.", "socket.", "ctypes.", "_posixsubprocess", "sys.setprofile", "sys.settrace", "sys.addaudithook", "function.__new__",
               "code.__new__", "sys._current_frames", "mmap.", "resource.setrlimit",
               "pty.", "fcntl.", "os.add_dll_directory", "webbrowser", "shutil.")
    mutating = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
                "os.symlink", "os.link", "os.truncate", "os.utime", "os.chdir", "os.chflags",
                "os.setxattr", "os.removexattr")
    realpath = os.path.realpath
    sep = os.sep
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def inside(path, roots):
        if isinstance(path, int):
            return True
        if isinstance(path, bytes):
            path = path.decode("utf-8", "surrogateescape")
        full = realpath(os.path.join(scratch, path))
        return any(full == r or full.startswith(r + sep) for r in roots)

    def deny(event, detail=""):
        raise PermissionError(f"sandbox: {event} is not allowed{detail}")

    def hook(event, args):
        if event.startswith(blocked):
            deny(event)
        if event == "open":
            path, mode, flags = args
            if path is None:
                return
            writes = (mode is not None and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & write_flags)
            if writes and not inside(path, (scratch,)):
                deny(event, f": writing {path!r} outside the scratch directory")
            if not writes and not inside(path, readable):
                deny(event, f": reading {path!r} outside the scratch directory")
        elif event.startswith(mutating):
            for arg in args:
                if isinstance(arg, (str, bytes)) and not inside(arg, (scratch,)):
                    deny(event, f": {arg!r} is outside the scratch directory")
        elif event in ("os.listdir", "os.scandir") and args and args[0] is not None:
            if not inside(args[0], readable):
                deny(event, f": {args[0]!r} is outside the scratch directory")

    with open("main.py", encoding="utf-8") as f:
        code = compile(f.read(), "main.py", "exec")
    sys.addaudithook(hook)
    return code


_code = _install()
del _install
exec(_code, {"__name__": "__main__", "__builtins__": __builtins__})
