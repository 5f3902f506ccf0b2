/* SPDX-License-Identifier: MIT */
/* Where a CancelledError was caught (3.12+): sys.monitoring's
 * EXCEPTION_HANDLED event, through a tool id of our own. */
#ifndef TL_MONITORING_H
#define TL_MONITORING_H

/* Register the tool (GIL held).  Never fails the program: when it cannot,
 * tl_catch_sites_status (core.h) says why. */
void tl_monitoring_start(void);

#endif
