/**
 * The secret masker: what reaches the model (and the audit log) has its secrets replaced by
 * `[REDACTED:kind]`. The finders live in `masking/`; each reads the text once and marks spans,
 * and the spans are replaced at the end, so the cost is a few linear scans whatever the input.
 */
import { MASKED, mask, MaskScan, type Progress } from './masking/mask-scan.js';
import { findNamedValues } from './masking/named-values.js';
import { isSecretName } from './masking/secret-names.js';
import {
  findBlockScalars,
  findPgpassLines,
  findPrivateKeys,
  findPuttyKeys,
  findSecretData,
} from './masking/structured-secrets.js';
import { findTokens } from './masking/token-formats.js';

export { isSecretName, mask };

/** What redaction did to one text. */
export interface Redaction {
  text: string;
  /** How many values were masked. */
  count: number;
}

/** Names of env vars that hold opsmate's own credentials (LLM API keys and the like). */
const OWN_SECRET_ENV = /(?:API_KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE)$/;
/** Shorter values are not masked where they appear: they would hit ordinary words. */
const MIN_OWN_SECRET_LENGTH = 8;
/** {@link SecretRedactor.redactAsync} yields to the event loop after this long without a break. */
const MAX_BLOCKING_MS = 20;

export interface SecretRedactorOptions {
  /** opsmate's environment: values of its secret-named variables are masked wherever they appear. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Masks secrets in text before it reaches the language model: private keys, cloud and SaaS keys,
 * bearer tokens and JWTs, passwords in URLs, connection strings and command lines, values of
 * secret-named variables and keys (env, YAML, JSON, XML, .netrc, .pgpass, Kubernetes env and
 * Secret data), shadow hashes, webhook URLs, and opsmate's own API keys. Hex digests, UUIDs and
 * plain base64 are left alone: only known formats and secret-named keys are masked.
 *
 * Linear in the length of the text: each finder scans it once with bounded look-around, and a
 * value once read is not read again, so adversarial input cannot make masking slow.
 */
export class SecretRedactor {
  readonly #ownSecrets: Array<{ name: string; value: string }>;

  constructor(options: SecretRedactorOptions = {}) {
    this.#ownSecrets = Object.entries(options.env ?? {})
      .filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined && entry[1].length >= MIN_OWN_SECRET_LENGTH && OWN_SECRET_ENV.test(entry[0]),
      )
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => b.value.length - a.value.length);
  }

  /**
   * Masks the secrets in one text. With `keepLineCount`, a mask that swallows line breaks (a
   * private key) is followed by as many empty lines, so line numbers stay right.
   */
  redact(text: string, options: { keepLineCount?: boolean } = {}): Redaction {
    const scan = new MaskScan(text);
    const steps = this.#steps(scan);
    while (!steps.next().done);
    return scan.result(options.keepLineCount === true);
  }

  /**
   * {@link redact} for long texts: yields to the event loop whenever it has worked for
   * `maxBlockingMs` (default 20 ms) without a break, so Ctrl-C is handled, and rejects with the
   * signal's reason once it is aborted.
   */
  async redactAsync(
    text: string,
    options: { keepLineCount?: boolean; signal?: AbortSignal; maxBlockingMs?: number } = {},
  ): Promise<Redaction> {
    options.signal?.throwIfAborted();
    const scan = new MaskScan(text);
    const steps = this.#steps(scan);
    const budget = options.maxBlockingMs ?? MAX_BLOCKING_MS;
    let since = performance.now();
    while (!steps.next().done) {
      if (performance.now() - since < budget) continue;
      await new Promise<void>((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
      since = performance.now();
    }
    options.signal?.throwIfAborted();
    return scan.result(options.keepLineCount === true);
  }

  /** The finders in turn; each yields now and then on long texts. */
  *#steps(scan: MaskScan): Progress {
    this.#findOwnSecrets(scan);
    yield* findPrivateKeys(scan);
    yield* findPuttyKeys(scan);
    yield* findSecretData(scan);
    yield* findBlockScalars(scan);
    yield* findTokens(scan);
    yield* findNamedValues(scan, scan.sortedSpans());
    yield* findPgpassLines(scan);
  }

  #findOwnSecrets(scan: MaskScan): void {
    for (const secret of this.#ownSecrets) {
      for (
        let at = scan.text.indexOf(secret.value);
        at >= 0;
        at = scan.text.indexOf(secret.value, at + secret.value.length)
      )
        scan.add(at, at + secret.value.length, `env:${secret.name}`);
    }
  }

  /**
   * Masks a command's output as a runtime returns it. When the middle was cut, head and tail are
   * masked on their own, and a secret that runs across the cut is masked on both sides.
   */
  redactOutput(text: string): Redaction {
    const notice = TRUNCATION_NOTICE.exec(text);
    if (!notice) return this.redact(text);
    const head = this.redact(text.slice(0, notice.index));
    const tail = this.redact(text.slice(notice.index + notice[0].length));
    return joinAtCut({ head, tail, notice: notice[0] });
  }
}

/** The line opsmate's output collector puts between head and tail when it cuts the middle. */
const TRUNCATION_NOTICE = /\n\[\.\.\. \d+ bytes omitted \(\d+ in all\); [^\n]*\.\.\.\]\n/;

/** A head that stops right inside a secret's value: `PASSWORD=`, `Bearer `, a masked value. */
function endsInsideSecret(lastLine: string): boolean {
  const tail = lastLine.slice(-300);
  const keyed = /([A-Za-z_][A-Za-z0-9_.-]{0,127})[ \t]*[=:][ \t]*["']?$/.exec(tail);
  if (keyed && isSecretName(keyed[1] ?? '')) return true;
  return /\b(?:Bearer|Basic|Token|Authorization:)[ \t]*$|:\/\/[^\s:/@]{0,256}:$|\[REDACTED:[^\]]{1,64}\]["']?$/.test(
    tail,
  );
}

/** The start of a known token format, cut off at the end of a head. */
const PARTIAL_TOKEN_AT_END =
  /(^|[^A-Za-z0-9_])((?:AKIA|ASIA)[A-Z0-9]{0,15}|eyJ[A-Za-z0-9_.-]{0,8192}|gh[pousr]_\w{0,255}|github_pat_\w{0,255}|gl(?:pat|dt|rt|ptt)-[\w-]{0,255}|xox[abposr]-[\w-]{0,255}|sk-[\w-]{3,255}|AIza[\w-]{0,40}|npm_\w{0,40}|hv[sb]\.[\w-]{0,255}|LS0tLS1CRUdJTi[A-Za-z0-9+/=]{0,65536})$/;

/** Masks both sides of a cut: a token whose start ends the head, and the rest of a secret starting the tail. */
export function joinAtCut(input: { head: Redaction; tail: Redaction; notice: string }): Redaction {
  let count = input.head.count + input.tail.count;
  let headText = input.head.text;
  const partial = PARTIAL_TOKEN_AT_END.exec(headText.slice(-70_000));
  if (partial) {
    const at = headText.length - Math.min(headText.length, 70_000) + partial.index;
    headText = headText.slice(0, at) + partial[1]! + mask('cut-secret');
    count++;
  }
  let tailText = input.tail.text;
  const lastLine = headText.slice(headText.lastIndexOf('\n') + 1);
  const fragment = /^[^\s"',;]{1,65536}/.exec(tailText);
  if (fragment && endsInsideSecret(lastLine) && !MASKED.test(tailText)) {
    tailText = mask('cut-secret') + tailText.slice(fragment[0].length);
    count++;
  }
  return { text: headText + input.notice + tailText, count };
}
