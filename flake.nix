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
        cudaPkgs = import nixpkgs { inherit system; config = { allowUnfree = true; cudaSupport = true; }; };
        py = pkgs.python311Packages;
        # What the generator needs at run time (pyproject.toml's dependencies), given a torch.
        deps = ps: torch: with ps; [
          torch
          numpy
          jinja2
          typer
          rich
          pyswip
          pytest
          pytest-benchmark
          hypothesis
          scikit-learn
          tqdm
          cookiecutter
          ninja
          matplotlib
          packaging
          ruff
        ];
        swiEnv = ''
          export SWI_HOME_DIR=${pkgs.swi-prolog}/lib/swipl
          export LD_LIBRARY_PATH=${pkgs.swi-prolog}/lib/swipl/lib/${system}:$LD_LIBRARY_PATH
        '';
        # grimoire as an application: the torch-grimoire package (the `grimoire` command and the
        # `grimoire` Python package, templates, runtime and vocabulary inside it), SWI-Prolog found
        # by pyswip through the wrapper's environment.
        grimoire = py.buildPythonApplication {
          pname = "torch-grimoire";
          version = "0.1.0";
          src = ./.;
          pyproject = true;
          build-system = [ py.setuptools ];
          dependencies = deps py py.torch;
          nativeBuildInputs = [ pkgs.makeWrapper ];
          makeWrapperArgs = [
            "--set" "SWI_HOME_DIR" "${pkgs.swi-prolog}/lib/swipl"
            "--prefix" "LD_LIBRARY_PATH" ":" "${pkgs.swi-prolog}/lib/swipl/lib/${system}"
            "--prefix" "PATH" ":" "${pkgs.lib.makeBinPath [ pkgs.swi-prolog pkgs.ninja pkgs.gcc pkgs.clang-tools ]}"
          ];
          # ruff and clang-format (from clang-tools, on PATH below, not the pip wheel pyproject pins) are
          # nixpkgs' versions: generated code may differ in layout from the pinned formatters'.
          pythonRelaxDeps = [ "ruff" ];
          pythonRemoveDeps = [ "clang-format" ];
          doCheck = false;  # the suite compiles extensions; `make test` runs it
          pythonImportsCheck = [ "grimoire" ];
        };
        # A development shell: the package in editable form over this checkout (so edits take effect),
        # its dependencies, and the tools; `grimoire` is the package's own command, not an alias.
        devShellWith = python: extra: pkgs.mkShell {
          packages = [ python pkgs.swi-prolog pkgs.ninja pkgs.gcc pkgs.gnumake pkgs.clang-tools ] ++ extra;
          shellHook = swiEnv + ''
            if [ ! -x .venv-nix/bin/grimoire ]; then
              ${python}/bin/python -m venv --system-site-packages .venv-nix
              .venv-nix/bin/pip install -q --no-deps --no-build-isolation -e .
            fi
            export PATH=$PWD/.venv-nix/bin:$PATH
            echo "grimoire dev shell: $(grimoire --version)"
          '';
        };
      in {
        packages.default = grimoire;
        apps.default = { type = "app"; program = "${grimoire}/bin/grimoire"; };
        devShells.default = devShellWith (pkgs.python311.withPackages (ps: deps ps ps.torch ++ [ ps.setuptools ps.pip ])) [ ];
        # CUDA: torch built with CUDA and the toolkit (nvcc) for the extensions' .cu sources.
        devShells.cuda = devShellWith
          (cudaPkgs.python311.withPackages (ps: deps ps ps.torch ++ [ ps.setuptools ps.pip ]))
          [ cudaPkgs.cudaPackages.cudatoolkit ];
      });
}
