# SPDX-License-Identifier: MIT
"""The build steps pyproject.toml cannot declare: build_py runs `make` and
puts libtaskleak.so into the package with the libraries it needs beyond
glibc (libunwind, jansson, liblzma: copied beside it under names of their
own, found through RUNPATH $ORIGIN; scripts/dev/bundle_libs.py), and the
wheel is tagged with the glibc those objects need (py3-none-manylinux_2_N_
<arch>: one library serves every CPython 3.8+).  Without patchelf the
library is copied alone and the tag stays linux_<arch> (this machine's).

setuptools' own build directories go under the temporary directory, never
into the checkout's build/ (the C build's)."""

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SCRATCH = os.path.join(tempfile.gettempdir(), "taskleak-pybuild-%d-%s" % (
    os.getuid(), hashlib.sha256(HERE.encode()).hexdigest()[:12]))


class BuildPyWithLibrary(build_py):
    """build_py, then `make BUILD=<scratch>` and the library copied in."""

    def run(self):
        build_py.run(self)
        # A fresh build every time: objects kept from an older tree could
        # be linked with headers they were not compiled against.
        os.makedirs(SCRATCH, exist_ok=True)
        make_build = tempfile.mkdtemp(prefix="make.", dir=SCRATCH)
        # Not the variables of an enclosing make (make package-test): its
        # command-line BUILD= would win over this one.
        env = dict((k, v) for k, v in os.environ.items()
                   if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"))
        # WERROR=: a warning a newer compiler adds must not fail an install
        # (developers and CI build with -Werror).
        subprocess.check_call(["make", "-C", HERE, "--no-print-directory",
                               "BUILD=" + make_build, "WERROR=", "all"], env=env)
        target = os.path.join(self.build_lib, "taskleak", "lib")
        shutil.rmtree(target, ignore_errors=True)   # nothing of an earlier build
        os.makedirs(target)
        library = os.path.join(make_build, "libtaskleak.so")
        bundler = load_bundler()
        if shutil.which("patchelf"):
            made = bundler.bundle(library, target)
            self.distribution.taskleak_platform = bundler.platform_tag(
                [os.path.join(target, name) for name, _ in made])
            for name, what in made[1:]:
                sys.stderr.write("taskleak: bundled %s as taskleak/lib/%s\n" % (what, name))
        else:
            sys.stderr.write("taskleak: patchelf not found (Debian: patchelf): the wheel "
                             "needs this system's libunwind and jansson\n")
            shutil.copy2(library, os.path.join(target, "libtaskleak.so"))
        # The one version file, which taskleak.contract reads.
        shutil.copy2(os.path.join(HERE, "VERSION"),
                     os.path.join(self.build_lib, "taskleak", "VERSION"))
        shutil.rmtree(make_build, ignore_errors=True)


def load_bundler():
    spec = importlib.util.spec_from_file_location(
        "bundle_libs", os.path.join(HERE, "scripts", "dev", "bundle_libs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class NativeDistribution(Distribution):
    """The package carries a native library: install it as platform code
    (platlib, a non-pure wheel), like an extension module."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildPyWithLibrary}

try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:       # no wheel package: pip falls back to setup.py install
    bdist_wheel = None

if bdist_wheel is not None:
    class PlatformWheel(bdist_wheel):
        """A native library for this platform, but no extension module: no
        Python ABI tag."""

        def get_tag(self):
            _, _, platform = bdist_wheel.get_tag(self)
            return "py3", "none", getattr(self.distribution, "taskleak_platform", platform)

    cmdclass["bdist_wheel"] = PlatformWheel

setup(cmdclass=cmdclass, distclass=NativeDistribution,
      options={"build": {"build_base": os.path.join(SCRATCH, "setuptools")},
               "egg_info": {"egg_base": SCRATCH}})
