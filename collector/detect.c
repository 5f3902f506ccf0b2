/* Verdicts, exactly as taskleak-v1 §2 defines them. */
#include "detect.h"

unsigned tl_scope_outstanding(const struct tl_task_view *v)
{
    return v->n_scope > v->n_scope_uncancel ? v->n_scope - v->n_scope_uncancel : 0;
}

/* A cancel still outstanding: not taken back by uncancel() (3.11+) and not
 * a scope's own that the scope consumed. */
static int outstanding(const struct tl_task_view *v, long cancelling)
{
    if (cancelling >= 0)
        return (unsigned long)cancelling > tl_scope_outstanding(v);
    return v->n_effective > v->n_scope;
}

int tl_is_swallowed(const struct tl_task_view *v, enum tl_state state,
                    long cancelling)
{
    if (state != TL_FINISHED && state != TL_FAILED)
        return 0;
    if (v->n_effective == 0)
        return 0;
    /* 3.12+: the program's own handler caught it last, whoever issued it */
    if (cancelling > 0 && v->catch_kind == TL_CATCH_USER)
        return 1;
    return outstanding(v, cancelling);
}

int tl_is_stuck(const struct tl_task_view *v, double now, double grace, long cancelling)
{
    return v->n_effective > 0 && !v->has_stuck && now - v->t_first_cancel >= grace &&
           outstanding(v, cancelling);
}
