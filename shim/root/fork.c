/* SPDX-License-Identifier: MIT */
/* The fork protocol, in one place.  Before os.fork() (its audit event, GIL
 * held) the collector's thread stops; fork() itself goes through the
 * pthread_atfork handlers (prepare, parent, child), and the child resets
 * each module's state; once os.fork() has returned, Python's own
 * after-fork callbacks restart the collector. */
#include "root/fork.h"

#include <pthread.h>
#include <unistd.h>

#include "collector/collector.h"
#include "core/core.h"
#include "core/tasks.h"
#include "cpython/api.h"
#include "hooks/capture.h"
#include "hooks/gil.h"
#include "hooks/shutdown.h"

static int forking_from_main_thread;

static void prepare(void)
{
    forking_from_main_thread = gettid() == getpid();
    tl_gil_fork_prepare();
}

static void in_parent(void)
{
    tl_gil_fork_parent();
    tl_collector_after_fork_parent();
}

static void in_child(void)
{
    tl_gil_fork_child();
    tl_tasks_reset_after_fork();
    tl_capture_after_fork_child();
    tl_core_after_fork_child();
    tl_shutdown_forget();
    tl_collector_after_fork_child(forking_from_main_thread);
}

void tl_fork_starting(void)
{
    tl_collector_before_fork();
}

/* In the parent, not before os.fork() returns (CPython 3.12+ counts threads
 * then, to warn about forks with threads): a pending call runs once the
 * main thread is back in Python code.  Every hook restarts it as well. */
static int restart_collector(void *unused)
{
    (void)unused;
    tl_collector_poke();
    return 0;
}

static PyObject *after_fork_in_parent(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    tl_py.Py_AddPendingCall(restart_collector, NULL);
    tl_py.Py_IncRef(tl_py.None);
    return tl_py.None;
}

static PyObject *after_fork_in_child(PyObject *self, PyObject *unused)
{
    (void)self;
    restart_collector(unused);
    tl_py.Py_IncRef(tl_py.None);
    return tl_py.None;
}

void tl_fork_install(void)
{
    static PyMethodDef parent_def = {"_taskleak_after_fork_in_parent", (void *)after_fork_in_parent,
                                     TL_METH_NOARGS, NULL};
    static PyMethodDef child_def = {"_taskleak_after_fork_in_child", (void *)after_fork_in_child,
                                    TL_METH_NOARGS, NULL};
    static const char *const parent_kw[] = {"after_in_parent", NULL};
    static const char *const child_kw[] = {"after_in_child", NULL};
    pthread_atfork(prepare, in_parent, in_child);
    tl_py_register("os", "register_at_fork", &parent_def, parent_kw);
    tl_py_register("os", "register_at_fork", &child_def, child_kw);
}
