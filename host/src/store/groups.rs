//! Groups: their rows, reads and writes.

use super::cache::Key;
use super::*;
use sqlx::any::AnyRow;
use sqlx::Row;

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        positioning: row.try_get("positioning")?,
        category: row.try_get("category")?,
        region: row.try_get("region")?,
        capacity: row.try_get::<i64, _>("capacity")? as u32,
        parent: row.try_get("parent")?,
        timezone: row.try_get("timezone")?,
        settings: json(&row.try_get::<String, _>("settings")?)?,
        created_at: row.try_get("created_at")?,
        archived_at: row.try_get("archived_at")?,
    })
}

/// Binds a group's columns as `$1` to `$9`, in the order both `insert_group`
/// and `update_group` number them.
fn bind_group<'q>(query: AnyQuery<'q>, g: &'q Group) -> AnyQuery<'q> {
    query
        .bind(&g.id)
        .bind(&g.name)
        .bind(&g.positioning)
        .bind(&g.category)
        .bind(&g.region)
        .bind(g.capacity as i64)
        .bind(&g.parent)
        .bind(&g.timezone)
        .bind(to_json(&g.settings))
}

impl Store {
    /// A group, from memory after the first read.
    pub async fn get_group(&self, id: &str) -> Result<Group> {
        if let Some(g) = self.cache.group(id) {
            return Ok(g);
        }
        let since = self.cache.generation();
        let row = sqlx::query("SELECT * FROM groups WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let group = row
            .as_ref()
            .map(group_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("group {id:?}")))?;
        self.cache.keep_group(since, &group);
        Ok(group)
    }

    /// Groups by id; with `parent`, only that alliance's.
    pub async fn list_groups(&self, parent: Option<&str>) -> Result<Vec<Group>> {
        let rows = match parent {
            Some(p) => {
                sqlx::query("SELECT * FROM groups WHERE parent = $1 ORDER BY id")
                    .bind(p)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM groups ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(group_from_row).collect()
    }

    /// Other groups of the same alliance.
    pub async fn siblings(&self, group: &Group) -> Result<Vec<Group>> {
        let Some(parent) = &group.parent else {
            return Ok(vec![]);
        };
        let rows = sqlx::query("SELECT * FROM groups WHERE parent = $1 AND id <> $2 ORDER BY id")
            .bind(parent)
            .bind(&group.id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(group_from_row).collect()
    }
}

impl Tx<'_> {
    /// Creates a group; `Conflict` if its id is taken.
    pub async fn insert_group(&mut self, g: &Group) -> Result<()> {
        let insert = sqlx::query(
            "INSERT INTO groups (id, name, positioning, category, region, capacity, parent, timezone, settings, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
        );
        let result = bind_group(insert, g)
            .bind(g.created_at)
            .execute(&mut *self.tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "group {:?} already exists",
                g.id
            )));
        }
        Ok(())
    }

    /// Replaces a group's settings (not its creation time).
    pub async fn update_group(&mut self, g: &Group) -> Result<()> {
        self.changes(Key::Group(g.id.clone()));
        let update = sqlx::query(
            "UPDATE groups SET name = $2, positioning = $3, category = $4, region = $5, capacity = $6, parent = $7, \
             timezone = $8, settings = $9 WHERE id = $1",
        );
        let result = bind_group(update, g).execute(&mut *self.tx).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {:?}", g.id)));
        }
        Ok(())
    }

    /// Archives a group (`at`) or brings it back (`None`).
    pub async fn set_archived(&mut self, id: &str, at: Option<Millis>) -> Result<()> {
        self.changes(Key::Group(id.to_string()));
        let result = sqlx::query("UPDATE groups SET archived_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {id:?}")));
        }
        Ok(())
    }

    /// Deletes a group with everything kept about it; `Conflict` while other
    /// groups name it as their parent.
    pub async fn delete_group(&mut self, id: &str) -> Result<()> {
        let children: Vec<String> =
            sqlx::query_scalar("SELECT id FROM groups WHERE parent = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *self.tx)
                .await?;
        if !children.is_empty() {
            return Err(StoreError::Conflict(format!(
                "group {id:?} is the parent of {}; delete or move those first",
                children.join(", ")
            )));
        }
        self.changes(Key::Group(id.to_string()));
        self.changes(Key::Enablements(id.to_string()));
        for table in GROUP_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE group_id = $1"))
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
        }
        let result = sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {id:?}")));
        }
        Ok(())
    }
}

/// Every table with rows of a group (`group_id`), children before parents.
const GROUP_TABLES: &[&str] = &[
    "member_tags",
    "join_requests",
    "messages",
    "enablements",
    "plugin_places",
    "plugin_storage",
    "ledger_entries",
    "timers",
    "events",
    "invocations",
    "shadow_runs",
    "outbox",
    "audit_log",
    "members",
];
