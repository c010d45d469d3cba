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

/** A fake secret, and what must not be left of it: any 8 of its characters in a row. */
const SECRET = 'Qz7-kR2pLm9xWv4T';

function assertNoPiece(masked: string, secret: string): void {
  for (let index = 0; index + 8 <= secret.length; index++)
    assert.ok(!masked.includes(secret.slice(index, index + 8)), `${secret} leaked in:\n${masked}`);
}

function assertSecretMasked(input: string, secret = SECRET): string {
  const result = redactor.redact(input);
  assertNoPiece(result.text, secret);
  assert.ok(result.count > 0, `nothing counted for:\n${input}`);
  return result.text;
}

describe('SecretRedactor: the formats of issue 10', () => {
  it('masks Kubernetes env entries by name, in YAML and JSON', () => {
    const text = assertSecretMasked(
      `env:\n- name: DB_PASSWORD\n  value: ${SECRET}\n- name: PORT\n  value: "8080"`,
    );
    assert.match(text, /value: "8080"/);
    assertSecretMasked(`        - name: "STRIPE_SECRET"\n          value: '${SECRET}'`);
    assertSecretMasked(`"env": [{"name": "API_TOKEN", "value": "${SECRET}"}, {"name": "X", "value": "1"}]`);
  });

  it('masks SECRET_KEY_BASE and other *_SECRET* and *_KEY* assignments', () => {
    for (const name of [
      'SECRET_KEY_BASE',
      'STRIPE_WEBHOOK_SECRET',
      'APP_SECRET_TOKEN',
      'JWT_KEY',
      'ENCRYPTION_KEY_V2',
      'MASTER_KEY_OLD',
      'SIGNING_KEY_DATA',
      'client_secret_value',
    ])
      assertSecretMasked(`${name}=${SECRET}`);
    assertSecretMasked(`export SECRET_KEY_BASE="${SECRET}"`);
    assertSecretMasked(`declare -- RAILS_MASTER_KEY="${SECRET}"`);
  });

  it('masks .netrc entries on one line or several, and not a log line that says "password"', () => {
    assertSecretMasked(`machine api.example.com login deploy password ${SECRET}`);
    assertSecretMasked(`machine db.example.com\n  login app\n  password ${SECRET}\n`);
    assertSecretMasked(`default login anonymous password ${SECRET}`);
    assertUntouched('login failed for user bob, password incorrect');
  });

  it('masks .pgpass lines, with host names, addresses and wildcards', () => {
    for (const line of [
      `db.example.com:5432:app:app:${SECRET}`,
      `db:5432:app:app:${SECRET}`,
      `10.0.0.5:5432:*:postgres:${SECRET}`,
      `*:*:*:replicator:${SECRET}`,
      `localhost:*:*:u:${SECRET}`,
    ])
      assertSecretMasked(line);
    assertUntouched('12:30:45:123:456 request done');
    assertUntouched('root:*:19000:0:99999:7:::');
  });

  it('masks XML passwords and .NET settings', () => {
    const text = assertSecretMasked(`<configuration>\n  <password>${SECRET}</password>\n</configuration>`);
    assert.match(text, /<password>\[REDACTED:secret-value\]<\/password>/);
    assertSecretMasked(`<DbPassword encrypted="false">${SECRET}</DbPassword>`);
    assertSecretMasked(`<add key="SmtpPassword" value="${SECRET}" />`);
  });

  it('masks redis-cli -a and -D...password= in ps output', () => {
    assertSecretMasked(`redis  1234  0.1  redis-cli -h 10.0.0.5 -p 6379 -a ${SECRET} info`);
    assertSecretMasked(`redis-cli --pass '${SECRET}' ping`);
    assertSecretMasked(`java -Xmx2g -Dspring.datasource.password=${SECRET} -jar app.jar`);
    assertSecretMasked(`java -Djavax.net.ssl.keyStorePassword=${SECRET} -cp x Main`);
  });

  it("masks npmrc's _authToken and _auth", () => {
    assertSecretMasked(`//registry.npmjs.org/:_authToken=${SECRET}`);
    assertSecretMasked(`//npm.pkg.github.com/:_authToken="${SECRET}"`);
    assertSecretMasked(`_auth=${SECRET}`);
  });

  it('masks ?token= and ?access_token= in URLs, keeping the rest of the query', () => {
    const text = assertSecretMasked(`GET /api/v1/data?user=bob&token=${SECRET}&page=2 HTTP/1.1`);
    assert.match(text, /user=bob/);
    assert.match(text, /page=2/);
    assertSecretMasked(`https://example.com/cb?access_token=${SECRET}&state=1`);
    assertSecretMasked(`https://example.com/cb?code=${SECRET}&state=1`);
    assertSecretMasked(`https://bucket.s3.amazonaws.com/x?X-Amz-Signature=${SECRET}`);
  });

  it('masks Slack, Discord and Teams webhook URLs', () => {
    assertSecretMasked(`webhook_url: https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/${SECRET}XXXXXXXX`);
    assertSecretMasked(`curl -X POST https://discord.com/api/webhooks/123456789012/${SECRET}abcdefgh`);
    assertSecretMasked(
      `https://contoso.webhook.office.com/webhookb2/${SECRET}-1111@2222/IncomingWebhook/abc/def`,
    );
  });

  it('masks /etc/shadow hashes, and keeps locked accounts readable', () => {
    const text = assertSecretMasked(
      `root:$6$LsxPFkTh$${SECRET}abcdef:19000:0:99999:7:::\nnobody:*:19000::::::`,
    );
    assert.match(text, /^root:\[REDACTED:password-hash\]:19000/);
    assert.match(text, /nobody:\*:19000/);
    assertSecretMasked(`bob:$y$j9T$${SECRET}:19500:0:99999:7:::`);
  });

  it('masks the base64 data of a Kubernetes Secret after decoding it, and keeps certificates', () => {
    const encoded = Buffer.from(SECRET).toString('base64');
    const certificate = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n').toString('base64');
    const yaml = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  db-url: ${encoded}\n  ca.crt: ${certificate}\n`;
    const text = assertSecretMasked(yaml, encoded);
    assert.ok(text.includes(certificate), text);
    assert.match(text, /name: app/);
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data: { conn: encoded } }, null, 2);
    assertSecretMasked(json, encoded);
  });

  it('masks docker config.json auths', () => {
    const auth = Buffer.from(`user:${SECRET}`).toString('base64');
    const config = JSON.stringify(
      { auths: { 'registry.example.com': { auth } }, credsStore: 'desktop' },
      null,
      2,
    );
    const text = assertSecretMasked(config, auth);
    assert.match(text, /registry\.example\.com/);
    assert.match(text, /"credsStore": "desktop"/);
    assertSecretMasked(`{"auths":{"r.io":{"identitytoken":"${SECRET}"}}}`);
  });

  it('masks the first key under a YAML parent (the cross-line bug)', () => {
    for (const parent of ['data', 'database', 'spec', 'credentials'])
      assertSecretMasked(`${parent}:\n  password: ${SECRET}\n  username: admin`);
    const text = assertSecretMasked(`database:\n  password: "${SECRET}"\n  host: db`);
    assert.match(text, /^database:\n/);
    assert.match(text, /host: db/);
  });
});

describe('SecretRedactor: other formats operators paste', () => {
  it('masks secrets in code and config syntaxes', () => {
    for (const line of [
      `$password = "${SECRET}";`,
      `password := "${SECRET}"`,
      `'password' => '${SECRET}',`,
      `define('DB_PASSWORD', '${SECRET}');`,
      `ENV DB_PASSWORD ${SECRET}`,
      `typeset -x API_KEY=${SECRET}`,
      `X-Api-Key: ${SECRET}`,
      `Cookie: session=${SECRET}`,
      `BASIC_AUTH=${SECRET}`,
      `requirepass ${SECRET}`,
      `DB_PASSWORD=${SECRET}\0HOME=/root`,
    ])
      assertSecretMasked(line);
  });

  it('masks passwords given to database, registry and admin tools', () => {
    for (const line of [
      `docker login -u me -p ${SECRET} registry.example.com`,
      `podman login --password=${SECRET} quay.io`,
      `oc login -u admin -p ${SECRET} https://api:6443`,
      `mongosh -u admin -p ${SECRET} --authenticationDatabase admin`,
      `sqlcmd -S db -U sa -P ${SECRET} -Q "select 1"`,
      `CREATE USER app IDENTIFIED BY '${SECRET}';`,
      `ALTER ROLE app WITH PASSWORD '${SECRET}';`,
      `echo 'root:${SECRET}' | chpasswd`,
      `htpasswd -bc /etc/nginx/.htpasswd admin ${SECRET}`,
      `rabbitmqctl add_user bob ${SECRET}`,
      `openssl pkcs12 -export -passout pass:${SECRET} -out x.p12`,
      `keytool -list -storepass ${SECRET} -keystore x.jks`,
      `curl --oauth2-bearer ${SECRET} https://api`,
      `wget --http-password=${SECRET} https://x`,
      `-u user:${SECRET}`,
    ])
      assertSecretMasked(line);
    assertUntouched('openssl rsa -passin env:KEY_PASS -in k.pem');
    assertUntouched('openssl rsa -passin file:/run/secrets/pass -in k.pem');
  });

  it('masks basic credentials, AWS secret keys next to their id, and more token formats', () => {
    const basic = Buffer.from(`u:${SECRET}`).toString('base64');
    assertSecretMasked(`proxy_set_header Authorization "Basic ${basic}";`, basic);
    assertSecretMasked(`Basic ${basic}`, basic);
    assertSecretMasked(`${AWS_ID},${AWS_SECRET}`, AWS_SECRET);
    for (const token of [
      '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1',
      `AGE-SECRET-KEY-1${'Q'.repeat(58)}`,
      'glrt-abcdefghijklmnopqrstuv',
      'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH',
      'dapi0123456789abcdef0123456789abcdef',
      'shpat_0123456789abcdef0123456789abcdef',
    ])
      assertSecretMasked(`found ${token} here`, token);
  });

  it('masks PuTTY private keys', () => {
    const text = assertSecretMasked(
      `PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPrivate-Lines: 2\n${SECRET}\n${SECRET}AA\nPrivate-MAC: ab12`,
    );
    assert.match(text, /Private-MAC: ab12/);
  });
});

describe('SecretRedactor: false positives stay readable', () => {
  it('leaves git SHAs, UUIDs, sha256 sums and image digests alone', () => {
    assertUntouched('commit ef750110c57513064d6d59291f0cde2e5738713a\nMerge: 3f78685 e387550');
    assertUntouched('uid: 5c7e41ba-4ea5-4ee8-a74a-e7689447ab57\nresourceVersion: "12345"');
    assertUntouched('818d8962058765a6ca7cff00d796c25410335b400141212b62c376631129f343  release.tar.gz');
    assertUntouched(
      'image: nginx@sha256:69aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3cc2d0b698d\nimageID: docker-pullable://nginx@sha256:69aad80b891baf90d0d3bf16295d06910bf3f5fb85967f532f3ab3cc2d0b698d',
    );
    assertUntouched('"Id": "sha256:2b7d6430f78d432f89109b29d88d4c36c868cdbf15dc31d2132ceaa02b993763"');
  });

  it('leaves ConfigMaps and base64 of ordinary config alone', () => {
    assertUntouched(
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: info\n  password_policy: strict\n  nginx.conf: |\n    server { listen 80; }\n',
    );
    assertUntouched(`config: ${Buffer.from('listen 80;\nserver_name example.com;').toString('base64')}`);
    assertUntouched(
      '{"kind": "ConfigMap", "data": {"settings.json": "eyJsb2dMZXZlbCI6ImluZm8ifQ==", "mode": "prod"}}',
    );
  });

  it('leaves words, options and settings that only sound like secrets alone', () => {
    for (const text of [
      'auth: ldap',
      'key_type: rsa',
      'Basic authentication failed',
      'Authorization required',
      'grep -i password /var/log/auth.log',
      'journalctl -u sshd --since today',
      'sort -u names.txt',
      'tokens: 4096',
      'passed: 12, failed: 0',
      'monkey=banana',
      'AUTH_TYPE=oauth',
      'SSH_AUTH_SOCK=/tmp/ssh-x/agent.1',
      'password_expiry_days: 90',
      '[sudo] password for bob:',
      'PasswordAuthentication no',
      '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUW\n-----END CERTIFICATE-----',
    ])
      assertUntouched(text);
  });
});

describe('SecretRedactor on long and adversarial input', () => {
  it('masks within long lines and many short ones the same way as in short texts', () => {
    const filler = 'x'.repeat(200_000);
    const text = redactor.redact(
      `${filler} DB_PASSWORD=${SECRET} ${filler}\n${'ok\n'.repeat(50_000)}token: ${SECRET}`,
    );
    assertNoPiece(text.text, SECRET);
    assert.equal(text.count, 2);
  });

  it('yields to the event loop while masking a long text, and stops when aborted', async () => {
    const text = `${'password= key: token '.repeat(100_000)}\nDB_PASSWORD=${SECRET}`;
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const result = await redactor.redactAsync(text, { maxBlockingMs: 0 });
      assertNoPiece(result.text, SECRET);
    } finally {
      clearInterval(ticker);
    }
    assert.ok(turns > 0, 'the event loop never ran while masking');
    const controller = new AbortController();
    setImmediate(() => controller.abort(new Error('stopped by the test')));
    await assert.rejects(
      redactor.redactAsync(text, { maxBlockingMs: 0, signal: controller.signal }),
      /stopped by the test/,
    );
  });

  it('gives the same result from redact and redactAsync', async () => {
    const text = `${'a=b '.repeat(50_000)}\napi_key: ${SECRET}\n-----BEGIN PRIVATE KEY-----\n${PEM_BODY.join('\n')}`;
    assert.deepEqual(await redactor.redactAsync(text, { maxBlockingMs: 0 }), redactor.redact(text));
  });
});
