import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSecretName, SecretRedactor } from './secret-redactor.js';

const redactor = new SecretRedactor();

/** Fake secrets in the real formats; none of them is live. */
const PEM_BODY = [
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  'LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo',
];
const PEM = ['-----BEGIN RSA PRIVATE KEY-----', ...PEM_BODY, '-----END RSA PRIVATE KEY-----'].join('\n');
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

function assertMasked(input: string, secrets: string[], expectedCount?: number): string {
  const result = redactor.redact(input);
  for (const secret of secrets)
    assert.ok(!result.text.includes(secret), `${secret} leaked in:\n${result.text}`);
  assert.match(result.text, /\[REDACTED:/);
  if (expectedCount !== undefined) assert.equal(result.count, expectedCount, result.text);
  return result.text;
}

function assertUntouched(input: string): void {
  const result = redactor.redact(input);
  assert.equal(result.text, input);
  assert.equal(result.count, 0);
}

describe('SecretRedactor', () => {
  it('masks a PEM private key spread over many lines, keeping its markers', () => {
    const text = assertMasked(`$ cat id_rsa\n${PEM}\n$ echo done\n`, PEM_BODY, 1);
    assert.match(
      text,
      /-----BEGIN RSA PRIVATE KEY-----\[REDACTED:private-key\]-----END RSA PRIVATE KEY-----/,
    );
    assert.match(text, /echo done/);
  });

  it('masks a PEM key with CRLF line breaks, OpenSSH and PGP keys', () => {
    assertMasked(PEM.replaceAll('\n', '\r\n'), PEM_BODY, 1);
    assertMasked(`-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY[0]}\n-----END OPENSSH PRIVATE KEY-----`, [
      PEM_BODY[0]!,
    ]);
    assertMasked(
      `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${PEM_BODY[1]}\n-----END PGP PRIVATE KEY BLOCK-----`,
      [PEM_BODY[1]!],
    );
  });

  it('masks a GCP service account key (JSON with escaped newlines)', () => {
    const json = JSON.stringify(
      {
        type: 'service_account',
        project_id: 'my-project',
        private_key_id: '8c2b9e7f0a1d4c3b2a1f0e9d8c7b6a5f4e3d2c1b',
        private_key: `-----BEGIN PRIVATE KEY-----\n${PEM_BODY.join('\n')}\n-----END PRIVATE KEY-----\n`,
        client_email: 'bot@my-project.iam.gserviceaccount.com',
      },
      null,
      2,
    );
    const text = assertMasked(json, [...PEM_BODY, '8c2b9e7f0a1d4c3b2a1f0e9d8c7b6a5f4e3d2c1b']);
    assert.match(text, /bot@my-project/);
  });

  it('masks a key whose end or start is missing', () => {
    assertMasked(`-----BEGIN EC PRIVATE KEY-----\n${PEM_BODY[0]}\n${PEM_BODY[1]}\n`, [
      PEM_BODY[0]!,
      PEM_BODY[1]!,
    ]);
    assertMasked(`${PEM_BODY[1]}\n${PEM_BODY[2]}\n-----END EC PRIVATE KEY-----\n`, [
      PEM_BODY[1]!,
      PEM_BODY[2]!,
    ]);
  });

  it('masks kubeconfig client keys and tokens', () => {
    const key = Buffer.from(PEM).toString('base64');
    const kubeconfig = `users:\n- name: admin\n  user:\n    client-key-data: ${key}\n    token: ${JWT}\n`;
    assertMasked(kubeconfig, [key.slice(20, 60), JWT.slice(40)]);
  });

  it('masks AWS access keys and secret keys in env, credentials files and JSON', () => {
    assertMasked(
      `[default]\naws_access_key_id = ${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}\n`,
      [AWS_ID, AWS_SECRET],
      2,
    );
    assertMasked(
      `AWS_ACCESS_KEY_ID=${AWS_ID}\nAWS_SECRET_ACCESS_KEY=${AWS_SECRET}\n`,
      [AWS_ID, AWS_SECRET],
      2,
    );
    assertMasked(`{"AccessKeyId": "${AWS_ID}", "SecretAccessKey": "${AWS_SECRET}"}`, [AWS_ID, AWS_SECRET], 2);
  });

  it('masks the secret of an ini file `key = value` line', () => {
    assertMasked(`aws_secret_access_key = ${AWS_SECRET}\n`, [AWS_SECRET]);
  });

  it('masks Azure connection strings', () => {
    const accountKey =
      'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
    assertMasked(
      `DefaultEndpointsProtocol=https;AccountName=devstore;AccountKey=${accountKey};EndpointSuffix=core.windows.net`,
      [accountKey.slice(0, 30)],
      1,
    );
    assertMasked(
      'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==',
      ['Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA'],
    );
    assertMasked('Server=tcp:db.example.com;Database=app;User Id=admin;Password=S3cr3t!pass;', [
      'S3cr3t!pass',
    ]);
  });

  it('masks bearer tokens, basic auth and JWTs', () => {
    assertMasked(`curl -H "Authorization: Bearer ${JWT}" https://api`, [JWT.slice(10)]);
    assertMasked('Authorization: Basic dXNlcjpwYXNzd29yZA==', ['dXNlcjpwYXNzd29yZA']);
    assertMasked(`token=${JWT}`, [JWT.slice(10)]);
    assertMasked(`{"access_token":"${JWT}","token_type":"Bearer"}`, [JWT.slice(10)]);
  });

  it('masks a header whose value is on the next line', () => {
    assertMasked(`"password":\n    "correct horse battery staple"`, ['correct horse']);
    assertMasked(`Authorization:\n  Bearer abcdefghijklmnopqrstuvwxyz012345`, [
      'abcdefghijklmnopqrstuvwxyz012345',
    ]);
  });

  it('masks passwords in URLs and connection strings', () => {
    const text = assertMasked('DATABASE_URL=postgres://app:hunter2pass@db:5432/app', ['hunter2pass']);
    assert.doesNotMatch(text, /hunter2/);
    assertMasked('remote: https://deploy:glpat-abcdefghijklmnopqrst@gitlab.example.com/x.git', [
      'glpat-abcdef',
    ]);
    assertMasked('mongodb+srv://root:Pa55w0rd@cluster0.mongodb.net/?retryWrites=true', ['Pa55w0rd']);
    assertMasked('redis://:s3cretRedis@cache:6379/0', ['s3cretRedis']);
  });

  it('masks secret-looking variables in env and export -p output, not ordinary ones', () => {
    const env = [
      'HOME=/root',
      'PWD=/srv/app',
      'DB_PASSWORD=p@ss word with spaces',
      'GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
      'STRIPE_SECRET=whsec_abc123',
      'API_KEY=12345-abcde',
      'TOKEN_EXPIRY=3600',
      'PATH=/usr/bin:/bin',
    ].join('\n');
    const text = assertMasked(env, ['p@ss word', 'aBcDeFgHiJ', 'whsec_abc123', '12345-abcde'], 4);
    assert.match(text, /HOME=\/root\nPWD=\/srv\/app/);
    assert.match(text, /TOKEN_EXPIRY=3600/);
    const exported = assertMasked('declare -x MYSQL_ROOT_PASSWORD="rootpw123"\ndeclare -x TERM="xterm"', [
      'rootpw123',
    ]);
    assert.match(exported, /TERM="xterm"/);
  });

  it('masks secrets in docker inspect Env arrays and command flags', () => {
    assertMasked(
      '"Env": ["POSTGRES_PASSWORD=example123", "PGDATA=/var/lib/postgresql/data"]',
      ['example123'],
      1,
    );
    assertMasked('mysql -u root -pTopSecret1 -h db', ['TopSecret1'], 1);
    assertMasked("mysqldump -p'Top Secret' app", ['Top Secret'], 1);
    assertMasked('vault login --token=hvs.CAESIJ0123456789abcdefghijklmnop', ['CAESIJ0123456789']);
    assertMasked('sshpass -p hunter22 ssh host', ['hunter22']);
    assertMasked('curl -u admin:Sup3rS3cret https://x', ['Sup3rS3cret']);
    assertMasked('app --db-password "my pass" --port 80', ['my pass']);
  });

  it('masks SaaS tokens in free text', () => {
    assertMasked('slack: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', ['xoxb-1234']);
    assertMasked('key AIzaSyA1234567890abcdefghijklmnopqrstu1 end', ['AIzaSyA1234']);
    assertMasked('OPENAI key sk-proj-abcdefghijklmnopqrstuvwxyz012345', ['sk-proj-abc']);
    assertMasked('found github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv', ['github_pat_11']);
  });

  it("masks opsmate's own API keys wherever they appear", () => {
    const own = new SecretRedactor({ env: { OPENAI_API_KEY: 'local-proxy-key-123', SHORT_TOKEN: 'abc' } });
    const result = own.redact('config: key=local-proxy-key-123 and again local-proxy-key-123; abc stays');
    assert.equal(result.text.includes('local-proxy-key-123'), false);
    assert.equal(result.count, 2);
    assert.match(result.text, /abc stays/);
  });

  it('leaves hashes, UUIDs, base64 config and ordinary output alone', () => {
    assertUntouched('commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: Dev <dev@example.com>');
    assertUntouched('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.txt');
    assertUntouched('id: 123e4567-e89b-12d3-a456-426614174000');
    assertUntouched('apiVersion: v1\nkind: ConfigMap\ndata:\n  app.conf: c2VydmVyIHsgbGlzdGVuIDgwOyB9Cg==\n');
    assertUntouched('sha512-abcdefABCDEF0123456789+/abcdefABCDEF0123456789+/abcdefABCDEF0123456789+/abc==');
    assertUntouched('PasswordAuthentication no\nPermitRootLogin prohibit-password\n');
    assertUntouched('Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 50G 20G 30G 40% /');
    assertUntouched('token_type: Bearer\nexpires_in: 3600');
    assertUntouched('password: ${DB_PASSWORD}\nsecret: <none>');
    assertUntouched('https://example.com:8443/path?x=1');
    assertUntouched(
      'docker.io/library/nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31',
    );
  });

  it('does not count a value twice', () => {
    const result = redactor.redact('DATABASE_URL=postgres://u:pw12345@h/db');
    assert.equal(result.count, 1);
  });
});

describe('SecretRedactor.redactOutput on cut output', () => {
  const notice = '\n[... 1000 bytes omitted (3000 in all); full output in /tmp/spill/x ...]\n';

  it('masks a private key whose BEGIN is in the head and END in the tail', () => {
    const head = `config ok\n-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY[0]}\n${PEM_BODY[1]!.slice(0, 30)}`;
    const tail = `${PEM_BODY[2]!.slice(20)}\n${PEM_BODY[2]}\n-----END RSA PRIVATE KEY-----\nbye\n`;
    const result = redactor.redactOutput(head + notice + tail);
    for (const part of [PEM_BODY[0]!, PEM_BODY[1]!.slice(0, 30), PEM_BODY[2]!]) {
      assert.ok(!result.text.includes(part), `${part} leaked:\n${result.text}`);
    }
    assert.match(result.text, /config ok/);
    assert.match(result.text, /bye/);
    assert.match(result.text, /bytes omitted/);
  });

  it('masks a token cut in two by the notice', () => {
    const result = redactor.redactOutput(`key: AKIAIOSF${notice}ODNN7EXAMPLE rest`);
    assert.ok(!result.text.includes('AKIAIOSF'), result.text);
    assert.ok(!result.text.includes('ODNN7EXAMPLE'), result.text);
    assert.match(result.text, /rest$/);
  });

  it('masks the tail fragment when the head stops right after PASSWORD=', () => {
    const result = redactor.redactOutput(`x\nDB_PASSWORD=${notice}tail-of-the-password\nnext=1`);
    assert.ok(!result.text.includes('tail-of-the-password'), result.text);
    assert.match(result.text, /next=1/);
  });

  it('leaves an ordinary cut alone', () => {
    const input = `line 1\nline 2 abc${notice}def line 3\n`;
    assert.deepEqual(redactor.redactOutput(input), { text: input, count: 0 });
  });
});

describe('isSecretName', () => {
  it('knows secret names in any case style', () => {
    for (const name of [
      'DB_PASSWORD',
      'apiKey',
      'client-secret',
      'GITHUB_TOKEN',
      'aws_secret_access_key',
      'PASSWORD',
    ]) {
      assert.equal(isSecretName(name), true, name);
    }
    for (const name of [
      'PWD',
      'OLDPWD',
      'TOKEN_EXPIRY',
      'PASSWORD_FILE',
      'GIT_ASKPASS',
      'SSH_AUTH_SOCK',
      'PATH',
    ]) {
      assert.equal(isSecretName(name), false, name);
    }
  });
});
