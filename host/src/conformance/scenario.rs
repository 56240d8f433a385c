//! Scenario files: a language-neutral description of a plugin's behaviour.
//! `given` a group state, `when` events happen in order, `expect` members,
//! messages, actions, ledger balances and storage. YAML or JSON.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::dispatch::{Clock, Kith};
use crate::domain::*;
use crate::store::Transfer;

/// 2026-01-01T00:00:00Z: the default start of a scenario's clock.
pub const DEFAULT_CLOCK: Millis = 1_767_225_600_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// For the reader of the file; the host accepts it and does not use it.
    #[allow(dead_code, reason = "part of the file format, read by people only")]
    #[serde(default)]
    pub description: String,
    /// The plugin's config for this scenario; `{}` when absent.
    #[serde(default)]
    pub config: Option<Value>,
    #[serde(default)]
    pub given: Given,
    pub when: Vec<Step>,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    /// Unix ms when the scenario starts.
    pub clock: Option<Millis>,
    #[serde(default)]
    pub group: GroupSpec,
    /// Other groups of the same alliance (they share a parent group).
    #[serde(default)]
    pub siblings: Vec<GroupSpec>,
    #[serde(default)]
    pub members: Vec<MemberSpec>,
    #[serde(default)]
    pub balances: Vec<BalanceSpec>,
    /// The plugin's storage in the group: key -> JSON value (stored as JSON).
    #[serde(default)]
    pub storage: BTreeMap<String, Value>,
    /// Members the events bring in without joining first: a message from
    /// an unknown sender registers them, as it does from an adapter. Any
    /// other member a step names must be in `members` or have joined in an
    /// earlier step, so that a misspelled id is an error, not a newcomer.
    #[serde(default)]
    pub new_members: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    #[serde(default = "default_group_id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub settings: Option<Value>,
    /// Members of a sibling group, as a count of placeholder members.
    #[serde(default)]
    pub member_count: u32,
}

impl Default for GroupSpec {
    fn default() -> Self {
        GroupSpec {
            id: default_group_id(),
            name: None,
            timezone: default_timezone(),
            capacity: None,
            settings: None,
            member_count: 0,
        }
    }
}

fn default_group_id() -> String {
    "g".into()
}
fn default_timezone() -> String {
    "UTC".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub status: Option<MemberStatus>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub joined_at: Option<Millis>,
    #[serde(default)]
    pub last_active_at: Option<Millis>,
    #[serde(default)]
    pub inviter: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceSpec {
    pub account: String,
    #[serde(default = "default_asset")]
    pub asset: Asset,
    pub amount: i64,
}

fn default_asset() -> Asset {
    Asset::Points
}

/// One step of `when`. Each event gets the id `s<index>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Message {
        sender: String,
        text: String,
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        mentions: Vec<String>,
        #[serde(default)]
        reply_to: Option<String>,
        #[serde(default)]
        kind: Option<MessageKind>,
    },
    Reaction {
        message: String,
        member: String,
        emoji: String,
    },
    Payment {
        member: String,
        amount: i64,
        #[serde(default = "default_payment_status")]
        status: PaymentStatus,
        #[serde(default)]
        purpose: String,
        #[serde(default)]
        id: Option<String>,
    },
    Join(JoinRequestInput),
    Answer {
        member: String,
        answer: String,
    },
    Approve {
        member: String,
        #[serde(default)]
        reason: Option<String>,
    },
    Decline {
        member: String,
        #[serde(default)]
        reason: Option<String>,
    },
    Leave {
        member: String,
    },
    /// Moves the clock by this many milliseconds and fires the timers due.
    Advance(i64),
}

fn default_payment_status() -> PaymentStatus {
    PaymentStatus::Succeeded
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub members: Vec<MemberExpect>,
    /// Every post of the plugin, in order (omit to not check).
    pub posts: Option<Vec<TextExpect>>,
    /// Every direct message, in order (omit to not check).
    pub directs: Option<Vec<TextExpect>>,
    /// Every other adapter action (approve, decline, remove, delete, restrict, redirect), in order.
    pub actions: Option<Vec<ActionExpect>>,
    #[serde(default)]
    pub ledger: Vec<BalanceSpec>,
    /// key -> expected JSON value, or null for "absent".
    #[serde(default)]
    pub storage: BTreeMap<String, Value>,
    #[serde(default)]
    pub joins: Vec<JoinExpect>,
    /// Handler errors the scenario accepts (none by default).
    #[serde(default)]
    pub errors: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberExpect {
    pub id: String,
    pub role: Option<Role>,
    pub status: Option<MemberStatus>,
    pub tags: Option<Vec<String>>,
    pub points: Option<i64>,
    pub inviter: Option<String>,
    pub paid_tier: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextExpect {
    /// For direct messages: the recipient.
    pub member: Option<String>,
    pub text: Option<String>,
    pub contains: Option<String>,
    pub mentions: Option<Vec<String>>,
}

/// An adapter action: its kind, its member and any other field of its
/// payload (a removal's `reason`, a redirect's `to`, a refund's `amount`…),
/// each compared as JSON with what the action carries.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionExpect {
    pub action: String,
    pub member: Option<String>,
    #[serde(flatten)]
    pub fields: BTreeMap<String, Value>,
}

impl ActionExpect {
    fn matches(&self, action: &str, payload: &Value) -> bool {
        self.action == action
            && self.member.as_ref().is_none_or(|m| payload["member"] == *m)
            && self.fields.iter().all(|(k, v)| payload.get(k) == Some(v))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinExpect {
    pub member: String,
    pub status: JoinStatus,
    pub reason_contains: Option<String>,
}

fn show_expected_action(w: &ActionExpect) -> String {
    let mut fields = w.fields.clone();
    if let Some(m) = &w.member {
        fields.insert("member".into(), Value::String(m.clone()));
    }
    format!(
        "{} {}",
        w.action,
        serde_json::to_string(&fields).expect("JSON")
    )
}

/// Reads a scenario file (`.yaml`, `.yml` or `.json`).
///
/// # Errors
/// Every problem of the file at once, each with the line of its step where
/// the file is YAML: fields that do not parse, and members a step names
/// who are neither given nor joined (see [`Given::new_members`]).
pub fn load(path: &std::path::Path) -> anyhow::Result<Scenario> {
    use anyhow::Context;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // YAML goes through JSON values so that steps are written as maps
    // (`- message: {...}`), the same shape as in JSON files, not YAML tags.
    let value: Value = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text)?,
        _ => serde_yaml::from_str(&text)
            .with_context(|| format!("{} is not valid YAML", path.display()))?,
    };
    let lines = step_lines(&text);
    let at = |i: usize| match lines.get(i) {
        Some(line) => format!("line {line}: step {}", i + 1),
        None => format!("step {}", i + 1),
    };
    let mut problems = vec![];
    let mut steps = vec![];
    let listed = value.get("when").and_then(Value::as_array).cloned();
    for (i, step) in listed.iter().flatten().enumerate() {
        match serde_json::from_value::<Step>(step.clone()) {
            Ok(step) => steps.push((i, step)),
            Err(e) => problems.push(format!("{}: {e}", at(i))),
        }
    }
    let mut rest = value;
    if let Some(when) = rest.get_mut("when").filter(|w| w.is_array()) {
        *when = Value::Array(vec![]);
    }
    match serde_json::from_value::<Scenario>(rest) {
        Ok(mut scenario) => {
            problems.extend(unknown_members(&scenario, &steps, at));
            scenario.when = steps.into_iter().map(|(_, s)| s).collect();
            if problems.is_empty() {
                return Ok(scenario);
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    anyhow::bail!(
        "{} is not a valid scenario:\n  {}",
        path.display(),
        problems.join("\n  ")
    )
}

/// The line (1-based) where each step of a YAML `when:` list starts: the
/// lines at the list's indentation that open an item.
fn step_lines(text: &str) -> Vec<usize> {
    let mut lines = text.lines().enumerate();
    if !lines.any(|(_, l)| l.trim_end() == "when:") {
        return vec![];
    }
    let mut indent = None;
    let mut out = vec![];
    for (n, line) in lines {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let this = line.len() - body.len();
        if this == 0 && !body.starts_with('-') {
            break;
        }
        if body.starts_with("- ") && *indent.get_or_insert(this) == this {
            out.push(n + 1);
        }
    }
    out
}

/// Members a step names who are not in `given.members`, have not joined
/// in an earlier step and are not declared `new_members`: a misspelled id
/// would otherwise become a new member and the scenario still pass.
fn unknown_members(
    scenario: &Scenario,
    steps: &[(usize, Step)],
    at: impl Fn(usize) -> String,
) -> Vec<String> {
    let given = &scenario.given;
    let mut known: std::collections::BTreeSet<&str> = given
        .members
        .iter()
        .map(|m| m.id.as_str())
        .chain(given.new_members.iter().map(String::as_str))
        .collect();
    let mut problems = vec![];
    for (i, step) in steps {
        let named = match step {
            Step::Join(j) => {
                known.insert(&j.member);
                j.referrer.as_deref()
            }
            Step::Message { sender, .. } => Some(sender.as_str()),
            Step::Reaction { member, .. }
            | Step::Payment { member, .. }
            | Step::Answer { member, .. }
            | Step::Approve { member, .. }
            | Step::Decline { member, .. }
            | Step::Leave { member } => Some(member.as_str()),
            Step::Advance(_) => None,
        };
        if let Some(m) = named.filter(|m| !known.contains(m)) {
            problems.push(format!(
                "{}: member {m:?} is not in given.members and has not joined; \
                 list them in given.new_members if the step brings them in",
                at(*i)
            ));
        }
    }
    for m in &scenario.expect.members {
        if !known.contains(m.id.as_str()) {
            problems.push(format!(
                "expect.members: {:?} is not in given.members, given.new_members or any join",
                m.id
            ));
        }
    }
    problems
}

/// Runs a scenario against a fresh in-process host; returns the differences
/// between what was expected and what happened (empty: it passed).
/// `runtime` is shared across scenarios: a plugin is compiled once.
pub async fn run(
    runtime: &Arc<crate::runtime::Runtime>,
    wasm: &[u8],
    scenario: &Scenario,
    limits: Limits,
) -> anyhow::Result<Vec<String>> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(scenario.given.clock.unwrap_or(DEFAULT_CLOCK));
    let url = format!("sqlite://{}", dir.path().join("kith.db").display());
    let kith = Kith::new(
        crate::store::Store::connect(&url).await?,
        runtime.clone(),
        clock.clone(),
    );
    let installed = kith
        .install_plugin(wasm)
        .await
        .map_err(|e| anyhow::anyhow!("install: {e}"))?;
    let plugin = installed.metadata.name.clone();
    let group = set_up(&kith, &plugin, &scenario.given).await?;
    let enable = crate::dispatch::EnableInput {
        config: scenario.config.clone(),
        limits: Some(serde_json::to_value(limits).expect("plain data")),
        ..Default::default()
    };
    kith.enable_plugin(&Actor::Open, &group, &plugin, enable)
        .await
        .map_err(|e| anyhow::anyhow!("enable: {e}"))?;

    for (i, step) in scenario.when.iter().enumerate() {
        run_step_on(&kith, &clock, &group, &format!("s{i}"), step)
            .await
            .map_err(|e| anyhow::anyhow!("step {} ({step:?}): {e}", i + 1))?;
    }
    let diffs = compare(&kith, &group, &plugin, &scenario.expect).await?;
    kith.store.close().await;
    Ok(diffs)
}

async fn set_up(kith: &Arc<Kith>, plugin: &str, given: &Given) -> anyhow::Result<GroupId> {
    use crate::dispatch::GroupInput;
    let spec_input = |g: &GroupSpec, parent: Option<String>| GroupInput {
        id: Some(g.id.clone()),
        name: Some(g.name.clone().unwrap_or_else(|| format!("Group {}", g.id))),
        timezone: Some(g.timezone.clone()),
        capacity: g.capacity,
        settings: g.settings.clone(),
        parent,
        ..Default::default()
    };
    let parent = if given.siblings.is_empty() {
        None
    } else {
        kith.create_group(GroupInput {
            id: Some("alliance".into()),
            name: Some("Alliance".into()),
            ..Default::default()
        })
        .await?;
        Some("alliance".to_string())
    };
    let err = |e: crate::dispatch::ServiceError| anyhow::anyhow!("given: {e}");
    let group = kith
        .create_group(spec_input(&given.group, parent.clone()))
        .await
        .map_err(err)?
        .id;
    let now = kith.clock.now();
    // Groups first: creating one takes its own transaction.
    for sibling in &given.siblings {
        kith.create_group(spec_input(sibling, parent.clone()))
            .await
            .map_err(err)?;
    }
    let mut tx = kith.store.begin().await?;
    for sibling in &given.siblings {
        for n in 0..sibling.member_count {
            let mut m = Member::new(&sibling.id, &format!("{}-member-{n}", sibling.id), "member");
            m.status = MemberStatus::Active;
            m.joined_at = Some(now);
            tx.upsert_member(&m).await?;
        }
    }
    for spec in &given.members {
        let mut m = Member::new(
            &group,
            &spec.id,
            spec.display_name.as_deref().unwrap_or(&spec.id),
        );
        m.role = spec.role.unwrap_or(Role::Member);
        m.status = spec.status.unwrap_or(MemberStatus::Active);
        m.joined_at = spec
            .joined_at
            .or(Some(now))
            .filter(|_| m.status != MemberStatus::Pending);
        m.last_active_at = spec.last_active_at;
        m.inviter = spec.inviter.clone();
        tx.upsert_member(&m).await?;
        for tag in &spec.tags {
            tx.set_tag(&group, &spec.id, tag, true).await?;
        }
    }
    for (i, b) in given.balances.iter().enumerate() {
        let to = Account::parse(&b.account).map_err(anyhow::Error::msg)?;
        let from = if b.asset == Asset::Money {
            Account::External
        } else {
            Account::Issuer
        };
        tx.transfer(Transfer {
            group: &group,
            id: &format!("given-{i}"),
            from: &from,
            to: &to,
            asset: b.asset,
            amount: b.amount,
            memo: "given",
            plugin: None,
            at: now,
        })
        .await?;
    }
    for (key, value) in &given.storage {
        tx.storage_set(plugin, &group, key, &serde_json::to_vec(value)?)
            .await?;
    }
    tx.commit().await?;
    Ok(group)
}

/// Carries out one step on a group, as event `id`.
pub async fn run_step_on(
    kith: &Arc<Kith>,
    clock: &Clock,
    group: &str,
    id: &str,
    step: &Step,
) -> Result<(), crate::dispatch::ServiceError> {
    let event = |body: EventBody| IncomingEvent {
        id: id.to_string(),
        group: group.to_string(),
        at: None,
        body,
    };
    match step.clone() {
        Step::Message {
            sender,
            text,
            id: message_id,
            mentions,
            reply_to,
            kind,
        } => {
            let kind = kind.unwrap_or(MessageKind::Text);
            kith.ingest(event(EventBody::Message {
                sender,
                text,
                kind,
                mentions,
                reply_to,
                message_id,
            }))
            .await?;
        }
        Step::Reaction {
            message,
            member,
            emoji,
        } => {
            kith.ingest(event(EventBody::Reaction {
                message_id: message,
                member,
                emoji,
            }))
            .await?;
        }
        Step::Payment {
            member,
            amount,
            status,
            purpose,
            id: payment_id,
        } => {
            let payment_id = payment_id.unwrap_or_else(|| format!("pay-{id}"));
            kith.ingest(event(EventBody::Payment {
                payment_id,
                member,
                amount,
                currency: "CNY".into(),
                status,
                purpose,
            }))
            .await?;
        }
        Step::Join(mut input) => {
            // `referrer: ann` joins with ann's referral code, as her link
            // carries it (none when she is not active: no attribution);
            // `referral_code:` names a code as given, e.g. a forged one.
            if let Some(referrer) = input.referrer.take() {
                let code = kith.referral_code(group, &referrer).await;
                input.referral_code = code.ok().map(|c| c.code);
            }
            kith.ingest(event(EventBody::JoinRequested(input))).await?;
        }
        Step::Answer { member, answer } => {
            kith.ingest(event(EventBody::ChallengeAnswer { member, answer }))
                .await?;
        }
        Step::Approve { member, reason } => {
            kith.review(
                &Actor::Open,
                group,
                &member,
                true,
                reason.unwrap_or_else(|| "approved".into()),
            )
            .await?;
        }
        Step::Decline { member, reason } => {
            kith.review(
                &Actor::Open,
                group,
                &member,
                false,
                reason.unwrap_or_else(|| "declined".into()),
            )
            .await?;
        }
        Step::Leave { member } => {
            kith.ingest(event(EventBody::MemberLeft { member })).await?;
        }
        Step::Advance(ms) => {
            clock.advance(ms);
            // Timers that fire may set timers due right away: settle them.
            for _ in 0..100 {
                if kith.fire_due_timers().await? == 0 {
                    break;
                }
            }
        }
    }
    Ok(())
}

fn show(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn text_matches(
    want: &TextExpect,
    text: &str,
    mentions: &[String],
    member: Option<&str>,
) -> Vec<String> {
    let mut out = vec![];
    if let Some(t) = &want.text {
        if t != text {
            out.push(format!("text: expected {t:?}, got {text:?}"));
        }
    }
    if let Some(c) = &want.contains {
        if !text.contains(c.as_str()) {
            out.push(format!("text: expected to contain {c:?}, got {text:?}"));
        }
    }
    if let Some(m) = &want.mentions {
        if m.as_slice() != mentions {
            out.push(format!("mentions: expected {m:?}, got {mentions:?}"));
        }
    }
    if let (Some(w), Some(got)) = (&want.member, member) {
        if w != got {
            out.push(format!("member: expected {w:?}, got {got:?}"));
        }
    }
    out
}

async fn compare(
    kith: &Arc<Kith>,
    group: &str,
    plugin: &str,
    expect: &Expect,
) -> anyhow::Result<Vec<String>> {
    let mut diffs = vec![];
    for want in &expect.members {
        let Some(got) = kith.store.get_member(group, &want.id).await? else {
            diffs.push(format!(
                "members[{}]: expected a member, found none",
                want.id
            ));
            continue;
        };
        let mut check = |field: &str, expected: Option<String>, actual: String| {
            if let Some(e) = expected {
                if e != actual {
                    diffs.push(format!(
                        "members[{}].{field}: expected {e}, got {actual}",
                        want.id
                    ));
                }
            }
        };
        check(
            "role",
            want.role.map(|r| r.to_string()),
            got.role.to_string(),
        );
        check(
            "status",
            want.status.map(|s| s.to_string()),
            got.status.to_string(),
        );
        check(
            "points",
            want.points.map(|p| p.to_string()),
            got.points.to_string(),
        );
        check(
            "inviter",
            want.inviter.clone(),
            got.inviter.clone().unwrap_or_default(),
        );
        check(
            "paid_tier",
            want.paid_tier.clone(),
            got.paid_tier.clone().unwrap_or_default(),
        );
        if let Some(tags) = &want.tags {
            let mut t = tags.clone();
            t.sort();
            check("tags", Some(show(&t)), show(&got.tags));
        }
    }

    let actions = kith
        .store
        .outbox(Some(group), 0, crate::store::MAX_LIST)
        .await?;
    let by_plugin: Vec<&OutboxAction> = actions
        .iter()
        .filter(|a| a.plugin.as_deref() == Some(plugin) || a.plugin.is_none())
        .collect();
    let str_of = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let list_of = |v: &Value, k: &str| -> Vec<String> {
        serde_json::from_value(v[k].clone()).unwrap_or_default()
    };
    for (kind, wanted) in [("post", &expect.posts), ("direct", &expect.directs)] {
        let Some(wanted) = wanted else { continue };
        let got: Vec<&&OutboxAction> = by_plugin.iter().filter(|a| a.action == kind).collect();
        if got.len() != wanted.len() {
            let texts: Vec<String> = got.iter().map(|a| str_of(&a.payload, "text")).collect();
            diffs.push(format!(
                "{kind}s: expected {} messages, got {}: {}",
                wanted.len(),
                got.len(),
                show(&texts)
            ));
        }
        for (i, (want, a)) in wanted.iter().zip(got.iter()).enumerate() {
            let member = str_of(&a.payload, "member");
            for d in text_matches(
                want,
                &str_of(&a.payload, "text"),
                &list_of(&a.payload, "mentions"),
                Some(&member),
            ) {
                diffs.push(format!("{kind}s[{i}].{d}"));
            }
        }
    }
    if let Some(wanted) = &expect.actions {
        let got: Vec<&OutboxAction> = actions
            .iter()
            .filter(|a| a.action != "post" && a.action != "direct")
            .collect();
        let matches = got.len() == wanted.len()
            && got
                .iter()
                .zip(wanted)
                .all(|(a, w)| w.matches(&a.action, &a.payload));
        if !matches {
            let want: Vec<String> = wanted.iter().map(show_expected_action).collect();
            let got: Vec<String> = got
                .iter()
                .map(|a| format!("{} {}", a.action, a.payload))
                .collect();
            diffs.push(format!(
                "actions: expected {}, got {}",
                show(&want),
                show(&got)
            ));
        }
    }
    for b in &expect.ledger {
        let got = kith.store.balance(group, &b.account, b.asset).await?;
        if got != b.amount {
            diffs.push(format!(
                "ledger[{} {}]: expected {}, got {got}",
                b.account, b.asset, b.amount
            ));
        }
    }
    for problem in super::audit::ledger(&kith.store, group, plugin).await? {
        diffs.push(format!("ledger: {problem}"));
    }
    for (key, want) in &expect.storage {
        let got = kith.store.storage_get(plugin, group, key).await?;
        let got_value = got.map(|bytes| {
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        });
        let got_value = got_value.unwrap_or(Value::Null);
        if &got_value != want {
            diffs.push(format!(
                "storage[{key}]: expected {}, got {}",
                show(want),
                show(&got_value)
            ));
        }
    }
    let requests = kith.store.list_join_requests(group, None).await?;
    for want in &expect.joins {
        match requests.iter().rev().find(|r| r.member == want.member) {
            None => diffs.push(format!(
                "joins[{}]: expected a join request, found none",
                want.member
            )),
            Some(r) => {
                if r.status != want.status {
                    diffs.push(format!(
                        "joins[{}].status: expected {}, got {} ({})",
                        want.member,
                        want.status,
                        r.status,
                        r.reason.clone().unwrap_or_default()
                    ));
                }
                if let Some(c) = &want.reason_contains {
                    let reason = r.reason.clone().unwrap_or_default();
                    if !reason.contains(c.as_str()) {
                        diffs.push(format!(
                            "joins[{}].reason: expected to contain {c:?}, got {reason:?}",
                            want.member
                        ));
                    }
                }
            }
        }
    }
    let failures: Vec<String> = kith
        .store
        .invocations(group, Some(plugin), crate::store::MAX_LIST)
        .await?
        .into_iter()
        .filter_map(|i| i.error)
        .collect();
    if failures.len() > expect.errors {
        diffs.push(format!(
            "invocations: {} failed (expected at most {}): {}",
            failures.len(),
            expect.errors,
            failures.join("; ")
        ));
    }
    Ok(diffs)
}
