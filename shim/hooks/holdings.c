/* SPDX-License-Identifier: MIT */
/* What a pending task holds: the sockets, transports, stream readers and
 * writers and open files that its suspended coroutines keep in local
 * variables.  Nothing of the program runs: only known types, matched with
 * PyType_IsSubtype, read through C-level descriptors of CPython's own types
 * and instance dictionaries; addresses come from the kernel. */
#include "hooks/holdings.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cpython/frames.h"

enum { SOCKET, FILE_IO, BUFFERED_R, BUFFERED_W, BUFFERED_RW, TEXT_IO, TRANSPORT, SSL_TRANSPORT,
       READER, WRITER, N_TYPES };

static const struct {
    const char *module, *name;
} known[N_TYPES] = {
    [SOCKET] = {"_socket", "socket"},
    [FILE_IO] = {"_io", "FileIO"},
    [BUFFERED_R] = {"_io", "BufferedReader"},
    [BUFFERED_W] = {"_io", "BufferedWriter"},
    [BUFFERED_RW] = {"_io", "BufferedRandom"},
    [TEXT_IO] = {"_io", "TextIOWrapper"},
    [TRANSPORT] = {"asyncio.selector_events", "_SelectorTransport"},
    [SSL_TRANSPORT] = {"asyncio.sslproto", "_SSLProtocolTransport"},
    [READER] = {"asyncio.streams", "StreamReader"},
    [WRITER] = {"asyncio.streams", "StreamWriter"},
};

/* The known types of the modules imported so far (new references). */
struct types {
    PyObject *type[N_TYPES];
    PyObject *socket_fileno, *fileio_fileno, *raw, *buffer; /* C-level descriptors */
};

static void load_types(struct types *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < N_TYPES; i++)
        t->type[i] = tl_py_attr(tl_py_module(known[i].module), known[i].name);
    /* Descriptors taken from CPython's own C types: calling them on an
     * instance of a subclass still runs only that C code. */
    t->socket_fileno = tl_py_attr(t->type[SOCKET], "fileno");
    t->fileio_fileno = tl_py_attr(t->type[FILE_IO], "fileno");
    t->raw = tl_py_attr(t->type[BUFFERED_R], "raw");
    t->buffer = tl_py_attr(t->type[TEXT_IO], "buffer");
}

static void drop_types(struct types *t)
{
    PyObject **all = (PyObject **)t;
    for (size_t i = 0; i < sizeof *t / sizeof(PyObject *); i++)
        if (all[i])
            tl_py.Py_DecRef(all[i]);
}

static int is_a(const struct types *t, PyObject *obj, int which)
{
    return obj && t->type[which] && tl_py.PyType_IsSubtype(TL_TYPE(obj), t->type[which]);
}

/* descr(obj): a method or member descriptor of a C type, on an instance. */
static PyObject *apply(PyObject *descr, PyObject *obj, int is_method)
{
    if (!descr)
        return NULL;
    PyObject *get = is_method ? NULL : tl_py_attr(descr, "__get__");
    PyObject *v = tl_py.PyObject_CallFunctionObjArgs(get ? get : descr, obj, NULL);
    if (get)
        tl_py.Py_DecRef(get);
    if (!v)
        tl_py.PyErr_Clear();
    return v;
}

static int fd_of(PyObject *descr, PyObject *obj)
{
    PyObject *v = apply(descr, obj, 1);
    long fd = v ? tl_py.PyLong_AsLong(v) : -1;
    if (v)
        tl_py.Py_DecRef(v);
    tl_py.PyErr_Clear();
    return fd >= 0 && fd < (1 << 30) ? (int)fd : -1;
}

static void address(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    out[0] = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        snprintf(out, n, "%s:%u", inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip) ? ip : "?",
                 ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        snprintf(out, n, "[%s]:%u", inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip) ? ip : "?",
                 ntohs(a->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *a = (const void *)ss;
        size_t path = len > offsetof(struct sockaddr_un, sun_path)
                          ? len - offsetof(struct sockaddr_un, sun_path) : 0;
        if (path && a->sun_path[0])
            snprintf(out, n, "%.*s", (int)strnlen(a->sun_path, path), a->sun_path);
        else if (path > 1) /* abstract */
            snprintf(out, n, "@%.*s", (int)(path - 1), a->sun_path + 1);
    }
}

static void describe_fd(struct tl_holding *h)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[256];
    if (getsockname(h->fd, (struct sockaddr *)&ss, &len) == 0) {
        static const char *const families[] = {[AF_UNIX] = "AF_UNIX", [AF_INET] = "AF_INET",
                                               [AF_INET6] = "AF_INET6"};
        h->family = ss.ss_family < sizeof families / sizeof families[0] ? families[ss.ss_family]
                                                                        : NULL;
        address(&ss, len, text, sizeof text);
        h->local = text[0] ? strdup(text) : NULL;
        len = sizeof ss;
        if (getpeername(h->fd, (struct sockaddr *)&ss, &len) == 0) {
            address(&ss, len, text, sizeof text);
            h->peer = text[0] ? strdup(text) : NULL;
        }
        return;
    }
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", h->fd);
    ssize_t n = readlink(link, text, sizeof text - 1);
    if (n > 0) {
        text[n] = 0;
        h->path = strdup(text);
    }
}

/* The file descriptor behind a held object, and the kind to call it. */
static int classify(const struct types *t, PyObject *obj, const char **kind)
{
    PyObject *inner = NULL;
    int fd = -1;
    if (is_a(t, obj, SOCKET)) {
        *kind = "socket";
        fd = fd_of(t->socket_fileno, obj);
    } else if (is_a(t, obj, TRANSPORT) || is_a(t, obj, SSL_TRANSPORT)) {
        *kind = "transport";
        inner = tl_py_instance_item(obj, "_sock");
        if (!inner && (inner = tl_py_instance_item(obj, "_ssl_protocol"))) { /* SSL: the raw transport */
            PyObject *raw = tl_py_instance_item(inner, "_transport");
            tl_py.Py_DecRef(inner);
            inner = raw ? tl_py_instance_item(raw, "_sock") : NULL;
            if (raw)
                tl_py.Py_DecRef(raw);
        }
        fd = is_a(t, inner, SOCKET) ? fd_of(t->socket_fileno, inner) : -1;
    } else if (is_a(t, obj, READER) || is_a(t, obj, WRITER)) {
        *kind = is_a(t, obj, READER) ? "stream_reader" : "stream_writer";
        PyObject *transport = tl_py_instance_item(obj, "_transport");
        if (transport && is_a(t, transport, TRANSPORT))
            inner = tl_py_instance_item(transport, "_sock");
        if (transport)
            tl_py.Py_DecRef(transport);
        fd = is_a(t, inner, SOCKET) ? fd_of(t->socket_fileno, inner) : -1;
    } else if (is_a(t, obj, FILE_IO) || is_a(t, obj, BUFFERED_R) || is_a(t, obj, BUFFERED_W) ||
               is_a(t, obj, BUFFERED_RW) || is_a(t, obj, TEXT_IO)) {
        *kind = "file";
        PyObject *buffered = is_a(t, obj, TEXT_IO) ? apply(t->buffer, obj, 0) : NULL;
        PyObject *b = buffered ? buffered : obj;
        PyObject *raw = is_a(t, b, FILE_IO) ? NULL : apply(t->raw, b, 0);
        PyObject *f = raw ? raw : b;
        fd = is_a(t, f, FILE_IO) ? fd_of(t->fileio_fileno, f) : -1;
        if (raw)
            tl_py.Py_DecRef(raw);
        if (buffered)
            tl_py.Py_DecRef(buffered);
    } else {
        return -1;
    }
    if (inner)
        tl_py.Py_DecRef(inner);
    return fd;
}

static char *name_at(PyObject *names, Py_ssize_t i)
{
    PyObject *s = names && i < tl_py.PyTuple_Size(names) ? tl_py.PyTuple_GetItem(names, i) : NULL;
    const char *u = s ? tl_py.PyUnicode_AsUTF8(s) : NULL;
    tl_py.PyErr_Clear();
    return u ? strdup(u) : NULL;
}

static void add(struct tl_holdings *out, const struct tl_holding *h)
{
    for (uint32_t i = 0; i < out->n; i++)
        if (out->items[i].fd == h->fd && !strcmp(out->items[i].kind, h->kind))
            return; /* held by several frames: once */
    struct tl_holding *items = realloc(out->items, (out->n + 1) * sizeof *items);
    if (!items)
        return;
    out->items = items;
    out->items[out->n++] = *h;
}

void tl_holdings_of(PyObject *const *coros, int n_coros, struct tl_holdings *out)
{
    struct types t;
    memset(out, 0, sizeof *out);
    load_types(&t);
    for (int c = 0; c < n_coros && out->n < TL_MAX_HOLDINGS; c++) {
        PyObject *code = NULL, *values[64];
        int n = tl_frames_locals_of_generator(coros[c], &code, values, 64);
        PyObject *names = n ? tl_py_attr(code, "co_varnames") : NULL;
        PyObject *function = n ? tl_py_attr(code, "co_name") : NULL;
        for (int i = 0; i < n && i < (names ? tl_py.PyTuple_Size(names) : 0); i++) {
            const char *kind = NULL;
            int fd = values[i] ? classify(&t, values[i], &kind) : -1;
            if (!kind)
                continue;
            struct tl_holding h = {.kind = kind, .fd = fd};
            h.variable = name_at(names, i);
            const char *fname = function ? tl_py.PyUnicode_AsUTF8(function) : NULL;
            h.function = fname ? strdup(fname) : NULL;
            if (fd >= 0)
                describe_fd(&h);
            size_t before = out->n;
            add(out, &h);
            if (out->n == before)
                tl_holding_free(&h);
        }
        tl_py.PyErr_Clear();
        if (names)
            tl_py.Py_DecRef(names);
        if (function)
            tl_py.Py_DecRef(function);
    }
    drop_types(&t);
}
