{
  description = "grimoire: PyTorch C++/CUDA extensions generated from Prolog op specs";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    flake-utils.url = "github:numtide/flake-utils";
  };

  outputs = { self, nixpkgs, flake-utils }:
    flake-utils.lib.eachDefaultSystem (system:
      let
        pkgs = import nixpkgs { inherit system; };
        python = pkgs.python311.withPackages (ps: with ps; [
          torch
          jinja2
          typer
          rich
          pyswip
          pytest
          pytest-benchmark
          scikit-learn
          tqdm
          cookiecutter
          ninja
          matplotlib
        ]);
      in {
        devShells.default = pkgs.mkShell {
          packages = [ python pkgs.swi-prolog pkgs.ninja pkgs.gcc pkgs.gnumake ];
          # pyswip finds libswipl through SWI_HOME_DIR / LD_LIBRARY_PATH.
          shellHook = ''
            export SWI_HOME_DIR=${pkgs.swi-prolog}/lib/swipl
            export LD_LIBRARY_PATH=${pkgs.swi-prolog}/lib/swipl/lib/${system}:$LD_LIBRARY_PATH
            export PYTHONPATH=$PWD:$PYTHONPATH
            echo "grimoire dev shell: grimoire = python -m grimoire.cli"
            alias grimoire="python -m grimoire.cli"
          '';
        };
      });
}
