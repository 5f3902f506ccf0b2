# The sigaction interposition, seen from the program (no shutdown here):
# handlers of a C library (ctypes) for the watched signals, with
# SA_RESETHAND, SA_NODEFER, SA_SIGINFO or not, are called as the kernel
# calls them, once per signal, with errno as the interrupted code left it
# (and the program sees what the handler left in errno); queries return the
# program's own handler, flags and mask; SA_RESETHAND resets the handler to
# SIG_DFL on delivery; replacing a handler returns the previous one;
# handlers installed through signal.signal and CPython's own SIGINT handler
# are reported as Python's, never as the library's.  The output is the
# same with and without the library.
# build-helper: _sigaction_helper.c
# expect-none
import asyncio
import ctypes
import os
import signal

import _e2e

SA_NODEFER, SA_RESETHAND, SA_RESTART = 0x40000000, 0x80000000, 0x10000000
h = _e2e.helper("_sigaction_helper")
h.helper_where.restype = ctypes.c_char_p


def query(sig):
    flags, usr1 = ctypes.c_int(), ctypes.c_int()
    which = h.helper_query(sig, ctypes.byref(flags), ctypes.byref(usr1))
    return which, hex(flags.value & 0xffffffff), usr1.value


def where(sig):
    return h.helper_where(sig).decode()


def raise_(sig):
    after = ctypes.c_int()
    seen = h.helper_raise_with_errno(sig, ctypes.byref(after))
    return "errno seen %d after %d" % (seen, after.value)


async def main() -> None:
    await asyncio.sleep(0)
    # SIGHUP, once: SA_RESETHAND leaves SIG_DFL behind.
    h.helper_install(signal.SIGHUP, 0, SA_RESETHAND, -1)
    print("SIGHUP", query(signal.SIGHUP), raise_(signal.SIGHUP), "calls", h.helper_calls(),
          "signo", h.helper_signo(), "then", query(signal.SIGHUP))
    # SIGQUIT with SA_SIGINFO|SA_NODEFER, twice.
    h.helper_install(signal.SIGQUIT, 1, SA_NODEFER, -1)
    print("SIGQUIT", query(signal.SIGQUIT), raise_(signal.SIGQUIT), raise_(signal.SIGQUIT),
          "calls", h.helper_calls(), "si_code", h.helper_code(),
          "sender is self", h.helper_pid() == os.getpid(), "context", h.helper_context())
    print("replace returns the previous:", h.helper_replace_plain(signal.SIGQUIT),
          query(signal.SIGQUIT))
    # SIGUSR1 is not watched: untouched either way.
    h.helper_install(signal.SIGUSR1, 1, SA_RESTART, -1)
    print("SIGUSR1", query(signal.SIGUSR1), raise_(signal.SIGUSR1), "calls", h.helper_calls())
    # Python's handlers, as C sees them.
    print("SIGINT (CPython's):", where(signal.SIGINT), query(signal.SIGINT))
    got = []
    signal.signal(signal.SIGTERM, lambda s, f: got.append(s))
    print("SIGTERM (signal.signal):", where(signal.SIGTERM), query(signal.SIGTERM))
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(0)
    print("python handler ran:", got)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    print("SIGTERM restored:", query(signal.SIGTERM))
    print("SIGHUP set to SIG_IGN by signal.signal:", signal.signal(signal.SIGHUP, signal.SIG_IGN) ==
          signal.SIG_DFL, query(signal.SIGHUP))


asyncio.run(main())
