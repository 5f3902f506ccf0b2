/* SPDX-License-Identifier: MIT */
/* The task table: one record per live asyncio task, and the leaks found.
 * Plain C: no Python, no I/O.  Every function takes the table lock itself;
 * callers may hold the GIL, but the lock is never held while taking it. */
#ifndef TL_TASKS_H
#define TL_TASKS_H

#include <stdint.h>
#include <sys/types.h>

#include "core/waits.h"

enum tl_state { TL_PENDING, TL_FINISHED, TL_FAILED, TL_CANCELLED };
enum tl_kind {
    TL_NO_LEAK = -1,
#define X(constant, name) constant,
#include "core/kinds.inc"
#undef X
    TL_N_KINDS
};

extern const char *const tl_kind_names[TL_N_KINDS];
extern const char *const tl_state_names[4];

struct tl_cancel {
    struct tl_cancel *next;
    uint64_t ticks;          /* tl_ticks() at the request; 0: before the library attached */
    double t;                /* copies only (leaks, snapshots): ticks in seconds, -1 unknown */
    uint32_t stack;          /* canceller's Python stack (depot id) */
    uint8_t scope;           /* scopes.h: the scope that issued it on its own task */
    uint64_t forwarded_from; /* id of the task whose cancel C forwarded here */
    char *message;           /* NULL for no message */
    uint32_t delivered;      /* where the task was suspended when cancelled */
    uint32_t caught;         /* one-frame stack of the last handler, 3.12+ */
};

/* Who last handled a CancelledError in a task (3.12+, sys.monitoring). */
enum tl_catch {
    TL_CATCH_NONE,
    TL_CATCH_USER,    /* an except/finally clause of the program */
    TL_CATCH_WITH,    /* a with statement: its context manager decided */
    TL_CATCH_LIBRARY, /* asyncio's or a cancel scope's own code */
};

struct tl_task {
    struct tl_task *wnext, *wprev; /* the watched records, in the order watched */
    uintptr_t addr;
    uint64_t id;
    uint64_t created_ticks; /* tl_ticks() at spawn; 0: alive when the library attached */
    uint64_t first_cancel_ticks; /* 0: none, or before the library attached */
    pid_t thread_id;
    uint32_t coro;   /* names depot id of the coroutine's __qualname__ */
    uint32_t created_py, created_native;
    uint32_t n_effective, n_scope, n_scope_uncancel;
    struct tl_cancel *cancels, *last_cancel;
    uint8_t catch_kind;     /* enum tl_catch of the last handler */
    void *watch;            /* the hooks' watch (hooks/judge.h), once cancelled */
    struct tl_leak *stuck;  /* the stuck_after_cancel entry, if any */
    uint8_t ended;          /* seen done and judged (counted in tasks_done) */
};

/* What the hooks learned about a task, gathered under the GIL. */
/* A context variable of the task named taskleak.* and its value (the
 * pytest plugin's test id, or a label of the program's own). */
struct tl_label {
    char *name, *value;
};
#define TL_MAX_LABELS 8

/* A socket, transport, stream or file a suspended coroutine of the task
 * keeps in a local variable (holdings.c). */
struct tl_holding {
    const char *kind;   /* "socket", "transport", "stream_reader", ... (static) */
    const char *family; /* "AF_INET"...; NULL for files (static) */
    int fd;             /* -1 when unknown (closed) */
    char *variable, *function, *local, *peer, *path;
};
struct tl_holdings {
    struct tl_holding *items;
    uint32_t n;
};
#define TL_MAX_HOLDINGS 32
void tl_holding_free(struct tl_holding *h);
void tl_holdings_free(struct tl_holdings *hs);

struct tl_outcome {
    enum tl_state state;
    char *name, *type, *text; /* name; result or exception type and repr/message */
    uint32_t awaiting;        /* Python stack where a pending task waits */
    char *awaiting_opaque;    /* the type of an awaitable its chain cannot enter */
    uint64_t awaited_by;      /* id of the task awaiting this one, 0 if none */
    struct tl_label labels[TL_MAX_LABELS];
    uint32_t n_labels;
    struct tl_holdings holds; /* pending tasks only */
    uint8_t explained;        /* wait and held were read (pending, collection time) */
    struct tl_wait *wait;     /* what a pending task waits for; NULL: ready to run */
    struct tl_helds held;     /* asyncio locks its frames have */
};

struct tl_leak {
    struct tl_leak *next;
    enum tl_kind kind;
    struct tl_task task;      /* a copy; its cancels are owned by the leak */
    struct tl_outcome outcome;
    double t_created;         /* the copy's created_ticks in seconds, once */
    double t_ended;           /* < 0 when still pending */
    double t_resolved;        /* stuck only; < 0 while unresolved */
    enum tl_state resolved_state;
};

struct tl_stats {
    uint64_t tasks_created, tasks_done, tasks_live, cancel_requests;
    uint64_t leaks[TL_N_KINDS], leaks_omitted;
};

/* A view of a record, for judging it without holding the lock. */
struct tl_task_view {
    uintptr_t addr;
    uint64_t id;
    uint64_t first_cancel_ticks;
    uint32_t n_effective, n_scope, n_scope_uncancel;
    uint32_t created_py;
    void *watch;
    int has_stuck;
    int catch_kind;
    int ended; /* already judged done by a sweep */
};

void tl_tasks_init(int max_leaks);
/* How many tasks were created so far (no lock; may lag a little). */
uint64_t tl_tasks_created(void);
/* Forget everything inherited from a parent process (fork child). */
void tl_tasks_reset_after_fork(void);

uint64_t tl_task_spawned(uintptr_t addr, uint32_t coro, uint32_t created_py,
                         uint32_t created_native, pid_t thread_id, uint64_t ticks);

/* A plain task's spawn kept in the task object itself, `offset` bytes into
 * it (the hooks grow the type): its common ending then touches no table.
 * Zeroed memory has none.  Linked, for the snapshots taken without the GIL;
 * every link and id changes under the table lock with the GIL held. */
struct tl_inobj {
    struct tl_inobj *next, *prev;
    uint64_t id; /* 0: no spawn here */
    uint64_t created_ticks;
    pid_t thread_id; /* with id 0: TL_INOBJ_IN_TABLE once moved there */
    uint32_t coro, created_py, created_native;
};
/* The table keeps the task from then on.  48 bytes, which the hooks round up
 * to whole cache lines of a task (hooks/task_hooks.c, growth()). */
#define TL_INOBJ_IN_TABLE ((pid_t)-1)
void tl_tasks_inobj_offset(size_t offset);
/* Record a spawn in `o`, which has none and was never in the table. */
uint64_t tl_task_spawned_in(struct tl_inobj *o, uint32_t coro, uint32_t created_py,
                            uint32_t created_native, pid_t thread_id, uint64_t ticks);
/* A task that is done, its spawn in its object (so never cancelled: a
 * cancel moves it to the table): the spawn goes quietly.  1, or 0 when it
 * is not there. */
int tl_task_ended_in(struct tl_inobj *o);
/* Move the spawn of `o` (if any) into the table, before anything but its
 * quiet ending looks the task up by address. */
void tl_task_adopt(struct tl_inobj *o);
/* Record an effective cancel.  Returns 1 when it is the task's first, 0
 * otherwise, -1 if unknown.  `*watch` (the hooks' weak reference; may be
 * NULL) is taken, and set to NULL, when the record has none yet: the caller
 * releases what is left. */
int tl_task_cancelled(uintptr_t addr, uint64_t ticks, uint32_t stack, int scope,
                      uint64_t forwarded_from, char *message /* taken */,
                      uint32_t delivered, void **watch);
/* A handler caught a CancelledError in the task: note it on its last
 * cancel.  Ignored for tasks never cancelled. */
void tl_task_caught(uintptr_t addr, uint32_t site, enum tl_catch kind);
void tl_task_uncancelled(uintptr_t addr, int by_scope);
uint64_t tl_task_id(uintptr_t addr);

/* Look a record up without taking it; 0 if absent. */
int tl_task_view(uintptr_t addr, struct tl_task_view *out);

/* A task being destroyed in state `st`: when no rule can make that ending a
 * leak (tl_verdict_quiet), its record goes as tl_task_destroyed would take
 * it, and 1 is returned with the watch to release in `*watch`; 0 when the
 * ending must be judged (the record stays); -1 for an unknown task.  The
 * common ending, in one lock. */
int tl_task_ended_quietly(uintptr_t addr, enum tl_state st, void **watch);

/* Remove the record of a task that is being destroyed.  Unless `kind` is
 * TL_NO_LEAK (or a sweep judged it already) the record becomes a leak with
 * `outcome`.  `outcome` (may be NULL) is always taken: moved into the leak,
 * or freed.  A stuck entry of the task is resolved with the outcome's state.
 * Returns the watch the hooks must release. */
void *tl_task_destroyed(uintptr_t addr, int done, enum tl_kind kind,
                        struct tl_outcome *outcome, double t);

/* Judge a live record found done or stuck by a sweep: add a leak of `kind`
 * (or none with TL_NO_LEAK), mark it ended when done, resolve its stuck entry.
 * `outcome` is always taken, as above.  Returns the watch to release when
 * the record no longer needs it. */
void *tl_task_judged(uintptr_t addr, uint64_t id, int done, enum tl_kind kind,
                     struct tl_outcome *outcome, double t);

/* At exit, where the runtime lists every pending task (3.14+): every other
 * record that no sweep watches has ended.  Sorts `pending` in place. */
void tl_tasks_end_all_but(uintptr_t *pending, size_t n);
/* Copy views of the records that a sweep must look at (watched and not yet
 * ended).  Returns how many were written, at most `max`. */
size_t tl_tasks_watched(struct tl_task_view *out, size_t max);

/* Report building: the stats, and a copy of each leak taken under the lock
 * (the visitor runs without it, so hooks never wait for a report). */
typedef void (*tl_leak_visitor)(void *ctx, const struct tl_leak *leak);
void tl_tasks_visit(struct tl_stats *stats, tl_leak_visitor visit, void *ctx);

/* Copy a live record as a leak-shaped entry (kind unused) for a snapshot;
 * takes `outcome`.  Returns 0 when the task is unknown. */
int tl_task_snapshot(uintptr_t addr, struct tl_outcome *outcome,
                     struct tl_leak *out);
void tl_leak_free(struct tl_leak *l);
/* Every record not known to have ended, leak-shaped and pending (for a
 * snapshot taken without the GIL).  Returns the count; *out is malloc'd. */
size_t tl_tasks_snapshot_all(struct tl_leak **out);

void tl_outcome_free(struct tl_outcome *o);

#endif
