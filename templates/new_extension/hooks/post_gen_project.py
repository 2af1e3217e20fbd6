"""Write the example op's spec with `grimoire new-op`, from the generator's own example of its kind
(templates/kinds/elementwise/example_spec.pl.j2): this project template holds no copy of any op template."""

import sys
from pathlib import Path

try:
    from grimoire import scaffold
    from grimoire.diagnostics import SpecError
except ImportError:
    sys.exit("error: this template needs the grimoire generator importable (pip install torch-grimoire): "
             "it writes the example op's spec")

try:
    scaffold.new_op(Path.cwd(), "{{ cookiecutter.example_op }}", "elementwise")
except (scaffold.ScaffoldError, SpecError) as exc:
    sys.exit(f"error: {exc}")
