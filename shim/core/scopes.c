/* SPDX-License-Identifier: MIT */
/* The built-in list of cancel scopes, plus `scope:MODULE_GLOB` rules from
 * the suppressions file. */
#include "core/scopes.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "core/suppressions.h"

struct builtin_scope {
    const char *module;
    const char *file_suffix;
    const char *function; /* substring of the issuing function; NULL = any */
    const char *package;  /* its library's folder: all of its code is library code */
};

/* A TaskGroup's `_abort` cancels the children, which must propagate: only
 * its other code (cancelling the parent) acts as a scope. */
static const struct builtin_scope builtin[] = {
    {"asyncio.timeouts", "/asyncio/timeouts.py", NULL, "/asyncio/"},
    {"asyncio.taskgroups", "/asyncio/taskgroups.py", "!_abort", "/asyncio/"},
    {"async_timeout", "/async_timeout/__init__.py", NULL, "/async_timeout/"},
    {"anyio", "/anyio/_backends/_asyncio.py", "_deliver_cancellation", "/anyio/"},
    {"aiohttp.helpers", "/aiohttp/helpers.py", "timeout", NULL}, /* TimerContext.timeout */
};
#define N_BUILTIN (int)(sizeof builtin / sizeof builtin[0])

/* Module names made from user rules, after the built-in ones. */
#define MAX_USER 64
static char *user_names[MAX_USER];
static int n_user;

int tl_ends_with(const char *s, const char *suffix)
{
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int function_matches(const char *want, const char *function)
{
    if (!want)
        return 1;
    if (want[0] == '!')
        return !strstr(function, want + 1);
    return strstr(function, want) != NULL;
}

/* "/x/site-packages/mylib/timeouts.py" -> "mylib.timeouts" when a rule's
 * glob matches a dotted tail of the path. */
static int user_scope(const char *file)
{
    char dotted[1024];
    size_t n = strlen(file);
    if (n < 4 || n >= sizeof dotted || strcmp(file + n - 3, ".py"))
        return TL_SCOPE_NONE;
    memcpy(dotted, file, n - 3);
    dotted[n - 3] = 0;
    if (tl_ends_with(dotted, "/__init__"))
        dotted[strlen(dotted) - 9] = 0;
    for (char *p = dotted; *p; p++)
        if (*p == '/')
            *p = '.';
    for (char *tail = dotted; tail; tail = strchr(tail + 1, '.')) {
        const char *module = *tail == '.' ? tail + 1 : tail;
        if (!*module || !tl_suppressions_scope(module))
            continue;
        for (int i = 0; i < n_user; i++)
            if (!strcmp(user_names[i], module))
                return N_BUILTIN + 1 + i;
        if (n_user == MAX_USER || !(user_names[n_user] = strdup(module)))
            return TL_SCOPE_NONE;
        return N_BUILTIN + 1 + n_user++;
    }
    return TL_SCOPE_NONE;
}

int tl_scope_classify(const char *file, const char *function)
{
    if (!file || !function)
        return TL_SCOPE_NONE;
    for (int i = 0; i < N_BUILTIN; i++)
        if (tl_ends_with(file, builtin[i].file_suffix) && function_matches(builtin[i].function, function))
            return i + 1;
    return user_scope(file);
}

const char *tl_scope_name(int scope)
{
    if (scope >= 1 && scope <= N_BUILTIN)
        return builtin[scope - 1].module;
    if (scope > N_BUILTIN && scope <= N_BUILTIN + n_user)
        return user_names[scope - N_BUILTIN - 1];
    return NULL;
}

int tl_scope_is_library(const char *file)
{
    if (!file)
        return 0;
    for (int i = 0; i < N_BUILTIN; i++)
        if (builtin[i].package && strstr(file, builtin[i].package))
            return 1;
    return tl_scope_classify(file, "") != TL_SCOPE_NONE;
}

void tl_scopes_reset(void)
{
    for (int i = 0; i < n_user; i++) {
        free(user_names[i]);
        user_names[i] = NULL;
    }
    n_user = 0;
}
