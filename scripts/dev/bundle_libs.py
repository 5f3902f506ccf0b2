#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Make libtaskleak.so self-contained for a wheel, as auditwheel repairs a
wheel: every shared library it needs beyond the few every Linux has (the
manylinux policy's: glibc's own, libgcc_s, libstdc++) is copied beside it
under a name of its own (libunwind-<hash>.so.8: never mistaken for, nor
shadowed by, a system copy), renamed inside (its SONAME), and found
through RUNPATH $ORIGIN; the glibc the result needs is the highest
GLIBC_2.N symbol version any of these objects asks for, which is the
wheel's platform tag: manylinux_2_N_<arch>.

    bundle_libs.py bundle LIB DIR     copy LIB and what it needs into DIR, patched;
                                      prints one line per object
    bundle_libs.py glibc FILE...      the glibc version the objects need, and the tag

Static linking is not the way here: Debian's libunwind.a and libjansson.a
are not position-independent (R_X86_64_32 and PC32 relocations against
data: `ld -shared` refuses them).  Needs patchelf (Debian: patchelf) and
ldd; the ELF reading is this file's own (standard library only).
"""

import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys

# The manylinux policy's libraries (PEP 600 / auditwheel's policy.json, the
# system part): present on every glibc system, never bundled.
SYSTEM = frozenset((
    "libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0",
    "libresolv.so.2", "libutil.so.1", "libnsl.so.1", "libcrypt.so.1", "libgcc_s.so.1",
    "libstdc++.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "linux-vdso.so.1"))
MACHINES = {62: "x86_64", 183: "aarch64"}
DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 1, 14, 15, 29
SHT_DYNAMIC, SHT_GNU_VERNEED = 6, 0x6ffffffe


class ElfError(Exception):
    pass


class Elf:
    """What a 64-bit little-endian ELF shared object says about linking:
    its machine, NEEDED, SONAME, RPATH/RUNPATH and the symbol versions it
    needs from each library (.gnu.version_r)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as stream:
            data = stream.read()
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ElfError("%s: not a 64-bit little-endian ELF file" % path)
        (self.machine,) = struct.unpack_from("<H", data, 18)
        shoff, = struct.unpack_from("<Q", data, 40)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                    for i in range(shnum)]
        self.needed, self.soname, self.runpath = [], None, None
        self.versions = {}          # library -> set of version names
        for name, kind, _, _, offset, size, link, info, _, entsize in sections:
            if kind == SHT_DYNAMIC:
                strtab = sections[link]
                for k in range(size // 16):
                    tag, value = struct.unpack_from("<qQ", data, offset + 16 * k)
                    if tag == 0:
                        break
                    text = self.string(data, strtab, value) if tag in (
                        DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH) else None
                    if tag == DT_NEEDED:
                        self.needed.append(text)
                    elif tag == DT_SONAME:
                        self.soname = text
                    elif tag in (DT_RPATH, DT_RUNPATH):
                        self.runpath = text
            elif kind == SHT_GNU_VERNEED:
                strtab = sections[link]
                at = offset
                for _ in range(info):
                    _, count, file_name, aux, following = struct.unpack_from("<HHIII", data, at)
                    library = self.string(data, strtab, file_name)
                    names = self.versions.setdefault(library, set())
                    entry = at + aux
                    for _ in range(count):
                        _, _, _, vname, vnext = struct.unpack_from("<IHHII", data, entry)
                        names.add(self.string(data, strtab, vname))
                        entry += vnext
                    if not following:
                        break
                    at += following

    @staticmethod
    def string(data, strtab, offset):
        start = strtab[4] + offset
        return data[start:data.index(b"\0", start)].decode("utf-8", "replace")

    @property
    def arch(self):
        return MACHINES.get(self.machine, "machine%d" % self.machine)

    def glibc(self):
        """The highest GLIBC_2.N this object asks for, as (2, N)."""
        found = [(2, 0)]
        for names in self.versions.values():
            for name in names:
                match = re.match(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$", name)
                if match:
                    found.append((int(match.group(1)), int(match.group(2))))
                elif name == "GLIBC_PRIVATE":
                    raise ElfError("%s needs GLIBC_PRIVATE symbols: not portable" % self.path)
        return max(found)


def glibc_needed(paths):
    """(major, minor, arch) over every object of PATHS."""
    objects = [Elf(p) for p in paths]
    arches = set(o.arch for o in objects)
    if len(arches) != 1:
        raise ElfError("objects of several machines: %s" % sorted(arches))
    major, minor = max(o.glibc() for o in objects)
    return major, minor, arches.pop()


def platform_tag(paths):
    major, minor, arch = glibc_needed(paths)
    return "manylinux_%d_%d_%s" % (major, minor, arch)


def resolved(path):
    """{soname: path} of PATH's dependencies, as this system's loader finds them."""
    out = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"^\s*(\S+)\s+=>\s+(/\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def bundled_name(soname, path):
    """libunwind.so.8 -> libunwind-<first 8 of the file's sha256>.so.8"""
    with open(path, "rb") as stream:
        digest = hashlib.sha256(stream.read()).hexdigest()[:8]
    stem, dot, rest = soname.partition(".so")
    return "%s-%s%s%s" % (stem, digest, dot, rest)


def patchelf(*args):
    subprocess.run(["patchelf"] + list(args), check=True)


def bundle(library, directory):
    """Copy LIBRARY into DIRECTORY with every non-system library it needs,
    renamed and patched; [(file name, what it stands for)]."""
    if shutil.which("patchelf") is None:
        raise ElfError("patchelf is not installed (Debian: patchelf)")
    os.makedirs(directory, exist_ok=True)
    top = os.path.join(directory, os.path.basename(library))
    shutil.copy2(library, top)
    where = resolved(library)
    names, order, queue = {}, [], [Elf(library)]
    while queue:                         # every library reached, breadth first
        elf = queue.pop(0)
        for soname in elf.needed:
            if soname in SYSTEM or soname in names:
                continue
            if soname not in where:
                raise ElfError("%s needs %s, which ldd does not find" % (elf.path, soname))
            names[soname] = bundled_name(soname, where[soname])
            order.append(soname)
            queue.append(Elf(where[soname]))
    made = [(os.path.basename(top), os.path.basename(library))]
    for soname in order:
        target = os.path.join(directory, names[soname])
        shutil.copyfile(where[soname], target)
        os.chmod(target, 0o755)
        patchelf("--set-soname", names[soname], target)
        made.append((names[soname], soname + " (" + os.path.realpath(where[soname]) + ")"))
    for file_name, _ in made:
        path = os.path.join(directory, file_name)
        elf = Elf(path)
        replaced = [(old, names[old]) for old in elf.needed if old in names]
        for old, new in replaced:
            patchelf("--replace-needed", old, new, path)
        if replaced:
            patchelf("--set-rpath", "$ORIGIN", path)
    for file_name, _ in made:            # what the loader will see
        elf = Elf(os.path.join(directory, file_name))
        left = [n for n in elf.needed if n not in SYSTEM and n not in names.values()]
        if left:
            raise ElfError("%s still needs %s" % (file_name, left))
    return made


def main(argv):
    if len(argv) == 3 and argv[0] == "bundle":
        for name, what in bundle(argv[1], argv[2]):
            print("%s\t%s" % (name, what))
        return 0
    if len(argv) >= 2 and argv[0] == "glibc":
        major, minor, arch = glibc_needed(argv[1:])
        print("glibc %d.%d (%s): manylinux_%d_%d_%s" % (major, minor, arch, major, minor, arch))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ElfError, OSError, subprocess.CalledProcessError) as error:
        sys.stderr.write("bundle_libs: %s\n" % error)
        sys.exit(1)
