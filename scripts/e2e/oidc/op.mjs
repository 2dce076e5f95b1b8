// Test OpenID provider for Gatehouse's end-to-end tests.
//
// Runs oidc-provider on 127.0.0.1 with a fixed set of users and one confidential
// client. Login goes through oidc-provider's dev-interactions form: any known
// login with any password is accepted, and consent is granted automatically.
//
// Environment:
//   OP_PORT               port to listen on (default 29000; 0: any free port,
//                         named in the "listening" line)
//   RP_REDIRECT           comma-separated redirect URIs of the client
//   BACKCHANNEL_LOGOUT_URI  the client's backchannel_logout_uri (Back-Channel
//                         Logout 1.0, with sid in ID and logout tokens); unset:
//                         no back-channel logout
//   BACKCHANNEL_SID       "0": no sid in ID and logout tokens (logout by sub)
//   POST_LOGOUT_REDIRECT  comma-separated post_logout_redirect_uris of the client
//                         (RP-initiated logout)
//   CLIENT_ID             client id (default "proxy")
//   CLIENT_SECRET         client secret (default "proxy-secret")
//   USERINFO_ONLY_GROUPS  "1": the groups claim is left out of ID tokens and
//                         only served from the userinfo endpoint
//
// Prints "listening" on stdout once it accepts connections.
import http from 'node:http';
import crypto from 'node:crypto';
import dns from 'node:dns';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT ?? 29000);
const backchannelLogoutURI = process.env.BACKCHANNEL_LOGOUT_URI || '';
const postLogoutRedirectURIs = (process.env.POST_LOGOUT_REDIRECT || '')
  .split(',').map((s) => s.trim()).filter(Boolean);
const redirectURIs = (process.env.RP_REDIRECT || 'http://127.0.0.1:29080/callback')
  .split(',').map((s) => s.trim()).filter(Boolean);
const clientID = process.env.CLIENT_ID || 'proxy';
const clientSecret = process.env.CLIENT_SECRET || 'proxy-secret';
const userinfoOnlyGroups = process.env.USERINFO_ONLY_GROUPS === '1';

const users = {
  alice: { email: 'alice@example.com', emailVerified: true, name: 'Alice', groups: ['admins', 'devs'] },
  bob: { email: 'bob@example.com', emailVerified: true, name: 'Bob', groups: ['devs'] },
  eve: { email: 'eve@example.com', emailVerified: false, name: 'Eve' },
};

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-op-1', use: 'sig', alg: 'RS256' };

const scopes = 'openid email profile groups';
const grantedClaims = ['email', 'email_verified', 'name', 'groups'];

// The tests reach Gatehouse's *.localhost names on loopback without DNS, and
// so does the provider's own outgoing request (the back-channel logout POST).
// oidc-provider's default fetch refuses loopback addresses (SSRF protection),
// which a test on one machine needs; this fetch speaks plain node:http.
function loopbackLookup(host, opts, cb) {
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
  }
  return dns.lookup(host, opts, cb);
}

function loopbackFetch(url, options) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(url), {
      method: options.method || 'GET',
      headers: Object.fromEntries(new Headers(options.headers)),
      signal: options.signal,
      lookup: loopbackLookup,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks),
        { status: res.statusCode, headers: Object.entries(res.headers).filter(([, v]) => typeof v === 'string') })));
    });
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : String(options.body));
  });
}

const client = {
  client_id: clientID,
  client_secret: clientSecret,
  redirect_uris: redirectURIs,
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
if (backchannelLogoutURI) {
  client.backchannel_logout_uri = backchannelLogoutURI;
  client.backchannel_logout_session_required = process.env.BACKCHANNEL_SID !== '0';
}
if (postLogoutRedirectURIs.length) client.post_logout_redirect_uris = postLogoutRedirectURIs;

const configuration = {
  clients: [client],
  fetch: loopbackFetch,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['gatehouse-test-op-cookie-key'] },
  // Each key is a scope; "groups" is a custom scope carrying the groups claim.
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // Put scope-granted claims into the ID token too (as most real IdPs do).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // The client is first-party: consent is implied, only the login prompt remains.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(scopes);
    grant.addOIDCClaims(grantedClaims);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const u = users[sub];
    if (!u) return undefined;
    return {
      accountId: sub,
      async claims(use) {
        const c = { sub, email: u.email, email_verified: u.emailVerified, name: u.name };
        if (u.groups && !(userinfoOnlyGroups && use === 'id_token')) c.groups = u.groups;
        return c;
      },
    };
  },
};

// Listen first, so that with OP_PORT=0 the issuer names the port given.
const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  provider.on('backchannel.error', (ctx, err, c, sub, sid) => {
    console.log(`backchannel.error client=${c.clientId} sub=${sub} sid=${sid}: ${err.message}`);
  });
  provider.on('backchannel.success', (ctx, c, sub, sid) => {
    console.log(`backchannel.success client=${c.clientId} sub=${sub} sid=${sid}`);
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
