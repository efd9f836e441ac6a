"""The pod agent: sets up ComfyUI on a pod, reports progress, and guards it with a token.

Standard library only (Python 3.10+), and it imports nothing else of `comfyhangar`: it travels
inside the pod create request (see `pack`) and runs before anything is installed. Modules:

- `cli`: `python -m comfyhangar.agent run --manifest FILE --root DIR [...]`
- `manifest`: the versioned manifest, its JSON Schema and strict validation
- `protocol`: progress lines (`##hangar-progress## {json}`) and `parse_progress_line`
- `runner`: the six steps; `preflight`, `installer` (git, pip), `download` (models),
  `service` (ComfyUI process, readiness) and `proxy` (the token proxy)
- `pack`: the bundle and the one-line `args` for a create request
"""
