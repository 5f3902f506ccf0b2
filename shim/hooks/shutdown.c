/* SPDX-License-Identifier: MIT */
/* Watching for a shutdown from the Python side.  asyncio.run's end is
 * tentative: a program may call asyncio.run again and again (a test suite
 * does), so the shutdown of a loop counts only while that loop, held by a
 * weak reference, is still open; the exit joining threads cannot be taken
 * back. */
#include "hooks/shutdown.h"

#include <unistd.h>

#include "core/core.h"
#include "core/roles.h"
#include "core/shutdown.h"
#include "cpython/frames.h"
#include "hooks/capture.h"
#include "hooks/threads.h"

#define MAX_FRAMES 256
#define OUTER_FRAMES 6 /* where a thread's target (_do_shutdown) is */
#define MAX_LOOPS 4

static PyObject *candidate; /* a weak reference to the loop shutting down */
static enum tl_shutdown_cause candidate_cause;

/* A loop's _closed (BaseEventLoop's); 0 when it cannot be read (uvloop). */
static int loop_closed(PyObject *loop)
{
    PyObject *closed = tl_py_instance_item(loop, "_closed");
    int yes = closed && tl_py.PyObject_IsTrue(closed) == 1;
    tl_py.PyErr_Clear();
    if (closed)
        tl_py.Py_DecRef(closed);
    return yes;
}

/* The candidate's loop, if alive (borrowed). */
static PyObject *candidate_loop(void)
{
    PyObject *loop = candidate ? tl_py.PyWeakref_GetObject(candidate) : NULL;
    tl_py.PyErr_Clear();
    return loop && loop != tl_py.None ? loop : NULL;
}

static void drop_candidate(void)
{
    if (candidate)
        tl_py.Py_DecRef(candidate);
    candidate = NULL;
    tl_shutdown_withdraw();
}

/* The loop `loop` of the main thread is shutting down, for `cause`; an
 * earlier one still open keeps its place. */
static void loop_shutting_down(PyObject *loop, enum tl_shutdown_cause cause)
{
    PyObject *current = candidate_loop();
    if (!loop || loop == tl_py.None || loop == current || loop_closed(loop))
        return;
    if (current && !loop_closed(current))
        return;
    PyObject *ref = tl_py.PyWeakref_NewRef(loop, NULL);
    if (!ref) { /* a loop without weak references: no tentative shutdown for it */
        tl_py.PyErr_Clear();
        return;
    }
    drop_candidate();
    candidate = ref;
    candidate_cause = cause;
    tl_shutdown_tentative(cause, tl_now());
}

void tl_shutdown_runner_cancelled(PyObject *task)
{
    if (tl_thread_id() != getpid())
        return; /* a loop of another thread: the process goes on */
    PyObject *loop = tl_py.PyObject_GetAttrString(task, "_loop");
    if (!loop) {
        tl_py.PyErr_Clear();
        return;
    }
    loop_shutting_down(loop, TL_SHUTDOWN_RUNNER);
    tl_py.Py_DecRef(loop);
}

/* The main thread: at exit?  The loops it runs, and the Runner it closes
 * (`*closing`, borrowed), if any. */
static int check_main(void *ts, PyObject **loops, PyObject **closing)
{
    uintptr_t words[2 * MAX_FRAMES];
    PyObject *firsts[MAX_FRAMES];
    int n = tl_frames_capture_thread(ts, words, firsts, MAX_FRAMES), n_loops = 0;
    int outer = n ? tl_capture_code_role(words[2 * (n - 1)]) : TL_ROLE_NONE;
    if (outer == TL_ROLE_THREADING_SHUTDOWN || outer == TL_ROLE_EXECUTOR_EXIT)
        tl_shutdown_begin(TL_SHUTDOWN_THREADS, 0, tl_now());
    for (int i = 0; i < n; i++) {
        int role = tl_capture_code_role(words[2 * i]);
        if (role == TL_ROLE_RUN_FOREVER && firsts[i] && n_loops < MAX_LOOPS) {
            loops[n_loops++] = firsts[i];
        } else if (role == TL_ROLE_RUNNER_CLOSE) {
            *closing = firsts[i];
        }
    }
    return n_loops;
}

/* Another thread shutting down one of those loops' default executor
 * (asyncio's _do_shutdown, the target of a thread of its own).  Returns
 * whether it shuts the candidate's loop down. */
static int check_other(void *ts, PyObject *const *loops, int n_loops, PyObject *current)
{
    uintptr_t words[2 * MAX_FRAMES];
    PyObject *firsts[MAX_FRAMES];
    int n = tl_frames_capture_thread(ts, words, firsts, MAX_FRAMES), current_too = 0;
    for (int i = n - 1; i >= 0 && i >= n - OUTER_FRAMES; i--) {
        if (tl_capture_code_role(words[2 * i]) != TL_ROLE_DO_SHUTDOWN)
            continue;
        current_too |= current && firsts[i] == current;
        for (int l = 0; l < n_loops; l++)
            if (firsts[i] == loops[l])
                loop_shutting_down(loops[l], TL_SHUTDOWN_EXECUTOR);
    }
    return current_too;
}

void tl_shutdown_check(void)
{
    PyObject *current = candidate_loop();
    if (candidate && (!current || loop_closed(current)))
        drop_candidate(); /* asyncio.run has returned: the program goes on */
    unsigned long main_ident = tl_threads_main_ident();
    void *main_ts = main_ident ? tl_threads_state_of(main_ident) : NULL;
    PyObject *loops[MAX_LOOPS], *closing = NULL;
    int n_loops = main_ts ? check_main(main_ts, loops, &closing) : 0, executor_seen = 0;
    void *self = tl_py.PyThreadState_Get();
    current = candidate_loop();
    for (void *ts = tl_py.PyInterpreterState_ThreadHead(tl_py.PyInterpreterState_Main());
         ts && n_loops; ts = tl_py.PyThreadState_Next(ts))
        if (ts != main_ts && ts != self)
            executor_seen |= check_other(ts, loops, n_loops, current);
    /* A loop's executor shut down by a program that goes on with that loop
     * (shutdown_default_executor called by hand): that one is over. */
    if (current && candidate_cause == TL_SHUTDOWN_EXECUTOR && !executor_seen)
        drop_candidate();
    /* Runner.close (3.11+) without a cancel to make: its shutdown of async
     * generators, or of the executor when this look did not see that. */
    PyObject *loop = closing ? tl_py_instance_item(closing, "_loop") : NULL;
    loop_shutting_down(loop, TL_SHUTDOWN_RUNNER);
    if (loop)
        tl_py.Py_DecRef(loop);
}

void tl_shutdown_forget(void)
{
    candidate = NULL; /* its reference is the parent's, left alone */
}
