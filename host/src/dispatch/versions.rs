//! Plugin versions side by side: listing them, upgrading an enablement (or
//! all of a plugin's) to another version, rolling one back, uninstalling a
//! version nothing runs.
//!
//! An upgrade checks before it changes anything: the same world, the config
//! valid against the new version's schema, every capability granted
//! declared. Capabilities the new version adds are not granted by the
//! upgrade (the operator grants them, with `grant`). Storage and timers are
//! the plugin's, not the version's: they stay. `on-enabled` runs again.

use super::*;
use crate::store::{Enablement, InstalledPlugin, PinnedVersion};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One installed version, and where it runs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionInfo {
    /// The version as installed: metadata (its `version`), content hash.
    #[serde(flatten)]
    pub installed: InstalledPlugin,
    /// Whether a new enablement runs it (the latest installed).
    pub latest: bool,
    /// The groups whose enablement runs it.
    pub enabled_on: Vec<GroupId>,
    /// The groups that would go back to it on a rollback.
    pub rollback_target_on: Vec<GroupId>,
    /// The groups where it runs in shadow.
    pub shadow_on: Vec<GroupId>,
}

/// How to upgrade one enablement.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeInput {
    /// The version to run: a content hash (or its first 8+ characters) or
    /// a version string naming one installed build. Default: the latest.
    #[serde(default)]
    pub to: Option<String>,
    /// A whole new config, for a version whose schema the current config
    /// does not fit. Default: the current config.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// Capabilities to grant beyond those kept (the current grant, less
    /// what the new version no longer declares): typically what it adds.
    #[serde(default)]
    pub grant: Vec<Capability>,
    /// Check and report, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// How to upgrade every enablement of a plugin.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeAllInput {
    /// As [`UpgradeInput::to`].
    #[serde(default)]
    pub to: Option<String>,
    /// New configs by group, for groups whose config the new schema refuses.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub configs: BTreeMap<GroupId, Value>,
    /// As [`UpgradeInput::grant`], for every group.
    #[serde(default)]
    pub grant: Vec<Capability>,
    /// Check every group and report, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A version, as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VersionRef {
    /// The version string of its metadata.
    pub version: String,
    /// Its content hash.
    pub sha256: String,
}

/// What an upgrade changes in what the plugin may do.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CapabilityDiff {
    /// Declared by the new version, not by the old one.
    pub added: Vec<Capability>,
    /// Declared by the old version, not by the new one (no longer granted).
    pub removed: Vec<Capability>,
    /// Granted after the upgrade.
    pub granted: Vec<Capability>,
    /// Declared by the new version but not granted: it runs without them
    /// until an operator grants them (`grant`, or `capabilities` on enable).
    pub not_granted: Vec<Capability>,
}

/// One enablement's upgrade (or rollback), done or, on a dry run, checked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Upgraded {
    /// The group.
    pub group: GroupId,
    /// What it ran.
    pub from: VersionRef,
    /// What it runs now (or would).
    pub to: VersionRef,
    /// What the new version may do.
    pub capabilities: CapabilityDiff,
    /// The enablement as stored now (or as it would be).
    pub enablement: Enablement,
    /// What `on-enabled` did; absent on a dry run.
    pub on_enabled: Option<EventOutcome>,
}

/// Every enablement's upgrade, done or checked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UpgradeReport {
    /// True when nothing was changed.
    pub dry_run: bool,
    /// One per enablement that changes version, by group.
    pub upgraded: Vec<Upgraded>,
}

impl Kith {
    /// A plugin's installed versions, newest first, and where each runs.
    ///
    /// # Errors
    /// `NotFound` for a plugin not installed.
    pub async fn plugin_versions(&self, name: &str) -> Result<Vec<VersionInfo>> {
        let latest = self.store.get_plugin(name).await?.sha256;
        let enablements = self.store.enablements_of(name).await?;
        let groups = |pinned: &dyn Fn(&Enablement) -> Option<String>, sha: &str| -> Vec<GroupId> {
            enablements
                .iter()
                .filter(|e| pinned(e).as_deref() == Some(sha))
                .map(|e| e.group.clone())
                .collect()
        };
        let current = |e: &Enablement| Some(e.sha256.clone());
        let previous = |e: &Enablement| e.previous.as_ref().map(|p| p.sha256.clone());
        let shadow = |e: &Enablement| e.shadow.as_ref().map(|s| s.sha256.clone());
        Ok(self
            .store
            .plugin_versions(name)
            .await?
            .into_iter()
            .map(|v| VersionInfo {
                latest: v.sha256 == latest,
                enabled_on: groups(&current, &v.sha256),
                rollback_target_on: groups(&previous, &v.sha256),
                shadow_on: groups(&shadow, &v.sha256),
                installed: v,
            })
            .collect())
    }

    /// The installed version `spec` names (a content hash, 8+ of its first
    /// characters, or a version string of one build); `None`: the latest.
    ///
    /// # Errors
    /// `NotFound` when nothing matches; `Unprocessable` when a version
    /// string names several builds.
    pub async fn resolve_version(&self, name: &str, spec: Option<&str>) -> Result<InstalledPlugin> {
        let Some(spec) = spec.map(str::trim) else {
            let latest = self.store.get_plugin(name).await?;
            return Ok(self.store.get_plugin_version(name, &latest.sha256).await?);
        };
        let versions = self.store.plugin_versions(name).await?;
        let by_hash = |v: &&InstalledPlugin| spec.len() >= 8 && v.sha256.starts_with(spec);
        if let Some(v) = versions.iter().find(by_hash) {
            return Ok(v.clone());
        }
        let named: Vec<&InstalledPlugin> = versions
            .iter()
            .filter(|v| v.metadata.version == spec)
            .collect();
        match named.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ServiceError::NotFound(format!(
                "version {spec:?} of plugin {name:?} (installed: {})",
                versions
                    .iter()
                    .map(|v| format!("{} {:.12}", v.metadata.version, v.sha256))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            _ => Err(ServiceError::Unprocessable(format!(
                "{} builds of plugin {name:?} say version {spec:?}: name one by its sha256",
                named.len()
            ))),
        }
    }

    /// Uninstalls one version, or with `None` every version and the name.
    ///
    /// # Errors
    /// `Conflict` naming the groups when an enablement runs the version (or
    /// would go back to it on a rollback); `NotFound`.
    pub async fn uninstall_plugin(&self, name: &str, version: Option<&str>) -> Result<()> {
        let doomed: Vec<InstalledPlugin> = match version {
            Some(spec) => vec![self.resolve_version(name, Some(spec)).await?],
            None => self.store.plugin_versions(name).await?,
        };
        if doomed.is_empty() {
            return Err(ServiceError::NotFound(format!("plugin {name:?}")));
        }
        let in_use = self.versions_in_use(name, &doomed).await?;
        if !in_use.is_empty() {
            return Err(ServiceError::Conflict(format!(
                "plugin {name:?} cannot be uninstalled: {}; disable or upgrade it there first",
                in_use.join("; ")
            )));
        }
        let mut tx = self.store.begin().await?;
        for v in &doomed {
            tx.delete_plugin_version(name, &v.sha256).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where the given versions run or are a rollback target, as text.
    async fn versions_in_use(
        &self,
        name: &str,
        versions: &[InstalledPlugin],
    ) -> Result<Vec<String>> {
        let listed = self.plugin_versions(name).await?;
        Ok(listed
            .iter()
            .filter(|v| versions.iter().any(|d| d.sha256 == v.installed.sha256))
            .flat_map(|v| {
                let which = format!(
                    "version {} ({:.12})",
                    v.installed.metadata.version, v.installed.sha256
                );
                let runs = (!v.enabled_on.is_empty())
                    .then(|| format!("{which} runs on {}", v.enabled_on.join(", ")));
                let back = (!v.rollback_target_on.is_empty()).then(|| {
                    format!(
                        "{which} is the rollback target on {}",
                        v.rollback_target_on.join(", ")
                    )
                });
                runs.into_iter().chain(back)
            })
            .collect())
    }

    /// Upgrades (or, with `to`, moves) one group's enablement to another
    /// version, then runs its `on-enabled` again.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` when it already runs that version;
    /// `Unprocessable` for another world, a config the new schema refuses,
    /// or a grant the new version does not declare.
    pub async fn upgrade_plugin(
        &self,
        actor: &Actor,
        group: &str,
        name: &str,
        input: UpgradeInput,
    ) -> Result<Upgraded> {
        self.writable_group(group).await?;
        let target = self.resolve_version(name, input.to.as_deref()).await?;
        let current = self.store.get_enablement(group, name).await?;
        if current.sha256 == target.sha256 {
            return Err(ServiceError::Conflict(format!(
                "{name} on {group} already runs version {} ({:.12})",
                target.metadata.version, target.sha256
            )));
        }
        let plan = self
            .plan_upgrade(&current, &target, input.config, &input.grant)
            .await?;
        if input.dry_run {
            return Ok(plan);
        }
        self.apply_upgrade(actor, plan, "plugin.upgrade").await
    }

    /// Upgrades every enablement of a plugin that runs another version:
    /// all are checked first, and if any would fail nothing changes (a 422
    /// naming each group and why).
    ///
    /// # Errors
    /// As [`Kith::upgrade_plugin`], for all groups at once.
    pub async fn upgrade_everywhere(
        &self,
        actor: &Actor,
        name: &str,
        input: UpgradeAllInput,
    ) -> Result<UpgradeReport> {
        let target = self.resolve_version(name, input.to.as_deref()).await?;
        let mut plans = vec![];
        let mut refused = vec![];
        for e in self.store.enablements_of(name).await? {
            if e.sha256 == target.sha256 {
                continue;
            }
            let config = input.configs.get(&e.group).cloned();
            match self.plan_upgrade(&e, &target, config, &input.grant).await {
                Ok(plan) => plans.push(plan),
                Err(why) => refused.push(format!("{}: {why}", e.group)),
            }
        }
        if !refused.is_empty() {
            return Err(ServiceError::Unprocessable(format!(
                "no group was upgraded; {} cannot be: {}",
                refused.len(),
                refused.join("; ")
            )));
        }
        let mut upgraded = vec![];
        for plan in plans {
            upgraded.push(match input.dry_run {
                true => plan,
                false => self.apply_upgrade(actor, plan, "plugin.upgrade").await?,
            });
        }
        Ok(UpgradeReport {
            dry_run: input.dry_run,
            upgraded,
        })
    }

    /// Puts a group's enablement back on the version, config and grant it
    /// ran before its last upgrade (a second rollback undoes the first).
    ///
    /// # Errors
    /// `Conflict` when it was never upgraded; `NotFound` when that version
    /// was uninstalled since.
    pub async fn rollback_plugin(
        &self,
        actor: &Actor,
        group: &str,
        name: &str,
    ) -> Result<Upgraded> {
        self.writable_group(group).await?;
        let current = self.store.get_enablement(group, name).await?;
        let Some(previous) = current.previous.clone() else {
            return Err(ServiceError::Conflict(format!(
                "{name} on {group} was never upgraded: there is nothing to roll back to"
            )));
        };
        let target = self
            .store
            .get_plugin_version(name, &previous.sha256)
            .await?;
        let mut plan = self
            .plan_upgrade(&current, &target, Some(previous.config), &[])
            .await?;
        plan.enablement.capabilities = previous.capabilities;
        plan.capabilities.granted = plan.enablement.capabilities.clone();
        self.apply_upgrade(actor, plan, "plugin.rollback").await
    }

    /// Checks an upgrade of `current` to `target` and returns what it would
    /// store, changing nothing.
    async fn plan_upgrade(
        &self,
        current: &Enablement,
        target: &InstalledPlugin,
        config: Option<Value>,
        grant: &[Capability],
    ) -> Result<Upgraded> {
        let running = self
            .store
            .get_plugin_version(&current.plugin, &current.sha256)
            .await?;
        let (old, new) = (&running.metadata, &target.metadata);
        if old.kind != new.kind {
            return Err(ServiceError::Unprocessable(format!(
                "version {} of {} is {} {}, not {} {}: a change of world is refused \
                 (install it under another name)",
                new.version,
                new.name,
                article(new.kind.as_str()),
                new.kind,
                article(old.kind.as_str()),
                old.kind
            )));
        }
        let mut config = config.unwrap_or_else(|| current.config.clone());
        super::enablements::fit_config(&new.config_schema, &mut config, &new.name)?;
        if let Some(extra) = grant.iter().find(|c| !new.capabilities.contains(c)) {
            return Err(ServiceError::Unprocessable(format!(
                "version {} of {} does not declare capability {extra}",
                new.version, new.name
            )));
        }
        let mut granted: Vec<Capability> = current.granted(&new.capabilities);
        for c in grant {
            if !granted.contains(c) {
                granted.push(*c);
            }
        }
        let diff = CapabilityDiff {
            added: minus(&new.capabilities, &old.capabilities),
            removed: minus(&old.capabilities, &new.capabilities),
            not_granted: minus(&new.capabilities, &granted),
            granted: granted.clone(),
        };
        let enablement = Enablement {
            config,
            capabilities: granted,
            sha256: target.sha256.clone(),
            previous: Some(PinnedVersion {
                sha256: current.sha256.clone(),
                config: current.config.clone(),
                capabilities: current.capabilities.clone(),
            }),
            consecutive_failures: 0,
            last_error: None,
            ..current.clone()
        };
        Ok(Upgraded {
            group: current.group.clone(),
            from: version_ref(&running),
            to: version_ref(target),
            capabilities: diff,
            enablement,
            on_enabled: None,
        })
    }

    /// Stores a checked upgrade in its group's turn (the enablement read
    /// again: it must not have changed meanwhile), then runs `on-enabled`.
    async fn apply_upgrade(
        &self,
        actor: &Actor,
        mut plan: Upgraded,
        action: &str,
    ) -> Result<Upgraded> {
        let (group, name) = (plan.group.clone(), plan.enablement.plugin.clone());
        let mut turn = self.group_turn(&group).await?;
        let now = self.store.uncached().get_enablement(&group, &name).await?;
        let before = plan
            .enablement
            .previous
            .clone()
            .expect("a plan keeps what it replaces");
        if now.sha256 != before.sha256 || now.config != before.config {
            return Err(ServiceError::Conflict(format!(
                "{name} on {group} changed while it was being upgraded; try again"
            )));
        }
        // Its place, limits, policy and on/off state as they are now.
        let planned = plan.enablement;
        // Moving to the version in shadow (a promotion) ends the shadow.
        let shadow = now.shadow.clone().filter(|s| s.sha256 != planned.sha256);
        plan.enablement = Enablement {
            shadow,
            config: planned.config,
            capabilities: planned.capabilities,
            sha256: planned.sha256,
            previous: planned.previous,
            consecutive_failures: 0,
            last_error: None,
            ..now
        };
        let mut tx = turn.begin(&self.store).await?;
        tx.put_enablement(&plan.enablement).await?;
        let detail = serde_json::json!({"from": plan.from, "to": plan.to, "capabilities": plan.capabilities});
        tx.audit(&group, actor, action, &name, &detail, self.clock.now())
            .await?;
        tx.commit().await?;
        drop(turn);
        if plan.enablement.disabled_reason.is_none() {
            plan.on_enabled = Some(self.notify_enabled(&group, &name).await?);
        }
        Ok(plan)
    }
}

fn version_ref(v: &InstalledPlugin) -> VersionRef {
    VersionRef {
        version: v.metadata.version.clone(),
        sha256: v.sha256.clone(),
    }
}

/// What `a` has that `b` has not, in `a`'s order.
fn minus(a: &[Capability], b: &[Capability]) -> Vec<Capability> {
    a.iter().copied().filter(|c| !b.contains(c)).collect()
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// How to run a candidate version in shadow.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowInput {
    /// As [`UpgradeInput::to`].
    #[serde(default)]
    pub to: Option<String>,
    /// Its config; default: the live version's, which must then fit.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// A version in shadow and how it compares so far.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShadowReport {
    /// The version in shadow, its config and since when.
    pub shadow: crate::store::Shadow,
    /// Its version string.
    pub version: String,
    /// Events it ran on.
    pub runs: i64,
    /// Of those, where it did not do what the live version did.
    pub differing: i64,
    /// The latest differing runs, newest first (at most 50).
    pub diffs: Vec<crate::store::ShadowRun>,
}

impl Kith {
    /// Runs a candidate version in shadow beside a group's live one.
    ///
    /// # Errors
    /// As [`Kith::upgrade_plugin`]'s checks (world, config).
    pub async fn start_shadow(
        &self,
        actor: &Actor,
        group: &str,
        name: &str,
        input: ShadowInput,
    ) -> Result<ShadowReport> {
        let target = self.resolve_version(name, input.to.as_deref()).await?;
        let current = self.store.get_enablement(group, name).await?;
        let plan = self
            .plan_upgrade(&current, &target, input.config, &[])
            .await?;
        let shadow = crate::store::Shadow {
            sha256: target.sha256.clone(),
            config: plan.enablement.config,
            since: self.clock.now(),
        };
        let detail = serde_json::json!({"version": plan.to});
        self.set_shadow(actor, group, name, Some(shadow), "plugin.shadow", &detail)
            .await?;
        self.shadow_report(group, name).await
    }

    /// Stops a shadow run (its record stays).
    ///
    /// # Errors
    /// `NotFound` when there is none.
    pub async fn stop_shadow(&self, actor: &Actor, group: &str, name: &str) -> Result<()> {
        self.shadow_of(group, name).await?;
        let detail = serde_json::json!({});
        self.set_shadow(actor, group, name, None, "plugin.shadow.stop", &detail)
            .await
    }

    /// How the version in shadow compares with the live one so far.
    ///
    /// # Errors
    /// `NotFound` when no version runs in shadow.
    pub async fn shadow_report(&self, group: &str, name: &str) -> Result<ShadowReport> {
        let shadow = self.shadow_of(group, name).await?;
        let version = self.store.get_plugin_version(name, &shadow.sha256).await?;
        let (runs, differing, diffs) = self
            .store
            .shadow_runs(group, name, &shadow.sha256, 50)
            .await?;
        Ok(ShadowReport {
            version: version.metadata.version,
            shadow,
            runs,
            differing,
            diffs,
        })
    }

    /// Promotes the version in shadow: an upgrade to it, with its config.
    ///
    /// # Errors
    /// `NotFound` when no version runs in shadow; as an upgrade otherwise.
    pub async fn promote_shadow(&self, actor: &Actor, group: &str, name: &str) -> Result<Upgraded> {
        let shadow = self.shadow_of(group, name).await?;
        let input = UpgradeInput {
            to: Some(shadow.sha256),
            config: Some(shadow.config),
            ..Default::default()
        };
        self.upgrade_plugin(actor, group, name, input).await
    }

    async fn shadow_of(&self, group: &str, name: &str) -> Result<crate::store::Shadow> {
        self.store
            .get_enablement(group, name)
            .await?
            .shadow
            .ok_or_else(|| {
                ServiceError::NotFound(format!("a version of {name} in shadow on {group}"))
            })
    }

    async fn set_shadow(
        &self,
        actor: &Actor,
        group: &str,
        name: &str,
        shadow: Option<crate::store::Shadow>,
        action: &str,
        detail: &Value,
    ) -> Result<()> {
        self.writable_group(group).await?;
        let mut turn = self.group_turn(group).await?;
        let mut e = self.store.uncached().get_enablement(group, name).await?;
        let mut tx = turn.begin(&self.store).await?;
        if let Some(new) = &shadow {
            tx.clear_shadow_runs(group, name, &new.sha256).await?;
        }
        e.shadow = shadow;
        tx.put_enablement(&e).await?;
        tx.audit(group, actor, action, name, detail, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
