/* SPDX-License-Identifier: MIT */
/* The task table and the verdicts, without Python. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
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

    /* Ids in creation order from 1; records found by address. */
    CHECK(tl_task_spawned(0x1000, 1, 1, 0, 42, 0.0) == 1);
    CHECK(tl_task_spawned(0x2000, 1, 1, 0, 42, 0.0) == 2);
    CHECK(tl_task_id(0x2000) == 2 && tl_task_id(0x3000) == 0);

    /* Many tasks: the table grows and stays consistent. */
    for (uintptr_t i = 0; i < 50000; i++)
        tl_task_spawned(0x100000 + i * 16, 1, 1, 0, 42, 0.0);
    for (uintptr_t i = 0; i < 50000; i++)
        tl_task_destroyed(0x100000 + i * 16, 1, -1, NULL, 1.0);
    tl_tasks_visit(&s, count_leak, &c);
    CHECK(s.tasks_created == 50002 && s.tasks_live == 2 && s.tasks_done == 50000);

    /* A cancel: first returns 1, later ones 0; the message is kept. */
    CHECK(tl_task_cancelled(0x1000, 0.5, 7, 0, 0, strdup("shutdown"), 0) == 1);
    CHECK(tl_task_cancelled(0x1000, 0.6, 7, 2, 0, NULL, 0) == 0);
    CHECK(tl_task_cancelled(0x9999, 0.6, 7, 0, 0, NULL, 0) == -1);
    struct tl_task_view v;
    CHECK(tl_task_view(0x1000, &v) && v.n_effective == 2 && v.n_scope == 1);
    CHECK(v.t_first_cancel == 0.5);

    /* Verdicts (3.11+ with cancelling(), 3.8-3.10 without). */
    CHECK(tl_is_swallowed(&v, TL_FINISHED, 2));  /* 2 outstanding, 1 the scope's */
    CHECK(!tl_is_swallowed(&v, TL_FINISHED, 1)); /* only the scope's own cancel left */
    CHECK(!tl_is_swallowed(&v, TL_CANCELLED, 2));
    CHECK(!tl_is_swallowed(&v, TL_PENDING, 2));
    CHECK(tl_is_swallowed(&v, TL_FAILED, -1));   /* 3.8: a user cancel, not cancelled */
    tl_task_uncancelled(0x1000, 1);
    CHECK(tl_task_view(0x1000, &v) && tl_scope_outstanding(&v) == 0);
    CHECK(tl_is_swallowed(&v, TL_FINISHED, 1));
    CHECK(!tl_is_stuck(&v, 5.4, 5.0, 1) && tl_is_stuck(&v, 5.5, 5.0, 1));
    CHECK(!tl_is_stuck(&v, 5.5, 5.0, 0)); /* uncancel()ed: it carries on, no zombie */
    CHECK(tl_is_stuck(&v, 5.5, 5.0, -1));  /* 3.8-3.10: a cancel not a scope's */

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
    CHECK(c.last->outcome.type && !strcmp(c.last->outcome.type, "NoneType"));

    /* max_leaks=2: the third is only counted. */
    o = outcome(TL_PENDING, NULL);
    tl_task_destroyed(0x2000, 0, TL_DESTROYED_PENDING, &o, 9.5);
    memset(&c, 0, sizeof c);
    tl_tasks_visit(&s, count_leak, &c);
    CHECK(c.n == 2 && s.leaks[TL_DESTROYED_PENDING] == 1 && s.leaks_omitted == 1);
    CHECK(s.cancel_requests == 3 && s.tasks_live == 0);

    /* The stuck entry was resolved by the destruction. */
    return check_summary("tasks");
}
