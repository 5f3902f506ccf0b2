/* SPDX-License-Identifier: MIT */
/* The names of leak kinds (kinds.inc) and task states, as reports and
 * suppression files spell them. */
#include "core/tasks.h"

const char *const tl_kind_names[TL_N_KINDS] = {
#define X(constant, name) name,
#include "core/kinds.inc"
#undef X
};
const char *const tl_state_names[4] = {"pending", "finished", "failed", "cancelled"};
