"""The emitters: the only code that turns expression trees (grimoire/expr.py) into code text, one module per
target language (cpp, python). Names are checked and mangled here, literals spelt here."""
