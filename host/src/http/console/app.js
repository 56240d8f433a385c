// The console's entry: a hash router over the pages, sign-in and sign-out.

import { token, ApiError } from './api.js';
import { signIn, overview, catalogue } from './pages.js';
import { groupPage } from './group.js';
import { toast, setRouter } from './ui.js';

const main = document.getElementById('main');
const signout = document.getElementById('signout');

/** Whether the API answers without a token (open mode). */
async function openMode() {
  try {
    await fetch('/v1/groups').then((r) => { if (!r.ok) throw new ApiError(r.status, null); });
    return true;
  } catch {
    return false;
  }
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  const hash = location.hash || '#/';
  const signedIn = Boolean(token.get()) || (await openMode());
  signout.hidden = !token.get();
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  try {
    if (!signedIn || hash === '#/signin') {
      await signIn(main, () => go('#/'));
    } else if (hash.startsWith('#/g/')) {
      await groupPage(main, decodeURIComponent(hash.slice(4)));
    } else if (hash === '#/plugins') {
      await catalogue(main);
    } else {
      await overview(main);
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      token.clear();
      toast('令牌无效或已过期 (Token invalid or expired)');
      await signIn(main, () => go('#/'));
    } else {
      const p = document.createElement('p');
      p.className = 'form-error';
      p.setAttribute('role', 'alert');
      p.textContent = `出错了 (Error): ${e.message}`;
      main.append(p);
    }
  } finally {
    main.removeAttribute('aria-busy');
    for (const a of document.querySelectorAll('header nav a')) {
      a.toggleAttribute('aria-current', a.getAttribute('href') === hash);
    }
  }
}

// The skip link moves the focus; as a plain link it would change the route.
document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
signout.addEventListener('click', () => {
  token.clear();
  go('#/signin');
});
setRouter(go);
window.addEventListener('hashchange', route);
route();

