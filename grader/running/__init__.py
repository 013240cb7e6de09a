"""The machinery that runs student code: the sandbox, the harness that executes a submitted
notebook in a fresh sandboxed kernel, the kit's own trainer and the training cache. It judges
nothing. Imports base/, judging/ (for the calibrated times it shows as progress) and the registry."""
