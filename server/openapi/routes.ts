import { dirname, join } from "node:path";
import type { AnyElysia } from "elysia";
import { openApiDocument } from "./document.ts";

/** Scalar's self-contained browser bundle, from the pinned npm package (no CDN: works offline). */
const SCALAR_BUNDLE = join(dirname(Bun.resolveSync("@scalar/api-reference", import.meta.dir)), "browser/standalone.js");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SENTpulse API reference</title>
</head>
<body>
<div id="reference" data-url="/api/v1/openapi/json"></div>
<script src="/api/v1/openapi/scalar.js"></script>
<script src="/api/v1/openapi/reference.js"></script>
</body>
</html>
`;

/**
 * Scalar's configuration, an external script because the CSP allows no inline one. No default
 * fonts (they come from Scalar's CDN) and no proxy: everything stays on this origin. (The element
 * must not be `#api-reference`: Scalar would mount a second, default-configured copy on it.)
 */
const CONFIG_SCRIPT = `"use strict";
(function () {
  var el = document.getElementById("reference");
  window.Scalar.createApiReference(el, {
    url: el.dataset.url,
    withDefaultFonts: false,
    telemetry: false,
    showDeveloperTools: "never",
    agent: { disabled: true },
    mcp: { disabled: true },
  });
})();
`;

const js = { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" };

/**
 * `/api/v1/openapi`: the reference page (Scalar, served from this server), and
 * `/api/v1/openapi/json`: the OpenAPI document of `app`'s routes, built once on first request.
 * A functional plugin so it sees every route of the app it is used on, including later ones; its
 * own routes stay out of the app's type (and so out of the Eden client).
 */
export function apiReference(publicUrl: string) {
  return <App extends AnyElysia>(app: App): App => {
    let document: string | undefined;
    let bundle: { plain: Uint8Array<ArrayBuffer>; gzip: Uint8Array<ArrayBuffer> } | undefined;
    const hide = { detail: { hide: true } };
    app
      .get(
        "/api/v1/openapi",
        ({ set }) => {
          set.headers["content-type"] = "text/html; charset=utf-8";
          return PAGE;
        },
        hide,
      )
      .get(
        "/api/v1/openapi/json",
        ({ set }) => {
          document ??= JSON.stringify(openApiDocument(app, publicUrl));
          set.headers["content-type"] = "application/json";
          return document;
        },
        hide,
      )
      .get(
        "/api/v1/openapi/reference.js",
        ({ set }) => {
          Object.assign(set.headers, js);
          return CONFIG_SCRIPT;
        },
        hide,
      )
      .get(
        "/api/v1/openapi/scalar.js",
        async ({ request, set }) => {
          if (!bundle) {
            const plain = await Bun.file(SCALAR_BUNDLE).bytes();
            bundle = { plain, gzip: Bun.gzipSync(plain) };
          }
          const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
          Object.assign(set.headers, js, { vary: "accept-encoding" });
          if (gzip) set.headers["content-encoding"] = "gzip";
          return gzip ? bundle.gzip : bundle.plain;
        },
        hide,
      );
    return app;
  };
}
