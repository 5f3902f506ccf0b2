/* SPDX-License-Identifier: MIT */
/* The table of roles: a file's ending and a function's qualified name. */
#include "core/roles.h"

#include <string.h>

static const struct {
    const char *file_suffix, *qualname;
} roles[TL_N_ROLES] = {
    [TL_ROLE_CANCEL_ALL] = {"/asyncio/runners.py", "_cancel_all_tasks"},
    [TL_ROLE_RUNNER_CLOSE] = {"/asyncio/runners.py", "Runner.close"},
    [TL_ROLE_RUNNER_SIGINT] = {"/asyncio/runners.py", "Runner._on_sigint"},
    [TL_ROLE_DO_SHUTDOWN] = {"/asyncio/base_events.py", "BaseEventLoop._do_shutdown"},
    [TL_ROLE_RUN_FOREVER] = {"/asyncio/base_events.py", "BaseEventLoop.run_forever"},
    [TL_ROLE_THREADING_SHUTDOWN] = {"/threading.py", "_shutdown"},
    [TL_ROLE_EXECUTOR_EXIT] = {"/concurrent/futures/thread.py", "_python_exit"},
    [TL_ROLE_WORKER] = {"/concurrent/futures/thread.py", "_worker"},
    [TL_ROLE_WORK_ITEM] = {"/concurrent/futures/thread.py", "_WorkItem.run"},
    [TL_ROLE_WORKER_CONTEXT] = {"/concurrent/futures/thread.py", "WorkerContext.run"},
};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* "Runner.close" is "close" where code objects have no qualified name
 * (3.8-3.10); none of these bare names is ambiguous in its file there. */
static int same_function(const char *function, const char *qualname)
{
    if (!strcmp(function, qualname))
        return 1;
    const char *dot = strrchr(qualname, '.');
    return dot && !strchr(function, '.') && !strcmp(function, dot + 1);
}

enum tl_code_role tl_role_of(const char *file, const char *function)
{
    if (!file || !function)
        return TL_ROLE_NONE;
    for (int r = TL_ROLE_NONE + 1; r < TL_N_ROLES; r++)
        if (ends_with(file, roles[r].file_suffix) && same_function(function, roles[r].qualname))
            return (enum tl_code_role)r;
    return TL_ROLE_NONE;
}
