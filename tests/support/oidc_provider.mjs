// A real OAuth 2.1 / OpenID Connect authorization server for the tests: oidc-provider (npm),
// configured from the JSON in OIDC_TEST_CONFIG, listening on 127.0.0.1:<port>.
//
// - JWT access tokens bound to a resource (RFC 8707), or opaque ones, per resource server;
// - dynamic registration, client credentials, introspection, revocation, PKCE S256 always;
// - a headless sign-in: /interaction/<uid> approves at once as the configured account, so an
//   HTTP client that follows redirects completes the code flow without a browser.
// Config: {port, issuer, jwks: {keys: [private JWKs]}, clients: [...], account,
//          resources: {<url>: {scope, ttl, format: "jwt"|"opaque"}}, defaultResource,
//          refreshAlways, ttl: {...}}
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

// tools/node/node_modules, given by the harness (this file lives outside that tree)
const entry = path.join(process.env.OIDC_NODE_MODULES, "oidc-provider", "lib", "index.js");
const { default: Provider, errors } = await import(pathToFileURL(entry).href);

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const resources = config.resources || {};
const oidcScopes = new Set(["openid", "offline_access", "profile", "email"]);
const resourceScopes = new Set(
  Object.values(resources).flatMap((rs) => (rs.scope || "").split(" ").filter(Boolean)),
);

const provider = new Provider(config.issuer, {
  clients: config.clients || [],
  jwks: config.jwks,
  scopes: [...oidcScopes, ...resourceScopes],
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  cookies: { keys: ["test-cookie-key-not-secret"] },
  pkce: { required: () => true },
  responseTypes: ["code"],
  clientDefaults: { grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] },
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed("refresh_token") &&
    (config.refreshAlways || code.scopes.has("offline_access")),
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    ClientCredentials: (_ctx, token) =>
      token.resourceServer?.accessTokenTTL ?? config.ttl?.ClientCredentials ?? 300,
    AuthorizationCode: 60,
    IdToken: 300,
    Interaction: 300,
    Session: 3600,
    Grant: 3600,
    RefreshToken: 3600,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.defaultResource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const rs = resources[indicator];
        if (!rs) throw new errors.InvalidTarget();
        const info = { scope: rs.scope || "", audience: indicator, accessTokenTTL: rs.ttl };
        if ((rs.format || "jwt") === "jwt") {
          return { ...info, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } };
        }
        return { ...info, accessTokenFormat: "opaque" };
      },
    },
  },
});
provider.proxy = false;

async function approve(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params, prompt } = details;
  const accountId = config.account || "alice";
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant) grant = new provider.Grant({ accountId, clientId: params.client_id });
  const missing = prompt.details || {};
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  const grantId = await grant.save();
  const result = { consent: { grantId } };
  if (prompt.name === "login" || !details.session) result.login = { accountId };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const handler = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith("/interaction/")) {
    approve(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  handler(req, res);
});
server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`listening on ${config.issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
