//! What each role may do: the one table the staff API checks.
//!
//! # The split, and why
//!
//! The staff guide (`docs/guide-personnel.md`) is written for three kinds of people at an
//! MDH: its own staff at the front desk, public writers and digital mediators who run
//! permanences (often employed by an outside association), and the city's IT department.
//! DESIGN.md asks that a staff member "acts only within their sites and role".
//!
//! - **Mediator** (`mediator`, their sites only): what running a permanence needs, nothing
//!   more. They see the fleet of their sites (to choose free computers and notice a blocked
//!   one) and a computer's page (health and wipes, no visitor data); they open supervised
//!   slots and extend or close **the slots they opened** (two associations may hold
//!   permanences side by side: closing a slot ends the sessions in it); they start and end a
//!   visitor's session **only on a computer in a supervised slot** that is a permanence of
//!   the site's schedule or a slot they opened, and never end a free-access visitor's
//!   session (that visitor may hold a ticket and owes the mediator nothing); they record
//!   their permanence's counters. They do not create tickets or see their codes (tickets
//!   are the MDH's free-access policy, handed out at its front desk), nor see reports or
//!   the FEDER and national exports (the MDH's activity, reported by the MDH), nor enrollment
//!   tokens and devices.
//! - **Staff** (`staff`, their sites only): everything a site's day needs: the mediator's
//!   rights on every slot and session of the site, tickets, reports and exports.
//! - **IT** (`it`, every site): the staff's rights everywhere, plus devices (enrollment
//!   tokens, revocation) and the sites' configuration (schedules, PIN, public description).
//! - **Admin** (`admin`, every site): IT's rights, plus the staff accounts (disable,
//!   enable, passwords, API tokens, sessions). Only an admin manages accounts, so one
//!   compromised IT or staff account cannot make itself others.
//!
//! Everyone may change their own password. The command line on the server acts as an
//! admin (`cli`): whoever runs it can already read the database.

use super::Role;

/// One thing a staff member may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Right {
    /// See the fleet of the sites, a computer's page, the permanences page, the API's seats.
    SeeFleet,
    /// Open a supervised slot now.
    OpenSlot,
    /// Extend or close a supervised slot one opened.
    ChangeOwnSlot,
    /// Extend or close any supervised slot of the site.
    ChangeAnySlot,
    /// Start or end a visitor's session on a computer in one's permanence (a supervised
    /// slot of the schedule or one opened oneself), never a free-access session.
    SuperviseSession,
    /// Start or end any visitor's session, free access included.
    AnySession,
    /// Record a permanence's counters.
    RecordCounters,
    /// Take a visitor's call for a mediator on the seat map ("Je m'en occupe"): whoever
    /// is on the floor of the site, mediators included.
    AnswerHelp,
    /// Create free-access tickets (and see their codes, once).
    CreateTickets,
    /// Reports, their CSV files (FEDER evidence) and the national export.
    SeeReports,
    /// Devices: enrollment tokens, revocation, versions.
    ManageDevices,
    /// Sites: adding them, schedules, the mediator PIN, public descriptions.
    ConfigureSites,
    /// Staff accounts: list, create, disable, enable, passwords, API tokens, sessions.
    ManageAccounts,
}

impl Right {
    /// Every right, in the order of the roles that gain them.
    const ALL: [Right; 13] = [
        Right::SeeFleet,
        Right::OpenSlot,
        Right::ChangeOwnSlot,
        Right::SuperviseSession,
        Right::RecordCounters,
        Right::AnswerHelp,
        Right::ChangeAnySlot,
        Right::AnySession,
        Right::CreateTickets,
        Right::SeeReports,
        Right::ManageDevices,
        Right::ConfigureSites,
        Right::ManageAccounts,
    ];

    /// The least role holding this right: each role holds every right of the role below
    /// (mediator, staff, IT, admin), so this one table is the whole split.
    fn granted_from(self) -> Role {
        match self {
            Right::SeeFleet
            | Right::OpenSlot
            | Right::ChangeOwnSlot
            | Right::SuperviseSession
            | Right::RecordCounters
            | Right::AnswerHelp => Role::Mediator,
            Right::ChangeAnySlot | Right::AnySession | Right::CreateTickets | Right::SeeReports => {
                Role::Staff
            }
            Right::ManageDevices | Right::ConfigureSites => Role::It,
            Right::ManageAccounts => Role::Admin,
        }
    }
}

impl Role {
    /// The role's place in the chain mediator < staff < IT < admin.
    fn rank(self) -> u8 {
        match self {
            Role::Mediator => 0,
            Role::Staff => 1,
            Role::It => 2,
            Role::Admin => 3,
        }
    }

    /// Whether the role holds every right of `other` (same or higher in the chain).
    pub fn covers(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    /// The lower of the two roles (an API token's role, narrowed from its account's).
    pub fn at_most(self, ceiling: Role) -> Role {
        if self.covers(ceiling) {
            ceiling
        } else {
            self
        }
    }

    /// The rights of the role (on its sites).
    pub fn rights(self) -> Vec<Right> {
        Right::ALL.into_iter().filter(|r| self.may(*r)).collect()
    }

    /// Whether the role grants `right` (on its sites).
    pub fn may(self, right: Right) -> bool {
        self.rank() >= right.granted_from().rank()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mediator_runs_permanences_and_nothing_else() {
        let m = Role::Mediator;
        for right in [
            Right::SeeFleet,
            Right::OpenSlot,
            Right::ChangeOwnSlot,
            Right::SuperviseSession,
            Right::RecordCounters,
            Right::AnswerHelp,
        ] {
            assert!(m.may(right), "{right:?}");
        }
        for right in [
            Right::ChangeAnySlot,
            Right::AnySession,
            Right::CreateTickets,
            Right::SeeReports,
            Right::ManageDevices,
            Right::ConfigureSites,
            Right::ManageAccounts,
        ] {
            assert!(!m.may(right), "{right:?}");
        }
    }

    #[test]
    fn each_role_holds_the_one_below_and_only_admins_manage_accounts() {
        let chain = [Role::Mediator, Role::Staff, Role::It, Role::Admin];
        for pair in chain.windows(2) {
            for right in pair[0].rights() {
                assert!(pair[1].may(right), "{:?} lacks {right:?}", pair[1]);
            }
            assert!(pair[1].rights().len() > pair[0].rights().len());
        }
        assert!(!Role::Staff.may(Right::ManageDevices));
        assert!(!Role::It.may(Right::ManageAccounts));
        assert!(Role::Admin.may(Right::ManageAccounts));
    }
}
