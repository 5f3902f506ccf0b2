#!/usr/bin/env python3
"""check_layouts.py -- runtime check of shim/cpython/layouts.inc.

Run it with each interpreter:  pythonX.Y scripts/dev/check_layouts.py [layouts.inc]

Using only ctypes it gets PyThreadState* (PyThreadState_Get), follows the
offsets of this version's TL_LAYOUT row to the innermost frame, walks the
`back` pointers (skipping owner == owner_cstack frames on 3.12+), reads the
code pointer and instr, converts to a byte offset, calls PyCode_Addr2Line and
compares (co_name, line) with the sys._getframe() chain and
traceback.extract_stack() taken from the same point.  Scenarios: plain calls,
generator, coroutine, C->Python re-entry (sorted(key=...)), a second thread.

Extra cross-checks: code ptr == id(f.f_code); 3.8-3.10 frame ptr == id(frame);
byte offset == f.f_lasti; 3.11+ PyFrame_GetLasti; 3.12+
PyUnstable_InterpreterFrame_GetLasti/GetLine on the raw frame; 3.13 live
_PyRuntime.debug_offsets; descriptor offsets (d_method, d_wrapped) and the
_PyRuntime audit-hook list head offset (via PySys_AddAuditHook).

Prints "OK <version>" and exits 0 on success, non-zero otherwise.
"""
import ctypes
import os
import re
import sys
import threading
import traceback
import types

FIELDS = ("major", "minor", "ts_frame", "ts_cframe", "cframe_current",
          "frame_back", "frame_code", "frame_instr", "frame_owner",
          "owner_cstack", "code_adaptive", "instr_unit")

# Facts printed by gen_layouts.sh ("extra facts"); x86_64, release builds.
#   minor: (PyMethodDescrObject.d_method, PyWrapperDescrObject.d_wrapped,
#           offset of the C audit-hook list head inside _PyRuntimeState)
FACTS = {
    8: (40, 48, 1456),
    9: (40, 48, 648),
    10: (40, 48, 648),
    11: (40, 48, 656),
    12: (40, 48, 3064),   # _PyRuntime.audit_hooks.head
    13: (40, 48, 10424),  # _PyRuntime.audit_hooks.head
}
TP_HASH = 120  # offsetof(PyTypeObject, tp_hash), x86_64, all versions


class Layout(object):
    def __init__(self, vals):
        for k, v in zip(FIELDS, vals):
            setattr(self, k, v)


def load_layout(path):
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for m in re.finditer(r"TL_LAYOUT\(([^)]*)\)", text):
        vals = [int(x) for x in m.group(1).split(",")]
        if len(vals) != len(FIELDS):
            raise SystemExit("bad row: %r" % m.group(0))
        if tuple(vals[:2]) == tuple(sys.version_info[:2]):
            return Layout(vals)
    raise SystemExit("no TL_LAYOUT row for %d.%d in %s" % (sys.version_info[:2] + (path,)))


here = os.path.dirname(os.path.abspath(__file__))
LAYOUT_PATH = (sys.argv[1] if len(sys.argv) > 1
               else os.path.join(here, "..", "..", "shim", "cpython", "layouts.inc"))
L = load_layout(LAYOUT_PATH)
MINOR = sys.version_info[1]

api = ctypes.pythonapi
api.PyThreadState_Get.restype = ctypes.c_void_p
api.PyThreadState_Get.argtypes = []
api.PyCode_Addr2Line.restype = ctypes.c_int
api.PyCode_Addr2Line.argtypes = [ctypes.c_void_p, ctypes.c_int]
if MINOR >= 11:
    api.PyFrame_GetLasti.restype = ctypes.c_int
    api.PyFrame_GetLasti.argtypes = [ctypes.py_object]
if MINOR >= 12:
    for fn in (api.PyUnstable_InterpreterFrame_GetLasti,
               api.PyUnstable_InterpreterFrame_GetLine):
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p]

VP = ctypes.c_void_p
failures = []


def fail(msg):
    failures.append(msg)
    print("  FAIL: " + msg)


def rd_ptr(addr):
    return VP.from_address(addr).value or 0


def rd_i32(addr):
    return ctypes.c_int.from_address(addr).value


def rd_u8(addr):
    return ctypes.c_ubyte.from_address(addr).value


def obj_at(addr):
    return ctypes.cast(VP(addr), ctypes.py_object).value


def byte_offset(frame, code):
    if L.code_adaptive < 0:               # 3.8-3.10: int f_lasti
        return rd_i32(frame + L.frame_instr) * L.instr_unit
    ip = rd_ptr(frame + L.frame_instr)    # 3.11+: _Py_CODEUNIT*
    return ip - (code + L.code_adaptive)  # already bytes


def native_walk():
    """Walk this thread's frames purely through raw memory + layouts.inc.

    Returns (raw, here_line): raw is a list of dicts, innermost first, of
    every frame on the chain (including skipped shims); here_line is the line
    this function's own frame was executing when its instr was read."""
    # These first reads must be inline ctypes (C calls only): a Python helper
    # here would itself be the "current frame" and leave us a dangling pointer.
    ts = api.PyThreadState_Get()
    if L.ts_cframe >= 0:
        f = VP.from_address(VP.from_address(ts + L.ts_cframe).value + L.cframe_current).value
    else:
        f = VP.from_address(ts + L.ts_frame).value
    raw = []
    here_line = None
    while f:
        owner = rd_u8(f + L.frame_owner) if L.frame_owner >= 0 else None
        code = rd_ptr(f + L.frame_code)
        ent = {"frame": f, "owner": owner, "code": code, "shim": False}
        if MINOR == 11:  # informational: bool is_entry sits right before owner
            ent["entry"] = rd_u8(f + L.frame_owner - 1)
        if L.owner_cstack >= 0 and owner == L.owner_cstack:
            ent["shim"] = True
            co = obj_at(code) if code else None
            ent["shim_code"] = (co.co_name if isinstance(co, types.CodeType)
                                else type(co).__name__)
        else:
            off, line_here = byte_offset(f, code), sys._getframe().f_lineno
            if here_line is None:
                here_line = line_here   # innermost (this) frame's instr was read here
            ent["off"] = off
            ent["line"] = api.PyCode_Addr2Line(code, off)
            ent["name"] = obj_at(code).co_name
        raw.append(ent)
        f = rd_ptr(f + L.frame_back)
    return raw, here_line


def compare(label):
    raw, here_line = native_walk()
    me = sys._getframe()
    nat = [e for e in raw if not e["shim"]]

    # expected chain: this frame (compare() itself) is not in raw; raw[0] is native_walk
    py = []
    fr = me
    while fr is not None:
        py.append(fr)
        fr = fr.f_back
    exp = [(native_walk.__code__.co_name, here_line)] + \
          [(f.f_code.co_name, f.f_lineno) for f in py]
    got = [(e["name"], e["line"]) for e in nat]
    # compare() frame line differs: raw was read at the `native_walk()` call line
    exp[1] = (exp[1][0], me.f_code.co_firstlineno + 1)
    ok = True
    if got != exp:
        ok = False
        fail("%s: (co_name,line) mismatch\n    native: %s\n    python: %s" % (label, got, exp))

    tb = [(fs.name, fs.lineno) for fs in traceback.extract_stack(me.f_back)][::-1]
    if got[2:] != tb:
        ok = False
        fail("%s: traceback.extract_stack mismatch\n    native: %s\n    tb:     %s" % (label, got[2:], tb))

    if nat[0]["code"] != id(native_walk.__code__):
        ok = False
        fail("%s: innermost frame is not native_walk" % label)
    # per-frame identity / lasti checks on the stable (non-innermost) frames
    for e, f in zip(nat[1:], py):
        if e["code"] != id(f.f_code):
            ok = False
            fail("%s: code ptr mismatch in %s" % (label, f.f_code.co_name))
        if MINOR <= 10 and e["frame"] != id(f):
            ok = False
            fail("%s: frame ptr != id(frame) in %s" % (label, f.f_code.co_name))
        if f is me:
            continue  # its instr moved on since native_walk() returned
        if e["off"] != f.f_lasti:
            ok = False
            fail("%s: byte offset %d != f_lasti %d in %s" % (label, e["off"], f.f_lasti, f.f_code.co_name))
        if MINOR >= 11 and api.PyFrame_GetLasti(f) != e["off"]:
            ok = False
            fail("%s: PyFrame_GetLasti mismatch in %s" % (label, f.f_code.co_name))
        if MINOR >= 12:
            la = api.PyUnstable_InterpreterFrame_GetLasti(e["frame"])
            ln = api.PyUnstable_InterpreterFrame_GetLine(e["frame"])
            if (la, ln) != (e["off"], e["line"]):
                ok = False
                fail("%s: PyUnstable_InterpreterFrame_GetLasti/GetLine (%d,%d) != (%d,%d) in %s"
                     % (label, la, ln, e["off"], e["line"], f.f_code.co_name))
    desc = []
    for e in raw:
        if e["shim"]:
            desc.append("<shim owner=%d code=%s>" % (e["owner"], e["shim_code"]))
        else:
            o = "" if e["owner"] is None else "/o%d" % e["owner"]
            if e.get("entry"):
                o += "/is_entry"
            desc.append("%s:%d%s" % (e["name"], e["line"], o))
    print("  %-10s %s  %d raw frames, %d shim: %s" % (
        label, "ok" if ok else "FAIL", len(raw), len(raw) - len(nat), " <- ".join(desc)))
    return raw


# ---- scenarios -------------------------------------------------------------

def level2(label):
    return compare(label)


def level1(label):
    return level2(label)


def gen():
    yield compare("generator")


async def coro():
    return compare("coroutine")


def via_c(label):
    # sorted() calls key from C: C->Python re-entry (shim on 3.12+, is_entry on 3.11)
    return sorted([0], key=lambda x: compare(label) and 0)


def in_thread():
    out = []
    t = threading.Thread(target=lambda: out.append(level1("thread")))
    t.start()
    t.join()
    return out


def check_frames():
    print("frames:")
    raw = level1("plain")
    first = raw[0]
    # what does the caller's instr point at? (level2 is suspended in its call)
    import dis
    lv2 = [e for e in raw if e.get("name") == "level2"][0]
    op = level2.__code__.co_code[lv2["off"]] if lv2["off"] >= 0 else None
    print("  caller level2: byte offset %d -> opcode %s (code units: %d)" % (
        lv2["off"], dis.opname[op] if op is not None else "-",
        len(level2.__code__.co_code) // 2))
    print("  innermost raw frame: %s (owner=%s) -- %s" % (
        first.get("name", "<shim>"), first["owner"],
        "the ctypes call adds NO frame/shim; innermost is the calling Python function"
        if not first["shim"] else "SHIM"))
    next(gen())
    c = coro()
    try:
        c.send(None)
    except StopIteration:
        pass
    via_c("c-reentry")
    in_thread()


def check_debug_offsets():
    if MINOR < 13:
        return
    # leading part of _Py_DebugOffsets (3.13 internal/pycore_runtime.h), all uint64
    class DO(ctypes.Structure):
        _fields_ = ([("cookie", ctypes.c_char * 8), ("version", ctypes.c_uint64),
                     ("free_threaded", ctypes.c_uint64)] +
                    [("rs%d" % i, ctypes.c_uint64) for i in range(3)] +
                    [("is%d" % i, ctypes.c_uint64) for i in range(13)] +
                    [("ts_size", ctypes.c_uint64), ("ts_prev", ctypes.c_uint64),
                     ("ts_next", ctypes.c_uint64), ("ts_interp", ctypes.c_uint64),
                     ("ts_current_frame", ctypes.c_uint64)] +
                    [("ts%d" % i, ctypes.c_uint64) for i in range(4)] +
                    [("if_size", ctypes.c_uint64), ("if_previous", ctypes.c_uint64),
                     ("if_executable", ctypes.c_uint64), ("if_instr_ptr", ctypes.c_uint64),
                     ("if_localsplus", ctypes.c_uint64), ("if_owner", ctypes.c_uint64)] +
                    [("co%d" % i, ctypes.c_uint64) for i in range(9)] +
                    [("co_code_adaptive", ctypes.c_uint64)])
    rt = ctypes.addressof(ctypes.c_char.in_dll(api, "_PyRuntime"))
    d = DO.from_address(rt)  # debug_offsets is the first member of _PyRuntimeState
    pairs = [("thread_state.current_frame", d.ts_current_frame, L.ts_frame),
             ("interpreter_frame.previous", d.if_previous, L.frame_back),
             ("interpreter_frame.executable", d.if_executable, L.frame_code),
             ("interpreter_frame.instr_ptr", d.if_instr_ptr, L.frame_instr),
             ("interpreter_frame.owner", d.if_owner, L.frame_owner),
             ("code_object.co_code_adaptive", d.co_code_adaptive, L.code_adaptive)]
    bad = [p for p in pairs if p[1] != p[2]]
    print("debug_offsets (live _PyRuntime, cookie=%r version=%#x free_threaded=%d): %s" % (
        d.cookie, d.version, d.free_threaded,
        "ok" if not bad and d.cookie == b"xdebugpy" else "FAIL"))
    for name, live, ours in pairs:
        print("  %-30s live=%-4d layouts.inc=%d" % (name, live, ours))
    if bad or d.cookie != b"xdebugpy":
        fail("debug_offsets mismatch: %r" % (bad,))


def check_descr_and_audit():
    d_method, d_wrapped, audit_head = FACTS[MINOR]
    # PyMethodDescrObject.d_method -> PyMethodDef*, whose ml_name is first
    md = rd_ptr(id(str.join) + d_method)
    name = ctypes.c_char_p.from_address(md).value
    # PyWrapperDescrObject.d_wrapped == the type slot it wraps (int.__hash__ -> tp_hash)
    wrapped = rd_ptr(id(int.__hash__) + d_wrapped)
    tp_hash = rd_ptr(id(int) + TP_HASH)
    ok = name == b"join" and wrapped == tp_hash and wrapped != 0
    print("descr: str.join d_method->ml_name=%r, int.__hash__ d_wrapped==int.tp_hash: %s -> %s"
          % (name, wrapped == tp_hash, "ok" if ok else "FAIL"))
    if not ok:
        fail("descriptor offsets")

    # C-level audit hook list: PySys_AddAuditHook appends an entry
    # {next, hookCFunction, userData} to the list whose head is in _PyRuntime.
    # The hook must stay callable until process exit (it is called during
    # finalization), so use a plain C function, not a ctypes callback:
    # Py_IsInitialized(void) ignores its arguments and returns 0/1 (>= 0 = ok).
    hook_addr = ctypes.cast(api.Py_IsInitialized, ctypes.c_void_p).value
    api.PySys_AddAuditHook.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    api.PySys_AddAuditHook.restype = ctypes.c_int
    cookie = 0x7A5C1EA4
    rc = api.PySys_AddAuditHook(hook_addr, cookie)
    rt = ctypes.addressof(ctypes.c_char.in_dll(api, "_PyRuntime"))
    e = rd_ptr(rt + audit_head)
    found, n = False, 0
    while e and n < 64:
        if rd_ptr(e + 8) == hook_addr and rd_ptr(e + 16) == cookie:
            found = True
        e = rd_ptr(e)
        n += 1
    print("audit: PySys_AddAuditHook rc=%d, found in list at _PyRuntime+%d (%d entries): %s"
          % (rc, audit_head, n, "ok" if found else "FAIL"))
    if not found:
        fail("audit hook head offset")


def build_info():
    import sysconfig
    print("build: abiflags=%r Py_GIL_DISABLED=%r Py_DEBUG=%r gettotalrefcount=%s exe=%s" % (
        getattr(sys, "abiflags", None), sysconfig.get_config_var("Py_GIL_DISABLED"),
        sysconfig.get_config_var("Py_DEBUG"), hasattr(sys, "gettotalrefcount"),
        sys.executable))


def main():
    print("== %s (%s) layout row %d.%d" % (sys.version.split()[0], sys.executable, L.major, L.minor))
    build_info()
    check_frames()
    check_debug_offsets()
    check_descr_and_audit()
    if failures:
        print("FAILED %s: %d problem(s)" % (sys.version.split()[0], len(failures)))
        return 1
    print("OK %s" % sys.version.split()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
