"""Repository tooling, apart from the method library (occlusion_fr): the README's results section,
stage times from the benchmark files, and the rerun cost of a layout edit."""
