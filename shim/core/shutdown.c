/* SPDX-License-Identifier: MIT */
/* The shutdown clock: two atomic words, each a whole (time, cause, signal)
 * so that a reader never sees half of one.  Time in microseconds since the
 * library started (tl_now()), in the high 52 bits. */
#include "core/shutdown.h"

#include "core/options.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

const char *const tl_shutdown_cause_names[TL_N_SHUTDOWN_CAUSES] = {
    NULL, "signal", "asyncio.run", "executor", "threads", "exit"};

static void nothing(void)
{
}
void (*tl_shutdown_wake_fn)(void) = nothing;

static uint64_t definitive, tentative, hint; /* 0: none; hint: the last SIGINT/SIGHUP/SIGQUIT */

static uint64_t pack(enum tl_shutdown_cause cause, int sig, double t)
{
    uint64_t us = t > 0 ? (uint64_t)(t * 1e6) + 1 : 1; /* never 0 with a cause */
    return us << 12 | (uint64_t)(sig & 0xff) << 4 | (uint64_t)cause;
}

static void unpack(uint64_t w, struct tl_shutdown *out, int is_tentative)
{
    out->cause = (enum tl_shutdown_cause)(w & 0xf);
    out->signal = (int)(w >> 4 & 0xff);
    out->t = (double)((w >> 12) - 1) / 1e6;
    out->tentative = is_tentative;
}

void tl_shutdown_begin(enum tl_shutdown_cause cause, int sig, double t)
{
    uint64_t none = 0;
    if (cause > TL_SHUTDOWN_NONE && cause < TL_N_SHUTDOWN_CAUSES &&
        __atomic_compare_exchange_n(&definitive, &none, pack(cause, sig, t), 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED))
        tl_shutdown_wake_fn();
}

void tl_shutdown_signal(int sig, double t)
{
    if (sig == SIGTERM)
        tl_shutdown_begin(TL_SHUTDOWN_SIGNAL, sig, t);
    else
        __atomic_store_n(&hint, pack(TL_SHUTDOWN_SIGNAL, sig, t), __ATOMIC_RELEASE);
}

void tl_shutdown_tentative(enum tl_shutdown_cause cause, double t)
{
    if (cause <= TL_SHUTDOWN_NONE || cause >= TL_N_SHUTDOWN_CAUSES)
        return;
    __atomic_store_n(&tentative, pack(cause, 0, t), __ATOMIC_RELEASE);
    tl_shutdown_wake_fn();
}

void tl_shutdown_withdraw(void)
{
    __atomic_store_n(&tentative, 0, __ATOMIC_RELEASE);
}

void tl_shutdown_get(struct tl_shutdown *out)
{
    uint64_t d = __atomic_load_n(&definitive, __ATOMIC_ACQUIRE);
    uint64_t t = __atomic_load_n(&tentative, __ATOMIC_ACQUIRE);
    uint64_t h = __atomic_load_n(&hint, __ATOMIC_ACQUIRE);
    /* The earliest cause; a tentative one alone leaves it tentative; a
     * hint dates one that another cause confirms within shutdown_timeout of
     * it (an older hint is another story: a SIGHUP that reloaded, a Ctrl-C
     * the program caught and went on). */
    uint64_t first = d && (!t || d >> 12 <= t >> 12) ? d : t;
    int is_tentative = first && !d;
    uint64_t window = (uint64_t)(tl_opt.shutdown_timeout * 1e6);
    if (first && h && h >> 12 < first >> 12 && (first >> 12) - (h >> 12) <= window)
        first = h;
    out->cause = TL_SHUTDOWN_NONE;
    out->signal = 0;
    out->t = 0;
    out->tentative = 0;
    if (first)
        unpack(first, out, is_tentative);
}

void tl_shutdown_reset(void)
{
    __atomic_store_n(&definitive, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&tentative, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&hint, 0, __ATOMIC_RELAXED);
}
