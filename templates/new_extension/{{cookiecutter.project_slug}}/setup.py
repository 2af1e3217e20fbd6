"""The wheel: the generated package with its library prebuilt, so installing it needs torch alone.

`pip wheel .` runs the generated builder ({{ cookiecutter.package }}/_build.py), which returns at once when
`grimoire build` already built these sources with this torch, and compiles otherwise. The library goes
into the wheel as {{ cookiecutter.package }}/_lib/ with the torch version it was built against, and the
wheel requires that torch.
"""

import importlib.metadata
import importlib.util
import json
import shutil
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGE = "{{ cookiecutter.package }}"


def torch_version() -> str:
    return importlib.metadata.version("torch")


class BuildPyWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        builder_file = ROOT / PACKAGE / "_build.py"
        if not builder_file.is_file():
            sys.exit(f"{PACKAGE}/ is not generated yet: run `grimoire generate && grimoire build` (or `make test`)")
        spec = importlib.util.spec_from_file_location(f"{PACKAGE}_builder", builder_file)
        builder = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(builder)
        library = builder.build()
        dest = Path(self.build_lib) / PACKAGE / "_lib"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, dest / library.name)
        (dest / "built_with.json").write_text(json.dumps({"torch": torch_version()}) + "\n")


class BinaryDistribution(Distribution):
    """The wheel holds a compiled library: tag it for this platform and Python, not as pure Python."""

    def has_ext_modules(self) -> bool:
        return True


setup(
    install_requires=[f"torch=={torch_version().split('+')[0]}"],
    cmdclass={"build_py": BuildPyWithLibrary},
    distclass=BinaryDistribution,
)
