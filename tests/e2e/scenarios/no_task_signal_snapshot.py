# asyncio imported, but no task is ever made (the program blocks reading
# stdin): a snapshot asked for by SIGUSR2 is written all the same (reason
# "signal", no live tasks, no leaks), twice; at exit no exit report replaces
# it, so the last report on disk is the second snapshot.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# reason: signal
# live-count: 0
# expect-none
import asyncio
import sys

print("ready", flush=True)  # asyncio is imported: the library is active
data = sys.stdin.read()
print("read %d bytes" % len(data))
