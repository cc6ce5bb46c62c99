// verify-cert.mjs: an independent check of a Campus credential, run by
// tests/integration/test_cert.py: the signature with the jose package and
// the JWK Set from /api/issuer, the payload against the Open Badges 3.0
// schema subset in tests/fixtures/openbadges with ajv.
// Usage: node verify-cert.mjs JWT-FILE JWKS-FILE SCHEMA-FILE
import { readFileSync } from 'node:fs';
import { compactVerify, importJWK, decodeProtectedHeader } from 'jose';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';

const [jwtFile, jwksFile, schemaFile] = process.argv.slice(2);
const jwt = readFileSync(jwtFile, 'utf8').trim();
const jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
const { kid } = decodeProtectedHeader(jwt);
const jwk = jwks.keys.find((k) => k.kid === kid);
if (!jwk) { console.log('FAIL no key ' + kid); process.exit(1); }
let payload;
try {
  const key = await importJWK(jwk, 'EdDSA');
  const r = await compactVerify(jwt, key, { algorithms: ['EdDSA'] });
  payload = JSON.parse(new TextDecoder().decode(r.payload));
} catch (e) {
  console.log('FAIL signature ' + e.code);
  process.exit(1);
}
const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
if (!validate(payload)) {
  console.log('FAIL schema ' + JSON.stringify(validate.errors));
  process.exit(1);
}
console.log('ok ' + payload.credentialSubject.achievement.name);
