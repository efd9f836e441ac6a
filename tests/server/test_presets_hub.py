"""Every preset names files the simulated Hugging Face hosts, with the sizes it lists; a size the
preset only knows roughly stays out of the manifest (the agent refuses a file whose size
differs from the manifest's)."""

from __future__ import annotations

from comfyhangar.emulators.hub import HubCatalog
from comfyhangar.server.services.presets import PRESETS


def test_the_default_hub_hosts_every_preset_file_with_its_size_and_gate() -> None:
    catalog = HubCatalog.default()
    for preset in PRESETS.values():
        for model in preset.models:
            repo = catalog.hf[model.repo]
            assert repo.files[model.file].size == model.size, (preset.id, model.name)
            assert bool(repo.gated) == model.gated, (preset.id, model.repo)


def test_only_exact_sizes_reach_the_manifest() -> None:
    entries = [e for p in PRESETS.values() for e in p.manifest()["models"]]
    by_name = {(m.folder, m.name): m for p in PRESETS.values() for m in p.models}
    for entry in entries:
        model = by_name[(entry["folder"], entry["name"])]
        assert ("size" in entry) is (not model.approximate), model.name
    assert any(m.approximate for m in by_name.values())
