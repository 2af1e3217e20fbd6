DEFAULT_CUDA_ARCH = "9.0"  # no GPU to ask and no list given: Hopper
CUDA_FLAGS = ["-O3", "-DGRIMOIRE_WITH_CUDA=1", "--expt-relaxed-constexpr", "--extended-lambda"]


def _with_cuda() -> bool:
    wanted = os.environ.get("GRIMOIRE_WITH_CUDA")
    if not CUDA_SOURCES or wanted == "0":
        return False
    import torch
    from torch.utils.cpp_extension import CUDA_HOME

    available = torch.version.cuda is not None and CUDA_HOME is not None
    if wanted == "1" and not available:
        raise RuntimeError("GRIMOIRE_WITH_CUDA=1 but torch has no CUDA or CUDA_HOME/nvcc is not found")
    return available


def _device_archs() -> list[str]:
    import torch

    if not torch.cuda.is_available():
        return []
    return sorted({"{}.{}".format(*torch.cuda.get_device_capability(i)) for i in range(torch.cuda.device_count())})


def _cuda_arch_list() -> str:
    """TORCH_CUDA_ARCH_LIST when set; else the visible GPUs' archs (9.0 without one), kept to CUDA_ARCHS."""
    explicit = os.environ.get("TORCH_CUDA_ARCH_LIST")
    if explicit:
        return explicit
    found = _device_archs()
    if not CUDA_ARCHS:
        return ";".join(found or [DEFAULT_CUDA_ARCH])
    kept = [a for a in CUDA_ARCHS if not found or a.rstrip("a") in found]
    if not kept:
        raise RuntimeError(f"the GPUs here are sm {found}, but the extension allows only {list(CUDA_ARCHS)} "
                           "(its cuda_archs component): widen cuda_archs or set TORCH_CUDA_ARCH_LIST")
    return ";".join(kept)


def _cuda_library_includes() -> list[str]:
    """Headers torch's CUDA headers include (cuBLAS, cuSPARSE, ...) that the toolkit at CUDA_HOME lacks, as an
    nvcc-only toolkit beside pip-installed torch does: linked one by one from the nvidia wheels into the
    build folder, so that nothing the toolkit has is shadowed."""
    import importlib.util

    from torch.utils.cpp_extension import CUDA_HOME

    spec = importlib.util.find_spec("nvidia")
    if spec is None or not spec.submodule_search_locations:
        return []
    toolkit = Path(CUDA_HOME) / "include"
    farm = BUILD_DIR / "cuda_library_include"
    for root in spec.submodule_search_locations:
        for include in sorted(Path(root).glob("*/include")):
            for header in include.iterdir():
                link = farm / header.name
                if not (toolkit / header.name).exists() and not os.path.lexists(link):
                    farm.mkdir(parents=True, exist_ok=True)
                    link.symlink_to(header)
    return [str(farm)] if farm.is_dir() else []


@contextlib.contextmanager
def _cuda_build_env(with_cuda: bool):
    """The arch list, and ccache in front of nvcc where torch does not add it itself; restored after."""
    from torch.utils import cpp_extension

    saved = dict(os.environ)
    try:
        if with_cuda:
            os.environ["TORCH_CUDA_ARCH_LIST"] = _cuda_arch_list()
            wraps_itself = hasattr(cpp_extension, "_wrap_compiler")
            if shutil.which("ccache") and not wraps_itself and "PYTORCH_NVCC" not in os.environ:
                os.environ["PYTORCH_NVCC"] = "ccache " + os.path.join(cpp_extension.CUDA_HOME, "bin", "nvcc")
        yield os.environ.get("TORCH_CUDA_ARCH_LIST", "") if with_cuda else ""
    finally:
        os.environ.clear()
        os.environ.update(saved)


def build(verbose: bool = False, force: bool = False) -> Path:
    """Build the shared library if its inputs changed; return its path. Loads it into this process."""
    if not force and is_fresh():
        return library_path()
    with _build_lock():
        # A build we waited for may have built exactly this.
        if not force and is_fresh():
            return library_path()
        return _build_locked(verbose)


def _build_locked(verbose: bool) -> Path:
    from torch.utils import cpp_extension

    stamp = _stamp()  # before the build environment is set up
    capability = _capability()
    with_cuda = _with_cuda()
    sources = [str(CSRC / s) for s in CPU_SOURCES]
    if with_cuda:
        sources += [str(CSRC / s) for s in CUDA_SOURCES]
    sources += [str(p) for p in user_kernel_sources(with_cuda)]
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    check = _compile_check()
    cflags = ["-O0" if check else "-O3", "-fopenmp", f"-DGRIMOIRE_WITH_CUDA={int(with_cuda)}",
              *_CAPABILITY_FLAGS[capability]]
    with _cuda_build_env(with_cuda) as archs, _streaming_ninja():
        cpp_extension.load(
            name=NAME,
            sources=sources,
            extra_cflags=cflags,
            extra_cuda_cflags=_check_cuda_flags(archs) if check else CUDA_FLAGS,
            # libstdc++ from the shared library, as torch has it: a compiler set up to link it statically
            # (seen on a GPU machine) gives the extension its own iostreams, and the first error message
            # streamed into a c10 stream crashes the process.
            extra_ldflags=["-fopenmp", "-lstdc++"],
            extra_include_paths=[str(CSRC), *(_cuda_library_includes() if with_cuda else [])],
            build_directory=str(BUILD_DIR),
            with_cuda=with_cuda,
            is_python_module=False,
            verbose=verbose,
        )
    _check_shared_libstdcxx(library_path())
    _write_atomically(_stamp_file(), json.dumps({"stamp": stamp, "cpu_capability": capability,
                                                 "cuda": with_cuda, "cuda_archs": archs}))
    return library_path()


def _compile_check() -> bool:
    """GRIMOIRE_COMPILE_CHECK=1: a library built only to show that every source compiles, links and
    loads, never to run (the CUDA compile check of a machine without a GPU)."""
    return os.environ.get("GRIMOIRE_COMPILE_CHECK") == "1"


def _check_cuda_flags(archs: str) -> list[str]:
    """A compile check's nvcc flags: no optimization, and PTX alone for each arch (nothing runs, so
    ptxas need not make machine code): about 40% less time a CUDA source. Naming the archs here keeps
    torch from adding its own -gencode flags."""
    ptx = [f"-gencode=arch=compute_{a},code=compute_{a}" for a in
           (arch.split("+")[0].replace(".", "") for arch in archs.split(";") if arch)]
    return ["-O0", "-Xcicc", "-O0", *[f for f in CUDA_FLAGS if f != "-O3"], *ptx]


def _check_shared_libstdcxx(library: Path) -> None:
    """Refuse a library that carries its own libstdc++ (see extra_ldflags): it would crash, not fail."""
    ldd = shutil.which("ldd")
    if not ldd or not sys.platform.startswith("linux"):
        return
    import subprocess

    needed = subprocess.run([ldd, str(library)], capture_output=True, text=True).stdout
    if "libstdc++" not in needed:
        library.unlink()
        raise RuntimeError(f"{library.name} was linked without the shared libstdc++ (the C++ compiler "
                           f"{os.environ.get('CXX', 'c++')} links it statically): use a compiler that links it "
                           "dynamically, e.g. CXX=/usr/bin/g++ CC=/usr/bin/gcc")


def _built_for_these_gpus() -> bool:
    """False when the library has CUDA kernels but none for a visible GPU's arch (a GPU swapped under it)."""
    try:
        recorded = json.loads(_stamp_file().read_text())
    except (OSError, ValueError):
        return True
    if not recorded.get("cuda") or os.environ.get("TORCH_CUDA_ARCH_LIST"):
        return True
    built = {a.split("+")[0].rstrip("a") for a in recorded.get("cuda_archs", "").split(";")}
    return all(a in built for a in _device_archs())


_loaded: list[Path] = []


def shipped_library() -> Path | None:
    """The library a wheel ships prebuilt in _lib/ (a project's setup.py puts it there), if any: an
    installed package loads it instead of compiling, and needs no compiler, ninja, Prolog or grimoire."""
    lib = PACKAGE_DIR / "_lib" / f"{NAME}.so"
    if not lib.is_file():
        return None
    built_for = json.loads((lib.parent / "built_with.json").read_text())["torch"]
    installed = importlib.metadata.version("torch")
    # A local tag ("+cu130") may be in one record and not the other (PyPI's metadata drops it).
    if built_for.split("+")[0] != installed.split("+")[0]:
        raise ImportError(f"{NAME}: this wheel's library was built for torch {built_for}, but torch {installed} "
                          f"is installed; install torch=={built_for.split('+')[0]} or rebuild the wheel")
    return lib


def load_library(verbose: bool = False) -> Path:
    """Build if needed, then load the library into torch (once per process)."""
    if _loaded:
        return _loaded[0]
    path = shipped_library() or build(verbose=verbose)
    if not _built_for_these_gpus():
        path = build(verbose=verbose, force=True)
    import torch

    torch.ops.load_library(str(path))
    _loaded.append(path)
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show the compiler commands")
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamp matches")
    parser.add_argument("--check-fresh", action="store_true", help="exit 0 when nothing needs building")
    args = parser.parse_args()
    # SIGTERM as an exception, so that torch's FileBaton and our lock are released on the way out.
    import signal

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.check_fresh:
        sys.exit(0 if is_fresh() else 1)
    fresh = not args.force and is_fresh()
    path = build(verbose=args.verbose, force=args.force)
    # Last line, read by `grimoire build`: whether anything was compiled, and the library.
    print(f"{'up-to-date' if fresh else 'built'} {path}")
