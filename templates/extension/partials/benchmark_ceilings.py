# ---------------------------------------------------------------------------------------------------
# Ceilings: what this machine reaches on plain work of the same size, measured in the same run
# ---------------------------------------------------------------------------------------------------

CEILINGS = ("copy", "matmul", "none")
_ceilings: dict[tuple, dict] = {}


def default_ceiling(bytes_moved: int, flops: int) -> str:
    return "matmul" if flops else "copy" if bytes_moved else "none"


def ceiling(kind: str, dtype, device: str, *, bytes_moved: int = 0, flops: int = 0, tf32: bool = False) -> dict:
    """The ceiling's rate, measured once per (kind, dtype, size) in this process.

    copy:   dst.copy_(src) moving as many bytes (read + write) as the op does; rate in GB/s.
    matmul: the library matmul's best rate, in TFLOP/s, over square n x n inputs: n with about as many
            FLOPs as the op (a multiple of 256) and, on CUDA, 4096 and 8192 too, where cuBLAS reaches
            its peak. A ceiling is what the machine can do, so an op is never measured against a size
            the library happens to run slowly. tf32: a float32 matmul on TF32 tensor cores, the ceiling of
            an op whose library runs float32 so (cuDNN convolutions do by default).
    """
    if kind not in CEILINGS:
        raise ValueError(f"ceiling must be one of {CEILINGS}, got {kind!r}")
    if kind == "none":
        return {"ceiling": None}
    if kind == "copy":
        if bytes_moved <= 0:
            raise ValueError("the copy ceiling needs bytes_moved > 0")
        itemsize = torch.empty((), dtype=dtype).element_size()
        return _measured(kind, dtype, device, max(1, bytes_moved // 2 // itemsize), False)
    if flops <= 0:
        raise ValueError("the matmul ceiling needs flops > 0")
    # A multiple of 256: cuBLAS runs odd sizes (3251) on slow kernels, 6x under its peak on an H200.
    matched = min(8192, max(256, round((flops / 2) ** (1 / 3) / 256) * 256))
    sizes = {matched} | ({4096, 8192} if device == "cuda" and not TINY else set())
    tf32 = tf32 and dtype == torch.float32
    return max((_measured(kind, dtype, device, n, tf32) for n in sorted(sizes)), key=lambda c: c["ceiling_rate"])


def _measured(kind: str, dtype, device: str, size: int, tf32: bool) -> dict:
    """One ceiling measurement: a copy of `size` elements or an n x n matmul, n = `size`."""
    key = (kind, dtype, device, size, tf32)
    if key not in _ceilings:
        itemsize = torch.empty((), dtype=dtype).element_size()
        if kind == "copy":
            src = torch.randn(size, device=device).to(dtype)
            dst = torch.empty_like(src)
            t = median_seconds(lambda: dst.copy_(src), device)
            rate, unit, work = 2 * size * itemsize / t / 1e9, "GB/s", 2 * size * itemsize
        else:
            a, b = (torch.randn(size, size, device=device).to(dtype) for _ in range(2))
            c = torch.empty_like(a)
            allowed = torch.backends.cuda.matmul.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32
            try:
                t = median_seconds(lambda: torch.mm(a, b, out=c), device)
            finally:
                torch.backends.cuda.matmul.allow_tf32 = allowed
            rate, unit, work = 2 * size ** 3 / t / 1e12, "TFLOP/s", 2 * size ** 3
        _ceilings[key] = {"ceiling": kind, "ceiling_rate": rate, "ceiling_unit": unit, "ceiling_time_s": t,
                          "ceiling_work": work, "ceiling_tf32": tf32}
    return dict(_ceilings[key])


# ---------------------------------------------------------------------------------------------------
# What the results record about the machine
# ---------------------------------------------------------------------------------------------------

def load_average() -> float | None:
    """The 1-minute load average: how much else ran on the machine (shared CPU machines are noisy)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


LOAD_AT_START = load_average()


def environment(invocation: str) -> dict:
    info = {"device": DEVICE, "torch": torch.__version__, "threads": torch.get_num_threads(), "tiny": TINY,
            "timer": "cuda_event_queued" if DEVICE == "cuda" else "host", "cpus": os.cpu_count(),
            "load_start": LOAD_AT_START, "load_end": load_average(),
            "command": os.environ.get("GRIMOIRE_BENCH_COMMAND") or invocation, "left_out": left_out()}
    if DEVICE == "cuda" and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        info.update(gpu=props.name, cuda=torch.version.cuda, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    l2_flush_bytes=L2_FLUSH_BYTES)
        try:
            import triton

            info["triton"] = triton.__version__
        except Exception:
            pass
    return info
