/* SPDX-License-Identifier: MIT */
/* When the process started to shut down, and why: the watchdog's clock
 * (collector/watchdog.c reads it).  Plain C; the setters are
 * async-signal-safe (a signal handler calls one): a few atomic words. */
#ifndef TL_SHUTDOWN_H
#define TL_SHUTDOWN_H

enum tl_shutdown_cause {
    TL_SHUTDOWN_NONE,
    TL_SHUTDOWN_SIGNAL,   /* SIGTERM, SIGINT, SIGHUP or SIGQUIT, handled by the program */
    TL_SHUTDOWN_RUNNER,   /* asyncio.run / Runner.close cancelling the remaining tasks */
    TL_SHUTDOWN_EXECUTOR, /* asyncio.run shutting the default executor down */
    TL_SHUTDOWN_THREADS,  /* the exit joining threads (threading._shutdown, 3.8's atexit) */
    TL_SHUTDOWN_EXIT,     /* the exit past that: atexit callbacks, finalization */
    TL_N_SHUTDOWN_CAUSES
};
/* The report's names: NULL, "signal", "asyncio.run", ... */
extern const char *const tl_shutdown_cause_names[TL_N_SHUTDOWN_CAUSES];

/* A cause that cannot be taken back, at `t` (tl_now()): the first one
 * starts the shutdown, later ones change nothing.  `sig` for a signal. */
void tl_shutdown_begin(enum tl_shutdown_cause cause, int sig, double t);
/* A handled SIGTERM, SIGINT, SIGHUP or SIGQUIT was delivered at `t`.
 * SIGTERM starts the shutdown.  The others often mean something else to a
 * program that handles them (a Ctrl-C it catches and goes on, as
 * test_asyncio does; reload its configuration; dump its threads:
 * faulthandler.register), so they only date a shutdown that another cause
 * confirms within shutdown_timeout of them (asyncio.run cancelling its
 * main task on Ctrl-C, or what is left; the exit). */
void tl_shutdown_signal(int sig, double t);
/* A cause that can be: an event loop's runner shutting down (RUNNER,
 * EXECUTOR) since `t`, until tl_shutdown_withdraw() says it ended (the loop
 * closed: asyncio.run returned, and the program may go on).  A new one
 * replaces the previous. */
void tl_shutdown_tentative(enum tl_shutdown_cause cause, double t);
void tl_shutdown_withdraw(void);

struct tl_shutdown {
    enum tl_shutdown_cause cause; /* TL_SHUTDOWN_NONE: not started */
    int signal;                   /* the signal, for TL_SHUTDOWN_SIGNAL */
    double t;                     /* when it started */
    int tentative;                /* it rests on a tentative cause alone */
};
/* The shutdown as it stands: the earliest of the two kinds of causes. */
void tl_shutdown_get(struct tl_shutdown *out);

/* Woken when a shutdown starts (async-signal-safe; the root wires the
 * collector's wake-up to it). */
extern void (*tl_shutdown_wake_fn)(void);

/* Forget it (a forked child starts afresh; the unit tests). */
void tl_shutdown_reset(void);

#endif
