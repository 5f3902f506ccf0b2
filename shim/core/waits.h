/* SPDX-License-Identifier: MIT */
/* What pending tasks wait for, and what follows from all of them at once:
 * who holds the lock a task waits for, which tasks deadlock, which waits
 * can never end.  Plain C: the hooks read each task (hooks/explain.c), this
 * file reasons over the ids and addresses they found. */
#ifndef TL_WAITS_H
#define TL_WAITS_H

#include <stddef.h>
#include <stdint.h>

enum tl_wait_kind {
#define X(constant, name) constant,
#include "core/waits.inc"
#undef X
    TL_N_WAIT_KINDS
};
extern const char *const tl_wait_kind_names[TL_N_WAIT_KINDS];

/* How the holders of a lock-like wait are known. */
enum tl_holders {
    TL_HOLDERS_NA,       /* not a lock, semaphore or condition */
    TL_HOLDERS_CERTAIN,  /* each is inside `async with` of it */
    TL_HOLDERS_INFERRED, /* the one other task whose frames keep it, while it is taken */
    TL_HOLDERS_UNKNOWN,
};

/* What a pending task waits for (waits_for in reports). */
struct tl_wait {
    enum tl_wait_kind kind;
    uintptr_t object;   /* what it is blocked on; 0 when nothing is */
    char *type;         /* its type, "asyncio.locks.Lock" */
    char *call;         /* the asyncio function it waits in, "Lock.acquire" */
    char *name;         /* "app.lock", "self._lock"; NULL when none is known */
    char *named_in;     /* the function of a frame name; NULL for a module global */
    double deadline;    /* report time when it ends by itself (sleep, timeout); < 0: none */
    uint64_t *tasks;    /* the tasks it awaits (task, gather, wait, timeout) */
    uint32_t n_tasks;
    uint64_t *held_by;  /* lock, semaphore, condition: who holds it */
    uint32_t n_held_by;
    enum tl_holders holders;
    int8_t taken;       /* lock-like: 1 taken (locked, no permit), 0 free, -1 unknown */
    int8_t acquiring;   /* lock-like: waits to acquire it (not for a notify) */
    int8_t waking;      /* already woken (its future is done, a cancel is pending) */
    char *thread;       /* executor: the worker thread running the job, if it runs */
    long thread_id;     /* its native id */
    char *job;          /* executor: the job's function, when it has no frame */
    uint32_t job_frame; /* executor: the job's own frame (a one-frame stack) */
    char *never;        /* why it can never end; NULL when it may */
};

/* An asyncio lock, semaphore or condition a task's frames have: `entered`
 * when a frame is inside `async with` of it (certain), else kept in a local
 * or an attribute of one (a candidate holder). */
struct tl_held {
    uintptr_t object;
    uint32_t site;      /* the frame, as a one-frame stack (depot id) */
    uint8_t entered;
    char *type, *name;  /* entered ones: "asyncio.locks.Lock", "app.lock" or NULL */
};
struct tl_helds {
    struct tl_held *items;
    uint32_t n;
};

void tl_wait_free(struct tl_wait *w);
void tl_helds_free(struct tl_helds *h);
/* Append (once per object; `type` is taken); 0, or -1 out of memory. */
int tl_helds_add(struct tl_helds *h, uintptr_t object, uint32_t site, int entered, char *type);

/* A cycle of tasks that wait for each other, each edge certain. */
struct tl_deadlock_edge {
    uint64_t from, to;
    enum tl_wait_kind via; /* task or gather (awaits `to`), lock (`to` holds it) */
    uintptr_t object;
};
struct tl_deadlock {
    uint64_t *tasks;
    uint32_t n_tasks;
    struct tl_deadlock_edge *edges;
    uint32_t n_edges;
};
struct tl_deadlocks {
    struct tl_deadlock *items;
    uint32_t n;
};
void tl_deadlocks_free(struct tl_deadlocks *d);

/* One pending task, as the analysis sees it. */
struct tl_waiter {
    uint64_t id;
    const char *name;     /* the task's name, for the reasons */
    struct tl_wait *wait; /* NULL: ready to run */
    const struct tl_helds *held;
};

/* Over every pending task of a process at once: fill each lock-like wait's
 * holders, find the deadlocks (into `out`) and mark the waits that can
 * never end.  A wait with a deadline, or one already woken, is neither in
 * a deadlock nor "never". */
void tl_waits_analyze(struct tl_waiter *tasks, size_t n, struct tl_deadlocks *out);
/* The same over a collection's pending tasks, read whole (the tasks their
 * outcomes explain).  No Python: a snapshot's runs without the GIL. */
struct tl_leak;
void tl_waits_analyze_live(struct tl_leak *live, size_t n, struct tl_deadlocks *out);
/* A snapshot's whole explanation: each executor wait's worker thread (by
 * its job's concurrent future), then tl_waits_analyze_live.  No Python. */
struct tl_collected;
void tl_collected_explain(struct tl_collected *c);

#endif
