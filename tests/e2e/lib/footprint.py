# SPDX-License-Identifier: MIT
"""The task object's footprint: preloaded, the library grows asyncio's C Task
type by its in-object record (struct tl_inobj in shim/hooks/task_hooks.c,
48 bytes), so that a plain task's spawn needs no table, rounded up so that a
task takes whole cache lines (but with 3.13+'s inline attribute values,
which come after it).  A silent failure to grow would still pass every
report check (the table takes the task), so it is checked here, per
interpreter: the C Task is exactly that much larger with the library, one of
its instances too, a subclass (sized apart) by the same bytes it inherits,
and nothing else about the type changes."""

import shutil

import common
from common import check
from .running import E2E_DROP, run_process, short, text
from .scenario import DEFAULT_TIMEOUT

INOBJ_BYTES = 48
LINE = 64
INLINE_VALUES = 1 << 2  # Py_TPFLAGS_INLINE_VALUES, 3.13+ (unused before)

PROGRAM = r"""
import asyncio, sys
from asyncio import tasks

class Sub(asyncio.Task):
    pass

async def main():
    t = asyncio.ensure_future(asyncio.sleep(0))
    await t
    return sys.getsizeof(t)

print(asyncio.Task is tasks._CTask, asyncio.Task.__basicsize__, Sub.__basicsize__,
      asyncio.Task.__itemsize__, asyncio.Task.__dictoffset__,
      asyncio.Task.__weakrefoffset__, asyncio.run(main()), asyncio.Task.__flags__)
"""


def footprint_checks(interps, lib, wanted):
    """(name, callable) per interpreter: the Task type grown by INOBJ_BYTES."""
    def make(it):
        def go():
            work = common.mkdtemp("taskleak-e2e-footprint.")
            try:
                out = {}
                for with_lib in (True, False):
                    env = common.env(lib=lib if with_lib else None, drop=E2E_DROP,
                                     options=common.options(report_path=work + "/r.%p.json"))
                    r = run_process([it.path, "-c", PROGRAM], env, work, DEFAULT_TIMEOUT)
                    check(r.status == 0 and r.stderr == b"", "%s the library: status %s, "
                          "stderr %r" % ("with" if with_lib else "without", r.status,
                                         short(text(r.stderr))))
                    out[with_lib] = text(r.stdout).split()
                grown, plain = out[True], out[False]
                check(plain[0] == "True", "asyncio.Task is not the C task: %s" % plain)
                size = [int(x) for x in grown[1:-1]], [int(x) for x in plain[1:-1]]
                check(grown[-1] == plain[-1], "Task.__flags__: %s with the library, %s "
                      "without" % (grown[-1], plain[-1]))
                whole = size[1][-1] + INOBJ_BYTES  # sys.getsizeof(task), grown
                pad = 0 if int(plain[-1]) & INLINE_VALUES else -whole % LINE
                what = ("Task.__basicsize__", "a subclass's __basicsize__", "__itemsize__",
                        "__dictoffset__", "__weakrefoffset__", "sys.getsizeof(task)")
                for name, a, b, d in zip(what, size[0], size[1], (1, 1, 0, 0, 0, 1)):
                    check(a == b + d * (INOBJ_BYTES + pad), "%s: %d with the library, %d "
                          "without (expected %+d)" % (name, a, b, d * (INOBJ_BYTES + pad)))
                return "pass", None
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return "task-object-footprint [%s]" % it.label, go

    checks = [make(it) for it in interps]
    return [(n, f) for n, f in checks if common.selected(n, wanted)]
