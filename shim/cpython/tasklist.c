/* SPDX-License-Identifier: MIT */
/* Live tasks: see tasklist.h. */
#include "cpython/tasklist.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpython/version.h"

/* _asyncio's Py_AsyncioModuleDebugOffsets (3.14, 3.15). */
struct asyncio_debug {
    struct {
        uint64_t size, name, awaited_by, is_task, awaited_by_is_set, coro, node;
    } task;
    struct {
        uint64_t size, tasks_head;
    } interp;
    struct {
        uint64_t size, running_loop, running_task, tasks_head;
    } thread;
};
static struct asyncio_debug D;

struct llist_node {
    struct llist_node *next, *prev;
};

static int read_at(int fd, void *buf, size_t n, off_t at)
{
    return pread(fd, buf, n, at) == (ssize_t)n ? 0 : -1;
}

/* The run-time address of a section of a loaded ELF object, from its file's
 * section headers; 0 if not found. */
static uintptr_t section_address(const char *path, uintptr_t bias, const char *name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uintptr_t found = 0;
    Elf64_Ehdr eh;
    Elf64_Shdr strtab, sh;
    char *names = NULL;
    if (read_at(fd, &eh, sizeof eh, 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof sh ||
        eh.e_shstrndx >= eh.e_shnum ||
        read_at(fd, &strtab, sizeof strtab, (off_t)(eh.e_shoff + eh.e_shstrndx * sizeof sh)) < 0 ||
        strtab.sh_size > (1u << 24) || !(names = malloc(strtab.sh_size + 1)) ||
        read_at(fd, names, strtab.sh_size, (off_t)strtab.sh_offset) < 0)
        goto out;
    names[strtab.sh_size] = 0;
    for (unsigned i = 0; i < eh.e_shnum && !found; i++)
        if (read_at(fd, &sh, sizeof sh, (off_t)(eh.e_shoff + i * sizeof sh)) == 0 &&
            sh.sh_name < strtab.sh_size && !strcmp(names + sh.sh_name, name) &&
            sh.sh_size >= sizeof D && (sh.sh_flags & SHF_ALLOC))
            found = bias + sh.sh_addr;
out:
    free(names);
    close(fd);
    return found;
}

int tl_tasklist_init(void *asyncio_code, char *why, size_t size)
{
    if (!tl_caps.task_lists)
        return 0;
    Dl_info info;
    struct link_map *lm = NULL;
    uintptr_t at = 0;
    if (dladdr1(asyncio_code, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm)
        at = section_address(lm->l_name && lm->l_name[0] ? lm->l_name : "/proc/self/exe",
                             lm->l_addr, ".AsyncioDebug");
    if (at)
        memcpy(&D, (const void *)at, sizeof D);
    if (!at || !D.task.node || D.task.node >= D.task.size || D.task.size > 4096 ||
        !D.thread.tasks_head || D.thread.tasks_head >= D.thread.size ||
        !D.interp.tasks_head || D.interp.tasks_head >= D.interp.size) {
        snprintf(why, size, "cannot find the task lists of this Python's _asyncio (AsyncioDebug section)");
        return -1;
    }
    return 0;
}

struct task_array {
    PyObject **items;
    size_t n, cap;
};

static void add(struct task_array *a, PyObject *task)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        PyObject **items = realloc(a->items, cap * sizeof *items);
        if (!items)
            return;
        a->items = items;
        a->cap = cap;
    }
    tl_py.Py_IncRef(task);
    a->items[a->n++] = task;
}

/* One circular list of TaskObj nodes; bounded in case it is corrupt. */
static void add_list(struct task_array *a, struct llist_node *head)
{
    size_t guard = 0;
    for (struct llist_node *n = head->next; n && n != head && guard < (1u << 26); n = n->next, guard++)
        add(a, (PyObject *)((char *)n - D.task.node));
}

static void add_lists(struct task_array *a)
{
    void *interp = tl_py.PyInterpreterState_Main();
    for (char *ts = tl_py.PyInterpreterState_ThreadHead(interp); ts; ts = tl_py.PyThreadState_Next(ts))
        add_list(a, (struct llist_node *)(ts + D.thread.tasks_head));
    add_list(a, (struct llist_node *)((char *)interp + D.interp.tasks_head));
}

/* Up to 3.13: asyncio.tasks keeps weak sets of the live tasks. */
static void add_sets(struct task_array *a)
{
    PyObject *modules = tl_py.PySys_GetObject("modules");
    PyObject *tasks = modules ? tl_py.PyDict_GetItemString(modules, "asyncio.tasks") : NULL;
    if (!tasks)
        return;
    static const char *const sets[] = {"_all_tasks", "_scheduled_tasks", "_eager_tasks"};
    for (int i = 0; i < 3; i++) {
        PyObject *set = tl_py.PyObject_GetAttrString(tasks, sets[i]);
        PyObject *it = set ? tl_py.PyObject_GetIter(set) : NULL;
        for (PyObject *t; it && (t = tl_py.PyIter_Next(it));) {
            add(a, t);
            tl_py.Py_DecRef(t);
        }
        tl_py.PyErr_Clear();
        if (it)
            tl_py.Py_DecRef(it);
        if (set)
            tl_py.Py_DecRef(set);
    }
}

size_t tl_tasklist_collect(PyObject ***out)
{
    struct task_array a = {0};
    if (tl_caps.task_lists)
        add_lists(&a);
    else
        add_sets(&a);
    *out = a.items;
    return a.n;
}
