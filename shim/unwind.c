/* Native stacks with libunwind; symbolized at report time with dladdr. */
#include "unwind.h"

#include <dlfcn.h>
#include <link.h>
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

void tl_unwind_init(void)
{
    Dl_info me;
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
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
