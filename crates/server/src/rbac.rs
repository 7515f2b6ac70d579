//! The permission matrix of docs/rbac.md, as data. Every authorization decision in the server is
//! made by [`allowed`]; the guard extractor and the handlers that need an ownership check call
//! it, and `docs/rbac.md` is this table in prose.

use portcullis_store::Role;

/// Everything a caller can be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read the org, its members and its live resources.
    Read,
    /// Create resources, and edit or delete the ones the caller owns.
    WriteOwn,
    /// Edit or delete anyone's resources, restore them, list deleted ones, read the org's audit.
    Moderate,
    /// Add and remove members, and set roles below the caller's own.
    ManageMembers,
    /// Grant or take away the owner role, delete the org.
    Own,
    /// Platform-wide: feature flags, revoking other users' sessions, disabling users, the global
    /// audit log, restoring deleted orgs.
    Platform,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::WriteOwn,
        Action::Moderate,
        Action::ManageMembers,
        Action::Own,
        Action::Platform,
    ];

    /// The lowest org role allowed to do it; `None` when no org role is enough.
    pub fn min_role(self) -> Option<Role> {
        match self {
            Action::Read => Some(Role::Viewer),
            Action::WriteOwn => Some(Role::Member),
            Action::Moderate | Action::ManageMembers => Some(Role::Admin),
            Action::Own => Some(Role::Owner),
            Action::Platform => None,
        }
    }
}

/// `role` is the caller's role in the org concerned (`None`: not a member); platform admins
/// (members of the configured IdP group) may do everything.
pub fn allowed(role: Option<Role>, platform_admin: bool, action: Action) -> bool {
    platform_admin || matches!((role, action.min_role()), (Some(r), Some(min)) if r >= min)
}

/// Which roles a caller may grant (or take away) in an org: admins manage the roles below
/// their own, owners every role ([`Role::may_assign`], the rule the store applies again with
/// the rows locked when it makes the change).
pub fn may_assign(role: Option<Role>, platform_admin: bool, target: Role) -> bool {
    platform_admin || role.is_some_and(|r| r.may_assign(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix of docs/rbac.md, row by row: viewer, member, admin, owner, platform admin.
    #[test]
    fn matches_the_design_matrix() {
        let rows: [(Action, [bool; 5]); 6] = [
            (Action::Read, [true, true, true, true, true]),
            (Action::WriteOwn, [false, true, true, true, true]),
            (Action::Moderate, [false, false, true, true, true]),
            (Action::ManageMembers, [false, false, true, true, true]),
            (Action::Own, [false, false, false, true, true]),
            (Action::Platform, [false, false, false, false, true]),
        ];
        for (action, expected) in rows {
            let got = [
                allowed(Some(Role::Viewer), false, action),
                allowed(Some(Role::Member), false, action),
                allowed(Some(Role::Admin), false, action),
                allowed(Some(Role::Owner), false, action),
                allowed(None, true, action),
            ];
            assert_eq!(got, expected, "{action:?}");
            assert!(!allowed(None, false, action), "outsiders can do nothing");
        }
    }

    #[test]
    fn admins_assign_only_roles_below_their_own() {
        assert!(may_assign(Some(Role::Admin), false, Role::Member));
        assert!(may_assign(Some(Role::Admin), false, Role::Viewer));
        assert!(!may_assign(Some(Role::Admin), false, Role::Admin));
        assert!(!may_assign(Some(Role::Admin), false, Role::Owner));
        assert!(may_assign(Some(Role::Owner), false, Role::Owner));
        assert!(may_assign(Some(Role::Owner), false, Role::Admin));
        assert!(!may_assign(Some(Role::Member), false, Role::Viewer));
        assert!(may_assign(None, true, Role::Owner));
        assert!(!may_assign(None, false, Role::Viewer));
    }
}
