//! Who may see and do what (SPEC.md "Officers' desk"): one place, so every page and API route
//! asks the same questions.

use crate::domain::{Role, Status};
use crate::filing::users::User;

/// May this account see the case's contents?
pub fn may_see(user: &User, department: Option<&str>) -> bool {
    match user.role {
        Role::Admin | Role::Triage => true,
        Role::Head | Role::Officer => {
            user.department.is_some() && user.department.as_deref() == department
        }
        Role::Mailroom => false,
    }
}

/// The departments whose cases this account's lists show: None = all.
pub fn scope(user: &User) -> Option<Vec<String>> {
    match user.role {
        Role::Admin | Role::Triage => None,
        Role::Head | Role::Officer => Some(user.department.iter().cloned().collect()),
        Role::Mailroom => Some(Vec::new()),
    }
}

/// May this account put a case into `status`? `failed` is loket's own.
pub fn may_set_status(user: &User, status: Status) -> bool {
    match status {
        Status::Failed => false,
        Status::Approved | Status::Rejected => matches!(user.role, Role::Admin | Role::Head),
        _ => !matches!(user.role, Role::Mailroom),
    }
}

/// The statuses an account may choose on the case page.
pub fn settable_statuses(user: &User) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|s| may_set_status(user, *s))
        .collect()
}

/// Identifiers (NIK) in full, or masked?
pub fn sees_identifiers(user: &User) -> bool {
    matches!(user.role, Role::Admin | Role::Triage)
}

/// The dashboard and parked steps.
pub fn sees_dashboard(user: &User) -> bool {
    matches!(user.role, Role::Admin | Role::Triage)
}

/// Who read what.
pub fn sees_audit(user: &User) -> bool {
    user.role == Role::Admin
}

/// Upload scans and print letters.
pub fn works_mailroom(user: &User) -> bool {
    matches!(user.role, Role::Admin | Role::Mailroom | Role::Triage)
}

/// Work on cases at all (anything but the mail room).
pub fn works_cases(user: &User) -> bool {
    user.role != Role::Mailroom
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::UserId;

    fn user(role: Role, dept: Option<&str>) -> User {
        User {
            id: UserId(1),
            username: "u".into(),
            name: None,
            email: None,
            role,
            department: dept.map(String::from),
            disabled: false,
            created_at: String::new(),
        }
    }

    #[test]
    fn officers_see_their_department_only() {
        let o = user(Role::Officer, Some("bidang-pupr"));
        assert!(may_see(&o, Some("bidang-pupr")));
        assert!(!may_see(&o, Some("bidang-kesehatan")));
        assert!(!may_see(&o, None));
        assert!(may_see(&user(Role::Triage, None), None));
        assert!(!may_see(&user(Role::Mailroom, None), Some("bidang-pupr")));
        assert!(!may_see(&user(Role::Officer, None), None));
    }

    #[test]
    fn only_heads_and_admins_approve_and_reject() {
        for (role, can) in [
            (Role::Admin, true),
            (Role::Head, true),
            (Role::Officer, false),
            (Role::Triage, false),
            (Role::Mailroom, false),
        ] {
            let u = user(role, Some("d"));
            assert_eq!(may_set_status(&u, Status::Approved), can, "{role}");
            assert_eq!(may_set_status(&u, Status::Rejected), can, "{role}");
            assert!(!may_set_status(&u, Status::Failed));
        }
        assert!(may_set_status(
            &user(Role::Officer, Some("d")),
            Status::NeedsCorrection
        ));
    }
}
