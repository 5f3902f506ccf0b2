/* SPDX-License-Identifier: MIT */
/* taskleak's public interface: the one function libtaskleak.so exports.
 *
 * The library is meant to be preloaded (LD_PRELOAD) into a CPython process
 * and needs no call at all; this entry is for code that wants a report at a
 * moment of its choosing (the pytest plugin calls it after each test,
 * through ctypes.PyDLL, so with the GIL held).  Resolve it with dlsym: a
 * process without the library has no such symbol. */
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

#ifdef __cplusplus
}
#endif

#endif
