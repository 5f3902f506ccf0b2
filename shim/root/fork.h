/* SPDX-License-Identifier: MIT */
/* The fork protocol: prepare, parent, child, and each module's reset. */
#ifndef TL_FORK_H
#define TL_FORK_H

/* At activation (GIL held): the pthread_atfork handlers and Python's
 * os.register_at_fork callbacks. */
void tl_fork_install(void);
/* The os.fork audit event (GIL held): a fork is about to happen. */
void tl_fork_starting(void);

#endif
