

_LOCK_NAME = "build.lock"  # ours: flock-ed for the whole build, records who holds it
_TORCH_LOCK_NAME = "lock"  # torch.utils.cpp_extension's FileBaton: O_EXCL-created, removed when done


def _read_holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _who(holder: dict) -> str:
    host = holder.get("host")
    where = f" on {host}" if host and host != socket.gethostname() else ""
    return f"process {holder['pid']}{where}" if holder.get("pid") else "another process"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _build_lock():
    """Hold BUILD_DIR/build.lock (an exclusive flock) for the whole build.

    The kernel releases a flock when its holder dies, however it dies, so a killed build never blocks the
    next one. The file is never removed (a lock on a replaced inode would lock nothing); while held it
    records the holder's PID and host, and it is emptied on release: a record found on acquiring it names
    a build that died mid-way, whose torch `lock` file (torch's FileBaton, which torch's waiters poll for
    ever) is then removed. While we hold build.lock no other builder of this folder runs, so a torch
    `lock` there is stale by construction.
    """
    try:
        import fcntl
    except ImportError:  # no flock (Windows): torch's FileBaton alone
        yield
        return
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    path = BUILD_DIR / _LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _note(f"waiting for the build in {_who(_read_holder(path))} to finish ({path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        previous = _read_holder(path)
        torch_lock = BUILD_DIR / _TORCH_LOCK_NAME
        if previous.get("pid") or torch_lock.exists():
            pid = previous.get("pid")
            state = "no longer running" if not pid or not _alive(pid) else "its build was cut short"
            _note(f"removing a stale build lock left by {_who(previous)} ({state})")
            with contextlib.suppress(FileNotFoundError):
                torch_lock.unlink()
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # released cleanly: nothing stale to report
    finally:
        os.close(fd)  # drops the flock


# ninja -v prints "[n/m] <command>" as each step finishes (not on a terminal: ninja never sees one here).
_NINJA_STEP = re.compile(r"^\[(\d+)/(\d+)\] (.*)$")


def _describe(command: str) -> str:
    """`compiling csrc/x.cpp` or `linking x.so` for a compiler command line."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()

    def short(p: str) -> str:
        return "/".join(Path(p).parts[-2:])
    if "-c" in words[:-1]:
        return f"compiling {short(words[words.index('-c') + 1])}"
    if "-o" in words[:-1]:
        return f"linking {Path(words[words.index('-o') + 1]).name}"
    return command if len(command) <= 120 else command[:117] + "..."


def _ninja_command(cpp_extension) -> list[str]:
    command = ["ninja", "-v"]
    get_workers = getattr(cpp_extension, "_get_num_workers", None)
    workers = get_workers(False) if get_workers else os.environ.get("MAX_JOBS")
    return command + (["-j", str(workers)] if workers is not None else [])


def _run_ninja(build_directory: str, verbose: bool, error_prefix: str) -> None:
    """torch's _run_ninja_build, streaming: each finished step is a line on stderr as it happens (the
    command itself with --verbose), where torch shows nothing until the end (or everything, on stdout)."""
    import subprocess

    from torch.utils import cpp_extension

    command = _ninja_command(cpp_extension)
    env = os.environ.copy()
    dry = subprocess.run(command + ["-n"], cwd=build_directory, env=env, capture_output=True, text=True)
    steps = [m for m in map(_NINJA_STEP.match, dry.stdout.splitlines()) if m]
    if dry.returncode == 0 and not steps:
        return  # nothing to compile: say nothing
    _note(f"{len(steps) or 'some'} step(s) to run ({' '.join(command[:1] + command[2:])}) in {build_directory}")
    start = time.monotonic()
    sys.stdout.flush()
    sys.stderr.flush()
    proc = subprocess.Popen(command, cwd=build_directory, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    log: list[str] = []
    try:
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            log.append(line)
            step = _NINJA_STEP.match(line)
            if verbose:
                _say(line)
            elif step:
                _say(f"[{step[1]}/{step[2]}] {_describe(step[3])} ({time.monotonic() - start:.0f} s)")
        returncode = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if returncode != 0:
        raise RuntimeError(f"{error_prefix}: " + "\n".join(log))


@contextlib.contextmanager
def _streaming_ninja():
    """Route torch's ninja run through _run_ninja while we build (torch's own stays where it is missing)."""
    from torch.utils import cpp_extension

    saved = getattr(cpp_extension, "_run_ninja_build", None)
    if saved is None:
        yield
        return
    cpp_extension._run_ninja_build = _run_ninja
    try:
        yield
    finally:
        cpp_extension._run_ninja_build = saved


def is_fresh() -> bool:
    """True when the library on disk was built from exactly these inputs."""
    try:
        recorded = json.loads(_stamp_file().read_text())
    except (OSError, ValueError):
        return False
    return library_path().exists() and recorded.get("stamp") == _stamp()


def _capability() -> str:
    wanted = os.environ.get("GRIMOIRE_CPU_CAPABILITY")
    if wanted:
        if wanted not in _CAPABILITY_FLAGS:
            raise ValueError(f"GRIMOIRE_CPU_CAPABILITY={wanted!r}: use one of {sorted(_CAPABILITY_FLAGS)}")
        return wanted
    import torch

    detected = torch.backends.cpu.get_cpu_capability().lower()
    return "avx512" if detected.startswith("avx512") else ("avx2" if detected == "avx2" else "default")


# ---------------------------------------------------------------------------------------------
# CUDA: whether to compile the .cu sources, for which archs, through ccache
# ---------------------------------------------------------------------------------------------
