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

/** More formats with fixed prefixes, in a regex of their own (one of very many alternatives is slow in V8). */
const MORE_TOKEN_FORMATS: Array<[string, string]> = [
  [String.raw`dckr_(?:pat|oat)_[A-Za-z0-9_-]{20,255}`, 'docker-hub-token'],
  [String.raw`gl(?:sa|c)_[A-Za-z0-9_+/=-]{32,255}`, 'grafana-token'],
  [String.raw`sntry[su]_[A-Za-z0-9_+/=-]{32,512}`, 'sentry-token'],
  [String.raw`NRAK-[A-Z0-9]{27}(?![A-Za-z0-9])`, 'newrelic-key'],
  [String.raw`tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9-]{16,255}`, 'tailscale-key'],
  [String.raw`lin_(?:api|oauth)_[A-Za-z0-9]{32,64}`, 'linear-key'],
  [String.raw`pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}`, 'planetscale-token'],
];

/**
 * Password hashes: crypt(3) formats anywhere (htpasswd, shadow, Ansible vars), PostgreSQL SCRAM
 * verifiers and md5 passwords, MySQL native password hashes, LDAP `{SCHEME}` values.
 */
const PASSWORD_HASH_FORMATS: Array<[string, string]> = [
  [
    String.raw`\$(?:1|5|6|y|gy|7|apr1|md5|sha1|2[abxy]?)\$[^\s:$]{0,128}\$[./A-Za-z0-9+=$-]{16,1024}`,
    'password-hash',
  ],
  [String.raw`\$argon2(?:id|i|d)\$[^\s:]{10,1024}`, 'password-hash'],
  [String.raw`\$pbkdf2(?:-sha\d{1,3})?\$[^\s:]{10,1024}`, 'password-hash'],
  [String.raw`SCRAM-SHA-256\$\d{1,7}:[^\s$:|]{1,128}\$[^\s:|]{1,512}:[^\s|]{1,512}`, 'password-hash'],
  [String.raw`md5[0-9a-f]{32}(?![0-9A-Za-z])`, 'password-hash'],
  [String.raw`\*[0-9A-F]{40}(?![0-9A-Za-z])`, 'password-hash'],
  [
    String.raw`\{(?:SSHA|SHA|SMD5|MD5|CRYPT|SSHA256|SSHA512|SHA256|SHA512|PBKDF2(?:-SHA\d{1,3})?|ARGON2|BCRYPT)\}[A-Za-z0-9+/=$.]{8,1024}`,
    'password-hash',
  ],
];

/** Each group of formats is one regex: a few regexes of fewer alternatives scan faster than one. */
const TOKEN_GROUPS = [TOKEN_FORMATS, MORE_TOKEN_FORMATS, PASSWORD_HASH_FORMATS].map((formats) => ({
  formats,
  regex: new RegExp(`(?<![A-Za-z0-9_])(?:${formats.map(([body]) => `(${body})`).join('|')})`, 'g'),
}));

/** Teams webhooks start with the tenant's host name, so they are looked for only where the domain is. */
const TEAMS_WEBHOOK =
  /(?:https?:\/\/)?[A-Za-z0-9-]{1,63}\.webhook\.office\.com\/webhookb2\/[A-Za-z0-9@/_-]{20,512}/g;

/** An AWS secret access key on the line of its key id (`AKIA..., wJalr...` in a CSV or a log). */
const AWS_SECRET_AFTER_ID = /[ \t]*[,:=|;\t ][ \t]*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dy;

/** Masks every known token format. */
export function* findTokens(scan: MaskScan): Progress {
  const text = scan.text;
  let match: RegExpExecArray | null;
  for (const { formats, regex } of TOKEN_GROUPS) {
    regex.lastIndex = 0;
    let yieldAt = YIELD_EVERY_CHARS;
    while ((match = regex.exec(text)) !== null) {
      let group = 1;
      while (match[group] === undefined && group <= formats.length) group++;
      const kind = formats[group - 1]?.[1] ?? 'token';
      const start = match.index;
      const end = start + match[0].length;
      if (kind === 'azure-key') scan.add(start + match[0].indexOf('=') + 1, end, kind);
      else scan.add(start, end, kind);
      if (kind === 'aws-access-key-id') {
        const secret = matchAt(AWS_SECRET_AFTER_ID, text, end);
        if (secret?.indices?.[1]) scan.add(secret.indices[1][0], secret.indices[1][1], 'aws-secret-key');
      }
      if (regex.lastIndex >= yieldAt) {
        yieldAt = regex.lastIndex + YIELD_EVERY_CHARS;
        const resume = regex.lastIndex;
        yield;
        regex.lastIndex = resume;
      }
    }
  }
  if (text.includes('.webhook.office.com/')) {
    TEAMS_WEBHOOK.lastIndex = 0;
    while ((match = TEAMS_WEBHOOK.exec(text)) !== null)
      scan.add(match.index, match.index + match[0].length, 'teams-webhook');
  }
}
