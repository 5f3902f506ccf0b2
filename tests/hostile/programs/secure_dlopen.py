"""Load the library by hand (ctypes: dlopen with a full path works in
secure mode, where the loader ignores LD_PRELOAD), then leak a task.  In a
secure (setuid/setgid) process the library must stay silent and write
nothing; in a normal one the same steps activate it.

`secure_dlopen.py LIB`: prints AT_SECURE as read from /proc/self/auxv."""
import asyncio
import ctypes
import struct
import sys

AT_SECURE = 23
with open("/proc/self/auxv", "rb") as f:
    data = f.read()
secure = 0
for i in range(0, len(data), 16):
    key, value = struct.unpack_from("QQ", data, i)
    if key == AT_SECURE:
        secure = value
print("at_secure", secure)
ctypes.CDLL(sys.argv[1])


async def secure_worker():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "swallowed"


async def main():
    t = asyncio.create_task(secure_worker())
    await asyncio.sleep(0.01)
    t.cancel()
    return await t


print(asyncio.run(main()))
