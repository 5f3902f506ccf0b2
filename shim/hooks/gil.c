/* SPDX-License-Identifier: MIT */
/* The GIL, taken from the library's own threads: the collection in slices
 * (the longest the program waits for the GIL on us is a slice), and our
 * locks taken without holding it. */
#include "core/pyside.h"
#include "hooks/gil.h"

#include <string.h>
#include <time.h>

#include "core/core.h"
#include "cpython/api.h"
#include "cpython/version.h"

#define SLICE_S 0.00025 /* the longest the program waits for the GIL on us */
#define GAP_NS 200000L  /* between slices: time for a waiting thread to take it */

/* Held only around PyThreadState_New, never with the GIL or while waiting
 * for it.  3.12+ re-create the lock first (and 3.13 holds it across
 * fork()): no guard there. */
static pthread_mutex_t tstate_guard = PTHREAD_MUTEX_INITIALIZER;

void tl_gil_fork_prepare(void)
{
    if (tl_caps.fork_guard)
        pthread_mutex_lock(&tstate_guard);
}

void tl_gil_fork_parent(void)
{
    if (tl_caps.fork_guard)
        pthread_mutex_unlock(&tstate_guard);
}

void tl_gil_fork_child(void)
{
    if (tl_caps.fork_guard)
        pthread_mutex_unlock(&tstate_guard); /* the forking thread took it */
}

/* One slice, accounted as the "collect" hook with its longest hold: the
 * number that says whether the program ever waited long for us. */
static int timed_step(struct tl_collection *c, uint64_t t0)
{
    int more = tl_collect_step(c, SLICE_S);
    uint64_t held = tl_ticks() - t0;
    tl_hook_account(TL_HOOK_COLLECT, held, 1);
    if (held > tl_collect_max_ticks)
        tl_collect_max_ticks = held;
    return more;
}

int tl_python_finalizing(void)
{
    return tl_py.IsFinalizing() != 0;
}

int tl_collect_in_slices(enum tl_collect_mode mode, void (*between)(void *ctx), void *ctx,
                         const int *abort, struct tl_collected *out)
{
    memset(out, 0, sizeof *out);
    if (!tl_py.Py_IsInitialized() || tl_python_finalizing())
        return -1;
    pthread_mutex_lock(&tstate_guard);
    void *ts = tl_py.PyThreadState_New(tl_py.PyInterpreterState_Main());
    pthread_mutex_unlock(&tstate_guard);
    if (!ts)
        return -1;
    tl_py.PyEval_RestoreThread(ts);
    struct tl_collection *c = tl_collect_begin(mode);
    /* The GIL let go between slices, and before the first one only when
     * there is memory to make ready (a periodic report's usual case has
     * none: no GIL round trip for it). */
    for (int first = 1;; first = 0) {
        if (!first || tl_collect_wants_prepare(c)) {
            void *saved = tl_py.PyEval_SaveThread();
            if (!first) {
                between(ctx);
                struct timespec gap = {0, GAP_NS};
                nanosleep(&gap, NULL);
            }
            tl_collect_prepare(c);
            if (tl_python_finalizing())
                return -1; /* the GIL is no longer ours to ask for: leave it all */
            tl_py.PyEval_RestoreThread(saved);
        }
        if (!timed_step(c, tl_ticks()) || __atomic_load_n(abort, __ATOMIC_RELAXED))
            break;
    }
    tl_collect_end(c, out);
    tl_py.PyThreadState_Clear(ts);
    tl_py.PyThreadState_DeleteCurrent(); /* and releases the GIL */
    return 0;
}

void tl_lock_outside_gil(pthread_mutex_t *lock)
{
    void *ts = tl_py.PyEval_SaveThread();
    pthread_mutex_lock(lock);
    tl_py.PyEval_RestoreThread(ts);
}


int tl_join_outside_gil(pthread_t thread, int seconds)
{
    void *ts = tl_py.PyEval_SaveThread();
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    int rc = pthread_timedjoin_np(thread, NULL, &deadline);
    tl_py.PyEval_RestoreThread(ts);
    return rc == 0 ? 0 : -1;
}
