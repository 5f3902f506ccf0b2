/* SPDX-License-Identifier: MIT */
/* sigaction, interposed: the program's handlers for SIGTERM, SIGINT,
 * SIGHUP and SIGQUIT are wrapped, so that their delivery starts the
 * shutdown watchdog's clock (signals.c says how it stays transparent). */
#ifndef TL_ROOT_SIGNALS_H
#define TL_ROOT_SIGNALS_H

#include <signal.h>

/* The C library's sigaction (never wrapped). */
int tl_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* Wrap the handlers installed from now on (1: this process is audited), or
 * stop wrapping (0: disabled; those wrapped already still call theirs). */
void tl_signals_enable(int on);
/* Wrap the handlers already installed (before the library started, or
 * through glibc's signal(), which the interposition does not see). */
void tl_signals_wrap_installed(void);

#endif
