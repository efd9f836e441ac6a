/** A grid of outputs (images shown, other files named) with a lightbox that steps through them. */
import { useCallback, useEffect, useState } from "react";
import { Link } from "wouter";
import type { OutputView } from "../../api/generated";
import { bytes } from "../../lib/format";
import { Button, Modal } from "../ui";

export function isImage(output: OutputView): boolean {
  return output.content_type.startsWith("image/");
}

export function OutputGrid({ outputs }: { outputs: OutputView[] }) {
  const [open, setOpen] = useState<number | null>(null);
  const close = useCallback(() => setOpen(null), []);
  return (
    <>
      <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4 xl:grid-cols-5" data-testid="output-grid">
        {outputs.map((output, index) => (
          <li key={output.id} data-testid="output" data-output-id={output.id} className="overflow-hidden rounded-lg bg-slate-900 ring-1 ring-slate-800">
            <button type="button" className="block w-full focus-visible:outline-2 focus-visible:outline-sky-400" onClick={() => setOpen(index)} aria-label={`Open ${output.filename}`}>
              {isImage(output) ? (
                <img src={output.url} alt={output.filename} loading="lazy" className="aspect-square w-full bg-slate-950 object-contain" />
              ) : (
                <span className="flex aspect-square w-full items-center justify-center p-2 text-xs text-slate-400">{output.filename}</span>
              )}
            </button>
            <p className="truncate px-2 py-1.5 text-xs text-slate-400" title={output.filename}>
              {output.filename}
            </p>
          </li>
        ))}
      </ul>
      {open !== null && outputs[open] && <Lightbox outputs={outputs} index={open} onIndex={setOpen} onClose={close} />}
    </>
  );
}

function Lightbox({ outputs, index, onIndex, onClose }: { outputs: OutputView[]; index: number; onIndex: (i: number) => void; onClose: () => void }) {
  const output = outputs[index]!;
  const step = useCallback((by: number) => onIndex((index + by + outputs.length) % outputs.length), [index, outputs.length, onIndex]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "ArrowRight") step(1);
      if (event.key === "ArrowLeft") step(-1);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [step]);
  return (
    <Modal title={output.filename} onClose={onClose} wide>
      <div data-testid="lightbox">
        {isImage(output) ? (
          <img src={output.url} alt={output.filename} className="max-h-[65vh] w-full rounded bg-slate-950 object-contain" />
        ) : (
          <p className="text-sm text-slate-400">This file is not an image; download it to open it.</p>
        )}
        <p className="mt-3 text-xs text-slate-400">
          {output.width && output.height ? `${output.width}×${output.height} · ` : ""}
          {bytes(output.size)} · node {output.node_id} ·{" "}
          <Link href={`/runs/${output.run_id}`} className="text-sky-300 hover:text-sky-200" onClick={onClose}>
            its run
          </Link>
        </p>
        <div className="mt-4 flex flex-wrap justify-between gap-2">
          <div className="flex gap-2">
            <Button size="sm" onClick={() => step(-1)} disabled={outputs.length < 2} aria-label="Previous">
              ‹ Previous
            </Button>
            <Button size="sm" onClick={() => step(1)} disabled={outputs.length < 2} aria-label="Next">
              Next ›
            </Button>
          </div>
          <div className="flex gap-2">
            <a href={output.url} download={output.filename} className="rounded-md bg-sky-500 px-2.5 py-1 text-xs font-medium text-slate-950 hover:bg-sky-400">
              Download
            </a>
            <Button size="sm" onClick={onClose}>
              Close
            </Button>
          </div>
        </div>
      </div>
    </Modal>
  );
}
