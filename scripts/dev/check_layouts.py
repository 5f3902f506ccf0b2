#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_layouts.py -- check at run time this interpreter's row of
shim/cpython/layouts.inc, by following its offsets as shim/cpython/frames.c
does.

    pythonX.Y scripts/dev/check_layouts.py [--label LABEL]
    python3 scripts/dev/check_layouts.py --run-layouts [-k PATTERN]...
        [--python LABEL|PATH]...              (make layouts K=... PY=...)

The first form picks the row of sys.version_info's minor and build kind
(debug: sys.gettotalrefcount exists) and, with ctypes only:

  * walks the current thread's frames from PyThreadState_Get() (3.8-3.10
    ts_frame, 3.11-3.12 ts_cframe -> cframe_current, 3.13+ ts_frame), through
    frame_back, skipping the frames whose owner is >= owner_skip, reading the
    code (frame_code without stackref_mask) and the byte offset (frame_instr),
    and compares (co_name, PyCode_Addr2Line) of each frame, the code object
    and f_lasti with sys._getframe()'s chain and traceback.extract_stack():
    plain calls, a generator, a coroutine run by asyncio, C -> Python
    (sorted(key=...)) and a second thread;
  * reads created, suspended and finished generators, coroutines and async
    generators (one of them an asyncio task's) through gen_frame, gen_state /
    gen_finished, frame_locals and code_nlocals: their code, the line they
    wait at, and the very objects their frame's f_locals holds; and their
    __qualname__ object through gen_qualname;
  * the objects an await passes through to an async generator (offsets.h's
    TL_OFF_AGEN_DRIVER_TARGET): async_generator_asend and _athrow hold the
    generator there, anext_awaitable (3.10+) the asend, and their type
    names are the ones pytask.c compares;
  * ts_interp: PyInterpreterState_Main() in the main thread (and the second);
  * ts_thread_id and ts_native_id (3.11+): threading.get_ident() and
    get_native_id() in the main thread and the second;
  * tuple_items: a tuple's first item; code_name and code_filename: a code
    object's co_qualname (co_name before 3.11) and co_filename;
  * 3.13+: the cookie of _PyRuntime.debug_offsets and the row's value in
    every .dbg slot (gen_name: gi_name, which gen_qualname follows).

It prints "OK <version> <label>" and exits 0, or "FAIL ..." lines and exits 1;
"SKIP <version>: no row" (exit 0) for a version outside the range of
shim/cpython/versions.h.  --run-layouts runs the first form under every
interpreter of tests/common.py (debug builds too; the sid chroot's see the
checkout), or under the --python ones (labels as `python3 tests/pythons.py`
prints them, or paths); -k keeps the interpreters whose check, "VERSION
LABEL", contains a pattern.  It ends with "N passed, M failed, K skipped".
Standard library only.
"""
import ctypes
import faulthandler
import os
import re
import subprocess
import sys
import threading
import traceback
import types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
LAYOUTS_INC = os.path.join(ROOT, "shim", "cpython", "layouts.inc")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import common  # noqa: E402  (tests/common.py: the supported range and the interpreters)

VERSION = sys.version.split()[0]
MINOR = sys.version_info[1]
DEBUG = int(hasattr(sys, "gettotalrefcount"))
# The fields of struct tl_layout (shim/cpython/layout.h) this check reads.
FIELDS = ("minor", "debug", "ts_frame", "ts_cframe", "cframe_current", "ts_interp",
          "ts_thread_id", "ts_native_id",
          "frame_back", "frame_code", "frame_instr", "frame_owner", "owner_skip",
          "stackref_mask", "code_adaptive", "instr_unit", "gen_frame", "gen_state",
          "gen_finished", "frame_locals", "code_nlocals", "gen_qualname", "tuple_items",
          "code_name", "code_filename", "dbg")
DBG_FIELDS = ("ts_frame", "ts_interp", "frame_back", "frame_code", "frame_instr",
              "frame_owner", "code_adaptive", "gen_frame", "gen_state", "frame_locals",
              "ts_thread_id", "ts_native_id", "gen_name", "tuple_items", "code_name",
              "code_filename")
OB_TYPE = 8            # offsetof(PyObject, ob_type): shim/cpython/offsets.h
TP_NAME = 24           # offsetof(PyTypeObject, tp_name): shim/cpython/offsets.h
OWNED_BY_GENERATOR = 1  # 3.11+ FRAME_OWNED_BY_GENERATOR (else _THREAD, 0)
GEN_FLAGS = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
MAX_FRAMES = 500


# ---- layouts.inc ------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(\.[A-Za-z_]\w*)|(-?(?:0[xX][0-9a-fA-F]+|\d+))|([={},]))")


def parse_initializer(body):
    """{name: int or dict} of a designated initializer list `.a = 1, .b = {...}`."""
    tokens, pos = [], 0
    while body[pos:].strip():
        m = TOKEN.match(body, pos)
        if not m:
            raise ValueError("cannot parse %r" % body[pos:pos + 40].strip())
        tokens.append(m.group(1) or m.group(3) or int(m.group(2), 0))
        pos = m.end()
    tokens.append(None)

    def fields(i, end):
        out = {}
        while tokens[i] != end:
            name = tokens[i]
            if not (isinstance(name, str) and name.startswith(".")) or tokens[i + 1] != "=":
                raise ValueError("expected `.field =`, found %r" % (name,))
            if tokens[i + 2] == "{":
                value, i = fields(i + 3, "}")
                i += 1
            elif isinstance(tokens[i + 2], int):
                value, i = tokens[i + 2], i + 3
            else:
                raise ValueError("%s: bad value %r" % (name, tokens[i + 2]))
            if name[1:] in out:
                raise ValueError("%s twice" % name)
            out[name[1:]] = value
            if tokens[i] == ",":
                i += 1
            elif tokens[i] != end:
                raise ValueError("after %s: %r" % (name, tokens[i]))
        return out, i

    return fields(0, None)[0]


def load_rows(path):
    """The TL_LAYOUT rows of PATH, as dicts, comments stripped."""
    with open(path) as f:
        text = f.read()
    text = re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", " ", text, flags=re.S))
    rows = []
    for m in re.finditer(r"\bTL_LAYOUT\s*\(", text):
        depth, end = 1, m.end()
        while depth and end < len(text):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if depth:
            raise ValueError("TL_LAYOUT( at offset %d is not closed" % m.start())
        row = parse_initializer(text[m.end():end - 1])
        missing = [k for k in FIELDS if k not in row] + \
            ["dbg." + k for k in DBG_FIELDS if k not in row.get("dbg", {})]
        if missing:
            raise ValueError("row %r lacks %s" % (text[m.start():m.start() + 40], ", ".join(missing)))
        rows.append(row)
    return rows


class Layout(object):
    def __init__(self, row):
        self.__dict__.update(row)
        self.mask = ~self.stackref_mask


# ---- memory -----------------------------------------------------------------

VP = ctypes.c_void_p
api = ctypes.pythonapi
api.PyThreadState_Get.restype = VP
api.PyThreadState_Get.argtypes = []
api.PyCode_Addr2Line.restype = ctypes.c_int
api.PyCode_Addr2Line.argtypes = [VP, ctypes.c_int]
L = None            # the Layout, set by main()
problems = []


def fail(msg):
    problems.append(msg)
    print("FAIL %s %s: %s" % (VERSION, LABEL, msg))
    sys.stdout.flush()


def ptr(addr):
    return VP.from_address(addr).value or 0


def i8(addr):            # TL_FIELD(f, off, char) / int8_t: signed on x86_64
    return ctypes.c_int8.from_address(addr).value


def is_code(addr):
    return bool(addr) and ptr(addr + OB_TYPE) == id(types.CodeType)


def frame_code(f):
    return ptr(f + L.frame_code) & L.mask


def byte_offset(f, code):
    """frames.c's read_frame(): -1 before the first instruction."""
    if L.code_adaptive < 0:
        off = ctypes.c_int.from_address(f + L.frame_instr).value * L.instr_unit
    else:
        off = ptr(f + L.frame_instr) - (code + L.code_adaptive)
    return -1 if off < 0 else off


def addr2line(code, off):
    return api.PyCode_Addr2Line(code, off)


def code_at(addr):
    return ctypes.cast(VP(addr), ctypes.py_object).value


# ---- the stack of the running thread -----------------------------------------

def native_stack():
    """(frames by offset, sys._getframe()'s, traceback's, how many the owner
    skips, the others without code), innermost first, all read while this
    function waits in _walk(): its own frame is the innermost of each."""
    # Inline: the current frame must be this function's, alive during the walk.
    ts = api.PyThreadState_Get()
    if L.ts_cframe >= 0:
        cframe = VP.from_address(ts + L.ts_cframe).value
        f = VP.from_address(cframe + L.cframe_current).value if cframe else 0
    else:
        f = VP.from_address(ts + L.ts_frame).value
    return _walk(f or 0, sys._getframe())


def _walk(f, me):
    native, skipped, codeless = [], 0, []
    while f and len(native) + skipped + len(codeless) < MAX_FRAMES:
        owner = i8(f + L.frame_owner) if L.frame_owner >= 0 else None
        if L.owner_skip >= 0 and owner >= L.owner_skip:
            skipped += 1
        else:
            code = frame_code(f)
            if is_code(code):
                off = byte_offset(f, code)
                native.append({"frame": f, "code": code, "owner": owner, "off": off,
                               "name": code_at(code).co_name, "line": addr2line(code, off)})
            else:   # frames.c passes over it too, but Python code has a code object
                codeless.append("%#x (owner %s)" % (code, owner))
        f = ptr(f + L.frame_back)
    python = []
    p = me
    while p is not None:
        python.append({"frame": id(p), "code": id(p.f_code), "off": p.f_lasti,
                       "name": p.f_code.co_name, "line": p.f_lineno,
                       "gen": bool(p.f_code.co_flags & GEN_FLAGS)})
        p = p.f_back
    tb = [(s.name, s.lineno) for s in reversed(traceback.extract_stack(me))]
    return native, python, tb, skipped, codeless


def check_stack(label, min_skipped=1):
    native, python, tb, skipped, codeless = native_stack()
    if codeless:
        fail("%s: frames not skipped by owner_skip without a code object at frame_code: %s"
             % (label, ", ".join(codeless)))
    got = [(n["name"], n["line"]) for n in native]
    want = [(p["name"], p["line"]) for p in python]
    if got != want:
        fail("%s: frames by offset %s != sys._getframe() chain %s" % (label, got, want))
        return
    if got != tb:
        fail("%s: frames by offset %s != traceback.extract_stack() %s" % (label, got, tb))
    for n, p in zip(native, python):
        where = "%s: %s:%d" % (label, p["name"], p["line"])
        if n["code"] != p["code"]:
            fail("%s: frame_code %#x is not f_code %#x" % (where, n["code"], p["code"]))
        if L.code_adaptive < 0 and n["frame"] != p["frame"]:
            fail("%s: the frame %#x is not the frame object %#x" % (where, n["frame"], p["frame"]))
        if n["off"] != p["off"]:
            fail("%s: byte offset by frame_instr %d != f_lasti %d" % (where, n["off"], p["off"]))
        if L.frame_owner >= 0 and n["owner"] != (OWNED_BY_GENERATOR if p["gen"] else 0):
            fail("%s: frame_owner byte is %d, not %d" % (
                where, n["owner"], OWNED_BY_GENERATOR if p["gen"] else 0))
    if L.owner_skip >= 0 and skipped < min_skipped:
        fail("%s: %d frames with owner >= owner_skip, expected at least %d (C entries)"
             % (label, skipped, min_skipped))


def check_code_names():
    """What frames.c's tl_frames_resolve() reads of a code object."""
    for co in (check_code_names.__code__, (lambda: 0).__code__, traceback.format_exc.__code__):
        name = co.co_qualname if MINOR >= 11 else co.co_name
        if ptr(id(co) + L.code_name) != id(name):
            fail("code_name: %#x at the offset, not the code's %s %#x"
                 % (ptr(id(co) + L.code_name), "co_qualname" if MINOR >= 11 else "co_name", id(name)))
        if ptr(id(co) + L.code_filename) != id(co.co_filename):
            fail("code_filename: %#x at the offset, not co_filename %#x"
                 % (ptr(id(co) + L.code_filename), id(co.co_filename)))


def check_tuple():
    """What api.c's tl_py_tuple_first() reads: a tuple's first item."""
    for t in ((object(),), tuple(range(3)), ("x", 1)):
        if ptr(id(t) + L.tuple_items) != id(t[0]):
            fail("tuple_items: %#x at the offset, not the first item %#x"
                 % (ptr(id(t) + L.tuple_items), id(t[0])))
            return


def check_interp(label):
    ts = api.PyThreadState_Get()
    interp, main = ptr(ts + L.ts_interp), api.PyInterpreterState_Main()
    if interp != main:
        fail("%s: tstate+ts_interp holds %#x, PyInterpreterState_Main() is %#x"
             % (label, interp, main or 0))
    ident = ctypes.c_ulong.from_address(ts + L.ts_thread_id).value
    if ident != threading.get_ident():
        fail("%s: tstate+ts_thread_id holds %#x, threading.get_ident() is %#x"
             % (label, ident, threading.get_ident()))
    if (L.ts_native_id >= 0) != (MINOR >= 11):
        fail("ts_native_id is %d on 3.%d (PyThreadState.native_thread_id: 3.11+)"
             % (L.ts_native_id, MINOR))
    elif L.ts_native_id >= 0:
        native = ctypes.c_ulong.from_address(ts + L.ts_native_id).value
        if native != threading.get_native_id():
            fail("%s: tstate+ts_native_id holds %d, threading.get_native_id() is %d"
                 % (label, native, threading.get_native_id()))


def inner(label, min_skipped=1):
    return check_stack(label, min_skipped)


def outer(label, min_skipped=1):
    return inner(label, min_skipped)


def in_generator():
    yield outer("generator")


def c_reentry():
    # sorted() calls key from C: on 3.12+ a C-stack frame between
    return sorted([2, 1], key=lambda x: outer("C -> Python", 2) or x)


def second_thread():
    def run():
        try:
            outer("second thread")
            check_interp("second thread")
        except Exception:
            fail("second thread: " + traceback.format_exc().strip().replace("\n", " | "))
    t = threading.Thread(target=run, name="check_layouts")
    t.start()
    t.join()


# ---- generators and coroutines ------------------------------------------------

class Pause(object):
    def __await__(self):
        yield


async def waiting(awaitable, tag):
    held = [tag, object()]
    text = "held by " + tag
    cell = [tag]      # a cell: co_nlocalsplus is not co_nlocals on 3.11+
    keep = lambda: cell  # noqa: E731
    line = sys._getframe().f_lineno + 1
    got = await awaitable
    after = (got, held, text, line, keep)
    return after


def yielding(tag):
    held = [tag, object()]
    line = sys._getframe().f_lineno + 1
    got = yield held
    return got


async def agen_waiting(awaitable, tag):
    held = [tag, object()]
    text = "held by " + tag
    line = sys._getframe().f_lineno + 1
    got = await awaitable
    yield (got, held, text, line)


def gen_parts(obj):
    if isinstance(obj, types.CoroutineType):
        return obj.cr_code, obj.cr_frame
    if isinstance(obj, types.AsyncGeneratorType):
        return obj.ag_code, obj.ag_frame
    return obj.gi_code, obj.gi_frame


AGEN_DRIVER_TARGET = 16  # shim/cpython/offsets.h


def check_passes_to(obj, target, tp_name, label):
    """pytask.c's passes_to(): the object an await passes through to, and
    the type name it recognises OBJ by."""
    name = ctypes.string_at(ptr(id(type(obj)) + TP_NAME)).decode()
    if name != tp_name:
        fail("%s: tp_name %r, pytask.c compares %r" % (label, name, tp_name))
    if ptr(id(obj) + AGEN_DRIVER_TARGET) != id(target):
        fail("%s: the field at %d is %#x, not %#x" % (label, AGEN_DRIVER_TARGET,
                                                      ptr(id(obj) + AGEN_DRIVER_TARGET), id(target)))


def run_to_end(awaitable):
    try:
        awaitable.send(None)
    except StopIteration:
        return
    fail("%r did not finish" % awaitable)


def async_generators():
    a = agen_waiting(Pause(), "async generator")
    check_suspended(a, "created async generator", started=False)
    step = a.asend(None)
    check_passes_to(step, a, "async_generator_asend", "asend")
    step.send(None)  # into the generator, which waits in Pause
    check_suspended(a, "suspended async generator")
    try:
        step.send("sent")
    except StopIteration:
        pass
    throw = a.athrow(GeneratorExit)
    check_passes_to(throw, a, "async_generator_athrow", "athrow")
    throw.close()
    run_to_end(a.aclose())
    check_finished(a, "closed async generator")
    if sys.version_info >= (3, 10):
        b = agen_waiting(Pause(), "anext")
        waiter = anext(b, None)  # noqa: F821 (3.10+)
        asend = ctypes.cast(ptr(id(waiter) + AGEN_DRIVER_TARGET), ctypes.py_object).value
        check_passes_to(waiter, asend, "anext_awaitable", "anext_awaitable")
        check_passes_to(asend, b, "async_generator_asend", "anext's asend")
        waiter.close()
        run_to_end(b.aclose())


def check_qualname(obj, label):
    """What frames.c's tl_frames_generator_qualname() reads."""
    q = ptr(id(obj) + L.gen_qualname)
    if q != id(obj.__qualname__):
        fail("%s: gen_qualname holds %#x, not its __qualname__ %#x" % (label, q, id(obj.__qualname__)))


def check_suspended(obj, label, started=True):
    """What frames.c's tl_frames_of_generator() and
    tl_frames_locals_of_generator() read of a created or suspended one."""
    code, pyframe = gen_parts(obj)
    base = id(obj)
    check_qualname(obj, label)
    if L.gen_state >= 0:
        state = i8(base + L.gen_state)
        if state >= L.gen_finished:
            fail("%s: gen_state %d >= gen_finished %d while %s"
                 % (label, state, L.gen_finished, "suspended" if started else "created"))
    if L.code_adaptive < 0:
        f = ptr(base + L.gen_frame)
        if f != id(pyframe):
            fail("%s: gen_frame holds %#x, not the frame object %#x" % (label, f, id(pyframe)))
            return
    else:
        f = base + L.gen_frame
    co = frame_code(f)
    if co != id(code):
        fail("%s: frame_code of the frame at gen_frame is %#x, not its code %#x" % (label, co, id(code)))
        return
    line = addr2line(co, byte_offset(f, co))
    pylocals = pyframe.f_locals
    if line != pyframe.f_lineno or (started and line != pylocals["line"]):
        fail("%s: line %d by offset, %s at %d (f_lineno %d)" % (
            label, line, "suspended" if started else "created",
            pylocals["line"] if started else pyframe.f_lineno, pyframe.f_lineno))
    n = ctypes.c_int.from_address(co + L.code_nlocals).value
    names = code.co_varnames + tuple(c for c in code.co_cellvars if c not in code.co_varnames)
    want_n = code.co_nlocals if L.code_adaptive < 0 else len(names) + len(code.co_freevars)
    if n != want_n:
        fail("%s: code_nlocals reads %d, not %d" % (label, n, want_n))
    for i, name in enumerate(code.co_varnames):
        value = ptr(f + L.frame_locals + i * ctypes.sizeof(VP)) & L.mask
        try:
            want = id(pylocals[name])
        except KeyError:
            want = 0   # unbound: NULL
        if value != want:
            fail("%s: local %d (%s) by frame_locals is %#x, f_locals has %#x"
                 % (label, i, name, value, want))


def check_running(obj, label):
    """Running (this very code is its frame's): not finished either."""
    if L.gen_state >= 0:
        state = i8(id(obj) + L.gen_state)
        if state >= L.gen_finished:
            fail("%s: gen_state %d >= gen_finished %d while running" % (label, state, L.gen_finished))


def check_finished(obj, label):
    """A returned or closed one: frames.c must not read its frame."""
    if L.gen_state >= 0:
        state = i8(id(obj) + L.gen_state)
        if state < L.gen_finished:
            fail("%s: gen_state %d < gen_finished %d once finished" % (label, state, L.gen_finished))
    elif ptr(id(obj) + L.gen_frame):
        fail("%s: gen_frame still holds a frame once finished" % label)


def generators():
    g = yielding("generator")
    check_suspended(g, "created generator", started=False)
    next(g)
    check_suspended(g, "suspended generator")
    g.close()
    check_finished(g, "closed generator")
    c = waiting(Pause(), "coroutine")
    check_suspended(c, "created coroutine", started=False)
    c.send(None)
    check_suspended(c, "suspended coroutine")
    c.close()
    check_finished(c, "closed coroutine")


async def leaf(label):
    await Pause()    # resumed by the event loop (a task step), not by the caller
    return outer(label)


async def with_asyncio():
    import asyncio
    await leaf("coroutine in asyncio")
    check_running(asyncio.current_task().get_coro(), "asyncio.run's coroutine")
    loop = asyncio.get_event_loop()
    fut = loop.create_future()
    task = loop.create_task(waiting(fut, "asyncio task"))
    await asyncio.sleep(0)   # the task runs up to `await fut`
    coro = task.get_coro()
    if coro.cr_frame is None or coro.cr_frame.f_locals.get("line") is None:
        fail("asyncio task: not waiting at `await fut` after one loop iteration")
    else:
        check_suspended(coro, "asyncio task (suspended)")
    fut.set_result(1)
    await task
    check_finished(coro, "asyncio task (returned)")


# ---- 3.13+: _PyRuntime.debug_offsets ---------------------------------------------

def check_debug_offsets():
    if MINOR < 13:
        bad = ["%s = %d" % kv for kv in sorted(L.dbg.items()) if kv[1] >= 0]
        if bad:
            fail(".dbg slots before 3.13: %s" % ", ".join(bad))
        return
    try:
        runtime = ctypes.c_char.in_dll(api, "_PyRuntime")
    except ValueError:       # libpython linked into the executable
        runtime = ctypes.c_char.in_dll(ctypes.CDLL(None), "_PyRuntime")
    rt = ctypes.addressof(runtime)
    cookie = ctypes.string_at(rt, 8)
    if cookie != b"xdebugpy":
        fail("_PyRuntime starts with %r, not the cookie b'xdebugpy'" % cookie)
        return
    version = ctypes.c_uint64.from_address(rt + 8).value
    if version != sys.hexversion:
        fail("_PyRuntime.debug_offsets.version %#x != sys.hexversion %#x" % (version, sys.hexversion))
    for field in DBG_FIELDS:
        slot = L.dbg[field]
        if slot >= 0:
            value = ctypes.c_uint64.from_address(rt + 8 * slot).value
            # gi_name: gi_qualname, which the row has, follows it
            row_field, want = (("gen_qualname", L.gen_qualname - ctypes.sizeof(VP))
                               if field == "gen_name" else (field, getattr(L, field)))
            if value != want:
                fail(".dbg.%s = %d: debug_offsets slot %d holds %d, the row's %s gives %d"
                     % (field, slot, slot, value, row_field, want))


# ---- main ------------------------------------------------------------------------

LABEL = ""


def check(label, layouts):
    global L, LABEL
    LABEL = label
    faulthandler.enable()
    lo, hi = common.supported_minors()
    try:
        rows = load_rows(layouts)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (layouts, e))
        return 1
    mine = [r for r in rows if r["minor"] == MINOR and r["debug"] == DEBUG]
    if sys.version_info[0] != 3 or not lo <= MINOR <= hi:
        if not mine:
            print("SKIP %s: no row" % VERSION)
            return 0
    if len(mine) != 1:
        fail("%d rows for .minor = %d, .debug = %d in %s (supported: 3.%d to 3.%d)"
             % (len(mine), MINOR, DEBUG, layouts, lo, hi))
        return 1
    L = Layout(mine[0])
    api.PyInterpreterState_Main.restype = VP
    api.PyInterpreterState_Main.argtypes = []
    scenarios = [
        ("main thread interp", lambda: check_interp("main thread")),
        ("tuple", check_tuple),
        ("code names", check_code_names),
        ("plain", lambda: outer("plain calls")),
        ("generator", lambda: next(in_generator())),
        ("C -> Python", c_reentry),
        ("asyncio", lambda: __import__("asyncio").run(with_asyncio())),
        ("second thread", second_thread),
        ("generators", generators),
        ("async generators", async_generators),
        ("debug_offsets", check_debug_offsets),
    ]
    for name, scenario in scenarios:
        try:
            scenario()
        except Exception:
            fail("%s: %s" % (name, traceback.format_exc().strip().replace("\n", " | ")))
    if problems:
        return 1
    print("OK %s %s" % (VERSION, label))
    return 0


def run_layouts(layouts, patterns=(), pythons=()):
    """Every interpreter of tests/common.py (or PYTHONS) that -k PATTERNS
    keeps runs check()."""
    try:
        interps, notes = common.discover(include_debug=True, explicit=list(pythons))
    except common.PythonsError as e:
        print("FAIL pythons: %s" % e)
        return 1
    script = os.path.realpath(__file__)
    passed = failed = 0
    skipped = len(notes)
    for note in notes:
        print(note)
    interps = [it for it in interps
               if common.selected("%s %s" % (it.version_str, it.label), patterns)]
    for it in interps:
        cmd = [it.path, script, "--label", it.label, "--layouts", os.path.abspath(layouts)]
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, cwd=ROOT, env=common.env(),
                               timeout=300, universal_newlines=True)
            out, rc = r.stdout.rstrip("\n"), r.returncode
        except subprocess.TimeoutExpired:
            out, rc = "", "timeout (300 s)"
        lines = out.splitlines()
        last = lines[-1] if lines else ""
        if rc == 0 and last.startswith("OK "):
            passed += 1
            print(last)
        elif rc == 0 and last.startswith("SKIP "):
            skipped += 1
            print(last)
        else:
            failed += 1
            print("\n".join(lines) if lines else "FAIL %s: no output" % it.label)
            if not last.startswith("FAIL ") or rc != 1:
                print("FAIL %s %s: exit status %s" % (it.version_str, it.label, rc))
        sys.stdout.flush()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or not passed else 0


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run-layouts", action="store_true",
                    help="run the check under every interpreter of tests/common.py")
    ap.add_argument("--label", help="the name to print after the version (default: sys.executable)")
    ap.add_argument("--layouts", metavar="FILE", default=LAYOUTS_INC,
                    help="the rows to check (default: shim/cpython/layouts.inc)")
    common.runner_args(ap, what="interpreters", lib=False)
    args = ap.parse_args(argv)
    if args.run_layouts:
        return run_layouts(args.layouts, args.patterns, args.python)
    return check(args.label or "%s%s" % (sys.executable, " (debug)" if DEBUG else ""),
                 os.path.abspath(args.layouts))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
