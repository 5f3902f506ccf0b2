/* SPDX-License-Identifier: MIT */
/* Bootstrap: decide whether this process is a CPython we support, get a
 * foot in the door with an audit hook, and activate the hooks at the
 * first audit event after `_asyncio` is loaded (always an import inside
 * asyncio's own package, before any user code runs). */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "taskleak.h"

#include "collector/collector.h"
#include "core/core.h"
#include "core/options.h"
#include "core/suppressions.h"
#include "core/tasks.h"
#include "core/unwind.h"
#include "cpython/api.h"
#include "cpython/frames.h"
#include "cpython/tasklist.h"
#include "cpython/version.h"
#include "cpython/versions.h"
#include "hooks/monitoring.h"
#include "hooks/task_hooks.h"
#include "core/shutdown.h"
#include "root/fork.h"
#include "root/signals.h"

enum { WAITING, ACTIVE, DISABLED };
static int state = DISABLED;
static int late;   /* loaded into a running interpreter (attach, ctypes) */
static int hooked; /* our audit hook is registered */

static void *hook_entry;         /* our audit hook's list entry */
static PyMemAllocatorEx raw_alloc; /* the raw allocator around its creation */

static void disable(const char *why)
{
    static int once;
    state = DISABLED;
    tl_signals_enable(0);
    tl_warn_once(&once, "taskleak: %s; disabled, the program runs unaudited", why);
}

/* A refused interpreter says so once per process tree: a child running the
 * same interpreter as its parent (a test suite's subprocesses) stays silent,
 * so that a refusal never changes what a program's children print. */
static void refuse(const char *why)
{
    char self[TL_PATH_MAX], parent[TL_PATH_MAX], link[64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    snprintf(link, sizeof link, "/proc/%d/exe", (int)getppid());
    ssize_t m = readlink(link, parent, sizeof parent - 1);
    if (n > 0 && n == m && !memcmp(self, parent, (size_t)n))
        state = DISABLED;
    else if (tl_opt.verbosity >= 1)
        disable(why);
}

/* The exported symbols (include/taskleak.h). */
int taskleak_report_now(void)
{
    return state == ACTIVE ? tl_collector_report_now(0) : -1;
}

int taskleak_snapshot_now(void)
{
    return state == ACTIVE ? tl_collector_report_now(1) : -1;
}

static void *recording_malloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = raw_alloc.malloc(raw_alloc.ctx, size);
    if (!hook_entry)
        hook_entry = p;
    return p;
}

/* The hook entry was allocated before Python chose its allocator; at exit
 * Python frees it with the allocator of the day, and debug allocators abort
 * on a foreign block.  Swap in a copy from today's allocator; the original
 * stays untouched (the hook loop may be reading it right now). */
static void adopt_hook_entry(void)
{
    static int done;
    if (done || !hook_entry)
        return;
    done = 1;
    size_t size = tl_py.runtime_size ? tl_py.runtime_size : 16384;
    void **slot = NULL;
    for (size_t off = 0; off + sizeof(void *) <= size; off += sizeof(void *)) {
        void **p = (void **)((char *)tl_py.runtime + off);
        if (*p == hook_entry) {
            slot = p;
            break;
        }
    }
    void *copy = slot ? tl_py.PyMem_RawMalloc(3 * sizeof(void *)) : NULL;
    if (!copy) {
        tl_diag("taskleak: audit hook entry not found in _PyRuntime; debug allocators may complain at exit");
        return;
    }
    memcpy(copy, hook_entry, 3 * sizeof(void *));
    *slot = copy;
}

/* Attach leaves the options in a file beside the library's copy
 * (taskleak.options), and reads how the start went from taskleak.status. */
static char attach_dir[TL_PATH_MAX];

static void attach_file(const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", attach_dir, name);
}

static void read_attach_options(char *text, size_t size)
{
    Dl_info me;
    text[0] = 0;
    if (!dladdr((void *)read_attach_options, &me) || !me.dli_fname)
        return;
    snprintf(attach_dir, sizeof attach_dir, "%s", me.dli_fname);
    char *slash = strrchr(attach_dir, '/');
    if (!slash)
        return;
    *slash = 0;
    char path[TL_PATH_MAX + 32];
    attach_file("taskleak.options", path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    ssize_t n = read(fd, text, size - 1);
    close(fd);
    text[n > 0 ? n : 0] = 0;
    text[strcspn(text, "\n")] = 0;
}

static void write_attach_status(const char *status)
{
    char path[TL_PATH_MAX + 32], tmp[TL_PATH_MAX + 48];
    if (!attach_dir[0])
        return;
    attach_file("taskleak.status", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, status, strlen(status));
    close(fd);
    if (w == (ssize_t)strlen(status))
        rename(tmp, path);
}

/* The exit report, from Python's atexit: the last moment with the GIL and
 * every task still there. */
static PyObject *at_exit(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    tl_collector_final_report();
    tl_py.Py_IncRef(tl_py.None);
    return tl_py.None;
}

static void register_exit_report(void)
{
    static PyMethodDef def = {"_taskleak_exit", (void *)at_exit, TL_METH_NOARGS, NULL};
    tl_py_register("atexit", "register", &def, NULL);
}

static void try_activate(void)
{
    PyObject *modules = tl_py.PySys_GetObject("modules");
    PyObject *mod = modules ? tl_py.PyDict_GetItemString(modules, "_asyncio") : NULL;
    if (!mod || !tl_frames_in_main_interpreter())
        return;
    PyObject *task = tl_py.PyObject_GetAttrString(mod, "Task");
    if (!task) {
        tl_py.PyErr_Clear();
        return;
    }
    char why[160];
    if (tl_tasklist_init(TL_FIELD(task, TL_OFF_TP_INIT, void *), why, sizeof why) < 0) {
        disable(why);
        tl_py.Py_DecRef(task);
        return;
    }
    state = ACTIVE;
    if (tl_opt.native)
        tl_unwind_init();
    tl_tasks_init(tl_opt.max_leaks);
    if (tl_task_hooks_patch(task, !late) < 0)
        disable("cannot hook this interpreter's asyncio.Task");
    tl_py.Py_DecRef(task);
    if (state != ACTIVE)
        return;
    tl_collector_poke_fn = tl_collector_poke;
    tl_shutdown_wake_fn = tl_collector_wake;
    tl_signals_wrap_installed();
    register_exit_report();
    tl_fork_install();
    tl_monitoring_start();
    tl_collector_activate();
    if (late) /* loaded into a running interpreter: the tasks already there */
        tl_task_hooks_adopt_live_tasks();
    write_attach_status("active\n"); /* attached: also when asyncio came later */
}

static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)args;
    (void)data;
    if (__builtin_expect(state == ACTIVE, 1)) {
        if (event[0] == 'o' && !strncmp(event, "os.fork", 7))
            tl_fork_starting();
        else
            tl_collector_poke();
        return 0;
    }
    if (state == WAITING && tl_py.Py_IsInitialized()) {
        adopt_hook_entry();
        PyObject *t, *v, *tb;
        tl_py.PyErr_Fetch(&t, &v, &tb);
        try_activate();
        tl_py.PyErr_Restore(t, v, tb);
    }
    return 0;
}

static void absolute_report_path(void)
{
    char cwd[TL_PATH_MAX], path[TL_PATH_MAX];
    if (tl_opt.report_path[0] == '/' || !getcwd(cwd, sizeof cwd))
        return;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", cwd, tl_opt.report_path) < sizeof path)
        strcpy(tl_opt.report_path, path);
}

/* Attach: loaded into a running interpreter (taskleak attach), the library
 * starts from a thread of its own as soon as it can take the GIL, and adopts
 * the tasks that were already there. */
static void *late_start(void *unused)
{
    (void)unused;
    void *ts = tl_py.PyThreadState_New(tl_py.PyInterpreterState_Main());
    if (!ts)
        return NULL;
    tl_py.PyEval_RestoreThread(ts);
    PyObject *t, *v, *tb;
    tl_py.PyErr_Fetch(&t, &v, &tb);
    if (!hooked && tl_py.PySys_AddAuditHook(audit_hook, NULL) == 0) {
        hooked = 1;
        state = WAITING;
    }
    if (!hooked)
        write_attach_status("disabled: an audit hook of the program refused ours\n");
    if (state == WAITING)
        try_activate(); /* or at the first audit event once asyncio is imported */
    if (hooked && state != ACTIVE)
        write_attach_status(state == WAITING ? "waiting: asyncio is not imported yet\n"
                                             : "disabled\n");
    tl_py.PyErr_Clear();
    tl_py.PyErr_Restore(t, v, tb);
    tl_py.PyThreadState_Clear(ts);
    tl_py.PyThreadState_DeleteCurrent(); /* and releases the GIL */
    return NULL;
}

static void start_late(void)
{
    pthread_t thread;
    pthread_attr_t attr;
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the program's signals are not ours */
    if (pthread_create(&thread, &attr, late_start, NULL) != 0)
        disable("cannot start a thread to attach");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

/* Another copy of the library already in the process (preloaded, or attached
 * from another path): that one audits, this one stays out. */
static int another_copy_loaded(void)
{
    void *first = dlsym(RTLD_DEFAULT, "taskleak_report_now");
    return first && first != (void *)taskleak_report_now;
}

__attribute__((constructor(110))) static void bootstrap(void)
{
    if (getauxval(AT_SECURE))
        return; /* setuid and friends: never act on the environment */
    tl_options_parse(&tl_opt, getenv("TASKLEAK_OPTIONS"), NULL);
    char why[160];
    if (tl_py_resolve() < 0) {
        /* Not CPython at all: silence.  A CPython without audit hooks: say so. */
        const char *(*version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
        if (version) {
            snprintf(why, sizeof why, "Python %.6s is not supported (3.%d to 3.%d are)", version(),
                     TL_PY_MINOR_MIN, TL_PY_MINOR_MAX);
            refuse(why);
        }
        return;
    }
    if (another_copy_loaded())
        return;
    if (tl_cpython_select(why, sizeof why) < 0) {
        refuse(why);
        return;
    }
    char attached[1024] = "";
    if (tl_py.Py_IsInitialized()) /* attached: the options come with the library */
        read_attach_options(attached, sizeof attached);
    tl_options_parse(&tl_opt, attached[0] ? attached : getenv("TASKLEAK_OPTIONS"), stderr);
    absolute_report_path();
    if (tl_opt.suppressions[0])
        tl_suppressions_load(tl_opt.suppressions, stderr);
    if (tl_opt.builtin_suppressions)
        tl_suppressions_add_builtin();
    if (tl_py.Py_IsInitialized()) {
        /* Loaded by the program itself (ctypes, with the GIL held): the
         * next audit event activates at once, as preloaded; and a thread
         * of our own does when the caller (gdb, remote_exec) leaves the
         * interpreter idle. */
        late = 1;
        if (tl_py.PyGILState_Check() && tl_py.PySys_AddAuditHook(audit_hook, NULL) == 0) {
            hooked = 1;
            state = WAITING;
        }
        start_late();
        return;
    }
    /* Preloaded: from here on the program's handlers of SIGTERM and friends
     * are wrapped (CPython installs its SIGINT handler during start-up).
     * Loaded late (attach, ctypes), our sigaction interposes on nothing: the
     * program's handlers are left as they are. */
    if (tl_opt.shutdown_timeout > 0)
        tl_signals_enable(1);
    PyMemAllocatorEx wrapper;
    tl_py.PyMem_GetAllocator(TL_PYMEM_DOMAIN_RAW, &raw_alloc);
    wrapper = raw_alloc;
    wrapper.malloc = recording_malloc;
    tl_py.PyMem_SetAllocator(TL_PYMEM_DOMAIN_RAW, &wrapper);
    int rc = tl_py.PySys_AddAuditHook(audit_hook, NULL);
    tl_py.PyMem_SetAllocator(TL_PYMEM_DOMAIN_RAW, &raw_alloc);
    if (rc == 0)
        state = WAITING;
}
