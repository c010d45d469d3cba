/**
 * Helpers for runtimes' URI forms (`RuntimeDefinition.uri`): the pieces of a URI body, decoded.
 * A malformed body throws an Error saying what is wrong; opsmate adds the URI and its forms.
 */

/** `%40` and the like decoded; a bad escape is an error rather than a different name. */
export function decodePart(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Error(`${what} ${JSON.stringify(text)} has a bad %-escape`);
  }
}

/** `[user@]host[:port]`, with `[::1]` for an IPv6 address. Empty parts are left out. */
export function userHostPort(body: string): { user?: string; host: string; port?: string } {
  const at = body.lastIndexOf('@');
  const user = at >= 0 ? decodePart(body.slice(0, at), 'user') : undefined;
  const rest = at >= 0 ? body.slice(at + 1) : body;
  let host: string;
  let port: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error('an IPv6 address opened with [ needs a closing ]');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':'))
      throw new Error(`unexpected ${JSON.stringify(after)} after ]`);
    port = after === '' ? undefined : after.slice(1);
  } else {
    const colon = rest.lastIndexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    port = colon >= 0 ? rest.slice(colon + 1) : undefined;
  }
  host = decodePart(host, 'host');
  if (host === '') throw new Error('it names no host');
  if (port !== undefined && !/^\d+$/.test(port))
    throw new Error(`port ${JSON.stringify(port)} is not a number`);
  return { host, ...(user ? { user } : {}), ...(port ? { port } : {}) };
}

/** The `/`-separated segments of a path, decoded (empty segments kept, for a trailing `/`). */
export function pathSegments(body: string, what: string): string[] {
  return body.split('/').map((segment) => decodePart(segment, what));
}
