/** `@ai-sdk/anthropic` wants the URL to end in `/v1`; the official SDK and proxies set it without. */
export function anthropicBaseUrl(url: string): string {
  const trimmed = trimSlash(url);
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

/**
 * OLLAMA_HOST as Ollama itself reads it: `host`, `host:port`, or a URL; no scheme means http,
 * no port means 11434, and a listen-everywhere address means this machine.
 */
export function ollamaHostUrl(value: string): string {
  let text = value.trim();
  if (!/^[a-z]+:\/\//i.test(text)) text = `http://${text}`;
  const url = new URL(text);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  if (url.port === '' && !/:\d+$/.test(url.host)) url.port = '11434';
  return trimSlash(`${url.protocol}//${url.host}${url.pathname}`);
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
