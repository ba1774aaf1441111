// cadence console — the session: who the console calls the API as. Today a bearer token pasted
// by the user and kept in this tab's sessionStorage; this file is the one place that knows it,
// so a single sign-on (OIDC) login can replace it: keep `Session.headers()`, `Session.signedIn()`,
// `Session.begin(credential)` and `Session.end()`.
'use strict';

const Session = (() => {
  const KEY = 'cadence.token';
  let token = sessionStorage.getItem(KEY) || '';
  return {
    signedIn: () => token !== '',
    begin(credential) { token = credential; },
    keep() { sessionStorage.setItem(KEY, token); },
    end() { token = ''; sessionStorage.removeItem(KEY); },
    headers(extra) { return Object.assign({ Authorization: 'Bearer ' + token }, extra || {}); },
  };
})();
