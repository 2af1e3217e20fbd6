
def user_kernel_sources(with_cuda: bool) -> list[Path]:
    """The user's kernels/<op>.cpp of every custom op, and kernels/<op>.cu where CUDA is built."""
    paths = [KERNELS_DIR / n for n in USER_CPU_KERNELS + (USER_CUDA_KERNELS if with_cuda else ())]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"kernel source(s) of custom ops missing: {', '.join(missing)}; write them "
                                f"against the signatures in {CSRC}/<op>_custom.h")
    return paths


def _headers() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in CSRC.iterdir() if p.suffix in (".h", ".cuh")))


def library_path() -> Path:
    return BUILD_DIR / f"{NAME}.so"


def _cpu_flags_line() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return ""


def _stamp() -> str:
    """Everything the built library depends on, hashed, read without importing torch."""
    h = hashlib.sha256()
    for name in sorted(CPU_SOURCES + CUDA_SOURCES + _headers()):
        h.update(name.encode())
        h.update((CSRC / name).read_bytes())
    for path in sorted(KERNELS_DIR / n for n in USER_CPU_KERNELS + USER_CUDA_KERNELS):
        h.update(path.read_bytes() if path.is_file() else b"missing")
    h.update(Path(__file__).read_bytes())  # the flags live here
    h.update(importlib.metadata.version("torch").encode())
    h.update(sys.version.encode())
    h.update(_cpu_flags_line().encode())
    for key in _ENV_KEYS:
        h.update(f"{key}={os.environ.get(key, '')}".encode())
    return h.hexdigest()


def _stamp_file() -> Path:
    return BUILD_DIR / "stamp.json"


def _write_atomically(path: Path, text: str) -> None:
    """Write then rename: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Messages, progress and the build lock
# ---------------------------------------------------------------------------------------------
def _say(message: str) -> None:
    """One line of progress on stderr (also when it is not a terminal), read by `grimoire build`."""
    print(message, file=sys.stderr, flush=True)


def _note(message: str) -> None:
