/* Signal handlers of a C library, for the scenarios that check that the
 * library's sigaction interposition is transparent: handlers installed with
 * sigaction (SA_SIGINFO or not, any flags), what a query returns, what the
 * kernel itself holds, and what a handler receives.  Built by the e2e runner
 * (`# build-helper: _sigaction_helper.c`) into TASKLEAK_E2E_BUILT. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t calls, got_signo, got_code, got_pid, got_context, got_errno;
static int notify_fd = -1;

static void record(int sig, int code, int pid, int context)
{
    got_errno = errno; /* as the interrupted code left it */
    calls++;
    got_signo = sig;
    got_code = code;
    got_pid = pid;
    got_context = context;
    if (notify_fd >= 0) {
        char c = (char)sig;
        ssize_t w = write(notify_fd, &c, 1);
        (void)w;
    }
    errno = EINTR; /* a sloppy handler: the program sees it after */
}

static void on_info(int sig, siginfo_t *info, void *context)
{
    record(sig, info ? info->si_code : -99, info ? info->si_pid : -1, context != NULL);
}

static void on_plain(int sig)
{
    record(sig, -98, -1, 0);
}

int helper_install(int sig, int siginfo, int flags, int fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    if (siginfo)
        sa.sa_sigaction = on_info;
    else
        sa.sa_handler = on_plain;
    sa.sa_flags = flags | (siginfo ? SA_SIGINFO : 0);
    notify_fd = fd;
    return sigaction(sig, &sa, NULL);
}

/* What sigaction(sig, NULL, &old) says: 1 ours (SA_SIGINFO), 2 ours
 * (plain), 3 SIG_DFL, 4 SIG_IGN, 0 another's; its flags, whether its mask
 * holds SIGUSR1. */
int helper_query(int sig, int *flags, int *mask_usr1)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0)
        return -1;
    *flags = old.sa_flags & (SA_SIGINFO | SA_RESTART | SA_ONSTACK | SA_NODEFER | SA_RESETHAND);
    *mask_usr1 = sigismember(&old.sa_mask, SIGUSR1);
    if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_info)
        return 1;
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == on_plain)
        return 2;
    if (old.sa_handler == SIG_DFL)
        return 3;
    if (old.sa_handler == SIG_IGN)
        return 4;
    return 0;
}

/* The file of the handler a query returns (python3.x, libpython...). */
const char *helper_where(int sig)
{
    struct sigaction old;
    Dl_info info;
    if (sigaction(sig, NULL, &old) != 0 || old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)
        return "none";
    if (!dladdr((void *)old.sa_handler, &info) || !info.dli_fname)
        return "?";
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? slash + 1 : info.dli_fname;
}

/* The file of the handler the kernel holds, read with the system call (no
 * sigaction of any library in between). */
const char *helper_kernel_where(int sig)
{
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } k;
    Dl_info info;
    if (syscall(SYS_rt_sigaction, sig, NULL, &k, 8) != 0)
        return "error";
    if (k.handler == (void *)SIG_DFL || k.handler == (void *)SIG_IGN)
        return "none";
    if (!dladdr(k.handler, &info) || !info.dli_fname)
        return "?";
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? slash + 1 : info.dli_fname;
}

/* Install what a query returned, as a program saving and restoring its
 * handler does. */
int helper_reinstall(int sig)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0)
        return -1;
    return sigaction(sig, &old, NULL);
}

/* Replace the handler; whether the old one sigaction returned was ours. */
int helper_replace_plain(int sig)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_plain;
    if (sigaction(sig, &sa, &old) != 0)
        return -1;
    return (old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_info;
}

/* Raise the signal with errno set: what the handler saw, and errno after. */
int helper_raise_with_errno(int sig, int *after)
{
    errno = EBADF;
    raise(sig);
    *after = errno;
    return got_errno;
}

int helper_calls(void) { return calls; }
int helper_signo(void) { return got_signo; }
int helper_code(void) { return got_code; }
int helper_pid(void) { return got_pid; }
int helper_context(void) { return got_context; }

/* Hold the calling thread (ctypes.PyDLL: with the GIL) for `ms`, signals
 * or not. */
void helper_hold(int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
}
