import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { widgetNames, WORKFLOWS } from "../appservice/workflows.js";

/**
 * One page per widget, as the workflows declare them (appservice/workflows.ts). The appservice serves `dist/` at /_rounds/widgets/, beside the widget API,
 * so the widgets call the API same-origin. JSX comes from tsconfig (preact's automatic runtime).
 */
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/_rounds/widgets/",
  publicDir: false,
  clearScreen: false,
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    target: "es2022",
    rolldownOptions: {
      input: Object.fromEntries(widgetNames(WORKFLOWS).map((w) => [w, here(`${w}/index.html`)])),
      // The code both widgets share (widget API, Preact, zod schemas) is one cacheable file.
      // One shared chunk, not several small ones: a cold load pays a request for each file.
      output: {
        chunkFileNames: "assets/shared-[hash].js",
        assetFileNames: "assets/widget-[hash][extname]",
        advancedChunks: { groups: [{ name: "shared", minShareCount: 2 }] },
      },
    },
  },
});
