// Small helpers shared by the pages: elements, sections, times, notices.

export { h } from './form.js';
import { h } from './form.js';

let router = (hash) => { location.hash = hash; };

/** Set by app.js: navigates (and re-renders when the hash is the same). */
export function setRouter(go) { router = go; }
export function go(hash) { router(hash); }

export function toast(text) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.classList.add('show');
  setTimeout(() => el.classList.remove('show'), 4000);
}

/** A titled section with an id (for links and tests). */
export function section(id, title, ...children) {
  return h('section', { id, class: 'card', 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h`, tabindex: '-1', text: title }), ...children);
}

/** A time in a zone, e.g. 2026/12/8 09:00:00. */
export function when(ms, tz) {
  if (ms === null || ms === undefined) return '—';
  try {
    return new Intl.DateTimeFormat('zh-CN', { timeZone: tz || 'UTC', dateStyle: 'short', timeStyle: 'medium' })
      .format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

/** A table from rows; columns = [[heading, row => text or node]]. */
export function table(columns, rows, caption) {
  const head = h('tr', {}, ...columns.map(([t]) => h('th', { scope: 'col', text: t })));
  const body = rows.map((r) => h('tr', {}, ...columns.map(([t, f]) => {
    const v = f(r);
    const td = h('td', { 'data-label': t });
    td.append(v instanceof Node ? v : document.createTextNode(v === undefined || v === null ? '' : String(v)));
    return td;
  })));
  const t = h('table', {}, caption ? h('caption', { text: caption }) : null, h('thead', {}, head), h('tbody', {}, ...body));
  return h('div', { class: 'table-wrap' }, t);
}

/** A button that runs an async action, showing failures as a notice. */
export function button(text, action, cls) {
  const b = h('button', { type: 'button', class: cls, text });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await action(); } catch (e) { toast(`失败 (Failed): ${e.message}`); } finally { b.disabled = false; }
  });
  return b;
}

/** A labelled input. */
export function labelled(text, input) {
  const id = input.id || `i${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text }), input);
}
