//! Who may call what: API token scopes and the rule for each endpoint.

use super::*;

text_enum!(
    /// admin: everything; operator: the listed groups and reading plugins;
    /// adapter: events in, outbox out.
    Scope {
        /// Everything, including tokens and plugin uploads.
        Admin = "admin",
        /// The listed groups, and reading plugins.
        Operator = "operator",
        /// The chat adapter: events in, outbox out.
        Adapter = "adapter",
    }
);

/// The caller of a request, from its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Id of the token the request carried (not its secret).
    pub token_id: String,
    /// What the token may do.
    pub scope: Scope,
    /// For operators: the groups they run.
    pub groups: Vec<GroupId>,
}

/// Endpoints anyone may call.
pub fn is_public(method: &str, route: &str) -> bool {
    method == "GET" && matches!(route, "/healthz" | "/openapi.json")
}

/// Paths no rate limit applies to: health checks come from one load
/// balancer address, often, and must keep answering during a flood.
pub fn is_rate_exempt(path: &str) -> bool {
    path == "/healthz"
}

/// Whether `who` may call `method route` (the route as declared, e.g.
/// `/v1/groups/{group}/members`), on `group` when the path names one.
pub fn may(who: &Principal, method: &str, route: &str, group: Option<&str>) -> bool {
    match who.scope {
        Scope::Admin => true,
        Scope::Adapter => matches!(
            (method, route),
            ("POST", "/v1/events")
                | ("GET", "/v1/outbox")
                | ("POST", "/v1/outbox/lease")
                | ("POST", "/v1/outbox/ack")
                // The adapter makes a member's invite link from their code.
                | ("POST", "/v1/groups/{group}/members/{member}/referral-code")
        ),
        Scope::Operator => {
            if let Some(g) = group {
                // Deleting a group with its data is for admins.
                if (method, route) == ("DELETE", "/v1/groups/{group}") {
                    return false;
                }
                return route.starts_with("/v1/groups/{group}")
                    && who.groups.iter().any(|mine| mine == g);
            }
            // A member's data everywhere: the handler keeps to their groups.
            matches!(
                (method, route),
                ("GET", "/v1/groups")
                    | ("GET", "/v1/overview")
                    | ("GET", "/v1/plugins")
                    | ("GET", "/v1/plugins/{name}")
                    | ("GET", "/v1/plugins/{name}/versions")
                    | ("GET", "/v1/members/{member}/data")
                    | ("DELETE", "/v1/members/{member}/data")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(scope: Scope, groups: &[&str]) -> Principal {
        Principal {
            token_id: "t".into(),
            scope,
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn each_scope_reaches_only_its_endpoints() {
        let op = who(Scope::Operator, &["gz"]);
        assert!(may(
            &op,
            "PUT",
            "/v1/groups/{group}/plugins/{name}",
            Some("gz")
        ));
        assert!(!may(
            &op,
            "PUT",
            "/v1/groups/{group}/plugins/{name}",
            Some("sz")
        ));
        assert!(!may(&op, "POST", "/v1/plugins", None));
        assert!(may(&op, "POST", "/v1/groups/{group}/archive", Some("gz")));
        assert!(!may(&op, "DELETE", "/v1/groups/{group}", Some("gz")));
        assert!(!may(&op, "POST", "/v1/groups", None));
        assert!(!may(&op, "POST", "/v1/events", None));
        let ad = who(Scope::Adapter, &[]);
        assert!(may(&ad, "POST", "/v1/events", None));
        assert!(!may(&ad, "GET", "/v1/groups/{group}", Some("gz")));
        assert!(may(&who(Scope::Admin, &[]), "POST", "/v1/tokens", None));
        assert!(is_public("GET", "/healthz") && !is_public("POST", "/healthz"));
    }
}
