"""grimoire: PyTorch C++/CUDA extensions generated from declarative op specs written in Prolog.

Pipeline, one stage per module:
    knowledge (Prolog via pyswip) -> model (frozen dataclasses) -> render (Jinja2 -> generated_ops/)
    -> build (torch.utils.cpp_extension + ninja) -> validate (pytest) -> bench (pytest-benchmark)
and cli, the Typer app driving them.
"""

__version__ = "0.1.0"
