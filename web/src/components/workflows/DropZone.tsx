/** Add a workflow: drop (or pick) a JSON, PNG or WebP; name it; the server says what is wrong with it. */
import { useRef, useState, type DragEvent } from "react";
import { useLocation } from "wouter";
import { ApiError } from "../../api/http";
import { useAddWorkflow } from "../../api/queries";
import { Button, Card, errorMessage } from "../ui";
import { ACCEPT_ATTR, fileProblem, nameFromFile } from "./logic";

const INPUT = "mt-1 w-full rounded-md bg-slate-950 px-3 py-2 text-sm text-white ring-1 ring-slate-700 focus:outline-none focus:ring-2 focus:ring-sky-500";

export function DropZone() {
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [tags, setTags] = useState("");
  const [over, setOver] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const add = useAddWorkflow();
  const [, navigate] = useLocation();

  const take = (picked: File | undefined) => {
    add.reset();
    if (!picked) return;
    const why = fileProblem(picked);
    setProblem(why);
    setFile(why ? null : picked);
    if (!why) setName(nameFromFile(picked));
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    take(event.dataTransfer.files[0]);
  };
  const submit = () => {
    if (!file) return;
    add.mutate(
      { file, name: name.trim(), description: "", tags },
      {
        onSuccess: (detail) => {
          setFile(null);
          setName("");
          setTags("");
          navigate(`/workflows/${detail.id}`);
        },
      },
    );
  };
  const error = add.error;
  const nameError = error instanceof ApiError ? (error.forField("name") ?? (error.code === "name_taken" ? error.message : undefined)) : undefined;
  const fileError = error && !nameError ? errorMessage(error) : problem;

  return (
    <Card className="p-4">
      <div
        data-testid="workflow-drop"
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={(event) => {
          // Moving over the zone's own text is not leaving it.
          if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setOver(false);
        }}
        onDrop={onDrop}
        className={`rounded-lg border-2 border-dashed p-5 text-center text-sm ${over ? "border-sky-400 bg-sky-950/40" : "border-slate-700"}`}
      >
        <p className="font-medium text-slate-200">Drop a workflow here</p>
        <p className="mt-1 text-slate-400">A JSON from ComfyUI (Save or Export API), or a PNG/WebP that ComfyUI wrote.</p>
        <Button size="sm" className="mt-3" onClick={() => picker.current?.click()}>
          Choose a file
        </Button>
        <input
          ref={picker}
          type="file"
          accept={ACCEPT_ATTR}
          aria-label="Workflow file"
          className="sr-only"
          onChange={(event) => {
            take(event.target.files?.[0]);
            event.target.value = "";
          }}
        />
      </div>
      {fileError && (
        <p role="alert" data-testid="workflow-file-error" className="mt-3 rounded-md bg-rose-950/60 p-3 text-sm text-rose-100 ring-1 ring-rose-900">
          {fileError}
        </p>
      )}
      {file && (
        <form
          className="mt-4 space-y-3"
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          <p className="truncate text-sm text-slate-300">
            File: <span className="font-mono text-slate-100">{file.name}</span>
          </p>
          <label className="block text-sm text-slate-300">
            Name
            <input className={INPUT} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} aria-invalid={nameError ? true : undefined} />
            {nameError && <span className="mt-1 block text-xs text-rose-300">{nameError}</span>}
          </label>
          <label className="block text-sm text-slate-300">
            Tags <span className="text-slate-500">(comma separated, optional)</span>
            <input className={INPUT} value={tags} onChange={(e) => setTags(e.target.value)} />
          </label>
          <div className="flex gap-2">
            <Button type="submit" variant="primary" disabled={add.isPending || !name.trim()}>
              {add.isPending ? "Adding…" : "Add workflow"}
            </Button>
            <Button variant="ghost" onClick={() => setFile(null)}>
              Cancel
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}
