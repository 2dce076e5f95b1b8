// Test OpenID provider for Gatehouse's end-to-end tests.
//
// Runs oidc-provider on 127.0.0.1 with a fixed set of users and one confidential
// client. Login goes through oidc-provider's dev-interactions form: any known
// login with any password is accepted, and consent is granted automatically.
//
// Environment:
//   OP_PORT               port to listen on (default 29000)
//   RP_REDIRECT           comma-separated redirect URIs of the client
//   CLIENT_ID             client id (default "proxy")
//   CLIENT_SECRET         client secret (default "proxy-secret")
//   USERINFO_ONLY_GROUPS  "1": the groups claim is left out of ID tokens and
//                         only served from the userinfo endpoint
//
// Prints "listening" on stdout once it accepts connections.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT || 29000);
const issuer = `http://127.0.0.1:${port}`;
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

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientID,
    client_secret: clientSecret,
    redirect_uris: redirectURIs,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['gatehouse-test-op-cookie-key'] },
  // Each key is a scope; "groups" is a custom scope carrying the groups claim.
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // Put scope-granted claims into the ID token too (as most real IdPs do).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
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
});

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
