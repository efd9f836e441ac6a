/** Add a version to a workflow from a file, with a note on what changed. */
import { useRef, useState } from "react";
import type { WorkflowDetail } from "../../api/generated";
import { useAddWorkflowVersion } from "../../api/queries";
import { Button, errorMessage } from "../ui";
import { ACCEPT_ATTR, fileProblem } from "./logic";

export function NewVersion({ workflow }: { workflow: WorkflowDetail }) {
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const picker = useRef<HTMLInputElement>(null);
  const add = useAddWorkflowVersion();
  const message = add.error ? errorMessage(add.error) : problem;
  return (
    <div className="mt-3 border-t border-slate-800 pt-3">
      <div className="flex flex-wrap items-center gap-2">
        <Button size="sm" onClick={() => picker.current?.click()}>
          New version from a file…
        </Button>
        {file && <span className="truncate font-mono text-xs text-slate-300">{file.name}</span>}
        <input
          ref={picker}
          type="file"
          accept={ACCEPT_ATTR}
          aria-label="New version file"
          className="sr-only"
          onChange={(event) => {
            const picked = event.target.files?.[0];
            event.target.value = "";
            add.reset();
            if (!picked) return;
            const why = fileProblem(picked);
            setProblem(why);
            setFile(why ? null : picked);
          }}
        />
      </div>
      {file && (
        <form
          className="mt-2 flex flex-wrap items-end gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            add.mutate(
              { id: workflow.id, file, note: note.trim() },
              {
                onSuccess: () => {
                  setFile(null);
                  setNote("");
                },
              },
            );
          }}
        >
          <label className="min-w-0 flex-1 text-sm text-slate-300">
            What changed <span className="text-slate-500">(optional)</span>
            <input
              className="mt-1 w-full rounded-md bg-slate-950 px-3 py-1.5 text-sm text-white ring-1 ring-slate-700 focus:outline-none focus:ring-2 focus:ring-sky-500"
              value={note}
              maxLength={500}
              onChange={(e) => setNote(e.target.value)}
            />
          </label>
          <Button type="submit" variant="primary" size="sm" disabled={add.isPending}>
            {add.isPending ? "Adding…" : `Add v${workflow.latest_version + 1}`}
          </Button>
        </form>
      )}
      {message && (
        <p role="alert" data-testid="version-error" className="mt-2 text-sm text-rose-300">
          {message}
        </p>
      )}
    </div>
  );
}
