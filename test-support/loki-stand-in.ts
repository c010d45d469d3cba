/**
 * A STAND-IN for Grafana Loki (not packaged where these tests run): an HTTP server that answers
 * the calls opsmate makes — GET /loki/api/v1/labels, /loki/api/v1/label/<name>/values and
 * /loki/api/v1/query_range — in the shapes Loki's HTTP API documentation gives
 * (https://grafana.com/docs/loki/latest/reference/loki-http-api/): `{"status":"success","data":...}`,
 * streams as `{"stream":{labels},"values":[["<ns>","<line>"]]}`, a 400 with a plain-text parse
 * error for a bad query. It understands only what the tests send: one stream selector of `=`
 * matchers, optionally followed by `|= "text"`. It records every request.
 */
import { createServer, type Server } from 'node:http';

export interface StandInStream {
  stream: Record<string, string>;
  /** Seconds before "now" (the request's end) and the line. */
  lines: Array<{ secondsAgo: number; line: string }>;
}

export class LokiStandIn {
  readonly requests: URL[] = [];
  readonly #server: Server;
  readonly #streams: StandInStream[];

  private constructor(streams: StandInStream[]) {
    this.#streams = streams;
    this.#server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      this.requests.push(url);
      const send = (status: number, body: unknown) => {
        response.statusCode = status;
        response.setHeader(
          'content-type',
          typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
        );
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const end = BigInt(url.searchParams.get('end') ?? `${BigInt(Date.now()) * 1_000_000n}`);
      if (url.pathname === '/loki/api/v1/labels') {
        const names = [...new Set(this.#streams.flatMap((stream) => Object.keys(stream.stream)))].sort();
        return send(200, { status: 'success', data: names });
      }
      const values = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(url.pathname);
      if (values) {
        const label = decodeURIComponent(values[1]!);
        const found = [
          ...new Set(
            this.#streams.map((stream) => stream.stream[label]).filter((value) => value !== undefined),
          ),
        ].sort();
        return send(200, { status: 'success', data: found });
      }
      if (url.pathname === '/loki/api/v1/query_range') {
        const query = url.searchParams.get('query') ?? '';
        const parsed = /^\{((?:\s*\w+\s*=\s*"[^"]*"\s*,?)*)\}\s*(?:\|=\s*"([^"]*)")?\s*$/.exec(query);
        // Loki answers a parse error with 400 and the error as plain text.
        if (!parsed) return send(400, `parse error at line 1, col 1: syntax error: unexpected IDENTIFIER`);
        const matchers = [...parsed[1]!.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)].map(
          (match) => [match[1]!, match[2]!] as const,
        );
        const contains = parsed[2];
        const limit = Number(url.searchParams.get('limit') ?? 100);
        const result = this.#streams
          .filter((stream) => matchers.every(([name, value]) => stream.stream[name] === value))
          .map((stream) => ({
            stream: stream.stream,
            values: stream.lines
              .filter((entry) => contains === undefined || entry.line.includes(contains))
              .map(
                (entry) =>
                  [`${end - BigInt(entry.secondsAgo) * 1_000_000_000n}`, entry.line] as [string, string],
              )
              .sort((a, b) => (BigInt(b[0]) > BigInt(a[0]) ? 1 : -1))
              .slice(0, limit),
          }))
          .filter((stream) => stream.values.length > 0);
        return send(200, {
          status: 'success',
          data: { resultType: 'streams', result, stats: {} },
        });
      }
      send(404, '404 page not found\n');
    });
  }

  static async start(streams: StandInStream[]): Promise<LokiStandIn> {
    const standIn = new LokiStandIn(streams);
    await new Promise<void>((resolve) => standIn.#server.listen(0, '127.0.0.1', () => resolve()));
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
