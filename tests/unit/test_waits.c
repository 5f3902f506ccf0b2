/* SPDX-License-Identifier: MIT */
/* Holders, deadlocks and waits that never end, over hand-made waits. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/waits.h"

#define LOCK_A 0xa000
#define LOCK_B 0xb000
#define LOCK_C 0xc000

static struct tl_wait *wait_on(enum tl_wait_kind kind, uintptr_t object, const char *call)
{
    struct tl_wait *w = calloc(1, sizeof *w);
    w->kind = kind;
    w->object = object;
    w->call = call ? strdup(call) : NULL;
    w->deadline = -1;
    w->taken = -1;
    w->acquiring = call && (strstr(call, "acquire") || strstr(call, "__aenter__"));
    return w;
}

static struct tl_wait *awaiting(enum tl_wait_kind kind, const uint64_t *ids, uint32_t n)
{
    struct tl_wait *w = wait_on(kind, 0x5000, NULL);
    w->tasks = malloc(n * sizeof *w->tasks);
    memcpy(w->tasks, ids, n * sizeof *ids);
    w->n_tasks = n;
    return w;
}

struct world {
    struct tl_waiter tasks[8];
    struct tl_helds held[8];
    size_t n;
    struct tl_deadlocks deadlocks;
};

static struct tl_waiter *add(struct world *w, uint64_t id, struct tl_wait *wait)
{
    size_t i = w->n++;
    static const char *const names[] = {"Task-0", "Task-1", "Task-2", "Task-3", "Task-4",
                                        "Task-5", "Task-6", "Task-7"};
    w->tasks[i] = (struct tl_waiter){id, names[id % 8], wait, &w->held[i]};
    return &w->tasks[i];
}

static void hold(struct world *w, size_t i, uintptr_t object, int entered)
{
    tl_helds_add(&w->held[i], object, 7, entered, strdup("asyncio.locks.Lock"));
}

static void done(struct world *w)
{
    for (size_t i = 0; i < w->n; i++) {
        tl_wait_free(w->tasks[i].wait);
        tl_helds_free(&w->held[i]);
    }
    tl_deadlocks_free(&w->deadlocks);
    memset(w, 0, sizeof *w);
}

static int has_edge(const struct tl_deadlock *d, uint64_t from, uint64_t to)
{
    for (uint32_t i = 0; i < d->n_edges; i++)
        if (d->edges[i].from == from && d->edges[i].to == to)
            return 1;
    return 0;
}

int main(void)
{
    struct world w = {0};

    /* The program: holder in `async with lock` waits for an Event;
     * two waiters acquire the lock: held by the holder, certain; no
     * deadlock, nothing never (the Event's own rule is the hooks'). */
    add(&w, 1, wait_on(TL_WAIT_EVENT, 0xe000, "Event.wait"));
    hold(&w, 0, LOCK_A, 1);
    add(&w, 2, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"));
    hold(&w, 1, LOCK_A, 0); /* its own `async with` is still entering */
    add(&w, 3, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"));
    w.tasks[1].wait->taken = w.tasks[2].wait->taken = 1;
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.deadlocks.n == 0);
    CHECK(w.tasks[1].wait->holders == TL_HOLDERS_CERTAIN && w.tasks[1].wait->n_held_by == 1 &&
          w.tasks[1].wait->held_by[0] == 1);
    CHECK(w.tasks[2].wait->n_held_by == 1 && w.tasks[2].wait->held_by[0] == 1);
    CHECK(!w.tasks[0].wait->never && !w.tasks[1].wait->never);
    /* ...and once the Event is known never to be set, the waiters never wake. */
    done(&w);
    add(&w, 1, wait_on(TL_WAIT_EVENT, 0xe000, "Event.wait"))->wait->never = strdup("nobody");
    hold(&w, 0, LOCK_A, 1);
    add(&w, 2, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"));
    add(&w, 3, awaiting(TL_WAIT_TASK, (uint64_t[]){2}, 1));
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.tasks[1].wait->never && strstr(w.tasks[1].wait->never, "held by Task-1"));
    CHECK(w.tasks[2].wait->never && strstr(w.tasks[2].wait->never, "awaits Task-2"));
    done(&w);

    /* Two tasks, two locks, each holding one and acquiring the other. */
    add(&w, 3, wait_on(TL_WAIT_LOCK, LOCK_B, "Lock.acquire"));
    hold(&w, 0, LOCK_A, 1);
    add(&w, 4, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"));
    hold(&w, 1, LOCK_B, 1);
    add(&w, 5, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire")); /* a bystander */
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.deadlocks.n == 1);
    CHECK(w.deadlocks.n == 1 && w.deadlocks.items[0].n_tasks == 2 &&
          w.deadlocks.items[0].n_edges == 2 && has_edge(&w.deadlocks.items[0], 3, 4) &&
          has_edge(&w.deadlocks.items[0], 4, 3));
    CHECK(w.tasks[0].wait->never && strstr(w.tasks[0].wait->never, "deadlock"));
    CHECK(w.tasks[2].wait->never && strstr(w.tasks[2].wait->never, "held by Task-3"));
    done(&w);

    /* Three tasks in a ring, one of them through a gather. */
    add(&w, 1, wait_on(TL_WAIT_LOCK, LOCK_B, "Lock.acquire"));
    hold(&w, 0, LOCK_A, 1);
    add(&w, 2, wait_on(TL_WAIT_LOCK, LOCK_C, "Lock.acquire"));
    hold(&w, 1, LOCK_B, 1);
    add(&w, 3, awaiting(TL_WAIT_GATHER, (uint64_t[]){6, 1}, 2));
    hold(&w, 2, LOCK_C, 1);
    add(&w, 6, NULL); /* ready to run: no wait */
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.deadlocks.n == 1 && w.deadlocks.items[0].n_tasks == 3 &&
          has_edge(&w.deadlocks.items[0], 1, 2) && has_edge(&w.deadlocks.items[0], 2, 3) &&
          has_edge(&w.deadlocks.items[0], 3, 1) && !has_edge(&w.deadlocks.items[0], 3, 6));
    done(&w);

    /* The same ring, but one wait has a deadline, or a cancel pending: no
     * deadlock, and nothing never. */
    for (int variant = 0; variant < 2; variant++) {
        add(&w, 1, wait_on(TL_WAIT_LOCK, LOCK_B, "Lock.acquire"));
        hold(&w, 0, LOCK_A, 1);
        add(&w, 2, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"));
        hold(&w, 1, LOCK_B, 1);
        if (variant)
            w.tasks[1].wait->waking = 1;
        else
            w.tasks[1].wait->deadline = 12.5;
        tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
        CHECK(w.deadlocks.n == 0 && !w.tasks[0].wait->never && !w.tasks[1].wait->never);
        done(&w);
    }

    /* A task that awaits itself through a lock it holds (asyncio.Lock is
     * not reentrant). */
    add(&w, 9, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"));
    hold(&w, 0, LOCK_A, 1);
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.deadlocks.n == 1 && w.deadlocks.items[0].n_tasks == 1 &&
          has_edge(&w.deadlocks.items[0], 9, 9));
    done(&w);

    /* Holders not entered: one other task keeps the taken lock -> inferred;
     * two -> unknown; a semaphore's holders are never a deadlock edge. */
    add(&w, 1, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"))->wait->taken = 1;
    add(&w, 2, wait_on(TL_WAIT_EVENT, 0xe000, "Event.wait"));
    hold(&w, 1, LOCK_A, 0);
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.tasks[0].wait->holders == TL_HOLDERS_INFERRED && w.tasks[0].wait->n_held_by == 1 &&
          w.tasks[0].wait->held_by[0] == 2);
    done(&w);
    add(&w, 1, wait_on(TL_WAIT_LOCK, LOCK_A, "Lock.acquire"))->wait->taken = 1;
    add(&w, 2, wait_on(TL_WAIT_EVENT, 0xe000, "Event.wait"));
    hold(&w, 1, LOCK_A, 0);
    add(&w, 3, wait_on(TL_WAIT_EVENT, 0xe001, "Event.wait"));
    hold(&w, 2, LOCK_A, 0);
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.tasks[0].wait->holders == TL_HOLDERS_UNKNOWN && w.tasks[0].wait->n_held_by == 0);
    done(&w);
    add(&w, 1, wait_on(TL_WAIT_SEMAPHORE, LOCK_A, "Semaphore.acquire"));
    hold(&w, 0, LOCK_B, 1);
    add(&w, 2, wait_on(TL_WAIT_SEMAPHORE, LOCK_B, "Semaphore.acquire"));
    hold(&w, 1, LOCK_A, 1);
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.deadlocks.n == 0 && w.tasks[0].wait->n_held_by == 1 && !w.tasks[0].wait->never);
    done(&w);

    /* Tasks waiting in Condition.wait() let its lock go: not holders; the
     * task inside `async with cond` that does not wait in it is. */
    add(&w, 1, wait_on(TL_WAIT_CONDITION, LOCK_C, "Condition.wait"));
    hold(&w, 0, LOCK_C, 1);
    add(&w, 2, wait_on(TL_WAIT_CONDITION, LOCK_C, "Condition.wait"));
    hold(&w, 1, LOCK_C, 1);
    add(&w, 3, wait_on(TL_WAIT_EVENT, 0xe000, "Event.wait"));
    hold(&w, 2, LOCK_C, 1);
    tl_waits_analyze(w.tasks, w.n, &w.deadlocks);
    CHECK(w.tasks[0].wait->n_held_by == 1 && w.tasks[0].wait->held_by[0] == 3);
    CHECK(w.deadlocks.n == 0);
    done(&w);

    /* A large world: ten thousand tasks in one ring. */
    {
        size_t n = 10000;
        struct tl_waiter *big = calloc(n, sizeof *big);
        struct tl_helds *held = calloc(n, sizeof *held);
        for (size_t i = 0; i < n; i++) {
            big[i] = (struct tl_waiter){i + 1, "t", awaiting(TL_WAIT_TASK, (uint64_t[]){(i + 1) % n + 1}, 1), &held[i]};
        }
        struct tl_deadlocks d;
        tl_waits_analyze(big, n, &d);
        CHECK(d.n == 1 && d.items[0].n_tasks == n && d.items[0].n_edges == n);
        CHECK(big[n - 1].wait->never != NULL);
        tl_deadlocks_free(&d);
        for (size_t i = 0; i < n; i++)
            tl_wait_free(big[i].wait);
        free(big);
        free(held);
    }
    return check_summary("waits");
}
