"""Repository tooling, apart from the method library (occlusion_fr) and not installed with it:
the README's and docs/' rendered results, benchmarks (stage times, rerun cost of a layout edit,
compute limits, training throughput, one photo through the tool), the GPU check and the run
records. Run from the repository root as modules: `python -m occlusion_fr_tooling.render_readme`;
`make` names each (readme, bench, gpu-pack, gpu-check, pull, run)."""
