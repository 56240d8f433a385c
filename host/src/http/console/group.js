// One group: charts, plugins (order, config form, limits, grants,
// upgrade, rollback), a test message, invocations, members and applicants,
// ledger and outbox.

import { api, get, enc, ApiError } from './api.js';
import { h, section, table, button, labelled, toast, when } from './ui.js';
import { schemaForm } from './form.js';
import { lineChart, barChart, funnelChart } from './charts.js';

export async function groupPage(main, id) {
  const g = await get(`/v1/groups/${enc(id)}`);
  const base = `/v1/groups/${enc(id)}`;
  const ctx = { g, base, tz: g.timezone };
  const jump = h('nav', { class: 'jump', 'aria-label': '本页 (On this page)' },
    ...[['charts', '图表 Charts'], ['plugins', '插件 Plugins'], ['try', '发消息 Post'], ['invocations', '调用 Invocations'],
      ['members', '成员 Members'], ['ledger', '账本 Ledger'], ['outbox', '发件箱 Outbox']]
      .map(([s, t]) => h('a', { href: `#/g/${enc(id)}`, 'data-section': s, text: t })));
  jump.addEventListener('click', (ev) => {
    const s = ev.target.dataset?.section;
    if (s) { ev.preventDefault(); document.getElementById(s)?.scrollIntoView(); document.getElementById(`${s}-h`)?.focus(); }
  });
  main.append(
    h('h1', { text: `${g.name} (${g.id})` }),
    h('p', { class: 'muted', text: `时区 (Time zone) ${g.timezone} · 成员 (members) ${g.counts.active} · 待审 (pending) ${g.counts.pending}${g.parent ? ` · 联盟 (parent) ${g.parent}` : ''}${g.archived_at ? ' · 已归档 (archived)' : ''}` }),
    jump,
  );
  const parts = [charts, plugins, tryIt, invocations, members, ledger, outbox];
  ctx.refresh = {};
  for (const part of parts) {
    const el = await part(ctx);
    main.append(el);
  }
}

async function charts(ctx) {
  const box = h('div', { class: 'charts' });
  ctx.refresh.charts = async () => {
    const s = await get(`${ctx.base}/stats?days=30`);
    const labels = s.days.map((d) => d.day);
    box.replaceChildren(
      lineChart('成员数 (Members over time)', labels, [{ name: '成员 (members)', values: s.days.map((d) => d.members) }]),
      barChart('每日消息 (Messages per day)', labels, s.days.map((d) => d.messages)),
      barChart('每日签到 (Check-ins per day)', labels, s.days.map((d) => d.checkins)),
      lineChart('加入与离开 (Joins and leaves)', labels, [
        { name: '加入 (joins)', values: s.days.map((d) => d.joins) },
        { name: '离开 (leaves)', values: s.days.map((d) => d.leaves) }]),
      funnelChart('漏斗 (Funnel)', [
        { label: '已加入 joined', value: s.funnel.joined }, { label: '活跃 active', value: s.funnel.active },
        { label: '付费 paid', value: s.funnel.paid }, { label: 'VIP', value: s.funnel.vip }]),
    );
  };
  await ctx.refresh.charts();
  return section('charts', '图表 (Charts, 30 天 days)', box);
}

function limitsFields(limits) {
  const inputs = {};
  const el = h('fieldset', { class: 'limits' }, h('legend', { text: '限额 (Limits)' }),
    ...['fuel', 'timeout_ms', 'memory_bytes', 'max_effects', 'storage_bytes', 'messages_per_minute'].map((k) => {
      inputs[k] = h('input', { type: 'number', name: `limits.${k}`, min: 0, step: 1, value: limits?.[k] ?? '' });
      return labelled(k, inputs[k]);
    }));
  const read = () => Object.fromEntries(Object.entries(inputs)
    .filter(([, i]) => i.value !== '').map(([k, i]) => [k, Number(i.value)]));
  return { el, read };
}

function grantFields(declared, granted) {
  const boxes = declared.map((c) => {
    const input = h('input', { type: 'checkbox', name: `cap.${c}`, value: c });
    input.checked = !granted || granted.includes(c);
    input.id = `cap-${c}-${Math.random().toString(36).slice(2, 7)}`;
    return h('div', { class: 'field check' }, input, h('label', { for: input.id, text: c }));
  });
  const el = h('fieldset', { class: 'grants' }, h('legend', { text: '授予的能力 (Capability grants)' }), ...boxes);
  const read = () => [...el.querySelectorAll('input:checked')].map((i) => i.value);
  return { el, read };
}

/** The config form of one plugin, submitted as an enable. */
function configForm(ctx, plugin, enablement, done) {
  const meta = plugin.metadata;
  const form = schemaForm(meta.config_schema, enablement ? enablement.config : undefined);
  const limits = limitsFields(enablement?.limits);
  const grants = grantFields(meta.capabilities, enablement?.capabilities);
  const submit = h('button', { type: 'submit', text: enablement ? '保存配置 (Save config)' : '启用 (Enable)' });
  const el = h('form', { class: 'config', novalidate: true, 'data-plugin': meta.name },
    h('h3', { text: `${meta.name} ${meta.version}` }), h('p', { class: 'muted', text: meta.description }),
    form.el, h('details', {}, h('summary', { text: '限额与能力 (Limits and grants)' }), limits.el, grants.el), submit);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    form.clearErrors();
    const body = { config: form.read(), replace_config: true, limits: limits.read(), capabilities: grants.read() };
    try {
      await api('PUT', `${ctx.base}/plugins/${enc(meta.name)}`, body);
      toast(`已保存 (Saved) ${meta.name}`);
      await done();
    } catch (e) {
      if (e instanceof ApiError) form.showErrors(e.details, e.message);
      else toast(e.message);
    } finally {
      submit.disabled = false;
    }
  });
  return el;
}

async function plugins(ctx) {
  const box = h('div', {});
  const render = async () => {
    const [{ plugins: enabled, warnings }, { plugins: installed }] = await Promise.all([
      get(`${ctx.base}/plugins`), get('/v1/plugins')]);
    const byName = Object.fromEntries(installed.map((p) => [p.metadata.name, p]));
    const editor = h('div', { id: 'plugin-editor' });
    const rows = enabled.map((e, i) => enabledRow(ctx, e, i, enabled, byName, editor, render));
    const choose = h('select', { name: 'plugin' }, h('option', { value: '', text: '— 选择插件 (choose a plugin)' }),
      ...installed.filter((p) => !enabled.some((e) => e.plugin === p.metadata.name))
        .map((p) => h('option', { value: p.metadata.name, text: `${p.metadata.name} (${p.metadata.kind})` })));
    choose.addEventListener('change', () => {
      const p = byName[choose.value];
      editor.replaceChildren(p ? configForm(ctx, p, null, render) : '');
    });
    box.replaceChildren(
      h('ol', { class: 'enabled' }, ...rows),
      ...warnings.map((w) => h('p', { class: 'warning', text: w })),
      h('div', { class: 'enable-new' }, labelled('启用插件 (Enable a plugin)', choose)),
      editor);
  };
  ctx.refresh.plugins = render;
  await render();
  return section('plugins', '插件（按运行顺序）(Plugins, in run order)', box);
}

function enabledRow(ctx, e, i, all, byName, editor, render) {
  const order = async (delta) => {
    const names = all.map((x) => x.plugin);
    [names[i], names[i + delta]] = [names[i + delta], names[i]];
    await api('PUT', `${ctx.base}/plugins/order`, { plugins: names });
    await render();
  };
  const state = e.disabled_reason ? h('span', { class: 'badge bad', text: `已自动停用 (auto-disabled): ${e.disabled_reason}` })
    : e.consecutive_failures > 0 ? h('span', { class: 'badge warn', text: `连续失败 ${e.consecutive_failures} 次 (failing): ${e.last_error || ''}` })
      : h('span', { class: 'badge ok', text: '正常 (OK)' });
  const p = byName[e.plugin];
  const actions = h('div', { class: 'actions' },
    button('↑', () => order(-1), 'small'), button('↓', () => order(1), 'small'),
    button('配置 (Configure)', async () => { editor.replaceChildren(configForm(ctx, p, e, render)); editor.querySelector('input, select, textarea, button')?.focus(); }),
    button('升级 (Upgrade)', async () => { await api('POST', `${ctx.base}/plugins/${enc(e.plugin)}/upgrade`, {}); toast('已升级 (Upgraded)'); await render(); }),
    e.previous ? button('回滚 (Roll back)', async () => { await api('POST', `${ctx.base}/plugins/${enc(e.plugin)}/rollback`); toast('已回滚 (Rolled back)'); await render(); }) : null,
    button('停用 (Disable)', async () => { await api('DELETE', `${ctx.base}/plugins/${enc(e.plugin)}`); toast(`已停用 (Disabled) ${e.plugin}`); await render(); }, 'danger'));
  actions.children[0].setAttribute('aria-label', `上移 (Move up) ${e.plugin}`);
  actions.children[1].setAttribute('aria-label', `下移 (Move down) ${e.plugin}`);
  actions.children[0].disabled = i === 0;
  actions.children[1].disabled = i === all.length - 1;
  return h('li', { class: `enabled-plugin ${e.disabled_reason ? 'disabled' : e.consecutive_failures > 0 ? 'failing' : ''}`, 'data-plugin': e.plugin },
    h('strong', { text: `${e.position + 1}. ${e.plugin}` }), ' ',
    h('code', { text: (p && p.metadata.version) ? `${e.sha256.slice(0, 8)} (latest ${p.metadata.version})` : e.sha256.slice(0, 8) }), ' ', state, actions);
}

async function tryIt(ctx) {
  const sender = h('input', { name: 'sender', value: 'amy', required: true });
  const text = h('input', { name: 'text', value: '签到', required: true });
  const out = h('p', { class: 'muted', 'aria-live': 'polite' });
  const form = h('form', { id: 'post-message', class: 'inline' },
    labelled('发送者 (Sender)', sender), labelled('内容 (Text)', text),
    h('button', { type: 'submit', text: '发送消息 (Post message)' }), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('POST', `${ctx.base}/messages`, { sender: sender.value, text: text.value });
      const ran = (r.invocations || []).map((i) => `${i.plugin} ${i.handler}`).join(', ') || '—';
      out.textContent = `事件已处理 (Event processed) ${r.event_id}: ${ran}`;
      await Promise.all([ctx.refresh.invocations(), ctx.refresh.charts(), ctx.refresh.members()]);
    } catch (e) {
      out.textContent = e.message;
    }
  });
  return section('try', '发一条消息试试 (Post a test message as an event)', form);
}

async function invocations(ctx) {
  const box = h('div', {});
  ctx.refresh.invocations = async () => {
    const { invocations: list } = await get(`${ctx.base}/invocations?limit=30`);
    box.replaceChildren(list.length ? table([
      ['时间 (At)', (v) => when(v.at, ctx.tz)],
      ['插件 (Plugin)', (v) => v.plugin],
      ['处理器 (Handler)', (v) => v.handler],
      ['结果 (Result)', (v) => h('span', { class: `badge ${v.ok ? 'ok' : 'bad'}`, text: v.ok ? 'ok' : '失败 failed' })],
      ['燃料 (Fuel)', (v) => v.fuel_used.toLocaleString('zh-CN')],
      ['耗时 (Time)', (v) => `${(v.duration_us / 1000).toFixed(1)} ms`],
      ['日志与错误 (Logs, error)', (v) => h('pre', { text: [v.error, ...v.logs.map((l) => `[${l.level}] ${l.message}`)].filter(Boolean).join('\n') })],
    ], list) : h('p', { class: 'muted', text: '还没有调用 (No invocations yet)' }));
  };
  await ctx.refresh.invocations();
  return section('invocations', '最近调用 (Recent invocations)', box);
}

async function members(ctx) {
  const search = h('input', { type: 'search', name: 'member-q', placeholder: 'id、名称、标签 (id, name, tag)' });
  const status = h('select', { name: 'status' }, ...['active', 'pending', 'left', 'removed', 'declined', 'redirected']
    .map((s) => h('option', { value: s, text: s })));
  const list = h('div', {});
  const pending = h('div', { id: 'applicants' });
  let rows = [];
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = rows.filter((m) => !q || [m.id, m.display_name, ...m.tags].some((v) => v.toLowerCase().includes(q)));
    list.replaceChildren(table([
      ['id', (m) => m.id], ['名称 (Name)', (m) => m.display_name], ['角色 (Role)', (m) => m.role],
      ['标签 (Tags)', (m) => m.tags.join(', ')], ['积分 (Points)', (m) => m.points], ['状态 (Status)', (m) => m.status],
      ['最近活跃 (Last active)', (m) => when(m.last_active_at, ctx.tz)],
    ], shown, `${shown.length} 人 (members)`));
  };
  ctx.refresh.members = async () => {
    rows = (await get(`${ctx.base}/members?status=${enc(status.value)}&limit=1000`)).members;
    draw();
    const { join_requests: reqs } = await get(`${ctx.base}/join-requests?status=pending`);
    pending.replaceChildren(reqs.length ? table([
      ['申请人 (Applicant)', (r) => `${r.display_name} (${r.member})`],
      ['时间 (Requested)', (r) => when(r.requested_at, ctx.tz)],
      ['回答 (Answer)', (r) => r.answer || '—'],
      ['操作 (Actions)', (r) => h('div', { class: 'actions' },
        button('通过 (Approve)', () => review(ctx, r.member, 'approve')),
        button('拒绝 (Decline)', () => review(ctx, r.member, 'decline'), 'danger'))],
    ], reqs, '待审申请 (Pending applicants)') : h('p', { class: 'muted', text: '没有待审申请 (No pending applicants)' }));
  };
  search.addEventListener('input', draw);
  status.addEventListener('change', () => ctx.refresh.members());
  await ctx.refresh.members();
  return section('members', '成员 (Members)',
    h('div', { class: 'filters' }, labelled('搜索 (Search)', search), labelled('状态 (Status)', status)), list, pending);
}

async function review(ctx, member, verdict) {
  await api('POST', `${ctx.base}/join-requests/${enc(member)}/${verdict}`, {});
  toast(verdict === 'approve' ? '已通过 (Approved)' : '已拒绝 (Declined)');
  await ctx.refresh.members();
}

async function ledger(ctx) {
  const totals = await get(`${ctx.base}/ledger`);
  const account = h('input', { name: 'account', placeholder: 'member:amy' });
  const out = h('div', {});
  const form = h('form', { class: 'inline' }, labelled('账户 (Account)', account), h('button', { type: 'submit', text: '查询 (Look up)' }), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const a = await get(`${ctx.base}/ledger/${enc(account.value.trim())}`);
      out.replaceChildren(h('p', { text: `余额 (Balance): ${a.balance} ${a.asset}` }), table([
        ['时间 (At)', (x) => when(x.at, ctx.tz)], ['金额 (Amount)', (x) => x.amount], ['备注 (Memo)', (x) => x.memo]], a.entries));
    } catch (e) {
      out.replaceChildren(h('p', { class: 'form-error', text: e.message }));
    }
  });
  return section('ledger', '账本 (Ledger)',
    h('p', { text: `积分合计 (Points sum) ${totals.sums.points} · 金额合计 (Money sum) ${totals.sums.money}（应为 0，should be 0）` }), form);
}

async function outbox(ctx) {
  let body;
  try {
    const { actions } = await get(`/v1/outbox?group=${enc(ctx.g.id)}&limit=30`);
    body = actions.length ? table([
      ['#', (a) => a.id], ['动作 (Action)', (a) => a.action], ['插件 (Plugin)', (a) => a.plugin || 'host'],
      ['内容 (Payload)', (a) => h('pre', { text: JSON.stringify(a.payload) })], ['时间 (Queued)', (a) => when(a.created_at, ctx.tz)],
    ], actions) : h('p', { class: 'muted', text: '发件箱为空 (Outbox empty)' });
  } catch (e) {
    body = h('p', { class: 'muted', text: e.status === 403 ? '发件箱需要管理员令牌 (The outbox needs an admin token)' : e.message });
  }
  return section('outbox', '发件箱（待适配器发送）(Outbox, for the adapter)', body);
}

