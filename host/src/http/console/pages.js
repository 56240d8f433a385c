// Sign-in, all groups at a glance, and the plugin catalogue.

import { api, get, enc, token, ApiError } from './api.js';
import { h, section, table, button, labelled, toast, go, when } from './ui.js';

export async function signIn(main, done) {
  const input = h('input', { type: 'password', autocomplete: 'current-password', required: true, name: 'token' });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'signin card', 'aria-labelledby': 'signin-h' },
    h('h1', { id: 'signin-h', text: '登录 (Sign in)' }),
    h('p', { class: 'muted', text: '用 API 令牌登录；运营令牌只看到自己的群组。(Sign in with an API token; an operator token sees only its groups.)' }),
    labelled('API 令牌 (API token)', input), err,
    h('button', { type: 'submit', text: '登录 (Sign in)' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    token.set(input.value.trim());
    try {
      await get('/v1/groups');
      done();
    } catch (e) {
      token.clear();
      err.hidden = false;
      err.textContent = e instanceof ApiError && e.status === 401
        ? '令牌无效 (This token is not valid)' : e.message;
    }
  });
  main.append(form);
  input.focus();
}

function summaryRow(g) {
  const plugins = h('ul', { class: 'chips' }, ...g.plugins.map((p) => {
    const bad = g.disabled.includes(p) ? 'disabled' : g.failing.includes(p) ? 'failing' : '';
    const note = bad === 'disabled' ? '（已自动停用 auto-disabled）' : bad === 'failing' ? '（失败 failing）' : '';
    return h('li', { class: `chip ${bad}`, text: `${p}${note}` });
  }));
  return plugins;
}

export async function overview(main) {
  const { groups } = await get('/v1/overview');
  const parents = [...new Set(groups.map((g) => g.parent).filter(Boolean))].sort();
  const text = h('input', { type: 'search', name: 'q', placeholder: '名称、id、地区… (name, id, region…)' });
  const parent = h('select', { name: 'parent' }, h('option', { value: '', text: '全部 (All)' }),
    ...parents.map((p) => h('option', { value: p, text: p })));
  const list = h('div', { id: 'group-list' });
  const render = () => {
    const q = text.value.trim().toLowerCase();
    const shown = groups.filter((g) => (!parent.value || g.parent === parent.value || g.id === parent.value)
      && (!q || [g.id, g.name, g.region, g.positioning, g.category].some((v) => (v || '').toLowerCase().includes(q))));
    const attention = (g) => g.failing.length + g.disabled.length > 0;
    list.replaceChildren(table([
      ['群组 (Group)', (g) => h('a', { href: `#/g/${enc(g.id)}`, text: g.name || g.id })],
      ['成员 (Members)', (g) => g.members],
      ['本周加入/离开 (Joins/leaves, 7 days)', (g) => `+${g.joins_week} / −${g.leaves_week}`],
      ['消息/天 (Msgs/day)', (g) => g.messages_per_day.toFixed(1)],
      ['插件 (Plugins)', summaryRow],
      ['状态 (State)', (g) => (attention(g) ? h('span', { class: 'badge bad', text: '需处理 (Needs attention)' })
        : g.archived_at ? '已归档 (archived)' : h('span', { class: 'badge ok', text: '正常 (OK)' }))],
    ], shown, `${shown.length} / ${groups.length} 个群组 (groups)`));
  };
  text.addEventListener('input', render);
  parent.addEventListener('change', render);
  render();
  main.append(
    h('h1', { text: '全部群组 (All groups)' }),
    h('div', { class: 'filters' }, labelled('搜索 (Search)', text), labelled('联盟 (Parent / alliance)', parent)),
    list,
    createGroupForm(groups),
  );
}

function createGroupForm(groups) {
  const id = h('input', { name: 'id', pattern: '[A-Za-z0-9._-]{1,64}', autocomplete: 'off' });
  const name = h('input', { name: 'name', required: true });
  const tz = h('input', { name: 'timezone', value: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' });
  const parent = h('select', { name: 'parent' }, h('option', { value: '', text: '— 无 (none)' }),
    ...groups.map((g) => h('option', { value: g.id, text: g.id })));
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { id: 'create-group', novalidate: true },
    labelled('群组 id (Group id)', id), labelled('名称 (Name)', name),
    labelled('时区 (Time zone)', tz), labelled('所属联盟 (Parent)', parent), err,
    h('button', { type: 'submit', text: '创建群组 (Create group)' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.value, timezone: tz.value || 'UTC' };
    if (id.value) body.id = id.value;
    if (parent.value) body.parent = parent.value;
    try {
      const g = await api('POST', '/v1/groups', body);
      toast(`已创建 (Created) ${g.id}`);
      go(`#/g/${enc(g.id)}`);
    } catch (e) {
      err.hidden = false;
      err.textContent = e.message;
    }
  });
  return section('new-group', '新建群组 (New group)', form);
}

function verdictView(report) {
  return h('div', { class: `verdict ${report.passed ? 'pass' : 'fail'}`, id: 'verdict' },
    h('p', { class: 'verdict-line', text: report.passed
      ? `✓ ${report.plugin}: 全部检查通过 (all checks passed)` : `✗ ${report.plugin}: 检查未通过 (checks failed)` }),
    table([
      ['检查 (Check)', (c) => c.name],
      ['结果 (Result)', (c) => h('span', { class: `badge ${c.passed ? 'ok' : 'bad'}`, text: c.passed ? 'PASS' : 'FAIL' })],
      ['详情 (Detail)', (c) => h('pre', { text: c.detail })],
      ['毫秒 (ms)', (c) => c.duration_ms],
    ], report.checks));
}

function uploadForm() {
  const file = h('input', { type: 'file', name: 'plugin', accept: '.wasm,application/wasm' });
  const out = h('div', { 'aria-live': 'polite' });
  const check = h('button', { type: 'submit', text: '检查 (Check)' });
  const form = h('form', { id: 'upload' }, labelled('插件文件 (Plugin file, .wasm)', file), check, out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const blob = file.files[0];
    if (!blob) { out.replaceChildren(h('p', { class: 'form-error', text: '请选择文件 (Choose a file)' })); return; }
    check.disabled = true;
    out.replaceChildren(h('p', { class: 'muted', text: '检查中… (Running the conformance checks…)' }));
    try {
      const report = await api('POST', '/v1/plugin-checks', blob);
      const install = button('安装 (Install)', async () => {
        const p = await api('POST', '/v1/plugins', blob);
        toast(`已安装 (Installed) ${p.metadata.name} ${p.metadata.version}`);
        go('#/plugins');
      }, report.passed ? '' : 'danger');
      out.replaceChildren(verdictView(report), install);
    } catch (e) {
      out.replaceChildren(h('p', { class: 'form-error', role: 'alert', text: e.message }));
    } finally {
      check.disabled = false;
    }
  });
  return form;
}

async function versionsOf(name) {
  try {
    const { versions } = await get(`/v1/plugins/${enc(name)}/versions`);
    const upgrade = button('全部群组升级到最新版 (Upgrade every group to the latest)', async () => {
      await api('POST', `/v1/plugins/${enc(name)}/upgrade`, {});
      toast(`已升级 (Upgraded) ${name}`);
    });
    const list = table([
      ['版本 (Version)', (v) => `${v.metadata.version}${v.latest ? ' · 最新 (latest)' : ''}`],
      ['哈希 (sha256)', (v) => h('code', { text: v.sha256.slice(0, 12) })],
      ['安装于 (Installed)', (v) => when(v.installed_at)],
      ['运行于 (Runs on)', (v) => v.enabled_on.join(', ') || '—'],
      ['可回滚到此 (Rollback target on)', (v) => v.rollback_target_on.join(', ') || '—'],
    ], versions);
    return h('div', {}, list, versions.length > 1 ? upgrade : null,
      h('p', { class: 'muted', text: '单个群组的升级与回滚在群组页。(Upgrade or roll back one group on its page.)' }));
  } catch (e) {
    return h('p', { class: 'muted', text: e.message });
  }
}

export async function catalogue(main) {
  const { plugins } = await get('/v1/plugins');
  const rows = [];
  for (const p of plugins) {
    const d = h('details', { class: 'plugin' },
      h('summary', { text: `${p.metadata.name} ${p.metadata.version} (${p.metadata.kind})` }),
      h('p', { text: p.metadata.description }),
      h('p', { class: 'muted', text: `能力 (Capabilities): ${p.metadata.capabilities.join(', ') || '—'}` }));
    d.addEventListener('toggle', async () => {
      if (d.open && !d.dataset.loaded) {
        d.dataset.loaded = '1';
        d.append(await versionsOf(p.metadata.name));
      }
    }, { once: false });
    rows.push(d);
  }
  main.append(
    h('h1', { text: '插件目录 (Plugin catalogue)' }),
    section('upload-plugin', '上传并检查 (Upload and check)',
      h('p', { class: 'muted', text: '先运行 kith test 的检查，通过后再安装。(The file is checked with kith test’s checks before it is installed.)' }),
      uploadForm()),
    section('installed', `已安装 (Installed): ${plugins.length}`, ...rows),
  );
}
