/* SPDX-License-Identifier: MIT */
/* The interpreter's threads as a snapshot found them (hooks/threads.c
 * gathers them under the GIL; the report lists them): plain records. */
#ifndef TL_THREADS_H
#define TL_THREADS_H

#include <stddef.h>
#include <stdint.h>

/* Whether the interpreter's exit waits for a thread, and why. */
enum tl_exit_wait {
    TL_EXIT_NO_WAIT,
    TL_EXIT_NON_DAEMON,       /* threading._shutdown joins it */
    TL_EXIT_DEFAULT_EXECUTOR, /* a worker of an event loop's default executor running a job */
    TL_EXIT_EXECUTOR,         /* a worker of another ThreadPoolExecutor running a job */
    TL_N_EXIT_WAITS
};
/* NULL, "non-daemon thread", ... (the report's `why`). */
extern const char *const tl_exit_wait_names[TL_N_EXIT_WAITS];

struct tl_thread {
    unsigned long ident;  /* threading.get_ident() */
    long native_id;       /* the kernel's thread id; -1 when unknown */
    char *name;           /* its threading.Thread's name; NULL without one */
    int8_t daemon;        /* 1, 0, or -1 when unknown (no threading.Thread) */
    uint8_t main;         /* the main thread */
    uint8_t why;          /* enum tl_exit_wait */
    uint32_t stack;       /* Python stack, innermost first (tl_py_stacks id) */
    /* An executor worker running a job: the job's innermost frame of its own
     * function (a one-frame stack), else, for a job with no Python frame (a C
     * function), its name; and the address of the job's
     * concurrent.futures.Future. */
    uint32_t job;
    char *job_name;
    uintptr_t job_future;
};

struct tl_threads {
    struct tl_thread *items;
    size_t n;
};

void tl_threads_free(struct tl_threads *t);

#endif
