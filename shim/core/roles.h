/* SPDX-License-Identifier: MIT */
/* The pieces of the standard library that tell a shutdown and an executor's
 * job apart: asyncio's runner and loop, threading's exit, the
 * concurrent.futures thread pool.  Known by file and function. */
#ifndef TL_ROLES_H
#define TL_ROLES_H

enum tl_code_role {
    TL_ROLE_NONE,
    TL_ROLE_CANCEL_ALL,         /* asyncio.runners._cancel_all_tasks */
    TL_ROLE_RUNNER_CLOSE,       /* asyncio.runners.Runner.close (3.11+) */
    TL_ROLE_RUNNER_SIGINT,      /* asyncio.runners.Runner._on_sigint: Ctrl-C cancels the main task (3.11+) */
    TL_ROLE_DO_SHUTDOWN,        /* BaseEventLoop._do_shutdown: the default executor's shutdown (3.9+) */
    TL_ROLE_RUN_FOREVER,        /* BaseEventLoop.run_forever: its self is a running loop */
    TL_ROLE_THREADING_SHUTDOWN, /* threading._shutdown: the exit joins non-daemon threads */
    TL_ROLE_EXECUTOR_EXIT,      /* concurrent.futures.thread._python_exit: joins the pools' workers */
    TL_ROLE_WORKER,             /* concurrent.futures.thread._worker: a pool's worker thread */
    TL_ROLE_WORK_ITEM,          /* concurrent.futures.thread._WorkItem.run: the job it runs */
    TL_ROLE_WORKER_CONTEXT,     /* concurrent.futures.thread.WorkerContext.run (3.14+) */
    TL_N_ROLES
};

/* The role of the code of `function` (its qualified name on 3.11+, its
 * bare name before) in `file`; TL_ROLE_NONE for any other code. */
enum tl_code_role tl_role_of(const char *file, const char *function);

#endif
