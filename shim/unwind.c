/* Native stacks with libunwind; symbolized at report time with dladdr. */
#include "unwind.h"

#include <dlfcn.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

void tl_unwind_init(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

int tl_unwind_capture(uintptr_t *ips, int max, int skip)
{
    void *buf[256 + 8];
    int want = max + skip;
    if (want > (int)(sizeof buf / sizeof buf[0]))
        want = sizeof buf / sizeof buf[0];
    int n = unw_backtrace(buf, want);
    int out = 0;
    for (int i = skip; i < n && out < max; i++)
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
