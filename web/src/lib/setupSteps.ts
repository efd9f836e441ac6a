/**
 * The pod agent's six setup steps, in order: `label` names a step (the detail page's list),
 * `doing` says what the pod does during it (the dashboard card's progress line).
 */
export const SETUP_STEPS = [
  { step: "preflight", label: "Preflight checks", doing: "Checking" },
  { step: "comfyui", label: "Install ComfyUI", doing: "Installing ComfyUI" },
  { step: "custom_nodes", label: "Custom nodes", doing: "Installing custom nodes" },
  { step: "models", label: "Download models", doing: "Downloading models" },
  { step: "start", label: "Start ComfyUI", doing: "Starting ComfyUI" },
  { step: "ready", label: "Ready", doing: "Ready" },
] as const;
