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
      // The code the widgets share (widget API, Preact, the lib) is one cacheable file: a cold load
      // pays a request for each file. The validators (zod and the schemas, widgets/lib/schemas.ts)
      // are their own chunk, imported dynamically so that they load beside the handshake.
      output: {
        chunkFileNames: (chunk) => (chunk.name === "schemas" ? "assets/validators-[hash].js" : "assets/shared-[hash].js"),
        assetFileNames: "assets/widget-[hash][extname]",
        advancedChunks: { groups: [{ name: "shared", minShareCount: 2 }] },
      },
    },
  },
});
