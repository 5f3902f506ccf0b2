/* SPDX-License-Identifier: MIT */
/* Atomic report writing: an unnamed file (O_TMPFILE) written whole, then
 * named; where the file system has none, an O_EXCL|O_NOFOLLOW temporary
 * file.  Either is renamed over the report. */
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

/* Out of the program's way while the report is written: a low descriptor
 * of ours would shift the numbers the program's next open()s get (only for
 * the moment of the open itself, now). */
static int high_fd(int fd)
{
    int high = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 1000) : -1;
    if (high < 0)
        return fd;
    close(fd);
    return high;
}

static int open_retry(const char *path, int flags)
{
    int fd;
    do
        fd = open(path, flags, 0644);
    while (fd < 0 && errno == EINTR);
    return high_fd(fd);
}

/* Write and close; 0, or -1 with errno. */
static int write_close(int fd, const char *data, size_t len)
{
    int rc = write_all(fd, data, len), saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    errno = saved;
    return rc;
}

/* The report written into an unnamed file of its directory, then linked
 * as `tmp`: a process killed while writing leaves nothing behind.  1 when
 * done, 0 where O_TMPFILE or /proc is missing (nothing was left), -1 on a
 * write error. */
static int write_unnamed(const char *path, int dirlen, const char *tmp, const char *data, size_t len)
{
#ifdef O_TMPFILE
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", dirlen ? dirlen : 1, dirlen ? path : ".");
    int fd = open_retry(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (write_all(fd, data, len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int linked = linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0;
    int saved = errno;
    if (close(fd) < 0 && linked) { /* the data may not all be there */
        saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    if (!linked && saved == EEXIST) { /* someone else's file: not ours to go around */
        errno = saved;
        return -1;
    }
    return linked;
#else
    (void)path, (void)dirlen, (void)tmp, (void)data, (void)len;
    return 0;
#endif
}

int tl_output_write(const char *path, const char *data, size_t len)
{
    static unsigned counter;
    char tmp[4096 + 64];
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    if (dirlen >= 4096 ||
        snprintf(tmp, sizeof tmp, "%.*s.taskleak.%d.%u.tmp", dirlen, path, (int)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int rc = write_unnamed(path, dirlen, tmp, data, len);
    if (rc < 0)
        return -1;
    if (rc == 0) { /* no unnamed files here: a named one from the start */
        int fd = open_retry(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return -1;
        if (write_close(fd, data, len) < 0) {
            int saved = errno;
            unlink(tmp);
            errno = saved;
            return -1;
        }
    }
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}
