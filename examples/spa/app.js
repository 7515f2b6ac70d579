// The example single-page app: OAuth 2.0 authorization code flow with PKCE (S256) against the
// dev issuer of `portcullis dev`, then the Portcullis API with the access token.
//
// Tokens live in sessionStorage: they survive the redirects of a sign-in and a reload of the
// tab, and are gone when the tab closes. A script injected into this origin could read them,
// as it could read memory; the page's strict Content-Security-Policy (no inline script, no
// other origin) is what keeps such scripts out.

const CLIENT_ID = 'portcullis-dev';
const ISSUER = `${location.origin}/dev-issuer`;
const REDIRECT_URI = `${location.origin}${location.pathname}`;
const TOKENS = 'portcullis-example.tokens';
const PENDING = 'portcullis-example.pending';

const $ = (id) => document.getElementById(id);

function base64url(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function s256(text) {
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** The payload of a JWT, for display only: the API verifies tokens, the app does not need to. */
function claims(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

let metadata;
async function discover() {
  if (!metadata) {
    const res = await fetch(`${ISSUER}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    metadata = await res.json();
  }
  return metadata;
}

function say(text) {
  $('message').textContent = text;
}

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS));
  } catch {
    return null;
  }
}

function save(response) {
  const previous = saved() || {};
  const tokens = {
    access_token: response.access_token,
    id_token: response.id_token || previous.id_token,
    // A refresh response carries the rotated refresh token; keep the old one only if none came.
    refresh_token: response.refresh_token || previous.refresh_token,
    expires_at: Date.now() + (response.expires_in || 0) * 1000,
  };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  return tokens;
}

/** Starts a sign-in; `extra` carries a step-up challenge's `acr_values` and `max_age`. */
async function signIn(extra = {}, returnPath) {
  const meta = await discover();
  const verifier = randomString();
  const pending = { verifier, state: randomString(), nonce: randomString(), returnPath };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
    ...extra,
  }).toString();
  location.assign(url.toString());
}

async function tokenRequest(params) {
  const meta = await discover();
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...params }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`token endpoint: ${body.error || res.status}${body.error_description ? ` (${body.error_description})` : ''}`);
  return body;
}

/** Back from the issuer: check `state`, trade the code, check the ID token's `nonce`. */
async function finishSignIn(query) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', REDIRECT_URI);
  if (query.get('error')) {
    throw new Error(`sign-in refused: ${query.get('error')}${query.get('error_description') ? ` (${query.get('error_description')})` : ''}`);
  }
  if (!pending || query.get('state') !== pending.state) {
    throw new Error('sign-in answer does not match a sign-in this tab started (state)');
  }
  const response = await tokenRequest({
    grant_type: 'authorization_code',
    code: query.get('code'),
    redirect_uri: REDIRECT_URI,
    code_verifier: pending.verifier,
  });
  if (response.id_token && claims(response.id_token).nonce !== pending.nonce) {
    throw new Error('the ID token does not carry this sign-in\'s nonce');
  }
  save(response);
  return pending.returnPath;
}

async function api(path) {
  const tokens = saved();
  return fetch(path, { headers: { authorization: `Bearer ${tokens.access_token}` } });
}

/** The parameters of a `WWW-Authenticate: Bearer ...` challenge. */
function challenge(header) {
  const params = {};
  for (const m of (header || '').matchAll(/([a-z_]+)=(?:"([^"]*)"|([^\s,]+))/gi)) {
    params[m[1]] = m[2] ?? m[3];
  }
  return params;
}

let stepUp;

async function call(path) {
  $('step-up-needed').hidden = true;
  const res = await api(path);
  $('call-status').textContent = `${res.status} ${res.statusText}`;
  $('call-body').textContent = await res.text();
  const params = challenge(res.headers.get('www-authenticate'));
  if (res.status === 401 && params.error === 'insufficient_user_authentication') {
    stepUp = { path, extra: {} };
    if (params.acr_values) stepUp.extra.acr_values = params.acr_values;
    if (params.max_age) stepUp.extra.max_age = params.max_age;
    $('step-up-needed').hidden = false;
  }
}

async function showMe() {
  const res = await api('/v1/me');
  if (res.status === 401) {
    sessionStorage.removeItem(TOKENS);
    say('The API refused the token (expired or revoked): sign in again.');
    return showSignedOut();
  }
  if (!res.ok) throw new Error(`/v1/me answered ${res.status}`);
  const me = await res.json();
  const tokens = saved();
  const access = claims(tokens.access_token);
  $('username').textContent = me.username || me.sub;
  $('sub').textContent = me.sub;
  $('email').textContent = me.email || '(none)';
  $('user-id').textContent = me.id;
  $('expires').textContent = new Date(access.exp * 1000).toISOString();
  $('amr').textContent = Array.isArray(access.amr) ? access.amr.join(', ') : '(none)';
  const list = $('orgs');
  list.replaceChildren();
  for (const m of me.memberships || []) {
    const item = document.createElement('li');
    item.textContent = `${m.org_name} (${m.role})`;
    item.dataset.orgId = m.org_id;
    list.append(item);
  }
  if (!list.children.length) {
    const item = document.createElement('li');
    item.textContent = 'No organization yet.';
    list.append(item);
  }
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
}

function showSignedOut() {
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
}

async function refresh() {
  const tokens = saved();
  const response = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  save(response);
  say('Token refreshed.');
  await showMe();
}

/** Revokes the refresh token (its whole session), then ends the issuer's browser session. */
async function signOut() {
  const meta = await discover();
  const tokens = saved();
  sessionStorage.removeItem(TOKENS);
  if (tokens?.refresh_token) {
    await fetch(meta.revocation_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CLIENT_ID, token: tokens.refresh_token }),
    });
  }
  const url = new URL(meta.end_session_endpoint);
  url.search = new URLSearchParams({ client_id: CLIENT_ID, logout_uri: REDIRECT_URI }).toString();
  location.assign(url.toString());
}

function guarded(action) {
  return async (event) => {
    event?.preventDefault();
    try {
      await action();
    } catch (error) {
      say(error.message);
    }
  };
}

async function start() {
  $('sign-in').addEventListener('click', guarded(() => signIn()));
  $('refresh').addEventListener('click', guarded(refresh));
  $('sign-out').addEventListener('click', guarded(signOut));
  $('step-up').addEventListener('click', guarded(() => signIn(stepUp.extra, stepUp.path)));
  $('call').addEventListener('submit', guarded(() => call($('path').value)));
  const query = new URLSearchParams(location.search);
  let returnPath;
  if (query.has('code') || query.has('error')) {
    try {
      returnPath = await finishSignIn(query);
    } catch (error) {
      say(error.message);
    }
  }
  if (!saved()) return showSignedOut();
  await showMe();
  if (returnPath) {
    $('path').value = returnPath;
    await call(returnPath);
  }
  document.body.dataset.ready = 'true';
}

guarded(start)().finally(() => {
  document.body.dataset.ready = 'true';
});
