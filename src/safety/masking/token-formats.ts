/**
 * Secrets recognised by their own format, wherever they appear: cloud and SaaS keys, tokens,
 * JWTs, webhook URLs. One regex finds them all in one pass.
 */
import { matchAt, type MaskScan, type Progress, YIELD_EVERY_CHARS } from './mask-scan.js';

/** [regex body, kind]; every body starts with a fixed prefix, so the scan stays fast. */
const TOKEN_FORMATS: Array<[string, string]> = [
  [
    String.raw`(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])`,
    'aws-access-key-id',
  ],
  [String.raw`gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255}`, 'github-token'],
  [String.raw`gl(?:pat|dt|rt|ptt|ft|cbt|imt|oas|soat|agent)-[A-Za-z0-9_-]{20,255}`, 'gitlab-token'],
  [String.raw`xox[abposre]-[A-Za-z0-9-]{10,255}|xapp-\d-[A-Za-z0-9-]{10,255}`, 'slack-token'],
  [
    String.raw`sk-(?:proj-|ant-[a-z]+\d\d-|svcacct-)?[A-Za-z0-9_-]{20,255}|[rsp]k_(?:live|test)_[A-Za-z0-9]{16,255}|whsec_[A-Za-z0-9]{20,255}`,
    'api-key',
  ],
  [String.raw`AIza[0-9A-Za-z_-]{35}`, 'google-api-key'],
  [String.raw`npm_[A-Za-z0-9]{36}`, 'npm-token'],
  [String.raw`hv[sbr]\.[A-Za-z0-9_-]{24,255}`, 'vault-token'],
  [String.raw`eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{0,4096}`, 'jwt'],
  // base64 of `-----BEGIN ` followed by anything but a certificate, public key or CRL.
  [
    String.raw`LS0tLS1CRUdJTi(?!BDRVJUSUZJQ0FUR|BQVUJMSUMgS0VZ|BYNTA5IENSTC|BUUlVTVEVEIENFUlRJRklDQVRF)[A-Za-z0-9+/=]{20,65536}`,
    'private-key',
  ],
  [String.raw`SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`, 'sendgrid-key'],
  [String.raw`(?:dop|doo|dor)_v1_[a-f0-9]{64}`, 'digitalocean-token'],
  [String.raw`(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/=]{20,512}`, 'azure-key'],
  [String.raw`pypi-[A-Za-z0-9_-]{50,255}`, 'pypi-token'],
  [String.raw`AGE-SECRET-KEY-1[0-9A-Z]{58}`, 'age-key'],
  [String.raw`hf_[A-Za-z]{34,40}(?![A-Za-z0-9])`, 'huggingface-token'],
  [String.raw`dapi[0-9a-f]{32}(?![A-Za-z0-9])`, 'databricks-token'],
  [String.raw`shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}`, 'shopify-token'],
  [String.raw`PMAK-[a-f0-9]{24}-[a-f0-9]{34}`, 'postman-key'],
  [String.raw`rubygems_[a-f0-9]{48}`, 'rubygems-key'],
  [String.raw`dp\.(?:st|ct|pt|sa|scim|audit)\.[A-Za-z0-9_-]{40,255}`, 'doppler-token'],
  [String.raw`ATATT3[A-Za-z0-9_=-]{50,512}`, 'atlassian-token'],
  [String.raw`sq0(?:atp|csp)-[A-Za-z0-9_-]{22,255}`, 'square-token'],
  [String.raw`SK[0-9a-f]{32}(?![A-Za-z0-9])`, 'twilio-key'],
  [String.raw`key-[0-9a-f]{32}(?![A-Za-z0-9])`, 'mailgun-key'],
  [
    String.raw`(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,255}`,
    'slack-webhook',
  ],
  [
    String.raw`(?:https?://)?(?:discord(?:app)?\.com)/api/webhooks/[0-9]{5,30}/[A-Za-z0-9_-]{20,255}`,
    'discord-webhook',
  ],
];

const TOKEN_REGEX = new RegExp(
  `(?<![A-Za-z0-9_])(?:${TOKEN_FORMATS.map(([body]) => `(${body})`).join('|')})`,
  'g',
);

/** Teams webhooks start with the tenant's host name, so they are looked for only where the domain is. */
const TEAMS_WEBHOOK =
  /(?:https?:\/\/)?[A-Za-z0-9-]{1,63}\.webhook\.office\.com\/webhookb2\/[A-Za-z0-9@/_-]{20,512}/g;

/** An AWS secret access key on the line of its key id (`AKIA..., wJalr...` in a CSV or a log). */
const AWS_SECRET_AFTER_ID = /[ \t]*[,:=|;\t ][ \t]*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dy;

/** Masks every known token format. */
export function* findTokens(scan: MaskScan): Progress {
  const text = scan.text;
  TOKEN_REGEX.lastIndex = 0;
  let yieldAt = YIELD_EVERY_CHARS;
  let match: RegExpExecArray | null;
  while ((match = TOKEN_REGEX.exec(text)) !== null) {
    let group = 1;
    while (match[group] === undefined && group <= TOKEN_FORMATS.length) group++;
    const kind = TOKEN_FORMATS[group - 1]?.[1] ?? 'token';
    const start = match.index;
    const end = start + match[0].length;
    if (kind === 'azure-key') scan.add(start + match[0].indexOf('=') + 1, end, kind);
    else scan.add(start, end, kind);
    if (kind === 'aws-access-key-id') {
      const secret = matchAt(AWS_SECRET_AFTER_ID, text, end);
      if (secret?.indices?.[1]) scan.add(secret.indices[1][0], secret.indices[1][1], 'aws-secret-key');
    }
    if (TOKEN_REGEX.lastIndex >= yieldAt) {
      yieldAt = TOKEN_REGEX.lastIndex + YIELD_EVERY_CHARS;
      const resume = TOKEN_REGEX.lastIndex;
      yield;
      TOKEN_REGEX.lastIndex = resume;
    }
  }
  if (text.includes('.webhook.office.com/')) {
    TEAMS_WEBHOOK.lastIndex = 0;
    while ((match = TEAMS_WEBHOOK.exec(text)) !== null)
      scan.add(match.index, match.index + match[0].length, 'teams-webhook');
  }
}
