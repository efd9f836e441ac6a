"""ComfyHangar: deploy and manage ComfyUI on RunPod GPU pods."""

__version__ = "0.1.0"
