import { Elysia } from "elysia";

/**
 * The Content-Security-Policy of every response. No inline or foreign script; styles may be inline
 * because ApexCharts and xterm.js inject `<style>` elements and SVG `style` attributes at run time.
 * `connect-src` names the socket origin of the public URL: older browsers do not count ws:/wss: as
 * 'self'. Images from data:/blob:, data: fonts and blob: workers are for the API reference page.
 */
export function contentSecurityPolicy(publicUrl: string): string {
  const url = new URL(publicUrl);
  const socketOrigin = `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${socketOrigin}`,
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

/** Powerful browser features the dashboard never uses, denied to it and to anything it might embed. */
const DENIED_FEATURES = [
  "accelerometer",
  "bluetooth",
  "camera",
  "display-capture",
  "geolocation",
  "gyroscope",
  "hid",
  "magnetometer",
  "microphone",
  "midi",
  "payment",
  "serial",
  "usb",
];

/**
 * The security headers of every response: CSP, no framing, no MIME sniffing, same-origin referrers
 * and opener, denied features, and HSTS (one year, subdomains) only when the public URL is https.
 */
function securityHeaders(publicUrl: string): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(publicUrl),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": DENIED_FEATURES.map((f) => `${f}=()`).join(", "),
    ...(new URL(publicUrl).protocol === "https:" ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

/** A global hook setting `securityHeaders` on every response, errors and static files included. */
export function securityHeadersPlugin(publicUrl: string) {
  const headers = securityHeaders(publicUrl);
  return new Elysia({ name: "security-headers" }).onRequest(({ set }) => {
    Object.assign(set.headers, headers);
  });
}
