// A form generated from a plugin's JSON Schema (the config's object
// properties), and the API's 422 details shown beside the named fields.

let counter = 0;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

/** The schema's type(s) without null, and whether null is allowed. */
function types(schema) {
  const t = schema.type;
  const list = Array.isArray(t) ? t : t ? [t] : [];
  return { list: list.filter((x) => x !== 'null'), nullable: list.includes('null') };
}

function isScalarArray(schema) {
  const items = schema.items || {};
  const t = types(items).list;
  return types(schema).list[0] === 'array' && (t.includes('string') || t.includes('integer') || t.includes('number') || items.enum);
}

/** One field: its element and how to read it back (undefined: leave out). */
function field(name, schema, value, path, errors) {
  const id = `f${++counter}`;
  const { list, nullable } = types(schema);
  const kind = schema.enum ? 'enum' : list[0] || (schema.properties ? 'object' : 'json');
  const title = schema.title || name;
  const help = schema.description ? h('p', { class: 'help', id: `${id}-help`, text: schema.description }) : null;
  const err = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
  errors.set(path, err);
  const described = [help && `${id}-help`, `${id}-err`].filter(Boolean).join(' ');
  const current = value !== undefined ? value : schema.default;

  if (kind === 'object' && schema.properties) {
    const inner = objectFields(schema, current || {}, path, errors);
    const box = h('details', { class: 'nested', 'data-path': path },
      h('summary', { text: title }), help, err, inner.el);
    return { el: box, read: inner.read };
  }
  const wrap = h('div', { class: 'field', 'data-path': path });
  const label = h('label', { for: id, text: title });
  let input;
  let read;
  if (kind === 'boolean') {
    input = h('input', { id, type: 'checkbox', name: path, 'aria-describedby': described });
    input.checked = Boolean(current);
    read = () => input.checked;
    wrap.classList.add('check');
    wrap.append(...[input, label, help, err].filter(Boolean));
    return { el: wrap, read };
  }
  if (kind === 'enum') {
    input = h('select', { id, name: path, 'aria-describedby': described });
    if (nullable || current === undefined) input.append(h('option', { value: '', text: '—' }));
    for (const option of schema.enum) {
      const o = h('option', { value: JSON.stringify(option), text: String(option) });
      if (JSON.stringify(option) === JSON.stringify(current)) o.selected = true;
      input.append(o);
    }
    read = () => (input.value === '' ? (nullable ? null : undefined) : JSON.parse(input.value));
  } else if (kind === 'integer' || kind === 'number') {
    input = h('input', {
      id, name: path, type: 'number', inputmode: kind === 'integer' ? 'numeric' : 'decimal',
      step: kind === 'integer' ? '1' : 'any', 'aria-describedby': described,
    });
    if (current !== undefined && current !== null) input.value = String(current);
    read = () => {
      if (input.value.trim() === '') return nullable ? null : undefined;
      return Number(input.value);
    };
  } else if (kind === 'array' && isScalarArray(schema)) {
    const numeric = types(schema.items || {}).list.some((t) => t === 'integer' || t === 'number');
    input = h('input', { id, name: path, type: 'text', 'aria-describedby': described });
    input.value = Array.isArray(current) ? current.join(', ') : '';
    label.append(h('span', { class: 'muted', text: ' （逗号分隔 comma-separated）' }));
    read = () => {
      const parts = input.value.split(/[,，]/).map((s) => s.trim()).filter((s) => s !== '');
      return numeric ? parts.map(Number) : parts;
    };
  } else if (kind === 'string') {
    const long = (schema.maxLength || 0) > 200 || String(current || '').length > 60;
    input = h(long ? 'textarea' : 'input', { id, name: path, 'aria-describedby': described });
    if (!long) input.type = 'text';
    input.value = current === undefined || current === null ? '' : String(current);
    read = () => (input.value === '' && (nullable || current === undefined) ? (nullable ? null : undefined) : input.value);
  } else {
    // Anything the form does not model is edited as JSON.
    input = h('textarea', { id, name: path, class: 'json', 'aria-describedby': described });
    input.value = current === undefined ? '' : JSON.stringify(current, null, 2);
    label.append(h('span', { class: 'muted', text: ' (JSON)' }));
    read = () => {
      if (input.value.trim() === '') return undefined;
      try { return JSON.parse(input.value); } catch { return input.value; }
    };
  }
  wrap.append(...[label, help, input, err].filter(Boolean));
  return { el: wrap, read };
}

function objectFields(schema, value, path, errors) {
  const el = h('div', { class: 'fields' });
  const readers = [];
  for (const [name, sub] of Object.entries(schema.properties || {})) {
    const child = field(name, sub, value[name], `${path}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, errors);
    el.append(child.el);
    readers.push([name, child.read]);
  }
  const read = () => {
    const out = {};
    for (const [name, r] of readers) {
      const v = r();
      if (v !== undefined) out[name] = v;
    }
    return out;
  };
  return { el, read };
}

/**
 * The form for a config schema, filled with `value` (or the defaults).
 * Returns {el, read, showErrors, clearErrors}.
 */
export function schemaForm(schema, value) {
  const errors = new Map();
  const general = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const body = objectFields(schema || {}, value || {}, '', errors);
  const el = h('div', { class: 'schema-form' }, general, body.el);
  const clearErrors = () => {
    general.hidden = true;
    general.textContent = '';
    for (const err of errors.values()) {
      err.hidden = true;
      err.textContent = '';
      err.closest('.field, .nested')?.classList.remove('invalid');
    }
    for (const input of el.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  };
  /** Each problem beside its field, or the nearest enclosing one, or on top. */
  const showErrors = (details, message) => {
    clearErrors();
    let first = null;
    for (const d of details) {
      let path = d.path || '';
      while (path && !errors.has(path)) path = path.slice(0, path.lastIndexOf('/'));
      const err = path ? errors.get(path) : null;
      if (!err) {
        general.hidden = false;
        general.append(h('p', { text: d.message }));
        continue;
      }
      err.hidden = false;
      err.textContent = err.textContent ? `${err.textContent}; ${d.message}` : d.message;
      const box = err.closest('.field, .nested');
      box?.classList.add('invalid');
      // Open every collapsed group around the field, so the message shows.
      for (let d = err.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
      box?.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
      first = first || box;
    }
    if (!details.length && message) {
      general.hidden = false;
      general.textContent = message;
    }
    (first?.querySelector('input, select, textarea') || general).focus?.();
  };
  return { el, read: body.read, showErrors, clearErrors };
}

export { h };
