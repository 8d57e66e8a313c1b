// A real OpenID Connect provider for the single sign-on tests (oidc-provider, loopback only).
//
// Env: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (space separated).
// The built-in development login form (devInteractions) accepts any login and password;
// the login becomes the account id (`sub`), and its `preferred_username` is the login in lower
// case, as a school directory normalises it. Consent is skipped for the one first-party
// client, so the login form is the only page the browser sees here.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 0);
const issuer = `http://127.0.0.1:${port}`;

const configuration = {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: (process.env.OIDC_REDIRECT_URIS || '').split(/\s+/).filter(Boolean),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id.toLowerCase(), name: `Test ${id}` };
      },
    };
  },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
  // Every client must send PKCE (S256), confidential ones included.
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile');
    grant.addOIDCClaims(['preferred_username', 'name']);
    await grant.save();
    return grant;
  },
  // Signs the provider's own cookies; its ID token signing keys are the quick-start ones.
  cookies: { keys: ['second-transcript-oidc-tests'] },
};

const provider = new Provider(issuer, configuration);
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
