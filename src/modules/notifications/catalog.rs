//! The notification catalog: every kind a person can be told about, what it is, its default
//! on each channel, and which audited actions produce it and for whom.

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// What a notification is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationKind {
    /// You were invited into an organisation.
    InvitationReceived,
    /// Your role in an organisation changed.
    RoleChanged,
    /// Your membership was suspended or reactivated.
    MembershipChanged,
    /// You were added to a team.
    AddedToTeam,
    /// A workflow run you started or own failed.
    ExecutionFailed,
    /// The organisation is close to (or at) a limit of its plan.
    PlanLimitNear,
    /// A renewal payment of the organisation failed.
    PaymentFailed,
    /// A webhook endpoint of the organisation was switched off after repeated failures.
    WebhookEndpointDisabled,
    /// Something changed in your account's security: password, two-factor authentication,
    /// a linked sign-in provider, a lockout.
    SecurityEvent,
    /// An organisation you own was scheduled for deletion, or its deletion was taken back.
    OrganisationDeletion,
    /// A data collection you started finished (or failed).
    CollectionFinished,
    /// Someone mentioned you in a document.
    MentionedInDocument,
    /// Platform support asked to enter, or entered, an organisation you own (developer mode).
    SupportAccess,
}

/// Where a notification can reach you.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationChannel {
    /// The bell in the app (and `notificationAdded`).
    InApp,
    /// A mail soon after (a burst is grouped into one mail).
    Email,
    /// The daily e-mail digest.
    Digest,
}

impl NotificationChannel {
    pub const ALL: [NotificationChannel; 3] = [Self::InApp, Self::Email, Self::Digest];

    pub fn key(self) -> &'static str {
        match self {
            Self::InApp => "IN_APP",
            Self::Email => "EMAIL",
            Self::Digest => "DIGEST",
        }
    }
}

/// One kind's entry in the catalog.
pub struct Entry {
    pub kind: NotificationKind,
    pub key: &'static str,
    pub description: &'static str,
    /// Defaults for IN_APP, EMAIL, DIGEST.
    pub defaults: [bool; 3],
}

/// The catalog, in the order the preferences page shows it.
pub const CATALOG: &[Entry] = &[
    Entry {
        kind: NotificationKind::InvitationReceived,
        key: "invitation.received",
        description: "You were invited into an organisation",
        // The invitation itself is mailed by the inviting flow.
        defaults: [true, false, false],
    },
    Entry {
        kind: NotificationKind::RoleChanged,
        key: "member.role_changed",
        description: "Your role in an organisation changed",
        defaults: [true, true, false],
    },
    Entry {
        kind: NotificationKind::MembershipChanged,
        key: "member.status_changed",
        description: "Your membership was suspended or reactivated",
        defaults: [true, true, false],
    },
    Entry {
        kind: NotificationKind::AddedToTeam,
        key: "team.member_added",
        description: "You were added to a team",
        defaults: [true, false, true],
    },
    Entry {
        kind: NotificationKind::ExecutionFailed,
        key: "execution.failed",
        description: "A workflow run you started failed",
        defaults: [true, true, false],
    },
    Entry {
        kind: NotificationKind::PlanLimitNear,
        key: "billing.limit_near",
        description: "An organisation you own is close to a limit of its plan",
        // The owners' usage mail goes out from billing itself.
        defaults: [true, false, false],
    },
    Entry {
        kind: NotificationKind::PaymentFailed,
        key: "billing.payment_failed",
        description: "A renewal payment of an organisation you own failed",
        defaults: [true, true, false],
    },
    Entry {
        kind: NotificationKind::WebhookEndpointDisabled,
        key: "webhook.endpoint_disabled",
        description: "A webhook endpoint of an organisation you own was switched off",
        // The owners' mail goes out from webhooks itself.
        defaults: [true, false, true],
    },
    Entry {
        kind: NotificationKind::SecurityEvent,
        key: "account.security_event",
        description: "Your password, two-factor authentication or sign-in methods changed, or your account was locked",
        defaults: [true, true, false],
    },
    Entry {
        kind: NotificationKind::OrganisationDeletion,
        key: "tenant.deletion",
        description: "An organisation you own was scheduled for deletion, or its deletion was taken back",
        defaults: [true, true, false],
    },
    Entry {
        kind: NotificationKind::SupportAccess,
        key: "support.access",
        description: "Platform support asked to enter, or entered, an organisation you own",
        defaults: [true, true, false],
    },
    Entry {
        kind: NotificationKind::CollectionFinished,
        key: "collection.finished",
        description: "A data collection you started finished",
        defaults: [true, false, true],
    },
    Entry {
        kind: NotificationKind::MentionedInDocument,
        key: "studio.mentioned",
        description: "Someone mentioned you in a document",
        defaults: [true, true, false],
    },
];

pub fn entry(kind: NotificationKind) -> &'static Entry {
    CATALOG.iter().find(|e| e.kind == kind).expect("every kind is in the catalog")
}

pub fn by_key(key: &str) -> Option<&'static Entry> {
    CATALOG.iter().find(|e| e.key == key)
}

impl NotificationKind {
    pub fn key(self) -> &'static str {
        entry(self).key
    }

    pub fn default_for(self, channel: NotificationChannel) -> bool {
        entry(self).defaults[channel as usize]
    }
}

/// Who an audited action notifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The user named by `after.userId` of the entry (a membership's person).
    MemberInEntry,
    /// The person the entry's `after.email` names, if they have an account.
    InviteeInEntry,
    /// The user of the membership `after.membershipId` names.
    MembershipInEntry,
    /// The organisation's owners.
    Owners,
}

/// The notification an audited action produces, if any: its kind and audience.
pub fn for_action(action: &str) -> Option<(NotificationKind, Audience)> {
    use NotificationKind as K;
    Some(match action {
        "invitation.created" | "invitation.resent" => (K::InvitationReceived, Audience::InviteeInEntry),
        "member.role_changed" => (K::RoleChanged, Audience::MemberInEntry),
        "member.suspended" | "member.reactivated" => (K::MembershipChanged, Audience::MemberInEntry),
        "team.member_added" => (K::AddedToTeam, Audience::MembershipInEntry),
        "billing.past_due" => (K::PaymentFailed, Audience::Owners),
        "webhook_endpoint.disabled" => (K::WebhookEndpointDisabled, Audience::Owners),
        "support_session.requested" | "support_session.started" => (K::SupportAccess, Audience::Owners),
        "tenant.deletion_scheduled" | "tenant.deletion_cancelled" => {
            (K::OrganisationDeletion, Audience::Owners)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_kind_is_listed() {
        let keys: std::collections::HashSet<_> = CATALOG.iter().map(|e| e.key).collect();
        assert_eq!(keys.len(), CATALOG.len());
        for kind in <NotificationKind as async_graphql::resolver_utils::EnumType>::items() {
            assert!(CATALOG.iter().any(|e| e.kind == kind.value), "{:?} missing", kind.value);
        }
    }

    #[test]
    fn channels_index_the_defaults() {
        assert!(NotificationKind::RoleChanged.default_for(NotificationChannel::Email));
        assert!(!NotificationKind::RoleChanged.default_for(NotificationChannel::Digest));
        assert!(NotificationKind::AddedToTeam.default_for(NotificationChannel::Digest));
    }
}
