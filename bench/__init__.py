"""Benchmarks, not tests: each prints what it measured and exits 0. Run from the repository root
as modules (`python -m bench.sweep_scale`), so they import kubectl_podnet, tests and e2e as
packages. bench/README.md has the numbers and what each change bought."""
