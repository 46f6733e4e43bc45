"""Runs ONE test of a student's program; started by harness.py in a fresh interpreter.

fd 0: the test's stdin (io tests) or /dev/null; fd 1/2: pipes read by the harness;
fd 3: the job, read and closed before any student code runs: a header line
"<mode> <memory bytes> <code bytes> <test bytes> <token>\n", then the code and the test code
(UTF-8; no json import, a good part of an interpreter's start-up); fd 4: the status pipe.
Status words: "ready\n" (sent once, just before the program starts: the test's time limit counts
from here, so interpreter start-up under load is not charged to the program), "ok <token>" (the assert test ran to its end; the token is new for every test),
"assert: <msg>" (an assertion failed), "memory" (MemoryError), "internal <exception type>" (this
runner failed before the program started: the harness reports the test as `internal_error`). The program under test shares this
process, so the status can at most change this one test's result, never the harness's frames.
"""

import os
import resource
import sys

EXIT_INTERNAL = 70


def _status(text):
    try:
        os.write(4, text.encode("utf-8", "replace")[:4000])
    except OSError:
        pass


def _report(exc):
    """Prints the traceback without this file's frames and exits like an uncaught exception."""
    if isinstance(exc, MemoryError):
        _status("memory")
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    try:
        sys.stdout.flush()
    except Exception:
        pass
    traceback.print_exception(type(exc), exc, tb)
    sys.stderr.flush()
    os._exit(1)


def _prepare():
    """Everything before the program starts. A failure here is ours, never the program's."""
    with os.fdopen(3, "rb") as f:
        header = f.readline().split()
        mode, limit, token = header[0].decode(), int(header[1]), header[4].decode()
        code_src = f.read(int(header[2])).decode("utf-8")
        test_src = f.read(int(header[3])).decode("utf-8")
    # Compiled before the memory limit is set: the harness compiled both already, unlimited.
    code = compile(code_src, "main.py", "exec", dont_inherit=True)
    test = compile(test_src, "test.py", "exec", dont_inherit=True) if mode == "assert" else None
    del code_src, test_src
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # if the container runs out of memory, the program goes first
    except OSError:
        pass
    os.chdir("/tmp")
    import builtins
    import types

    # The program runs as a real module (`__main__` for io tests, `solution` for assert tests, so
    # a main guard does not read stdin there), registered in sys.modules like a script would be:
    # pickle, dataclasses and typing find it.
    module = types.ModuleType("__main__" if mode == "io" else "solution")
    module.__file__ = "main.py"
    sys.modules[module.__name__] = module
    sys.argv = ["main.py"]
    scope = module.__dict__
    scope["__builtins__"] = builtins  # as in a script: the module, not its dict
    return code, test, scope, token


def main():
    try:
        code, test, scope, token = _prepare()
    except BaseException as e:
        # Only the exception's type: the harness reports `internal_error` for this test.
        _status("internal %s\n" % type(e).__name__)
        os._exit(EXIT_INTERNAL)
    # From here on the time is the program's: the harness starts the test's clock now.
    _status("ready\n")
    try:
        exec(code, scope)
    except SystemExit:
        raise
    except BaseException as e:
        _report(e)
    if test is None:
        return
    try:
        exec(test, scope)
    except AssertionError as e:
        _status("assert: " + str(e))
        return
    except SystemExit:
        raise
    except BaseException as e:
        _report(e)
    _status("ok " + token)


if __name__ == "__main__":
    main()
