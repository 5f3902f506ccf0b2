/* SPDX-License-Identifier: MIT */
/* Signals the program handles, observed: `sigaction` is interposed, and a
 * handler the program installs for SIGTERM, SIGINT, SIGHUP or SIGQUIT is
 * wrapped so that its delivery starts the shutdown watchdog's clock
 * (core/shutdown.h) before the program's own handler runs, called exactly
 * as the kernel would have called it.
 *
 * Transparent: the kernel gets the program's flags and mask (plus
 * SA_SIGINFO, to pass siginfo and the context on), a query returns the
 * program's own handler and flags, SA_RESETHAND resets to the default as
 * the kernel does (a query then says SIG_DFL), SIG_DFL and SIG_IGN are
 * installed as they are (a default-action SIGTERM still ends the process at
 * once), errno is the program's.  Everything else, and every call while
 * the library does not audit this process (not CPython, refused,
 * disabled), goes straight to the C library's sigaction.  The library's
 * own handler (dump_signal) is installed through tl_real_sigaction.
 *
 * Not seen: handlers installed through glibc's signal()/sigset() (they
 * call the C library's internal sigaction) after the library started;
 * those installed before are wrapped at activation. */
#include "root/signals.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "core/core.h"
#include "core/shutdown.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction;
static int enabled; /* this process is audited */

/* The program's action for each watched signal: a small ring of copies and
 * the index of the one in force, so that a handler reading it never sees
 * one half written (sigaction is async-signal-safe: no lock here). */
#define RING 4
static const int watched[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
#define N_WATCHED (int)(sizeof watched / sizeof watched[0])
static struct {
    struct sigaction ring[RING];
    unsigned next, current; /* current: index + 1; 0 before the first */
    int wrapped;            /* the kernel holds what we installed last */
} program[N_WATCHED];

static int slot_of(int sig)
{
    for (int i = 0; i < N_WATCHED; i++)
        if (watched[i] == sig)
            return i;
    return -1;
}

static sigaction_fn real(void)
{
    sigaction_fn f = __atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE);
    if (!f) { /* called before our constructor (another library's) */
        *(void **)&f = dlsym(RTLD_NEXT, "sigaction");
        __atomic_store_n(&real_sigaction, f, __ATOMIC_RELEASE);
    }
    return f;
}

int tl_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    sigaction_fn f = real();
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return f(sig, act, old);
}

static const struct sigaction *program_action(int slot)
{
    unsigned c = __atomic_load_n(&program[slot].current, __ATOMIC_ACQUIRE);
    return c ? &program[slot].ring[c - 1] : NULL;
}

static void set_program_action(int slot, const struct sigaction *act)
{
    unsigned i = __atomic_fetch_add(&program[slot].next, 1, __ATOMIC_RELAXED) % RING;
    program[slot].ring[i] = *act;
    __atomic_store_n(&program[slot].current, i + 1, __ATOMIC_RELEASE);
}

static int is_function(const struct sigaction *a)
{
    return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

static void on_signal(int sig, siginfo_t *info, void *context);

static int is_ours(const struct sigaction *a)
{
    return (a->sa_flags & SA_SIGINFO) && a->sa_sigaction == on_signal;
}

/* Only reachable by a race with the program replacing its handler: what
 * the kernel would have done for the default action. */
static void default_action(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    tl_real_sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

static void on_signal(int sig, siginfo_t *info, void *context)
{
    int saved = errno;
    int slot = slot_of(sig);
    const struct sigaction *a = slot >= 0 ? program_action(slot) : NULL;
    if (a && is_function(a))
        tl_shutdown_signal(sig, tl_now());
    errno = saved;
    if (!a || a->sa_handler == SIG_IGN)
        return;
    if (a->sa_flags & SA_SIGINFO)
        a->sa_sigaction(sig, info, context);
    else if (a->sa_handler == SIG_DFL)
        default_action(sig);
    else
        a->sa_handler(sig);
}

/* What a query returns: the kernel's answer, with the program's handler
 * `p` where the kernel holds our wrapper, and the program's SA_SIGINFO
 * choice where it holds what we installed, SA_RESETHAND's reset included
 * (the kernel keeps the flags then); flags the C library adds, such as
 * SA_RESTORER, stay as they would be. */
static void as_program_sees(const struct sigaction *p, int wrapped, struct sigaction *kernel)
{
    int ours = is_ours(kernel);
    int reset = wrapped && kernel->sa_handler == SIG_DFL && (kernel->sa_flags & SA_RESETHAND);
    if (!p || (!ours && !reset))
        return;
    if (ours && (p->sa_flags & SA_SIGINFO))
        kernel->sa_sigaction = p->sa_sigaction;
    else if (ours)
        kernel->sa_handler = p->sa_handler;
    kernel->sa_flags = (kernel->sa_flags & ~SA_SIGINFO) | (p->sa_flags & SA_SIGINFO);
}

/* Install `act` (a handler of the program's) wrapped; `act` may be our
 * own wrapper handed back (glibc's signal() returns what the kernel holds):
 * then the program's handler in force stays. */
static int install_wrapped(int sig, int slot, const struct sigaction *act, struct sigaction *kernel_old)
{
    struct sigaction wrapped = *act;
    wrapped.sa_flags |= SA_SIGINFO;
    wrapped.sa_sigaction = on_signal;
    int ours = act->sa_sigaction == on_signal; /* whatever its flags say */
    struct sigaction copy = *act; /* `act` may be `old` itself */
    int rc = tl_real_sigaction(sig, &wrapped, kernel_old);
    if (rc == 0 && !ours)
        set_program_action(slot, &copy);
    if (rc == 0)
        __atomic_store_n(&program[slot].wrapped, 1, __ATOMIC_RELAXED);
    return rc;
}

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act,
                                                     struct sigaction *old)
{
    int slot = slot_of(sig);
    if (slot < 0)
        return tl_real_sigaction(sig, act, old);
    /* The action in force before this call, which `old` reports. */
    const struct sigaction *p = program_action(slot);
    struct sigaction before, kernel_old;
    if (p)
        before = *p;
    int wrapped = __atomic_load_n(&program[slot].wrapped, __ATOMIC_RELAXED), rc;
    if (act && is_function(act) && __atomic_load_n(&enabled, __ATOMIC_RELAXED)) {
        rc = install_wrapped(sig, slot, act, &kernel_old);
    } else {
        rc = tl_real_sigaction(sig, act, &kernel_old);
        if (rc == 0 && act)
            __atomic_store_n(&program[slot].wrapped, 0, __ATOMIC_RELAXED);
    }
    if (rc == 0 && old) {
        as_program_sees(p ? &before : NULL, wrapped, &kernel_old);
        *old = kernel_old;
    }
    return rc;
}

void tl_signals_enable(int on)
{
    __atomic_store_n(&enabled, on, __ATOMIC_RELAXED);
}

void tl_signals_wrap_installed(void)
{
    if (!__atomic_load_n(&enabled, __ATOMIC_RELAXED))
        return;
    int saved = errno;
    for (int i = 0; i < N_WATCHED; i++) {
        struct sigaction now;
        if (tl_real_sigaction(watched[i], NULL, &now) == 0 && is_function(&now) && !is_ours(&now))
            install_wrapped(watched[i], i, &now, NULL);
    }
    errno = saved;
}

__attribute__((constructor(102))) static void resolve(void)
{
    real();
    tl_libc_sigaction = tl_real_sigaction;
}
