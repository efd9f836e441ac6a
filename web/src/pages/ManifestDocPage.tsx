/**
 * `/docs/manifest`: the manifest format (docs/manifest.md, built into the app so it reads
 * offline, from the wheel too). Rendered by markdown-it with raw HTML off: the page shows our
 * own document, and nothing in it can become markup.
 */
import MarkdownIt from "markdown-it";
import { useMemo } from "react";
import { Link } from "wouter";
import manifestDoc from "../../../docs/manifest.md?raw";

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

const PROSE = [
  "max-w-4xl text-sm leading-6 text-slate-300",
  "[&_h1]:mb-4 [&_h1]:text-2xl [&_h1]:font-semibold [&_h1]:text-white",
  "[&_h2]:mb-3 [&_h2]:mt-8 [&_h2]:text-lg [&_h2]:font-semibold [&_h2]:text-white",
  "[&_h3]:mb-2 [&_h3]:mt-6 [&_h3]:font-semibold [&_h3]:text-white",
  "[&_p]:my-3 [&_ul]:my-3 [&_ul]:list-disc [&_ul]:space-y-1 [&_ul]:pl-5 [&_strong]:text-white",
  "[&_a]:text-sky-400 [&_a:hover]:underline",
  "[&_code]:rounded [&_code]:bg-slate-800 [&_code]:px-1 [&_code]:py-0.5 [&_code]:text-[0.8rem] [&_code]:text-slate-100",
  "[&_pre]:my-3 [&_pre]:overflow-x-auto [&_pre]:rounded-lg [&_pre]:bg-slate-950 [&_pre]:p-3 [&_pre]:ring-1 [&_pre]:ring-slate-800",
  "[&_pre_code]:bg-transparent [&_pre_code]:p-0",
  "[&_table]:my-3 [&_table]:block [&_table]:overflow-x-auto [&_table]:text-left",
  "[&_th]:border-b [&_th]:border-slate-700 [&_th]:px-2 [&_th]:py-1.5 [&_th]:text-white",
  "[&_td]:border-b [&_td]:border-slate-800 [&_td]:px-2 [&_td]:py-1.5 [&_td]:align-top",
].join(" ");

export function ManifestDocPage() {
  const html = useMemo(() => markdown.render(manifestDoc), []);
  return (
    <div className="space-y-4">
      <Link href="/deploy" className="inline-flex items-center gap-1 rounded text-sm text-slate-400 hover:text-white focus-visible:outline-2 focus-visible:outline-sky-400">
        <span aria-hidden>←</span> Deploy
      </Link>
      {/* Our own document, rendered with raw HTML disabled. */}
      <article data-testid="manifest-doc" className={PROSE} dangerouslySetInnerHTML={{ __html: html }} />
    </div>
  );
}
