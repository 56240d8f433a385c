//! kith roles and Matrix power levels: one table for both directions
//! (`map` reads a room's levels as roles, the `role` action writes a role
//! as a level).

/// Power level → role, highest first. Roles not listed get [`DEFAULT_LEVEL`].
const LEVELS: &[(i64, &str)] = &[(100, "owner"), (50, "admin")];

/// The power level of every other role (core, partner, vip, member).
pub const DEFAULT_LEVEL: i64 = 0;

/// The role of a member with this power level, if it is a privileged one.
pub fn role_of_level(level: i64) -> Option<&'static str> {
    LEVELS
        .iter()
        .find(|(min, _)| level >= *min)
        .map(|(_, role)| *role)
}

/// The power level a role gets in the room.
pub fn level_of_role(role: &str) -> i64 {
    LEVELS
        .iter()
        .find(|(_, r)| *r == role)
        .map_or(DEFAULT_LEVEL, |(level, _)| *level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_roles_agree() {
        assert_eq!(role_of_level(100), Some("owner"));
        assert_eq!(role_of_level(75), Some("admin"));
        assert_eq!(role_of_level(49), None);
        assert_eq!(level_of_role("owner"), 100);
        assert_eq!(level_of_role("admin"), 50);
        assert_eq!(level_of_role("vip"), DEFAULT_LEVEL);
        for (level, role) in LEVELS {
            assert_eq!(role_of_level(level_of_role(role)), Some(*role));
            assert_eq!(level_of_role(role), *level);
        }
    }
}
