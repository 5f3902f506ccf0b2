/* Verdicts, exactly as taskleak-v1 §2 defines them. */
#include "detect.h"

unsigned tl_scope_outstanding(const struct tl_task_view *v)
{
    return v->n_scope > v->n_scope_uncancel ? v->n_scope - v->n_scope_uncancel : 0;
}

int tl_is_swallowed(const struct tl_task_view *v, enum tl_state state,
                    long cancelling)
{
    if (state != TL_FINISHED && state != TL_FAILED)
        return 0;
    if (v->n_effective == 0)
        return 0;
    if (cancelling >= 0) { /* 3.11+: requests still outstanding at the end */
        if (cancelling == 0)
            return 0;
        /* 3.12+: the program's own handler caught it last, whoever issued it */
        if (v->catch_kind == TL_CATCH_USER)
            return 1;
        return (unsigned long)cancelling > tl_scope_outstanding(v);
    }
    return v->n_effective > v->n_scope; /* 3.8-3.10: any cancel not a scope's */
}

int tl_is_stuck(const struct tl_task_view *v, double now, double grace)
{
    return v->n_effective > 0 && !v->has_stuck && now - v->t_first_cancel >= grace;
}
