/* SPDX-License-Identifier: MIT */
/* Atomic writes: content, %p, symlinks never followed, failures clean. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include "check.h"
#include "collector/output.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.' || strstr(e->d_name, ".tmp") != NULL;
    if (d)
        closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    static char buf[256];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* A writer killed halfway through a report (by SIGXFSZ past a file-size
 * limit): the old report stays whole, and no temporary file is left. */
static void killed_while_writing(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/k.json", dir);
    CHECK(tl_output_write(path, "old", 3) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        static char big[1 << 16];
        memset(big, 'x', sizeof big);
        struct rlimit none = {0, 0}, small = {4096, 4096};
        setrlimit(RLIMIT_CORE, &none);
        setrlimit(RLIMIT_FSIZE, &small);
        signal(SIGXFSZ, SIG_DFL);
        tl_output_write(path, big, sizeof big);
        _exit(0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
    CHECK(!strcmp(slurp(path), "old"));
#ifdef O_TMPFILE
    int probe = open(dir, O_TMPFILE | O_WRONLY, 0600);
    if (probe >= 0) {
        close(probe);
        CHECK(count_entries(dir) == 1); /* k.json alone */
    } else {
        printf("output: skip: no O_TMPFILE in %s, a killed writer leaves its file\n", dir);
    }
#endif
    unlink(path);
}

int main(void)
{
    char dir[] = "/tmp/tl-output-XXXXXX", path[256], victim[256], out[64];
    CHECK(mkdtemp(dir) != NULL);

    CHECK(tl_output_expand("a.%p.json", 42, out, sizeof out) == 0 && !strcmp(out, "a.42.json"));
    CHECK(tl_output_expand("%p%p", 7, out, sizeof out) == 0 && !strcmp(out, "77"));
    CHECK(tl_output_expand("xxxxxxxxxx%p", 123456, out, 12) == -1);

    snprintf(path, sizeof path, "%s/r.json", dir);
    CHECK(tl_output_write(path, "one", 3) == 0 && !strcmp(slurp(path), "one"));
    CHECK(tl_output_write(path, "two!", 4) == 0 && !strcmp(slurp(path), "two!"));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(count_entries(dir) == 1); /* no temporary file left */

    /* A planted symlink is replaced, its target untouched. */
    snprintf(victim, sizeof victim, "%s/victim", dir);
    CHECK(tl_output_write(victim, "precious", 8) == 0);
    unlink(path);
    CHECK(symlink(victim, path) == 0);
    CHECK(tl_output_write(path, "report", 6) == 0);
    CHECK(!strcmp(slurp(victim), "precious"));
    CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));

    /* A missing directory: an error, nothing created. */
    snprintf(path, sizeof path, "%s/missing/r.json", dir);
    CHECK(tl_output_write(path, "x", 1) == -1 && errno == ENOENT);
    CHECK(count_entries(dir) == 2);

    char kdir[] = "/tmp/tl-output-kill-XXXXXX";
    CHECK(mkdtemp(kdir) != NULL);
    killed_while_writing(kdir);
    rmdir(kdir);
    snprintf(path, sizeof path, "%s/r.json", dir);
    unlink(path);
    unlink(victim);
    rmdir(dir);
    return check_summary("output");
}
