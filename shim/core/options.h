/* SPDX-License-Identifier: MIT */
/* TASKLEAK_OPTIONS: parsing and the effective values. */
#ifndef TL_OPTIONS_H
#define TL_OPTIONS_H

#include <stdio.h>

#define TL_PATH_MAX 4096

/* The fields come from the table in options.inc, by kind: STR is a path
 * or text, SECONDS a double, INT and SIGNAL (0 = none) an int. */
#define TL_OPTION_FIELD_STR(field) char field[TL_PATH_MAX];
#define TL_OPTION_FIELD_SECONDS(field) double field;
#define TL_OPTION_FIELD_INT(field) int field;
#define TL_OPTION_FIELD_SIGNAL(field) int field;
struct tl_options {
#define X(key, kind, field, def, min, max, help) TL_OPTION_FIELD_##kind(field)
#include "core/options.inc"
#undef X
};

extern struct tl_options tl_opt;

/* Fill `opt` with the defaults, then apply `text` (may be NULL).  Every
 * problem is one line on `err` naming the key and the value; the default
 * stays.  Returns the number of problems. */
int tl_options_parse(struct tl_options *opt, const char *text, FILE *err);

/* "SIGUSR2" for 12, "none" for 0, a number otherwise; `buf` holds 16. */
const char *tl_signal_name(int sig, char *buf);

/* Visit every option as (key, printable value) for the report. */
typedef void (*tl_option_visitor)(void *ctx, const char *key, int is_number,
                                  double number, const char *text);
void tl_options_visit(const struct tl_options *opt, tl_option_visitor visit,
                      void *ctx);

#endif
