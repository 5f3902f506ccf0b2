# SPDX-License-Identifier: MIT
"""Benchmark workloads of taskleak, run in a child interpreter by bench/run.py.

    python bench/workloads.py churn shallow|deep|cancel --tasks N [--batch B]
    python bench/workloads.py memory --tasks N [--batch B]
    python bench/workloads.py lag --sites N [--seconds S]

Prints one JSON line on stdout and nothing else.  Standard library only, and
it must run on every CPython 3.8-3.13: the library is preloaded (or not) by
the parent; this file never imports or mentions it.

churn shallow  batches of B `loop.create_task(noop())`, then gather them;
               result: ns per task (create + run + gather + destroy), by the
               clock and in CPU time of the process (all its threads), over
               the whole run, and by the clock in the fastest batch (as
               timeit: other processes on a shared machine only add time).
churn deep     the same, but the create_task calls are made DEPTH (20) plain
               Python frames below the coroutine: the recursion happens once
               per batch, so its cost is not part of the per-task time.
churn cancel   create B tasks that each await a future of their own, let them
               start (they are suspended, as real cancelled work is), cancel
               each, drain with gather(return_exceptions=True).
memory         shallow churn of N tasks in batches of B; VmHWM (peak RSS) read
               from /proc/self/status after N/2 and after N finished tasks.
lag            the event loop's timer lag while the library does its periodic
               work: tasks created at N distinct sites (3 frames deep each, so
               N new creation stacks to resolve), then 1 ms sleeps for S
               seconds (the first periodic report falls inside); result: the
               worst lag and the 99th percentile, in ms (issue 11's program).
               The N tasks are dropped at once before the sleeps, and that
               teardown is timed apart (teardown_ms): it is the program's
               own burst of N task endings, not the library's periodic work.
               The sleeps over 0.2 ms late are listed with their start and
               end (CLOCK_MONOTONIC), and with --until-eof (--sites 0) it is
               the bench's sentinel: it samples until its stdin closes, so
               that the machine's own stalls show beside the program's.

A warm-up of max(1, N/20) tasks (at least one batch) runs untimed first.
"""

import os
# TL_LAYOUT=N (bench/callgrind.py): N pages more mapped before anything else,
# so that the interpreter's arenas land elsewhere (a memory layout of its
# own); 64 pages always, so that even layout 0 is an mmap, not the heap.
_layout = bytearray(4096 * (64 + int(os.environ.get("TL_LAYOUT", "0"))))
import argparse
import asyncio
import json
import sys
import time

DEPTH = 20
SLEEP_S = 0.001   # lag: each sample is one sleep this long
SLOW_S = 0.0002   # lag: the sleeps later than this are listed ("slow"), with their times,
SLOW_KEPT = 5000  # the longest this many, so that the bench can set them beside its sentinel's


async def noop():
    pass


async def wait_own_future():
    await asyncio.get_running_loop().create_future()


def create_batch(loop, n, coro=noop):
    tasks = []
    append = tasks.append
    create = loop.create_task
    for _ in range(n):
        append(create(coro()))
    return tasks


def create_batch_deep(loop, n, depth=DEPTH):
    # DEPTH plain Python frames between the coroutine and create_task.
    if depth > 1:
        return create_batch_deep(loop, n, depth - 1)
    tasks = []                      # the 20th frame: the same loop, inline
    append = tasks.append
    create = loop.create_task
    for _ in range(n):
        append(create(noop()))
    return tasks


async def churn(kind, n, batch):
    loop = asyncio.get_running_loop()
    make = create_batch_deep if kind == "deep" else create_batch

    async def run(count, per_task=None):
        left = count
        while left > 0:
            b = min(batch, left)
            left -= b
            started = time.perf_counter()
            if kind == "cancel":
                tasks = create_batch(loop, b, wait_own_future)
                await asyncio.sleep(0)          # every task starts and suspends
                for t in tasks:
                    if not t.cancel():
                        raise SystemExit("cancel had no effect")
                await asyncio.gather(*tasks, return_exceptions=True)
            else:
                await asyncio.gather(*make(loop, b))
            if per_task is not None:
                ended = time.perf_counter()
                per_task.append((started, ended, (ended - started) / b))

    await run(max(batch, n // 20))
    per_task = []  # (start, end, seconds per task) of each batch
    t0, c0 = time.perf_counter(), time.process_time()
    await run(n, per_task)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    # perf_counter is CLOCK_MONOTONIC: a duet's two children share it.
    return {"ns_per_task": elapsed * 1e9 / n, "cpu_ns_per_task": cpu * 1e9 / n,
            "fastest_batch_ns_per_task": min(x[2] for x in per_task) * 1e9, "tasks": n,
            "seconds": elapsed,
            "batches": [[round(a, 6), round(z, 6), round(x * 1e9, 1)] for a, z, x in per_task]}


def vm_hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


async def memory(n, batch):
    loop = asyncio.get_running_loop()
    marks = {}
    done = 0
    t0 = time.perf_counter()
    for mark in (n // 2, n):
        while done < mark:
            b = min(batch, mark - done)
            await asyncio.gather(*create_batch(loop, b))
            done += b
        marks[str(mark)] = vm_hwm_kib()
    elapsed = time.perf_counter() - t0
    return {"hwm_kib": marks, "tasks": n, "seconds": elapsed,
            "ns_per_task": elapsed * 1e9 / n}


def lag(sites, seconds, until_eof=False):
    t0 = time.monotonic()
    ns = {"asyncio": asyncio, "noop": noop}
    for i in range(sites):   # N distinct creation sites, 3 frames deep each
        exec("def a%d(): return b%d()\ndef b%d(): return c%d()\n"
             "def c%d(): return asyncio.ensure_future(noop())\n" % ((i,) * 5), ns)

    async def main():
        tasks = [ns["a%d" % i]() for i in range(sites)]
        await asyncio.gather(*tasks)
        await asyncio.sleep(0)  # the gather's last callbacks
        t = time.monotonic()
        del tasks  # the last references: all N end here, at once
        teardown = time.monotonic() - t
        await asyncio.sleep(0)
        if until_eof:  # the sentinel: until the bench closes our stdin
            eof = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().add_reader(0, lambda: eof.done() or eof.set_result(None))
        spans = []  # (start, end) of each 1 ms sleep, in CLOCK_MONOTONIC seconds
        end = time.monotonic() + seconds
        while not eof.done() if until_eof else time.monotonic() < end:
            t = time.monotonic()
            await asyncio.sleep(SLEEP_S)
            spans.append((t, time.monotonic()))
        lags = sorted(b - a - SLEEP_S for a, b in spans)
        slow = sorted(spans, key=lambda s: s[0] - s[1])[:SLOW_KEPT]
        return {"max_ms": lags[-1] * 1e3, "p99_ms": lags[int(len(lags) * 0.99)] * 1e3,
                "teardown_ms": teardown * 1e3, "samples": len(lags), "tasks": sites,
                "seconds": time.monotonic() - t0, "span": [spans[0][0], spans[-1][1]],
                "slow": [[a, b] for a, b in slow if b - a - SLEEP_S > SLOW_S]}

    return asyncio.run(main())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=["churn", "memory", "lag"])
    ap.add_argument("kind", nargs="?", choices=["shallow", "deep", "cancel"])
    ap.add_argument("--tasks", type=int, default=0, help="churn and memory: how many")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=2.3)
    ap.add_argument("--until-eof", action="store_true",
                    help="lag: sample until stdin closes (the bench's sentinel)")
    a = ap.parse_args()
    if a.workload == "churn":
        if not a.kind:
            ap.error("churn needs shallow, deep or cancel")
        res = asyncio.run(churn(a.kind, a.tasks, a.batch))
    elif a.workload == "lag":
        res = lag(a.sites, a.seconds, a.until_eof)
    else:
        res = asyncio.run(memory(a.tasks, a.batch))
    res["python"] = sys.version.split()[0]
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
