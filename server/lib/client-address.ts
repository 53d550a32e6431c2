import proxyaddr from "proxy-addr";

interface AddressOf {
  requestIP(request: Request): { address: string; family: string; port: number } | null;
}

/** The trust function of a proxy list (addresses, CIDR ranges, or `loopback` / `linklocal` / `uniquelocal`); throws on a bad entry. */
export function compileTrust(proxies: readonly string[]): (address: string, hop: number) => boolean {
  return proxyaddr.compile([...proxies]);
}

/**
 * Behind a load balancer every request's peer is the balancer: with trusted proxies configured,
 * `server.requestIP` answers the client's address instead — the nearest address in
 * `X-Forwarded-For` that is not a trusted proxy (a client cannot spoof past one: addresses it adds
 * itself sit left of the balancer's). Every caller (audit, sign-in throttling, agent contact, the
 * principal) asks the server, so this is the one place that decides. Untrusted peers are taken as
 * they are, whatever they send.
 */
export function trustProxies(server: AddressOf | null | undefined, proxies: readonly string[]): void {
  if (!server || proxies.length === 0) return;
  const trust = compileTrust(proxies);
  const peer = server.requestIP.bind(server);
  server.requestIP = (request) => {
    const p = peer(request);
    if (!p) return p;
    const forwardedFor = request.headers.get("x-forwarded-for");
    if (!forwardedFor || !trust(p.address, 0)) return p;
    const address = proxyaddr(
      { socket: { remoteAddress: p.address }, headers: { "x-forwarded-for": forwardedFor.slice(0, 2048) } } as never,
      trust,
    );
    return address === p.address ? p : { ...p, address, port: 0 };
  };
}
