/* SPDX-License-Identifier: MIT */
/* The task table and the verdicts, without Python. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/core.h"
#include "core/tasks.h"
#include "core/verdict.h"

struct count {
    int n;
    int kinds[TL_N_KINDS];
    struct tl_leak last_copy; /* the visitor's leak lives only during the visit */
    const struct tl_leak *last;
};

static void count_leak(void *ctx, const struct tl_leak *l)
{
    struct count *c = ctx;
    c->n++;
    c->kinds[l->kind]++;
    c->last_copy = *l;
    c->last = &c->last_copy;
}

static struct tl_outcome outcome(enum tl_state st, const char *type)
{
    struct tl_outcome o = {.state = st};
    o.type = type ? strdup(type) : NULL;
    return o;
}

int main(void)
{
    tl_tasks_init(2);
    struct tl_stats s;
    struct count c = {0};
    struct tl_task_view v0;

    /* Ids in creation order from 1; records found by address. */
    CHECK(tl_task_spawned(0x1000, 1, 1, 0, 42, 1) == 1);
    CHECK(tl_task_spawned(0x2000, 1, 1, 0, 42, 1) == 2);
    CHECK(tl_task_id(0x2000) == 2 && tl_task_id(0x3000) == 0);

    /* Many tasks: the table grows and stays consistent. */
    for (uintptr_t i = 0; i < 50000; i++)
        tl_task_spawned(0x100000 + i * 16, 1, 1, 0, 42, 1);
    for (uintptr_t i = 0; i < 50000; i++)
        tl_task_destroyed(0x100000 + i * 16, 1, -1, NULL, 1.0);
    tl_tasks_visit(&s, count_leak, &c);
    CHECK(s.tasks_created == 50002 && s.tasks_live == 2 && s.tasks_done == 50000);

    /* Spawns and endings at random over 3,000 addresses, against a plain
     * array: every removal keeps every other record findable. */
    {
        static uint64_t ids[3000];
        uint64_t x = 12345;
        int agree = 1;
        for (int op = 0; op < 200000; op++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t k = (size_t)(x >> 33) % 3000;
            uintptr_t addr = 0x7f0000000000u + k * 0x70;
            void *w;
            if (ids[k]) {
                agree &= tl_task_ended_quietly(addr, TL_FINISHED, &w) == 1;
                ids[k] = 0;
            } else {
                ids[k] = tl_task_spawned(addr, 1, 1, 0, 42, 1);
            }
            size_t probe = (size_t)(x >> 13) % 3000;
            agree &= tl_task_id(0x7f0000000000u + probe * 0x70) == ids[probe];
        }
        CHECK(agree);
        for (size_t k = 0; k < 3000; k++)
            if (ids[k])
                tl_task_destroyed(0x7f0000000000u + k * 0x70, 1, TL_NO_LEAK, NULL, 1.0);
    }

    /* The common endings in one call (tl_task_ended_quietly): done and never
     * cancelled, or ended cancelled.  A record with a cancel that ended
     * otherwise, or one still pending, stays for judging. */
    tl_tasks_visit(&s, count_leak, &c);
    uint64_t created = s.tasks_created, done = s.tasks_done;
    CHECK(tl_task_spawned(0x5000, 1, 1, 0, 42, 1) && tl_task_spawned(0x6000, 1, 1, 0, 42, 1));
    CHECK(tl_task_spawned(0x7000, 1, 1, 0, 42, 1));
    void *gone = &c;
    CHECK(tl_task_ended_quietly(0x5000, TL_PENDING, &gone) == 0 && gone == NULL);
    CHECK(tl_task_ended_quietly(0x5000, TL_FINISHED, &gone) == 1 && gone == NULL);
    CHECK(tl_task_ended_quietly(0x5000, TL_FINISHED, &gone) == -1 && !tl_task_id(0x5000));
    int watch_c;
    gone = &watch_c;
    tl_task_cancelled(0x6000, tl_ticks(), 7, 0, 0, strdup("m"), 0, &gone);
    tl_task_cancelled(0x7000, tl_ticks(), 7, 0, 0, NULL, 0, NULL);
    CHECK(tl_task_ended_quietly(0x7000, TL_FINISHED, &gone) == 0 && tl_task_id(0x7000));
    CHECK(tl_task_ended_quietly(0x6000, TL_CANCELLED, &gone) == 1 && gone == &watch_c);
    CHECK(tl_task_destroyed(0x7000, 1, TL_NO_LEAK, NULL, 1.0) == NULL);
    tl_tasks_visit(&s, count_leak, &c);
    CHECK(s.tasks_created == created + 3 && s.tasks_done == done + 3 && c.n == 0);
    /* Recycled records start clean: a new task on an old record. */
    CHECK(tl_task_spawned(0x6000, 9, 8, 7, 42, 2) && tl_task_view(0x6000, &v0));
    CHECK(v0.n_effective == 0 && !v0.watch && !v0.has_stuck && v0.created_py == 8);
    CHECK(tl_task_ended_quietly(0x6000, TL_FINISHED, &gone) == 1);

    /* The sweeps see the watched records only, in the order watched; one
     * leaves the list when judged ended or when it goes. */
    int wa, wb, wc;
    void *pw[3] = {&wa, &wb, &wc};
    for (int i = 0; i < 3; i++) {
        CHECK(tl_task_spawned(0x8000 + 16 * (uintptr_t)i, 1, 1, 0, 42, 1));
        tl_task_cancelled(0x8000 + 16 * (uintptr_t)i, tl_ticks(), 7, 0, 0, NULL, 0, &pw[i]);
    }
    struct tl_task_view views[8];
    CHECK(tl_tasks_watched(views, 8) == 3 && views[0].watch == &wa && views[2].watch == &wc);
    struct tl_outcome ended = {.state = TL_CANCELLED};
    CHECK(tl_task_judged(0x8010, tl_task_id(0x8010), 1, TL_NO_LEAK, &ended, 1.0) == &wb);
    CHECK(tl_tasks_watched(views, 8) == 2 && views[1].watch == &wc);
    CHECK(tl_task_destroyed(0x8000, 1, TL_NO_LEAK, NULL, 1.0) == &wa);
    CHECK(tl_tasks_watched(views, 8) == 1 && views[0].watch == &wc);
    CHECK(tl_task_ended_quietly(0x8020, TL_CANCELLED, &gone) == 1 && gone == &wc);
    CHECK(tl_tasks_watched(views, 8) == 0);
    tl_task_ended_quietly(0x8010, TL_CANCELLED, &gone);

    /* A cancel: first returns 1, later ones 0; the message is kept. */
    /* The record takes the first watch it is given; the caller keeps the
     * others (to release). */
    int watch_a, watch_b;
    void *watch = &watch_a;
    uint64_t first = tl_ticks();
    CHECK(tl_task_cancelled(0x1000, first, 7, 0, 0, strdup("shutdown"), 0, &watch) == 1);
    CHECK(watch == NULL);
    watch = &watch_b;
    CHECK(tl_task_cancelled(0x1000, first + 1000, 7, 2, 0, NULL, 0, &watch) == 0);
    CHECK(watch == &watch_b);
    CHECK(tl_task_cancelled(0x9999, first, 7, 0, 0, NULL, 0, &watch) == -1 && watch == &watch_b);
    struct tl_task_view v;
    CHECK(tl_task_view(0x1000, &v) && v.n_effective == 2 && v.n_scope == 1);
    CHECK(v.first_cancel_ticks == first && v.watch == &watch_a);

    /* Verdicts (3.11+ with cancelling(), 3.8-3.10 without). */
    CHECK(tl_is_swallowed(&v, TL_FINISHED, 2));  /* 2 outstanding, 1 the scope's */
    CHECK(!tl_is_swallowed(&v, TL_FINISHED, 1)); /* only the scope's own cancel left */
    CHECK(!tl_is_swallowed(&v, TL_CANCELLED, 2));
    CHECK(!tl_is_swallowed(&v, TL_PENDING, 2));
    CHECK(tl_is_swallowed(&v, TL_FAILED, -1));   /* 3.8: a user cancel, not cancelled */
    tl_task_uncancelled(0x1000, 1);
    CHECK(tl_task_view(0x1000, &v) && tl_scope_outstanding(&v) == 0);
    CHECK(tl_is_swallowed(&v, TL_FINISHED, 1));
    CHECK(!tl_is_stuck(&v, 4.9, 5.0, 1) && tl_is_stuck(&v, 5.0, 5.0, 1));
    CHECK(tl_is_stuck(&v, INFINITY, 5.0, 1)); /* cancelled before an attach: overdue */
    CHECK(!tl_is_stuck(&v, 5.0, 5.0, 0)); /* uncancel()ed: it carries on, no zombie */
    CHECK(tl_is_stuck(&v, 5.0, 5.0, -1));  /* 3.8-3.10: a cancel not a scope's */

    /* 3.12+: the program's handler caught it last: swallowed even when the
     * scope's accounting would excuse it; never when cancelling() is 0. */
    struct tl_task_view w = v;
    w.n_scope = 2;
    w.n_scope_uncancel = 0;
    w.catch_kind = TL_CATCH_WITH;
    CHECK(!tl_is_swallowed(&w, TL_FINISHED, 1));
    w.catch_kind = TL_CATCH_USER;
    CHECK(tl_is_swallowed(&w, TL_FINISHED, 1));
    CHECK(!tl_is_swallowed(&w, TL_FINISHED, 0));
    tl_task_caught(0x1000, 5, TL_CATCH_USER);
    CHECK(tl_task_view(0x1000, &v) && v.catch_kind == TL_CATCH_USER);
    tl_task_caught(0x1000, 6, TL_CATCH_WITH); /* the last handler counts */
    CHECK(tl_task_view(0x1000, &v) && v.catch_kind == TL_CATCH_WITH);

    /* A stuck entry that resolves later. */
    struct tl_outcome o = outcome(TL_PENDING, NULL);
    tl_task_judged(0x1000, 1, 0, TL_STUCK_AFTER_CANCEL, &o, 6.0);
    CHECK(tl_task_view(0x1000, &v) && v.has_stuck);
    o = outcome(TL_FINISHED, "NoneType");
    tl_task_destroyed(0x1000, 1, TL_SWALLOWED_CANCEL, &o, 9.0);
    memset(&c, 0, sizeof c);
    tl_tasks_visit(&s, count_leak, &c);
    CHECK(c.n == 2 && c.kinds[TL_STUCK_AFTER_CANCEL] == 1 && c.kinds[TL_SWALLOWED_CANCEL] == 1);
    CHECK(c.last->task.cancels && !strcmp(c.last->task.cancels->message, "shutdown"));
    CHECK(c.last->task.cancels->next && !c.last->task.cancels->next->next);
    /* the stamps in seconds, fixed when the leak was recorded */
    CHECK(c.last->task.cancels->t >= 0 && c.last->task.cancels->next->t > c.last->task.cancels->t);
    CHECK(c.last->outcome.type && !strcmp(c.last->outcome.type, "NoneType"));

    /* max_leaks=2: the third is only counted. */
    o = outcome(TL_PENDING, NULL);
    tl_task_destroyed(0x2000, 0, TL_DESTROYED_PENDING, &o, 9.5);
    memset(&c, 0, sizeof c);
    tl_tasks_visit(&s, count_leak, &c);
    CHECK(c.n == 2 && s.leaks[TL_DESTROYED_PENDING] == 1 && s.leaks_omitted == 1);
    CHECK(s.cancel_requests == 8 && s.tasks_live == 0); /* 5 of the quiet endings above */

    /* A plain task (never cancelled) is its spawn alone: what a snapshot,
     * a view or a leak says of it comes from there. */
    CHECK(tl_task_spawned(0xa000, 11, 12, 13, 77, 5) && tl_task_view(0xa000, &v));
    CHECK(v.created_py == 12 && v.n_effective == 0 && !v.watch);
    struct tl_leak *snap;
    CHECK(tl_tasks_snapshot_all(&snap) == 1);
    CHECK(snap[0].task.addr == 0xa000 && snap[0].task.coro == 11 && snap[0].task.created_py == 12);
    CHECK(snap[0].task.created_native == 13 && snap[0].task.thread_id == 77 && !snap[0].task.cancels);
    tl_leak_free(&snap[0]);
    free(snap);
    /* __init__ again on it: the new spawn wins. */
    uint64_t again = tl_task_spawned(0xa000, 21, 22, 23, 78, 6);
    CHECK(again && tl_task_id(0xa000) == again && tl_task_view(0xa000, &v) && v.created_py == 22);
    /* And on a cancelled, watched one: the record and its watch go. */
    int wd;
    void *pwd = &wd;
    CHECK(tl_task_spawned(0xb000, 1, 1, 0, 42, 1) && tl_task_cancelled(0xb000, 0.1, 7, 0, 0, NULL, 0, &pwd) == 1);
    CHECK(tl_tasks_watched(views, 8) == 1);
    uint64_t renewed = tl_task_spawned(0xb000, 31, 32, 33, 79, 7);
    CHECK(renewed && tl_tasks_watched(views, 8) == 0 && tl_task_view(0xb000, &v));
    CHECK(v.n_effective == 0 && !v.watch && v.created_py == 32 && v.id == renewed);
    CHECK(tl_task_ended_quietly(0xb000, TL_FINISHED, &gone) == 1);
    o = outcome(TL_PENDING, NULL);
    tl_tasks_init(3);
    tl_task_destroyed(0xa000, 0, TL_DESTROYED_PENDING, &o, 10.0);
    memset(&c, 0, sizeof c);
    tl_tasks_visit(&s, count_leak, &c);
    CHECK(c.n == 3 && c.last->kind == TL_DESTROYED_PENDING && c.last->task.id == again);
    CHECK(c.last->task.coro == 21 && c.last->task.created_native == 23 && c.last->task.thread_id == 78);

    /* At exit, the tasks the runtime no longer lists ended: plain ones
     * leave the table (which moves the others), recorded ones are marked.
     * At random addresses (an arithmetic run hashes without collisions),
     * enough of them that removals shift runs of the table. */
    {
        static uintptr_t pending[2002], addrs[6000]; /* 2 more: the in-object ones */
        size_t n_pending = 0;
        tl_tasks_visit(&s, count_leak, &c);
        uint64_t done0 = s.tasks_done, x = 99;
        for (uintptr_t i = 0; i < 6000; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            uintptr_t addr = addrs[i] = 0x100000000u + (uintptr_t)(x >> 20) * 16;
            tl_task_spawned(addr, 1, 1, 0, 42, 1);
            if (i % 3 == 0)
                pending[n_pending++] = addr;
            else if (i % 3 == 1)
                tl_task_cancelled(addr, 0.1, 7, 0, 0, NULL, 0, NULL);
        }
        tl_tasks_end_all_but(pending, n_pending);
        tl_tasks_visit(&s, count_leak, &c);
        CHECK(s.tasks_live == 2000 && s.tasks_done == done0 + 4000);
        int kept = 1;
        for (uintptr_t i = 0; i < 6000; i++)
            kept &= (tl_task_id(addrs[i]) != 0) == (i % 3 != 2);
        CHECK(kept);
        CHECK(tl_tasks_snapshot_all(&snap) == 2000);
        for (size_t i = 0; i < 2000; i++)
            tl_leak_free(&snap[i]);
        free(snap);

        /* Spawns kept in the task objects (past 64 bytes of their own):
         * counted and listed without the table, gone quietly when done,
         * moved to the table when anything else needs them. */
        static struct {
            char own[64];
            struct tl_inobj in;
        } obj[4];
        uintptr_t at[4];
        tl_tasks_inobj_offset(64);
        tl_tasks_visit(&s, count_leak, &c);
        uint64_t created0 = s.tasks_created, live0 = s.tasks_live;
        done0 = s.tasks_done;
        uint64_t id0 = tl_task_spawned_in(&obj[0].in, 41, 42, 43, 44, 45);
        int ids = 1;
        for (int i = 0; i < 4; i++) {
            at[i] = (uintptr_t)&obj[i];
            ids &= i == 0 || tl_task_spawned_in(&obj[i].in, 1, 1, 0, 42, 1) == id0 + (uint64_t)i;
        }
        tl_tasks_visit(&s, count_leak, &c);
        CHECK(ids && s.tasks_created == created0 + 4 && s.tasks_live == live0 + 4);
        CHECK(tl_task_id(at[0]) == 0); /* not in the table */
        CHECK(tl_tasks_snapshot_all(&snap) == 2004);
        int listed = 0;
        for (size_t i = 0; i < 2004; i++) {
            const struct tl_task *t = &snap[i].task;
            listed += t->addr == at[0] && t->id == id0 && t->coro == 41 && t->created_py == 42 &&
                      t->created_native == 43 && t->thread_id == 44 && t->created_ticks == 45 &&
                      snap[i].outcome.state == TL_PENDING;
            tl_leak_free(&snap[i]);
        }
        free(snap);
        CHECK(listed == 1);
        /* Done: it goes, once. */
        CHECK(tl_task_ended_in(&obj[1].in) == 1 && !obj[1].in.id);
        CHECK(tl_task_ended_in(&obj[1].in) == 0);
        /* Moved: the table has its spawn and id, and its ending from then on. */
        tl_task_adopt(&obj[0].in);
        CHECK(!obj[0].in.id && obj[0].in.thread_id == TL_INOBJ_IN_TABLE);
        CHECK(tl_task_view(at[0], &v) && v.id == id0 && v.created_py == 42);
        CHECK(tl_task_cancelled(at[0], 0.1, 7, 0, 0, NULL, 0, NULL) == 1);
        CHECK(tl_task_ended_in(&obj[0].in) == 0);
        /* At exit, one listed pending stays, the other ended. */
        pending[n_pending++] = at[2];
        pending[n_pending++] = at[0];
        tl_tasks_end_all_but(pending, n_pending);
        tl_tasks_visit(&s, count_leak, &c);
        CHECK(obj[2].in.id && !obj[3].in.id && s.tasks_done == done0 + 2);
        CHECK(s.tasks_live == live0 + 2); /* obj[0] in the table, obj[2] in its object */
        /* A fork child owns none of them (in a child: the reset leaks the
         * parent's memory on purpose). */
        pid_t child = fork();
        if (child == 0) {
            tl_tasks_reset_after_fork();
            size_t n = tl_tasks_snapshot_all(&snap);
            _exit(n == 0 && !obj[2].in.id && !obj[2].in.next && !obj[2].in.prev ? 0 : 1);
        }
        int status = -1;
        CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0);
        CHECK(obj[2].in.id); /* the parent's is still there */
    }
    return check_summary("tasks");
}
