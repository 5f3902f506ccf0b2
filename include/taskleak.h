/* SPDX-License-Identifier: MIT */
/* taskleak's public interface: the two functions libtaskleak.so exports.
 *
 * The library is meant to be preloaded (LD_PRELOAD) into a CPython process
 * and needs no call at all; these entries are for code that wants a report
 * at a moment of its choosing (the pytest plugin calls them after each test
 * and when a test times out, through ctypes.PyDLL, so with the GIL held).
 * Resolve them with dlsym: a process without the library has no such
 * symbols. */
#ifndef TASKLEAK_H
#define TASKLEAK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Judge the tasks and write a report now, with reason "request", to the
 * report_path of TASKLEAK_OPTIONS.  Call it from a thread that holds the
 * GIL.  Returns 0 when the report was written; -1 when the library is not
 * active in this process (not CPython, refused, not yet started, or the exit
 * report is already written) or the report could not be written. */
__attribute__((visibility("default"))) int taskleak_report_now(void);

/* The same, plus every live task (as in a dump-signal snapshot: where each
 * is suspended, what it waits for and holds, and the deadlocks among them),
 * with reason "snapshot".  Call it from any thread that holds the GIL (the
 * thread of a watchdog while the main thread hangs, too); it runs no code
 * of the program, and keeps the GIL for the whole collection (milliseconds;
 * more with thousands of live tasks), unlike the collector's own snapshots,
 * which take it in slices.  Returns as taskleak_report_now does. */
__attribute__((visibility("default"))) int taskleak_snapshot_now(void);

#ifdef __cplusplus
}
#endif

#endif
