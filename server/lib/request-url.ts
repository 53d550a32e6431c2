/**
 * The request's URL. An HTTP/1.0 request without a Host header reaches the server with a relative
 * URL (`/readyz`), on which `new URL(request.url)` throws: such requests are parsed against a
 * placeholder origin (only the path and query are read from it).
 */
export function requestUrl(request: Request): URL {
  return new URL(request.url, "http://host.invalid");
}
