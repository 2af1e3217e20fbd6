"""Check a built wheel: install it alone (--no-deps) into a scratch folder, then run the generated op
tests against that copy in an interpreter where grimoire, pyswip (Prolog) and jinja2 cannot be imported.

    python tests/check_wheel.py dist/NAME-*.whl [PYTEST ARGS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "{{ cookiecutter.package }}"
BLOCKED = ("grimoire", "pyswip", "jinja2", "cookiecutter")

# (raw: the project template renders this file with Jinja, and the guard's braces are str.format's)
{% raw %}GUARD = '''
"""pytest plugin: the generator and Prolog are not importable; the package comes from the wheel."""
import importlib.abc
import sys

BLOCKED = {blocked!r}


class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{{name}} is blocked: the wheel must work without it")
        return None


sys.meta_path.insert(0, _Block())


def pytest_configure(config):
    import {package} as package

    assert package.__file__.startswith({target!r}), f"{package} came from {{package.__file__}}, not the wheel"
    library = package._build._loaded[0]
    assert library.parent.name == "_lib", f"{package} loaded {{library}}, not the library the wheel ships"
    for name in BLOCKED:
        try:
            __import__(name)
        except ImportError:
            continue
        raise AssertionError(f"{{name}} is importable; the check needs it blocked")
'''{% endraw %}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    wheel, extra = Path(argv[0]).resolve(), argv[1:]
    with tempfile.TemporaryDirectory(prefix=f"{PACKAGE}-wheel-") as tmp:
        target = Path(tmp) / "site"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--no-compile", "--target", str(target), str(wheel)], check=True)
        (Path(tmp) / "wheel_guard.py").write_text(GUARD.format(blocked=BLOCKED, package=PACKAGE, target=str(target)))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), tmp]))
        # Run from the scratch folder, so the source tree's package cannot be imported instead.
        cmd = [sys.executable, "-m", "pytest", str(ROOT / PACKAGE / "tests"), "-q", "-rs", "-p", "wheel_guard",
               "-p", "no:cacheprovider", "--rootdir", tmp, *extra]
        code = subprocess.run(cmd, cwd=tmp, env=env).returncode
    print(f"{wheel.name}: {'installs, imports and passes its tests without grimoire or Prolog' if code == 0 else 'FAILED'}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
