/* SPDX-License-Identifier: MIT */
/* The task table and the leak list. */
#include "core/tasks.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/lock.h"
#include "core/verdict.h"

/* What the spawn learns of a task: all there is of one until it is
 * cancelled, judged or watched (a plain task), kept in its slot (the
 * address is the key).  32 bytes where a record is 128, and nothing to
 * allocate or free: the common ending touches the slot alone (a burst of
 * 10,000 endings took 0.55 ms more when each also freed its spawn). */
struct spawn {
    uint64_t id, created_ticks;
    pid_t thread_id;
    uint32_t coro, created_py, created_native;
};

/* A slot of the table: open addressing, linear probing, at most half full.
 * The key is the task's address, with PLAIN set while the task has only
 * its spawn; a record replaces it at the first change.  The common ending
 * needs the slot alone, not what it points to. */
struct slot {
    uintptr_t key; /* 0: empty */
    union {
        struct tl_task *rec; /* not PLAIN */
        struct spawn spawn;  /* PLAIN */
    };
};
#define PLAIN ((uintptr_t)1) /* a task's address is even */

#define FREE_MAX 4096 /* of each: about 0.5 MiB kept at most */

static struct {
    /* A task's common spawn and ending use the first cache line alone. */
    struct tl_lock lock;
    uint64_t next_id;
    /* The spawns kept in task objects (tl_task_spawned_in), newest first. */
    struct tl_inobj *inobj;
    uint64_t n_inobj;
    struct tl_stats stats; /* tasks_live: records minus ended_alive */
    struct slot *slots;
    size_t nslots;
    uint64_t records, ended_alive;
    struct tl_leak *leaks, *last_leak;
    uint64_t n_leaks;
    int max_leaks;
    /* Records and cancels of ended tasks, for the next ones (the records
     * in free_tasks, below, out of the hooks' data; cancels chained through
     * next): a task churn costs no malloc. */
    struct tl_cancel *free_cancels;
    unsigned n_free_tasks, n_free_cancels;
    /* The records with a watch (cancelled, not judged ended): what a sweep
     * looks at, without walking the table. */
    struct tl_task *watched, *last_watched;
    size_t inobj_offset;
} T TL_HOT_DATA __attribute__((aligned(64))) = {.lock = TL_LOCK_INITIALIZER};
static struct tl_task *free_tasks[FREE_MAX]; /* T.n_free_tasks of them: 32 KiB */

/* Fibonacci hashing: the product's top bits, the best mixed (task
 * addresses come in arithmetic runs, which linear probing would cluster). */
static size_t slot_of(uintptr_t addr, size_t n)
{
    return (size_t)(((uint64_t)addr * 0x9E3779B97F4A7C15ull) >> (64 - __builtin_ctzll(n)));
}

void tl_tasks_init(int max_leaks)
{
    T.max_leaks = max_leaks;
}

static struct slot *find(uintptr_t addr)
{
    if (!T.nslots)
        return NULL;
    for (size_t i = slot_of(addr, T.nslots);; i = (i + 1) & (T.nslots - 1)) {
        struct slot *sl = &T.slots[i];
        if (!sl->key)
            return NULL;
        if ((sl->key & ~PLAIN) == addr)
            return sl;
    }
}

static void put(struct slot *slots, size_t n, struct slot s)
{
    size_t i = slot_of(s.key & ~PLAIN, n);
    while (slots[i].key)
        i = (i + 1) & (n - 1);
    slots[i] = s;
}

/* Empty a slot, moving back the later ones of its run that may go there. */
static void take_out(struct slot *sl)
{
    size_t mask = T.nslots - 1, i = (size_t)(sl - T.slots);
    for (size_t j = (i + 1) & mask; T.slots[j].key; j = (j + 1) & mask) {
        size_t home = slot_of(T.slots[j].key & ~PLAIN, T.nslots);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            T.slots[i] = T.slots[j];
            i = j;
        }
    }
    T.slots[i] = (struct slot){.key = 0};
}

/* The free list (lock held). */
static struct tl_task *new_record(void)
{
    return T.n_free_tasks ? free_tasks[--T.n_free_tasks] : malloc(sizeof(struct tl_task));
}

/* The record a plain task would have. */
static void record_of_spawn(struct tl_task *rec, const struct slot *sl)
{
    const struct spawn *sp = &sl->spawn;
    *rec = (struct tl_task){.addr = sl->key & ~PLAIN, .id = sp->id, .created_ticks = sp->created_ticks,
                            .thread_id = sp->thread_id, .coro = sp->coro,
                            .created_py = sp->created_py, .created_native = sp->created_native};
}

static uint64_t id_of(const struct slot *sl)
{
    return sl->key & PLAIN ? sl->spawn.id : sl->rec->id;
}

/* A slot's task as a record, to read: a plain one's made in `tmp`. */
static const struct tl_task *view_of(const struct slot *sl, struct tl_task *tmp)
{
    if (!(sl->key & PLAIN))
        return sl->rec;
    record_of_spawn(tmp, sl);
    return tmp;
}

/* The record of a slot, about to change: a plain task gets one (NULL: no
 * memory, the slot is left as it was). */
static struct tl_task *changing(struct slot *sl)
{
    if (!(sl->key & PLAIN))
        return sl->rec;
    struct tl_task *rec = new_record();
    if (!rec)
        return NULL;
    record_of_spawn(rec, sl);
    sl->rec = rec;
    sl->key &= ~PLAIN;
    return rec;
}

/* Keep the table at most half full; a failed grow lets it fill to 3/4, and
 * then new tasks go unrecorded. */
static void maybe_grow(void)
{
    if ((T.records + 1) * 2 <= T.nslots)
        return;
    size_t n = T.nslots ? T.nslots * 2 : 4096;
    struct slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return;
    for (size_t i = 0; i < T.nslots; i++)
        if (T.slots[i].key)
            put(slots, n, T.slots[i]);
    free(T.slots);
    T.slots = slots;
    T.nslots = n;
}

static void watch_link(struct tl_task *rec)
{
    rec->wnext = NULL;
    rec->wprev = T.last_watched;
    if (T.last_watched)
        T.last_watched->wnext = rec;
    else
        T.watched = rec;
    T.last_watched = rec;
}

static void watch_unlink(struct tl_task *rec)
{
    if (rec->wprev)
        rec->wprev->wnext = rec->wnext;
    else
        T.watched = rec->wnext;
    if (rec->wnext)
        rec->wnext->wprev = rec->wprev;
    else
        T.last_watched = rec->wprev;
    rec->wnext = rec->wprev = NULL;
}

/* A copy of a record for a leak or a snapshot: none of the table's links. */
static void detach_copy(struct tl_task *copy)
{
    copy->wnext = copy->wprev = NULL;
    copy->watch = NULL;
    copy->stuck = NULL;
}

static void free_cancels(struct tl_cancel *c)
{
    while (c) {
        struct tl_cancel *next = c->next;
        free(c->message);
        free(c);
        c = next;
    }
}

static struct tl_cancel *new_cancel(void)
{
    struct tl_cancel *c = T.free_cancels;
    if (!c)
        return malloc(sizeof *c);
    T.free_cancels = c->next;
    T.n_free_cancels--;
    return c;
}

/* A record that left the table, without reading it (lock held). */
static void free_record(struct tl_task *rec)
{
    if (T.n_free_tasks < FREE_MAX)
        free_tasks[T.n_free_tasks++] = rec;
    else
        free(rec);
}

/* Recycle a record that left the table, and its cancels (lock held). */
static void recycle(struct tl_task *rec)
{
    for (struct tl_cancel *c = rec->cancels, *next; c; c = next) {
        next = c->next;
        free(c->message);
        if (T.n_free_cancels < FREE_MAX) {
            c->next = T.free_cancels;
            T.free_cancels = c;
            T.n_free_cancels++;
        } else {
            free(c);
        }
    }
    free_record(rec);
}

/* Take a task out of the table: its record, or a plain one's in `tmp`
 * (which is not to be recycled). */
static struct tl_task *unlink_task(uintptr_t addr, struct tl_task *tmp)
{
    struct slot *sl = find(addr);
    if (!sl)
        return NULL;
    struct tl_task *t = sl->rec;
    if (sl->key & PLAIN) {
        record_of_spawn(tmp, sl);
        t = tmp;
    }
    take_out(sl);
    T.records--;
    T.ended_alive -= t->ended;
    if (t->watch)
        watch_unlink(t);
    return t;
}

uint64_t tl_tasks_created(void)
{
    return __atomic_load_n(&T.stats.tasks_created, __ATOMIC_RELAXED);
}

/* The slot of `addr`, or the empty one where it would go (a table). */
static struct slot *place(uintptr_t addr)
{
    size_t i = slot_of(addr, T.nslots);
    while (T.slots[i].key && (T.slots[i].key & ~PLAIN) != addr)
        i = (i + 1) & (T.nslots - 1);
    return &T.slots[i];
}

/* Let go of what a slot of the table holds, the slot kept (lock held). */
static void drop_content(struct slot *sl)
{
    if (sl->key & PLAIN)
        return;
    struct tl_task *t = sl->rec;
    T.ended_alive -= t->ended;
    if (t->watch) /* a leaked weakref: harmless */
        watch_unlink(t);
    recycle(t);
}

/* Put a plain task in the table (lock held); its id, 0 when it is full. */
static uint64_t put_plain(uintptr_t addr, struct spawn sp)
{
    maybe_grow();
    /* One probe finds the slot, or the task: __init__ called again on a
     * live task, where the new call wins. */
    struct slot *sl = T.nslots ? place(addr) : NULL;
    if (sl && sl->key)
        drop_content(sl);
    else if (sl && (T.records + 1) * 4 <= T.nslots * 3)
        T.records++;
    else
        return 0;
    *sl = (struct slot){.key = addr | PLAIN, .spawn = sp};
    return sp.id;
}

uint64_t tl_task_spawned(uintptr_t addr, uint32_t coro, uint32_t created_py,
                         uint32_t created_native, pid_t thread_id, uint64_t ticks)
{
    tl_lock(&T.lock);
    T.stats.tasks_created++;
    T.next_id++;
    uint64_t id = put_plain(addr, (struct spawn){T.next_id, ticks, thread_id, coro, created_py,
                                                 created_native});
    tl_unlock(&T.lock);
    return id;
}

/* ---- spawns kept in their task objects ----------------------------------- */

void tl_tasks_inobj_offset(size_t offset)
{
    T.inobj_offset = offset;
}

static void inobj_unlink(struct tl_inobj *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        T.inobj = o->next;
    if (o->next)
        o->next->prev = o->prev;
    o->next = o->prev = NULL;
    o->id = 0;
    T.n_inobj--;
}

static void record_of_inobj(struct tl_task *rec, const struct tl_inobj *o)
{
    *rec = (struct tl_task){.addr = (uintptr_t)o - T.inobj_offset, .id = o->id,
                            .created_ticks = o->created_ticks, .thread_id = o->thread_id,
                            .coro = o->coro, .created_py = o->created_py,
                            .created_native = o->created_native};
}

TL_HOT uint64_t tl_task_spawned_in(struct tl_inobj *o, uint32_t coro, uint32_t created_py,
                            uint32_t created_native, pid_t thread_id, uint64_t ticks)
{
    tl_lock(&T.lock);
    T.stats.tasks_created++;
    uint64_t id = ++T.next_id;
    *o = (struct tl_inobj){.next = T.inobj, .id = id, .created_ticks = ticks,
                           .thread_id = thread_id, .coro = coro, .created_py = created_py,
                           .created_native = created_native};
    if (T.inobj)
        T.inobj->prev = o;
    T.inobj = o;
    T.n_inobj++;
    tl_unlock(&T.lock);
    return id;
}

TL_HOT int tl_task_ended_in(struct tl_inobj *o)
{
    if (!o->id)
        return 0;
    tl_lock(&T.lock);
    inobj_unlink(o);
    T.stats.tasks_done++;
    tl_unlock(&T.lock);
    return 1;
}

void tl_task_adopt(struct tl_inobj *o)
{
    if (!o->id)
        return;
    tl_lock(&T.lock);
    struct spawn sp = {o->id, o->created_ticks, o->thread_id, o->coro, o->created_py,
                       o->created_native};
    uintptr_t addr = (uintptr_t)o - T.inobj_offset;
    inobj_unlink(o);
    o->thread_id = TL_INOBJ_IN_TABLE;
    put_plain(addr, sp);
    tl_unlock(&T.lock);
}

TL_HOT int tl_task_cancelled(uintptr_t addr, uint64_t ticks, uint32_t stack, int scope,
                      uint64_t forwarded_from, char *message, uint32_t delivered, void **watch)
{
    int first = -1;
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    struct tl_task *rec = sl ? changing(sl) : NULL;
    struct tl_cancel *c = rec ? new_cancel() : NULL;
    T.stats.cancel_requests++;
    if (c) {
        *c = (struct tl_cancel){NULL, ticks, -1, stack, (uint8_t)scope, forwarded_from, message,
                                delivered, 0};
        message = NULL;
        first = rec->n_effective == 0;
        if (first)
            rec->first_cancel_ticks = ticks;
        rec->n_effective++;
        rec->n_scope += scope != 0;
        if (rec->last_cancel)
            rec->last_cancel->next = c;
        else
            rec->cancels = c;
        rec->last_cancel = c;
        if (watch && *watch && !rec->watch) {
            rec->watch = *watch;
            *watch = NULL;
            watch_link(rec);
        }
    }
    tl_unlock(&T.lock);
    free(message);
    return first;
}

void tl_task_caught(uintptr_t addr, uint32_t site, enum tl_catch kind)
{
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    if (sl && !(sl->key & PLAIN) && sl->rec->last_cancel) { /* a plain one has none */
        struct tl_task *rec = sl->rec;
        rec->last_cancel->caught = site;
        rec->catch_kind = (uint8_t)kind;
    }
    tl_unlock(&T.lock);
}

void tl_task_uncancelled(uintptr_t addr, int by_scope)
{
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    struct tl_task *rec = sl && by_scope ? changing(sl) : NULL;
    if (rec)
        rec->n_scope_uncancel++;
    tl_unlock(&T.lock);
}

static void fill_view(const struct tl_task *t, struct tl_task_view *v)
{
    *v = (struct tl_task_view){t->addr,          t->id,         t->first_cancel_ticks,
                               t->n_effective,   t->n_scope,    t->n_scope_uncancel,
                               t->created_py,    t->watch,      t->stuck != NULL,
                               t->catch_kind,    t->ended};
}

uint64_t tl_task_id(uintptr_t addr)
{
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    uint64_t id = sl ? id_of(sl) : 0;
    tl_unlock(&T.lock);
    return id;
}

int tl_task_view(uintptr_t addr, struct tl_task_view *out)
{
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    struct tl_task tmp;
    if (sl)
        fill_view(view_of(sl, &tmp), out);
    tl_unlock(&T.lock);
    return sl != NULL;
}

static struct tl_cancel *copy_cancels(const struct tl_cancel *c)
{
    struct tl_cancel *head = NULL, **tail = &head;
    for (; c; c = c->next) {
        struct tl_cancel *n = malloc(sizeof *n);
        if (!n)
            break;
        *n = *c;
        n->next = NULL;
        n->message = c->message ? strdup(c->message) : NULL;
        *tail = n;
        tail = &n->next;
    }
    return head;
}

/* The task part of a leak or snapshot: a copy of the record (lock held) with
 * its own cancels and none of the table's links. */
static void copy_record(struct tl_leak *out, const struct tl_task *rec)
{
    out->task = *rec;
    detach_copy(&out->task);
    out->task.cancels = copy_cancels(rec->cancels);
}

/* A copy's stamps in seconds, from one clock reading: once, so that a
 * leak's times stay fixed (the content hash holds). */
static void copy_times(struct tl_leak *l, struct tl_time_pair now)
{
    l->t_created = tl_time_at_pair(l->task.created_ticks, now);
    for (struct tl_cancel *c = l->task.cancels; c; c = c->next)
        c->t = tl_time_at_pair(c->ticks, now);
}

/* Append a leak for `rec` (lock held).  Takes `outcome` in every case. */
static struct tl_leak *add_leak(const struct tl_task *rec, enum tl_kind kind,
                                struct tl_outcome *outcome, double t_ended)
{
    T.stats.leaks[kind]++;
    struct tl_leak *l = NULL;
    if (T.n_leaks < (uint64_t)T.max_leaks)
        l = calloc(1, sizeof *l);
    if (!l) {
        T.stats.leaks_omitted++;
        tl_outcome_free(outcome);
        return NULL;
    }
    l->kind = kind;
    copy_record(l, rec);
    copy_times(l, tl_time_pair());
    l->outcome = *outcome;
    memset(outcome, 0, sizeof *outcome);
    l->t_ended = t_ended;
    l->t_resolved = -1;
    if (T.last_leak)
        T.last_leak->next = l;
    else
        T.leaks = l;
    T.last_leak = l;
    T.n_leaks++;
    return l;
}

static void resolve_stuck(struct tl_task *rec, enum tl_state st, double t)
{
    if (rec->stuck && rec->stuck->t_resolved < 0) {
        rec->stuck->t_resolved = t;
        rec->stuck->resolved_state = st;
    }
}

TL_HOT int tl_task_ended_quietly(uintptr_t addr, enum tl_state st, void **watch)
{
    *watch = NULL;
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    /* A plain record has no cancel: tl_verdict_quiet is st != TL_PENDING. */
    int plain = sl && (sl->key & PLAIN);
    int quiet = !sl ? -1 : plain ? st != TL_PENDING : tl_verdict_quiet(sl->rec, st);
    if (quiet == 1 && plain) {
        take_out(sl);
        T.records--;
        T.stats.tasks_done++;
    } else if (quiet == 1) {
        struct tl_task *rec = sl->rec;
        take_out(sl);
        T.records--;
        T.ended_alive -= rec->ended;
        if (rec->watch)
            watch_unlink(rec);
        if (!rec->ended)
            T.stats.tasks_done++;
        if (rec->stuck)
            resolve_stuck(rec, st, tl_now());
        *watch = rec->watch;
        recycle(rec);
    }
    tl_unlock(&T.lock);
    return quiet;
}

void *tl_task_destroyed(uintptr_t addr, int done, enum tl_kind kind,
                        struct tl_outcome *outcome, double t)
{
    tl_lock(&T.lock);
    struct tl_task tmp, *rec = unlink_task(addr, &tmp);
    void *watch = NULL;
    if (rec) {
        enum tl_kind leak_kind = tl_verdict_once(rec, done, kind);
        if (done && !rec->ended)
            T.stats.tasks_done++;
        if (done)
            resolve_stuck(rec, outcome ? outcome->state : TL_FINISHED, t);
        if (leak_kind != TL_NO_LEAK)
            add_leak(rec, leak_kind, outcome, done ? t : -1);
        watch = rec->watch;
    }
    if (outcome)
        tl_outcome_free(outcome); /* what add_leak did not take */
    if (rec && rec != &tmp)
        recycle(rec);
    tl_unlock(&T.lock);
    return watch;
}

void *tl_task_judged(uintptr_t addr, uint64_t id, int done, enum tl_kind kind,
                     struct tl_outcome *outcome, double t)
{
    void *watch = NULL;
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    struct tl_task *rec = sl && id_of(sl) == id ? changing(sl) : NULL;
    enum tl_kind leak_kind = rec ? tl_verdict_once(rec, done, kind) : TL_NO_LEAK;
    if (rec && done && !rec->ended) {
        resolve_stuck(rec, outcome->state, t);
        if (!rec->ended) {
            T.stats.tasks_done++;
            T.ended_alive++;
        }
        rec->ended = 1;
        watch = rec->watch;
        if (watch)
            watch_unlink(rec);
        rec->watch = NULL;
    }
    if (leak_kind != TL_NO_LEAK) {
        struct tl_leak *l = add_leak(rec, leak_kind, outcome, done ? t : -1);
        if (leak_kind == TL_STUCK_AFTER_CANCEL)
            rec->stuck = l;
    }
    tl_outcome_free(outcome); /* what add_leak did not take */
    tl_unlock(&T.lock);
    return watch;
}

static int cmp_addr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

void tl_tasks_end_all_but(uintptr_t *pending, size_t n)
{
    qsort(pending, n, sizeof *pending, cmp_addr);
    tl_lock(&T.lock);
    for (size_t i = 0; i < T.nslots; i++) {
        struct slot *sl = &T.slots[i];
        uintptr_t addr = sl->key & ~PLAIN;
        if (!sl->key || bsearch(&addr, pending, n, sizeof *pending, cmp_addr))
            continue;
        if (sl->key & PLAIN) {
            /* Nothing left to know of it: out of the table, and the slot
             * looked at again (take_out may move a later task into it; one
             * moved from the start, looked at twice, is left as it was). */
            take_out(sl);
            T.records--;
            T.stats.tasks_done++;
            i--;
        } else if (!sl->rec->ended && !sl->rec->watch) {
            sl->rec->ended = 1;
            T.stats.tasks_done++;
            T.ended_alive++;
        }
    }
    for (struct tl_inobj *o = T.inobj, *next; o; o = next) {
        next = o->next;
        uintptr_t addr = (uintptr_t)o - T.inobj_offset;
        if (!bsearch(&addr, pending, n, sizeof *pending, cmp_addr)) {
            inobj_unlink(o);
            T.stats.tasks_done++;
        }
    }
    tl_unlock(&T.lock);
}

size_t tl_tasks_watched(struct tl_task_view *out, size_t max)
{
    size_t n = 0;
    tl_lock(&T.lock);
    for (struct tl_task *t = T.watched; t && n < max; t = t->wnext)
        if (!t->ended)
            fill_view(t, &out[n++]);
    tl_unlock(&T.lock);
    return n;
}

static size_t count_records(void)
{
    return T.records + T.n_inobj;
}

static size_t count_leaks(void)
{
    return (size_t)T.n_leaks;
}

/* Room for copies of `count()` items (read under the lock), allocated and
 * faulted in outside it, so that copying under the lock takes no page
 * fault (416 bytes an item: the faults held the hooks 110 ms at 100,000
 * tasks).  Returns with the lock held; NULL when out of memory. */
static struct tl_leak *copies_locked(size_t (*count)(void))
{
    struct tl_leak *items = NULL;
    size_t room = 0;
    double since = tl_now();
    for (;;) {
        tl_lock(&T.lock);
        size_t need = count();
        if (items && need <= room)
            return items;
        tl_unlock(&T.lock);
        free(items);
        room = need + need / 8 + 64; /* and some for those coming meanwhile */
        items = calloc(room, sizeof *items);
        if (!items) {
            tl_lock(&T.lock);
            return NULL;
        }
        for (size_t at = 0; at < room * sizeof *items; at += 4096) {
            ((volatile char *)items)[at] = 0;
            tl_give_way(&since); /* a fault is microseconds */
        }
    }
}

void tl_tasks_visit(struct tl_stats *stats, tl_leak_visitor visit, void *ctx)
{
    /* Rendering a leak is slow (JSON, native symbols): visit copies, so the
     * hooks never wait for a report on the table lock.  Leaks are only ever
     * appended, and what they point to never changes; the copies take the
     * fields a stuck entry's resolution may still change. */
    struct tl_leak *copies = copies_locked(count_leaks);
    *stats = T.stats;
    stats->tasks_live = T.records - T.ended_alive + T.n_inobj;
    size_t n = (size_t)T.n_leaks, i = 0;
    if (!copies) { /* no memory: visit in place, as the slow path */
        for (const struct tl_leak *l = T.leaks; l; l = l->next)
            visit(ctx, l);
        tl_unlock(&T.lock);
        return;
    }
    for (const struct tl_leak *l = T.leaks; l && i < n; l = l->next)
        copies[i++] = *l;
    tl_unlock(&T.lock);
    for (size_t k = 0; k < i; k++)
        visit(ctx, &copies[k]);
    free(copies);
}

int tl_task_snapshot(uintptr_t addr, struct tl_outcome *outcome,
                     struct tl_leak *out)
{
    memset(out, 0, sizeof *out);
    tl_lock(&T.lock);
    struct slot *sl = find(addr);
    struct tl_task tmp;
    if (sl)
        copy_record(out, view_of(sl, &tmp));
    tl_unlock(&T.lock);
    if (!sl) {
        tl_outcome_free(outcome);
        return 0;
    }
    out->outcome = *outcome;
    memset(outcome, 0, sizeof *outcome);
    copy_times(out, tl_time_pair());
    out->t_ended = out->t_resolved = -1;
    return 1;
}

static void copy_pending(struct tl_leak *l, const struct tl_task *t)
{
    copy_record(l, t);
    l->outcome.state = TL_PENDING;
    l->t_ended = l->t_resolved = -1;
}

size_t tl_tasks_snapshot_all(struct tl_leak **out)
{
    struct tl_leak *items = copies_locked(count_records);
    size_t n = 0;
    struct tl_task tmp;
    for (size_t i = 0; items && i < T.nslots; i++) {
        const struct tl_task *t = T.slots[i].key ? view_of(&T.slots[i], &tmp) : NULL;
        if (t && !t->ended)
            copy_pending(&items[n++], t);
    }
    for (const struct tl_inobj *o = items ? T.inobj : NULL; o; o = o->next) {
        record_of_inobj(&tmp, o);
        copy_pending(&items[n++], &tmp);
    }
    tl_unlock(&T.lock);
    struct tl_time_pair now = tl_time_pair(); /* one clock read for all */
    for (size_t i = 0; i < n; i++) /* outside the lock: the hooks need it */
        copy_times(&items[i], now);
    *out = items;
    return n;
}

void tl_leak_free(struct tl_leak *l)
{
    free_cancels(l->task.cancels);
    tl_outcome_free(&l->outcome);
}

/* The outcome owns its holdings (holdings.c fills them). */
void tl_holding_free(struct tl_holding *h)
{
    free(h->variable);
    free(h->function);
    free(h->local);
    free(h->peer);
    free(h->path);
}

void tl_holdings_free(struct tl_holdings *hs)
{
    for (uint32_t i = 0; i < hs->n; i++)
        tl_holding_free(&hs->items[i]);
    free(hs->items);
    memset(hs, 0, sizeof *hs);
}

void tl_outcome_free(struct tl_outcome *o)
{
    free(o->name);
    free(o->type);
    free(o->text);
    free(o->awaiting_opaque);
    for (uint32_t i = 0; i < o->n_labels; i++) {
        free(o->labels[i].name);
        free(o->labels[i].value);
    }
    tl_holdings_free(&o->holds);
    tl_wait_free(o->wait);
    tl_helds_free(&o->held);
    memset(o, 0, sizeof *o);
}

void tl_tasks_reset_after_fork(void)
{
    /* The child owns nothing of the parent's: drop records and leaks. The
     * memory is the parent's copy; leaking it is cheaper than walking it. */
    tl_lock_reset(&T.lock);
    /* The spawns in objects are the child's copies: unmarked, one by one. */
    for (struct tl_inobj *o = T.inobj, *next; o; o = next) {
        next = o->next;
        *o = (struct tl_inobj){0};
    }
    T.inobj = NULL;
    T.n_inobj = 0;
    T.slots = NULL;
    T.nslots = 0;
    T.leaks = T.last_leak = NULL;
    T.n_leaks = 0;
    T.records = T.ended_alive = 0;
    memset(&T.stats, 0, sizeof T.stats);
    T.next_id = 0;
    T.free_cancels = NULL;
    T.watched = T.last_watched = NULL;
    T.n_free_tasks = T.n_free_cancels = 0;
}
