/**
 * A browser-free Negotiate client, run as its own process because MIT Kerberos reads
 * KRB5CCNAME and KRB5_CONFIG from the real environment (jest gives tests a copy).
 *
 *   node negotiate-client.js <service HTTP@host> <url> [Host header]
 *
 * Gets a ticket for the service from the credential cache, sends it once, checks the
 * server's mutual-authentication token, and prints JSON: the token (for replay tests),
 * status, Location, Set-Cookie, WWW-Authenticate and whether mutual auth verified.
 */
'use strict';
const http = require('node:http');
const kerberos = require('kerberos');

async function main() {
  const [service, url, host] = process.argv.slice(2);
  const client = await kerberos.initializeClient(service, { mechOID: kerberos.GSS_MECH_OID_SPNEGO, gssFlag: kerberos.GSS_C_MUTUAL_FLAG | kerberos.GSS_C_SEQUENCE_FLAG });
  const token = await client.step('');
  const u = new URL(url);
  const res = await new Promise((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { Authorization: `Negotiate ${token}`, ...(host ? { Host: host } : {}) } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    r.on('error', reject);
    r.end();
  });
  const www = [].concat(res.headers['www-authenticate'] ?? []);
  let mutual = null;
  const serverToken = www.map((v) => /^Negotiate\s+(\S+)$/i.exec(v)).find(Boolean);
  if (serverToken) {
    try {
      await client.step(serverToken[1]);
      mutual = client.contextComplete;
    } catch (err) {
      mutual = `error: ${err.message}`;
    }
  }
  process.stdout.write(JSON.stringify({ token, status: res.status, location: res.headers.location ?? null, setCookie: res.headers['set-cookie'] ?? [], wwwAuthenticate: www, mutual }));
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: err.message }));
  process.exitCode = 1;
});
