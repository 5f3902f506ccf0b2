/* SPDX-License-Identifier: MIT */
/* Native stacks with libunwind; symbolized at report time with dladdr. */
#include "core/unwind.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* Our own code's address range: a creation stack starts at the caller. */
static uintptr_t self_start, self_end;

static int find_self(struct dl_phdr_info *info, size_t size, void *base)
{
    (void)size;
    if ((void *)info->dlpi_addr != base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            self_start = info->dlpi_addr + ph->p_vaddr;
            self_end = self_start + ph->p_memsz;
        }
    }
    return 1;
}

/* libunwind opens a pipe of its own at its first call (it validates memory
 * through it).  Among the program's low descriptors it would shift every
 * descriptor the program opens later, which programs and tests that count
 * or compare them notice.  So the free numbers below `high` are held for
 * that one call, and libunwind's land above them. */
static void init_with_low_fds_held(void)
{
    struct rlimit rl;
    int high = 1000, held[1024], n = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)high + 16)
        high = rl.rlim_cur > 64 ? (int)rl.rlim_cur - 16 : 0;
    int src = high ? eventfd(0, EFD_CLOEXEC) : -1;
    if (src >= 0 && src < high)
        held[n++] = src;
    else if (src >= 0)
        close(src);
    while (n > 0 && n < (int)(sizeof held / sizeof held[0])) {
        int fd = fcntl(held[0], F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            break;
        if (fd >= high) {
            close(fd);
            break;
        }
        held[n++] = fd;
    }
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    void *probe[4]; /* libunwind 1.8 opens it at the first unwind */
    unw_backtrace(probe, 4);
    while (n > 0)
        close(held[--n]);
}

void tl_unwind_init(void)
{
    Dl_info me;
    init_with_low_fds_held();
    if (dladdr((void *)tl_unwind_init, &me))
        dl_iterate_phdr(find_self, me.dli_fbase);
}

int tl_unwind_capture(uintptr_t *ips, int max, int skip)
{
    void *buf[256 + 8];
    int want = max + skip + 4; /* room for our own frames */
    if (want > (int)(sizeof buf / sizeof buf[0]))
        want = sizeof buf / sizeof buf[0];
    int n = unw_backtrace(buf, want);
    int i = skip, out = 0;
    while (i < n && (uintptr_t)buf[i] >= self_start && (uintptr_t)buf[i] < self_end)
        i++;
    for (; i < n && out < max; i++)
        ips[out++] = (uintptr_t)buf[i];
    return out;
}

void tl_unwind_symbolize(uintptr_t ip, struct tl_native_frame *out)
{
    Dl_info info;
    out->ip = ip;
    out->symbol = out->module = NULL;
    out->offset = 0;
    /* ip is a return address: look up ip - 1 so a call at a function's end
     * is not attributed to the next function. */
    if (!dladdr((void *)(ip - 1), &info))
        return;
    out->module = info.dli_fname;
    if (info.dli_sname) {
        out->symbol = info.dli_sname;
        out->offset = ip - (uintptr_t)info.dli_saddr;
    }
}
