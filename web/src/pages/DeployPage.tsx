import { DeployForm } from "../components/deploy/DeployForm";

/** Deploy ComfyUI on a new pod: GPU, disks, models, tokens, a live estimate. */
export function DeployPage() {
  return (
    <div>
      <header className="mb-6">
        <h1 className="text-2xl font-semibold text-white">Deploy</h1>
        <p className="mt-1 text-sm text-slate-400">ComfyUI on a new RunPod pod: choose a GPU, its disks and what to install.</p>
      </header>
      <DeployForm />
    </div>
  );
}
