import { render, screen, within } from "@testing-library/react";
import { Router } from "wouter";
import { memoryLocation } from "wouter/memory-location";
import { describe, expect, it } from "vitest";
import { ManifestDocPage } from "./ManifestDocPage";

describe("ManifestDocPage", () => {
  it("shows docs/manifest.md: every field, the three sources, limits and presets", () => {
    render(
      <Router hook={memoryLocation({ path: "/docs/manifest" }).hook}>
        <ManifestDocPage />
      </Router>,
    );
    const doc = screen.getByTestId("manifest-doc");
    expect(within(doc).getByRole("heading", { level: 1 }).textContent).toBe("The manifest: what a pod installs");
    const sections = within(doc).getAllByRole("heading", { level: 2 }).map((h) => h.textContent);
    expect(sections).toEqual(["A whole example", "Fields", "Limits and rules", "Presets, and how they merge with your manifest"]);
    const fields = within(doc).getAllByRole("row").map((r) => r.querySelector("td code")?.textContent).filter(Boolean);
    for (const field of ["version", "comfyui.ref", "custom_nodes[].repo", "models[].folder", "models[].source", "models[].sha256", "pip[]"]) {
      expect(fields).toContain(field);
    }
    for (const source of ["huggingface", "civitai", "url"]) expect(doc.textContent).toContain(`"type": "${source}"`);
    expect(doc.querySelector("script, iframe, img")).toBeNull();
  });
});
