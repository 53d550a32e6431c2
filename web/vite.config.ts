import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

/** The dashboard builds to web/dist, which the server serves at `/`; `vite` (dev) proxies the API to :8080. */
export default defineConfig({
  plugins: [solid()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 700,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: "http://127.0.0.1:8080", ws: true, changeOrigin: false },
      "/healthz": { target: "http://127.0.0.1:8080" },
      "/download": { target: "http://127.0.0.1:8080" },
      "/install.sh": { target: "http://127.0.0.1:8080" },
      "/install.ps1": { target: "http://127.0.0.1:8080" },
    },
  },
});
