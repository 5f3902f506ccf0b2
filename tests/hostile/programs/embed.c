/* A C program that embeds CPython: Py_Initialize, asyncio code with a
 * swallowed cancel through PyRun_SimpleString, Py_FinalizeEx.  With an
 * argument `twice`, it does it all a second time in the same process. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <string.h>

static const char code[] =
    "import asyncio\n"
    "async def embedded_worker():\n"
    "    try:\n"
    "        await asyncio.sleep(60)\n"
    "    except asyncio.CancelledError:\n"
    "        return 'swallowed'\n"
    "async def embedded_main():\n"
    "    t = asyncio.create_task(embedded_worker())\n"
    "    await asyncio.sleep(0.01)\n"
    "    t.cancel()\n"
    "    return await t\n"
    "print('embedded:', asyncio.run(embedded_main()), flush=True)\n";

static int round_trip(int n)
{
    Py_Initialize();
    int rc = PyRun_SimpleString(code);
    int fin = Py_FinalizeEx();
    printf("round %d: run=%d finalize=%d\n", n, rc, fin);
    fflush(stdout);
    return rc || fin;
}

int main(int argc, char **argv)
{
    int bad = round_trip(1);
    if (argc > 1 && !strcmp(argv[1], "twice"))
        bad |= round_trip(2);
    return bad;
}
