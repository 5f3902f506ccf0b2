/* SPDX-License-Identifier: MIT */
/* Atomic report writing: O_EXCL|O_NOFOLLOW temporary file, then rename. */
#include "collector/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int tl_output_expand(const char *t, pid_t pid, char *out, size_t n)
{
    size_t o = 0;
    if (n == 0)
        return -1;
    for (; *t; t++) {
        char buf[24];
        const char *piece = buf;
        if (t[0] == '%' && t[1] == 'p') {
            snprintf(buf, sizeof buf, "%d", (int)pid);
            t++;
        } else {
            buf[0] = *t;
            buf[1] = 0;
        }
        size_t len = strlen(piece);
        if (o + len >= n)
            return -1;
        memcpy(out + o, piece, len);
        o += len;
    }
    out[o] = 0;
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int tl_output_write(const char *path, const char *data, size_t len)
{
    static unsigned counter;
    char tmp[4096 + 64];
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    if (snprintf(tmp, sizeof tmp, "%.*s.taskleak.%d.%u.tmp", dirlen, path, (int)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd;
    do
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    /* Out of the program's way while the report is written: a low
     * descriptor of ours would shift the numbers the program's next
     * open()s get (only for the moment of the open itself, now). */
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 1000);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    int rc = write_all(fd, data, len);
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        unlink(tmp);
        errno = saved;
    }
    return rc;
}
