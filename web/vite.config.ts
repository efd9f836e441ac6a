/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Builds into the Python package, which serves it at `/` and ships it in the wheel.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "../src/comfyhangar/server/static/web",
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // The manifest format page imports ../docs/manifest.md.
    fs: { allow: [".", "../docs"] },
    // `npm run dev` against `comfyhangar serve` on the default port.
    proxy: { "/api": { target: "http://127.0.0.1:8000", changeOrigin: false } },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
  },
});
