//! A group's plugins: enabling, configuring, ordering and disabling them.
//! Positions are always 0..n; every change goes into the group's audit log
//! in the change's own transaction.

use super::*;
use crate::store::{Enablement, InstalledPlugin, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How a plugin is enabled on a group, or how its enablement changes. `{}`
/// enables it with defaults, or (enabled already) changes nothing but runs
/// its `on-enabled` handler again. What is absent keeps its current value.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableInput {
    /// Changes to the plugin's config, merged into the current config as a
    /// JSON Merge Patch (RFC 7396: a member replaces, a null removes); with
    /// `replace_config`, the whole new config. The result is validated
    /// against the plugin's schema. A first enable takes it as sent. A merge
    /// cannot set a member to null (null removes it, leaving the plugin's
    /// default): send the whole config with `replace_config` for that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// Replace the config with `config` instead of merging into it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace_config: bool,
    /// Where it runs among the group's plugins, from 0; the others move to
    /// make room. Defaults to where it is, else where it was when it was
    /// last disabled, else last. `kith plugin order` reorders them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Capabilities granted; defaults to the current grant, or on a first
    /// enable to all the plugin declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<Capability>>,
    /// Limits to change; the fields given replace the current ones (a first
    /// enable starts from the defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Limits>)]
    pub limits: Option<Value>,
    /// What a failure means, and when the plugin is switched off; the
    /// fields given replace the current ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<FailurePolicy>)]
    pub policy: Option<Value>,
}

/// An enablement as changed, what its `on-enabled` handler did, and what is
/// odd about the group's order now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enabled {
    /// The enablement as stored now.
    pub enablement: Enablement,
    /// What the plugin's `on-enabled` handler did.
    pub on_enabled: EventOutcome,
    /// E.g. a moderation plugin that runs after a game.
    pub warnings: Vec<String>,
}

/// A group's enablements in run order, and what is odd about the order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnablementList {
    /// In run order, switched-off ones included (see `disabled_reason`).
    pub plugins: Vec<Enablement>,
    /// Plugins that prefer to run earlier than they do.
    pub warnings: Vec<String>,
}

impl Kith {
    /// Enables (or reconfigures) a plugin on a group, then runs its
    /// `on-enabled` handler. Takes effect for the next event; no restart.
    ///
    /// # Errors
    /// `NotFound` for an unknown group or plugin, `Conflict` for an archived
    /// group, `Unprocessable` for a config, grant, limit or policy that does
    /// not fit the plugin, `Invalid` for out-of-range limits.
    pub async fn enable_plugin(
        &self,
        actor: &Actor,
        group: &str,
        name: &str,
        input: EnableInput,
    ) -> Result<Enabled> {
        self.writable_group(group).await?;
        self.store.get_plugin(name).await?;
        let mut turn = self.group_turn(group).await?;
        let mut list = self.store.uncached().enablements(group).await?;
        let at = list.iter().position(|e| e.plugin == name);
        let current = at.map(|i| list.remove(i));
        // An enablement keeps its version (an upgrade changes it); a new
        // one runs the latest.
        let (installed, _) = match &current {
            Some(e) => super::plugins::load(&self.store, &self.runtime, name, &e.sha256).await?,
            None => self.loaded(name).await?,
        };
        let enablement = configured(
            &installed,
            group,
            current.as_ref(),
            &input,
            self.clock.now(),
        )?;
        enablement
            .limits
            .within(&self.ceilings())
            .map_err(ServiceError::Unprocessable)?;
        if enablement.policy.disable_after == Some(0) {
            return Err(ServiceError::Invalid(
                "policy.disable_after must be at least 1 (null: never switch off)".into(),
            ));
        }
        let wanted = match (input.position, at) {
            (Some(p), _) => p,
            (None, Some(i)) => i as i64,
            (None, None) => {
                (self.store.remembered_place(group, name).await?).unwrap_or(list.len() as i64)
            }
        };
        let index = wanted.clamp(0, list.len() as i64) as usize;
        list.insert(index, enablement);
        let action = match &current {
            Some(e) if e.disabled_reason.is_none() => "plugin.configure",
            _ => "plugin.enable",
        };
        let mut tx = turn.begin(&self.store).await?;
        list[index].position = index as i64;
        tx.put_enablement(&list[index]).await?;
        renumber(&mut tx, &mut list).await?;
        let detail = serde_json::to_value(&input).expect("plain data");
        tx.audit(group, actor, action, name, &detail, self.clock.now())
            .await?;
        tx.commit().await?;
        drop(turn);
        let on_enabled = self.notify_enabled(group, name).await?;
        let warnings = self.order_warnings(&list).await?;
        Ok(Enabled {
            enablement: list.swap_remove(index),
            on_enabled,
            warnings,
        })
    }

    /// Disables a plugin on a group. Its storage stays, its timers go; it
    /// keeps its place for when it is enabled again.
    ///
    /// # Errors
    /// `NotFound` when it is not enabled, `Conflict` for an archived group.
    pub async fn disable_plugin(&self, actor: &Actor, group: &str, name: &str) -> Result<()> {
        self.writable_group(group).await?;
        let mut turn = self.group_turn(group).await?;
        let mut list = self.store.uncached().enablements(group).await?;
        let index = list
            .iter()
            .position(|e| e.plugin == name)
            .ok_or_else(|| ServiceError::NotFound(format!("plugin {name:?} on group {group:?}")))?;
        list.remove(index);
        let mut tx = turn.begin(&self.store).await?;
        tx.remember_place(group, name, index as i64).await?;
        tx.delete_enablement(group, name).await?;
        renumber(&mut tx, &mut list).await?;
        let detail = json!({"position": index});
        tx.audit(
            group,
            actor,
            "plugin.disable",
            name,
            &detail,
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the order of a group's plugins: the listed ones first, in order,
    /// then the others in their current order.
    ///
    /// # Errors
    /// `Unprocessable` when a listed plugin is not enabled on the group,
    /// `Conflict` for an archived group.
    pub async fn order_plugins(
        &self,
        actor: &Actor,
        group: &str,
        names: &[String],
    ) -> Result<EnablementList> {
        self.writable_group(group).await?;
        let mut turn = self.group_turn(group).await?;
        let mut list = self.store.uncached().enablements(group).await?;
        if let Some(n) = names.iter().find(|n| !list.iter().any(|e| &e.plugin == *n)) {
            return Err(ServiceError::Unprocessable(format!(
                "plugin {n:?} is not enabled on group {group:?}"
            )));
        }
        // A stable sort: the unlisted keep their order after the listed.
        list.sort_by_key(|e| {
            names
                .iter()
                .position(|n| n == &e.plugin)
                .unwrap_or(usize::MAX)
        });
        let mut tx = turn.begin(&self.store).await?;
        renumber(&mut tx, &mut list).await?;
        let order: Vec<&str> = list.iter().map(|e| e.plugin.as_str()).collect();
        let detail = json!({"order": order});
        tx.audit(
            group,
            actor,
            "plugin.order",
            group,
            &detail,
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        let warnings = self.order_warnings(&list).await?;
        Ok(EnablementList {
            plugins: list,
            warnings,
        })
    }

    /// A group's enablements in run order, with warnings about the order.
    ///
    /// # Errors
    /// `NotFound` for an unknown group.
    pub async fn enablement_list(&self, group: &str) -> Result<EnablementList> {
        self.store.get_group(group).await?;
        let plugins = self.store.enablements(group).await?;
        let warnings = self.order_warnings(&plugins).await?;
        Ok(EnablementList { plugins, warnings })
    }

    /// Plugins that prefer to run early (moderation, gates) but run after
    /// one that does not mind.
    async fn order_warnings(&self, list: &[Enablement]) -> Result<Vec<String>> {
        let mut warnings = vec![];
        let mut first_any: Option<&str> = None;
        for e in list {
            match self
                .store
                .get_plugin(&e.plugin)
                .await?
                .metadata
                .preferred_place()
            {
                Place::Any => {
                    first_any.get_or_insert(&e.plugin);
                }
                Place::Early => {
                    if let Some(before) = first_any {
                        warnings.push(format!(
                            "{0} prefers to run early (moderation and gates before games and \
                             flows) but runs after {before}: kith plugin order {1} {0} \
                             (PUT /v1/groups/{1}/plugins/order)",
                            e.plugin, e.group
                        ));
                    }
                }
            }
        }
        Ok(warnings)
    }
}

/// Gives `list`'s enablements the positions 0..n in its order, writing those
/// that moved.
async fn renumber(tx: &mut Tx<'_>, list: &mut [Enablement]) -> Result<()> {
    for (i, e) in list.iter_mut().enumerate() {
        if e.position != i as i64 {
            e.position = i as i64;
            tx.set_position(&e.group, &e.plugin, e.position).await?;
        }
    }
    Ok(())
}

/// The enablement `input` makes of `current` (None: a first enable), checked
/// against the plugin's metadata. Its position is set by the caller.
fn configured(
    version: &InstalledPlugin,
    group: &str,
    current: Option<&Enablement>,
    input: &EnableInput,
    now: Millis,
) -> Result<Enablement> {
    let meta = &version.metadata;
    let mut config = current.map_or_else(|| json!({}), |e| e.config.clone());
    match &input.config {
        // A first enable takes the config as sent: a merge into {} would
        // drop its nulls, which some plugins read as "none" (not "default").
        Some(whole) if input.replace_config || current.is_none() => config = whole.clone(),
        Some(patch) => merge_patch(&mut config, patch),
        None if input.replace_config => {
            return Err(ServiceError::Invalid(
                "replace_config needs the new config in config".into(),
            ))
        }
        None => {}
    }
    fit_config(&meta.config_schema, &mut config, &meta.name)?;
    let capabilities = match &input.capabilities {
        None => current.map_or_else(|| meta.capabilities.clone(), |e| e.capabilities.clone()),
        Some(granted) => {
            if let Some(extra) = granted.iter().find(|c| !meta.capabilities.contains(c)) {
                return Err(ServiceError::Unprocessable(format!(
                    "plugin {:?} does not declare capability {extra}",
                    meta.name
                )));
            }
            granted.clone()
        }
    };
    let limits: Limits = overlaid("limits", current.map(|e| e.limits), &input.limits)?;
    if limits.timeout_ms == 0
        || limits.timeout_ms > 60_000
        || limits.memory_bytes < (1 << 20)
        || limits.fuel == 0
    {
        return Err(ServiceError::Invalid(
            "limits: timeout_ms must be 1-60000, memory_bytes at least 1048576, fuel above 0"
                .into(),
        ));
    }
    Ok(Enablement {
        group: group.to_string(),
        plugin: meta.name.clone(),
        position: 0,
        config,
        capabilities,
        limits,
        // When it was first enabled, as the schema says: reconfiguring keeps it.
        enabled_at: current.map_or(now, |e| e.enabled_at),
        consecutive_failures: 0,
        last_error: None,
        policy: overlaid("policy", current.map(|e| e.policy), &input.policy)?,
        // Enabling again is how an operator turns a switched-off plugin back on.
        disabled_reason: None,
        sha256: version.sha256.clone(),
        previous: current.and_then(|e| e.previous.clone()),
        shadow: current.and_then(|e| e.shadow.clone()),
    })
}

/// `current` (or the default) with the fields of `changes` put over it: a
/// field given replaces the current one, a null included (for these typed
/// settings null is a value, e.g. `disable_after: null` means never).
fn overlaid<T>(what: &str, current: Option<T>, changes: &Option<Value>) -> Result<T>
where
    T: Serialize + serde::de::DeserializeOwned + Default,
{
    let current = current.unwrap_or_default();
    let Some(changes) = changes else {
        return Ok(current);
    };
    let Value::Object(fields) = changes else {
        return Err(ServiceError::Unprocessable(format!(
            "{what} must be a JSON object"
        )));
    };
    let mut value = serde_json::to_value(current).expect("plain data");
    let object = value.as_object_mut().expect("a struct");
    object.extend(fields.clone());
    serde_json::from_value(value).map_err(|e| ServiceError::Unprocessable(format!("{what}: {e}")))
}

/// Fits a config to a plugin's schema: integers given as floats (`2.0`)
/// become integers where the schema says `integer` (JSON Schema counts 2.0
/// as an integer, but a plugin reading its config with serde would refuse
/// it and likely fall back to a default); then checks it, naming every
/// problem (2.5 for an integer is one).
pub(super) fn fit_config(schema: &Value, config: &mut Value, name: &str) -> Result<()> {
    integers_where_the_schema_says(schema, config);
    check_config(schema, config, name)
}

/// See [`fit_config`]; follows `properties` and `items`.
fn integers_where_the_schema_says(schema: &Value, value: &mut Value) {
    let integer = match &schema["type"] {
        Value::String(t) => t == "integer",
        Value::Array(types) => {
            types.contains(&json!("integer")) && !types.contains(&json!("number"))
        }
        _ => false,
    };
    match value {
        Value::Number(n) if integer && n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Exactly representable whole numbers only.
            if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                *value = json!(f as i64);
            }
        }
        Value::Object(fields) => {
            if let Some(properties) = schema["properties"].as_object() {
                for (key, field) in fields.iter_mut() {
                    if let Some(field_schema) = properties.get(key) {
                        integers_where_the_schema_says(field_schema, field);
                    }
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for item in items {
                integers_where_the_schema_says(&schema["items"], item);
            }
        }
        _ => {}
    }
}

/// Checks a plugin's config against its schema, naming every problem, each
/// also with the field it is about (the console shows it beside the field).
fn check_config(schema: &Value, config: &Value, name: &str) -> Result<()> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("{e}")))?;
    // The text names where each problem was found, as it always has; the
    // problems name the field.
    let (texts, problems): (Vec<String>, Vec<FieldProblem>) = validator
        .iter_errors(config)
        .map(|e| {
            let text = format!("config{}: {e}", e.instance_path());
            let problem = FieldProblem {
                path: field_path(&e),
                message: e.to_string(),
            };
            (text, problem)
        })
        .unzip();
    if problems.is_empty() {
        return Ok(());
    }
    Err(ServiceError::InvalidConfig {
        message: format!(
            "config does not match the schema of plugin {name:?}: {}",
            texts.join("; ")
        ),
        problems,
    })
}

/// The field a problem is about: where it was found, or for a missing
/// required field that field itself (the object holding it is not what an
/// operator has to fill in).
fn field_path(e: &jsonschema::ValidationError<'_>) -> String {
    let at = e.instance_path().to_string();
    match e.kind() {
        jsonschema::error::ValidationErrorKind::Required {
            property: Value::String(p),
        } => format!("{at}/{}", p.replace('~', "~0").replace('/', "~1")),
        _ => at,
    }
}
