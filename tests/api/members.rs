use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::{doc, gql::*, helpers::*, subscriptions::mutate_until_event};

async fn invitations(
    app: &TestApp,
    s: &Session,
    tenant: &str,
) -> tenant_invitations::TenantInvitationsTenantInvitations {
    let vars = tenant_invitations::Variables { id: tenant.into(), first: None, after: None };
    app.op::<TenantInvitations>(Some(&s.access), vars)
        .await
        .into_data()
        .tenant
        .invitations
        .expect("invitations")
}

async fn invitation_preview(
    app: &TestApp,
    s: Option<&Session>,
    token: &str,
) -> Option<invitation_preview::InvitationPreviewInvitationPreview> {
    let vars = invitation_preview::Variables { token: token.into() };
    app.op::<InvitationPreview>(s.map(|s| s.access.as_str()), vars).await.into_data().invitation_preview
}

#[tokio::test]
async fn an_invitation_mailed_and_accepted_makes_a_member_with_the_role() {
    let app = spawn_app().await;
    let owner = app.verified_user("boss@example.com").await;
    let tenant = app.create_tenant(&owner, "invite-org").await;
    let member_role = app.role_id(&owner, &tenant, "member").await;
    let r = app
        .op_json::<InviteMember>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "email": "New.Hire@Example.com", "roleId": member_role } }),
        )
        .await;
    let inv = r.into_data().invite_member.invitation;
    assert_eq!(inv.email, "new.hire@example.com");
    assert_eq!(inv.status, invite_member::InvitationStatus::PENDING);
    let list = invitations(&app, &owner, &tenant).await;
    assert_eq!(list.total_count, 1);
    assert_eq!(list.edges[0].node.invited_by.as_ref().map(|u| u.name.as_str()), Some("Test User"));

    let mail = {
        app.mailed_token("new.hire@example.com").await;
        app.mails_to("new.hire@example.com").remove(0)
    };
    assert!(mail.contains("/invitations/accept?token="), "{mail}");
    assert!(mail.contains("Org invite-org"));
    let token = app.mailed_token("new.hire@example.com").await;

    // The link's page, signed out, shows who invites whom where; an unknown token shows nothing.
    let preview = invitation_preview(&app, None, &token).await;
    assert_eq!(
        serde_json::to_value(preview).unwrap(),
        json!({
            "status": "PENDING",
            "invitedEmailHint": "n•••@example.com",
            "forViewer": null,
            "organisationName": "Org invite-org",
            "roleName": "Member",
            "invitedByName": "Test User",
            "expiresAt": inv.expires_at,
        })
    );
    assert!(invitation_preview(&app, None, "no-such-token").await.is_none());

    // A new user signs up from the link first, then accepts.
    app.sign_up("new.hire@example.com").await.data();
    let hire = app.log_in("new.hire@example.com").await;
    let preview = invitation_preview(&app, Some(&hire), &token).await.expect("a preview");
    assert_eq!(preview.for_viewer, Some(true));
    let preview = invitation_preview(&app, Some(&owner), &token).await.expect("a preview");
    assert_eq!(preview.for_viewer, Some(false));
    let r = app
        .op::<AcceptInvitation>(Some(&hire.access), accept_invitation::Variables { token: token.clone() })
        .await;
    let accepted = &r.data().accept_invitation;
    assert_eq!(accepted.membership.role.key, "member");
    assert_eq!(accepted.tenant.id, tenant);

    let viewer = app.viewer(&hire.access).await;
    assert!(viewer.email_verified, "accepting confirms the address");
    assert_eq!(viewer.tenants.total_count, 1);
    assert_eq!(app.tenant(&owner.access, &tenant).await.members.unwrap().total_count, 2);
    let list = invitations(&app, &owner, &tenant).await;
    assert_eq!(list.edges[0].node.status, tenant_invitations::InvitationStatus::ACCEPTED);
    // Once used, the link tells only that.
    let preview = invitation_preview(&app, None, &token).await.expect("a preview");
    assert_eq!(
        (preview.status, preview.organisation_name, preview.invited_email_hint),
        (invitation_preview::InvitationStatus::ACCEPTED, None, None)
    );

    let log = app
        .op::<TenantAuditLog>(
            Some(&owner.access),
            tenant_audit_log::Variables {
                id: tenant.clone(),
                filter: None,
                first: None,
                after: None,
                last: None,
            },
        )
        .await;
    let actions: Vec<String> =
        log.into_data().tenant.audit_log.unwrap().edges.into_iter().map(|e| e.node.action).collect();
    assert_eq!(actions, ["tenant.created", "invitation.created", "member.joined"]);
}

#[tokio::test]
async fn expired_revoked_reused_and_misaddressed_invitations_fail_with_their_own_codes() {
    let app = spawn_app().await;
    let owner = app.verified_user("o@example.com").await;
    let tenant = app.create_tenant(&owner, "codes-org").await;
    let role = app.role_id(&owner, &tenant, "viewer").await;
    let invite = |email: &'static str| {
        let (app, owner, tenant, role) = (&app, owner.clone(), tenant.clone(), role.clone());
        async move {
            let r = app
                .op_json::<InviteMember>(
                    Some(&owner.access),
                    json!({ "input": { "tenantId": tenant, "email": email, "roleId": role } }),
                )
                .await;
            let id = r.into_data().invite_member.invitation.id;
            (id, app.mailed_token(email).await)
        }
    };
    let accept = |token: String, session: Session| {
        let app = &app;
        async move {
            app.gql(Some(&session.access), doc!("members/AcceptInvitation"), json!({ "token": token })).await
        }
    };

    // Revoked.
    let (id, token) = invite("rev@example.com").await;
    app.gql(Some(&owner.access), doc!("members/RevokeInvitation"), json!({ "id": id })).await.data();
    let rev = app.verified_user("rev@example.com").await;
    assert_eq!(accept(token, rev.clone()).await.code(), "INVITATION_REVOKED");

    // Wrong e-mail, then used, then reused.
    let (_, token) = invite("right@example.com").await;
    assert_eq!(accept(token.clone(), rev.clone()).await.code(), "INVITATION_EMAIL_MISMATCH");
    let right = app.verified_user("right@example.com").await;
    accept(token.clone(), right.clone()).await.data();
    assert_eq!(accept(token, right).await.code(), "INVITATION_ALREADY_USED");

    // Expired.
    let (_, token) = invite("late@example.com").await;
    let db = app.db().await;
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "UPDATE invitations SET expires_at = $1 WHERE email = 'late@example.com'"
        }
        _ => "UPDATE invitations SET expires_at = ? WHERE email = 'late@example.com'",
    };
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [past.into()]))
        .await
        .unwrap();
    let late = app.verified_user("late@example.com").await;
    let r = accept(token, late.clone()).await;
    assert_eq!(r.code(), "INVITATION_EXPIRED");
    assert_eq!(r.field(), "token");

    // Garbage.
    assert_eq!(accept("nonsense".into(), late).await.code(), "INVITATION_INVALID");
    let t = app.tenant(&owner.access, &tenant).await;
    assert_eq!(t.members.unwrap().total_count, 2, "only the one valid acceptance joined");
}

#[tokio::test]
async fn resending_replaces_the_link_and_inviting_a_member_is_a_conflict() {
    let app = spawn_app().await;
    let owner = app.verified_user("o2@example.com").await;
    let tenant = app.create_tenant(&owner, "resend-org").await;
    let role = app.role_id(&owner, &tenant, "member").await;
    let vars = json!({ "input": { "tenantId": tenant, "email": "twice@example.com", "roleId": role } });
    let r = app.op_json::<InviteMember>(Some(&owner.access), vars.clone()).await;
    let id = r.into_data().invite_member.invitation.id;
    let again = app.gql(Some(&owner.access), doc!("members/InviteMember"), vars).await;
    assert_eq!(again.code(), "CONFLICT", "a pending invitation exists");
    let first = app.mailed_token_n("twice@example.com", 1).await;
    app.gql(Some(&owner.access), doc!("members/ResendInvitation"), json!({ "id": id })).await.data();
    let second = app.mailed_token_other_than("twice@example.com", &first).await;
    assert_ne!(first, second);
    let invitee = app.verified_user("twice@example.com").await;
    let old =
        app.gql(Some(&invitee.access), doc!("members/AcceptInvitation"), json!({ "token": first })).await;
    assert_eq!(old.code(), "INVITATION_INVALID", "the old link stopped working");
    app.gql(Some(&invitee.access), doc!("members/AcceptInvitation"), json!({ "token": second })).await.data();

    let member = app
        .gql(
            Some(&owner.access),
            doc!("members/InviteMember"),
            json!({ "input": { "tenantId": tenant, "email": "twice@example.com", "roleId": role } }),
        )
        .await;
    assert_eq!(member.code(), "CONFLICT");
    assert_eq!(member.field(), "input.email");
}

#[tokio::test]
async fn nobody_grants_or_manages_at_or_above_their_own_role() {
    let app = spawn_app().await;
    let owner = app.verified_user("own@example.com").await;
    let tenant = app.create_tenant(&owner, "rank-org").await;
    let (admin, admin_m) = app.join_as(&owner, &tenant, "admin@example.com", "admin").await;
    let (member, member_m) = app.join_as(&owner, &tenant, "member@example.com", "member").await;
    let owner_role = app.role_id(&owner, &tenant, "owner").await;
    let admin_role = app.role_id(&owner, &tenant, "admin").await;
    let viewer_role = app.role_id(&owner, &tenant, "viewer").await;
    let owner_m = {
        let t = app.tenant(&owner.access, &tenant).await;
        t.members.unwrap().edges.into_iter().find(|e| e.node.role.key == "owner").unwrap().node.id
    };
    let change = |s: &Session, m: &str, role: &str| {
        let (app, token, vars) =
            (&app, s.access.clone(), json!({ "input": { "membershipId": m, "roleId": role } }));
        async move { app.op_json::<ChangeMemberRole>(Some(&token), vars).await }
    };

    // A member cannot manage anyone: the permission is named.
    let r = change(&member, &admin_m, &viewer_role).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(r.raw.0["errors"][0]["extensions"]["permission"], "members.manage");
    // An admin cannot make anyone owner or admin, nor touch the owner.
    assert_eq!(change(&admin, &member_m, &owner_role).await.code(), "FORBIDDEN");
    assert_eq!(change(&admin, &member_m, &admin_role).await.code(), "FORBIDDEN");
    assert_eq!(change(&admin, &owner_m, &viewer_role).await.code(), "FORBIDDEN");
    let r =
        app.gql(Some(&admin.access), doc!("members/RemoveMember"), json!({ "membershipId": owner_m })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    // But an admin manages a member below them.
    let r = change(&admin, &member_m, &viewer_role).await;
    assert_eq!(r.data().change_member_role.membership.role.key, "viewer");
    // The owner can promote.
    let r = change(&owner, &admin_m, &owner_role).await;
    assert_eq!(r.data().change_member_role.membership.role.key, "owner");
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_suspended_or_removed() {
    let app = spawn_app().await;
    let owner = app.verified_user("solo@example.com").await;
    let tenant = app.create_tenant(&owner, "solo-org").await;
    let me = app.tenant(&owner.access, &tenant).await.members.unwrap().edges.remove(0).node.id;
    let viewer_role = app.role_id(&owner, &tenant, "viewer").await;
    let r = app
        .gql(
            Some(&owner.access),
            doc!("members/ChangeMemberRole"),
            json!({ "input": { "membershipId": me, "roleId": viewer_role } }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    for doc in [doc!("members/SuspendMember"), doc!("members/RemoveMember")] {
        let r = app.gql(Some(&owner.access), doc, json!({ "membershipId": me })).await;
        assert_eq!(r.code(), "CONFLICT");
    }
    app.gql(Some(&owner.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await.data();
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    let app = spawn_app().await;
    let a = app.verified_user("a@example.com").await;
    let tenant = app.create_tenant(&a, "race-org").await;
    let (b, b_m) = app.join_as(&a, &tenant, "b@example.com", "owner").await;
    let t = app.tenant(&a.access, &tenant).await;
    let a_m =
        t.members.unwrap().edges.into_iter().find(|e| e.node.user.email.as_deref() == Some("a@example.com"));
    let a_m = a_m.unwrap().node.id;
    let viewer_role = app.role_id(&a, &tenant, "viewer").await;
    for _ in 0..3 {
        let (r1, r2) = tokio::join!(
            app.gql(
                Some(&a.access),
                doc!("members/ChangeMemberRole"),
                json!({ "input": { "membershipId": b_m, "roleId": viewer_role } })
            ),
            app.gql(
                Some(&b.access),
                doc!("members/ChangeMemberRole"),
                json!({ "input": { "membershipId": a_m, "roleId": viewer_role } })
            ),
        );
        let ok = [&r1, &r2].iter().filter(|r| r.0.get("errors").is_none()).count();
        assert!(ok <= 1, "both demotions succeeded: {} / {}", r1.0, r2.0);
        let owners =
            app.tenant(if r1.0.get("errors").is_none() { &a.access } else { &b.access }, &tenant).await;
        let count = owners.members.unwrap().edges.iter().filter(|e| e.node.role.key == "owner").count();
        assert_eq!(count, 1, "exactly one owner is left");
        // Restore two owners for the next round.
        let owner_role = app.role_id(&a, &tenant, "owner").await.clone();
        let (who, target) = if r1.0.get("errors").is_none() { (&a, &b_m) } else { (&b, &a_m) };
        app.gql(
            Some(&who.access),
            doc!("members/ChangeMemberRole"),
            json!({ "input": { "membershipId": target, "roleId": owner_role } }),
        )
        .await
        .data();
    }
}

#[tokio::test]
async fn a_suspended_member_loses_access_until_reactivated_and_a_removed_one_for_good() {
    let app = spawn_app().await;
    let owner = app.verified_user("s-own@example.com").await;
    let tenant = app.create_tenant(&owner, "suspend-org").await;
    let (m, m_id) = app.join_as(&owner, &tenant, "s-mem@example.com", "member").await;
    app.gql(Some(&m.access), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await.data();

    let r = app
        .op::<SuspendMember>(Some(&owner.access), suspend_member::Variables { membership_id: m_id.clone() })
        .await;
    assert_eq!(r.data().suspend_member.membership.status, suspend_member::MemberStatus::SUSPENDED);
    assert_eq!(
        app.gql(Some(&m.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await.code(),
        "NOT_FOUND"
    );
    assert_eq!(app.viewer(&m.access).await.tenants.total_count, 0);

    app.gql(Some(&owner.access), doc!("members/ReactivateMember"), json!({ "membershipId": m_id }))
        .await
        .data();
    app.gql(Some(&m.access), doc!("tenancy/TenantSettings"), json!({ "id": tenant })).await.data();

    let r = app
        .op::<RemoveMember>(Some(&owner.access), remove_member::Variables { membership_id: m_id.clone() })
        .await;
    assert_eq!(r.data().remove_member.removed_membership_id, m_id);
    assert_eq!(
        app.gql(Some(&m.access), doc!("tenancy/Tenant"), json!({ "id": tenant })).await.code(),
        "NOT_FOUND"
    );
    let log = app
        .op_json::<TenantAuditLog>(
            Some(&owner.access),
            json!({ "id": tenant, "filter": { "targetId": m_id } }),
        )
        .await;
    // The removed member shares no organisation with the owner any more, so their address
    // (`actor.email`) is hidden; the entries themselves are all there.
    let actions: Vec<_> = log
        .partial()
        .tenant
        .audit_log
        .as_ref()
        .unwrap()
        .edges
        .iter()
        .map(|e| e.node.action.clone())
        .collect();
    assert_eq!(actions, ["member.joined", "member.suspended", "member.reactivated", "member.removed"]);
}

#[tokio::test]
async fn members_of_another_tenant_get_not_found_for_its_ids_and_change_nothing() {
    let app = spawn_app().await;
    let a = app.verified_user("ta@example.com").await;
    let b = app.verified_user("tb@example.com").await;
    let ta = app.create_tenant(&a, "tenant-a").await;
    app.create_tenant(&b, "tenant-b").await;
    let (_, a_member) = app.join_as(&a, &ta, "am@example.com", "member").await;
    let a_viewer_role = app.role_id(&a, &ta, "viewer").await;
    let r = app
        .op_json::<InviteMember>(
            Some(&a.access),
            json!({ "input": { "tenantId": ta, "email": "pending@example.com", "roleId": a_viewer_role } }),
        )
        .await;
    let a_inv = r.into_data().invite_member.invitation.id;

    let attempts = [
        (
            doc!("members/ChangeMemberRole"),
            json!({ "input": { "membershipId": a_member, "roleId": a_viewer_role } }),
        ),
        (doc!("members/SuspendMember"), json!({ "membershipId": a_member })),
        (doc!("members/RemoveMember"), json!({ "membershipId": a_member })),
        (doc!("members/RevokeInvitation"), json!({ "id": a_inv })),
        (doc!("members/ResendInvitation"), json!({ "id": a_inv })),
        (
            doc!("members/InviteMember"),
            json!({ "input": { "tenantId": ta, "email": "x@example.com", "roleId": a_viewer_role } }),
        ),
        (doc!("members/TenantInvitations"), json!({ "id": ta })),
        (doc!("audit/TenantAuditLog"), json!({ "id": ta })),
        (doc!("relay/Node"), json!({ "id": a_inv })),
        (doc!("relay/Node"), json!({ "id": a_member })),
    ];
    for (doc, vars) in attempts {
        let r = app.gql(Some(&b.access), doc, vars.clone()).await;
        assert_eq!(r.code(), "NOT_FOUND", "{vars} → {}", r.0);
    }
    assert_eq!(app.tenant(&a.access, &ta).await.members.unwrap().total_count, 2, "nothing changed");
    let inv = invitations(&app, &a, &ta).await;
    let pending = inv.edges.into_iter().find(|e| e.node.id == a_inv).unwrap();
    assert_eq!(pending.node.status, tenant_invitations::InvitationStatus::PENDING);
}

#[tokio::test]
async fn the_audit_log_is_for_audit_readers_filters_and_streams_live() {
    let app = spawn_app().await;
    let owner = app.verified_user("aud@example.com").await;
    let tenant = app.create_tenant(&owner, "audit-org").await;
    let (viewer, _) = app.join_as(&owner, &tenant, "peek@example.com", "viewer").await;
    let r = app.gql(Some(&viewer.access), doc!("audit/TenantAuditLog"), json!({ "id": tenant })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(r.0["errors"][0]["extensions"]["permission"], "audit.read");
    assert_eq!(r.0["errors"][0]["path"], json!(["tenant", "auditLog"]));
    let partial = r.clone().typed::<TenantAuditLog>();
    assert_eq!(partial.partial().tenant.id, tenant, "the rest of the response still arrives");
    assert!(partial.partial().tenant.audit_log.is_none());

    let mut ws = WsClient::connect(&app, "graphql-transport-ws").await;
    ws.init(Some(&owner.access)).await.unwrap();
    ws.subscribe("a", doc!("audit/AuditLogAdded"), json!({ "tenantId": tenant })).await;
    let event = mutate_until_event(&app, &owner, &tenant, "Audited", &mut ws).await;
    let entry =
        event_data::<AuditLogAdded>(&event).unwrap_or_else(|| panic!("an entry: {event}")).audit_log_added;
    assert_eq!(entry.action, "tenant.updated");
    assert_eq!(entry.after.as_ref().map(|a| &a["name"]), Some(&json!("Audited")));
    assert_eq!(entry.actor_id.as_deref(), Some(owner.user_id.as_str()));

    let r = app
        .op_json::<TenantAuditLog>(
            Some(&owner.access),
            json!({ "id": tenant, "filter": { "action": "tenant.updated", "actorId": owner.user_id } }),
        )
        .await;
    let log = r.data().tenant.audit_log.as_ref().expect("the audit log");
    assert!(log.total_count >= 1);
    let first = &log.edges[0].node;
    assert_eq!(first.action, "tenant.updated");
    assert_eq!(first.target_type, "Tenant");
    assert_eq!(first.target_id.as_deref(), Some(tenant.as_str()));
    assert_eq!(first.before.as_ref().map(|b| &b["name"]), Some(&json!("Org audit-org")));
    assert!(first.request_id.as_deref().is_some_and(|s| !s.is_empty()));
    assert_eq!(first.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(first.actor.as_ref().and_then(|a| a.email.as_deref()), Some("aud@example.com"));
}

#[tokio::test]
async fn members_can_be_searched_and_filtered_by_role_and_status() {
    let app = spawn_app().await;
    let owner = app.verified_user("filter-own@example.com").await;
    let tenant = app.create_tenant(&owner, "filter-org").await;
    let (_, alice) = app.join_as(&owner, &tenant, "alice.smith@example.com", "member").await;
    app.join_as(&owner, &tenant, "bob@example.com", "viewer").await;
    app.join_as(&owner, &tenant, "carol_100%@example.com", "member").await;
    app.gql(Some(&owner.access), doc!("members/SuspendMember"), json!({ "membershipId": alice }))
        .await
        .data();
    let member_role = app.role_id(&owner, &tenant, "member").await;
    let emails = |vars: serde_json::Value| {
        let (app, token, tenant) = (&app, owner.access.clone(), tenant.clone());
        async move {
            let mut vars = vars;
            vars["id"] = json!(tenant);
            let r = app.op_json::<TenantMembers>(Some(&token), vars).await.into_data();
            let mut list: Vec<String> =
                r.tenant.members.unwrap().edges.into_iter().map(|e| e.node.user.email.unwrap()).collect();
            list.sort();
            list
        }
    };
    assert_eq!(
        emails(json!({ "search": "SMITH" })).await,
        ["alice.smith@example.com"],
        "search ignores case"
    );
    assert_eq!(
        emails(json!({ "search": "100%" })).await,
        ["carol_100%@example.com"],
        "wildcards are literal"
    );
    assert_eq!(emails(json!({ "search": "%" })).await, ["carol_100%@example.com"]);
    assert_eq!(emails(json!({ "search": "test user" })).await.len(), 4, "names are searched too");
    assert_eq!(
        emails(json!({ "role": member_role })).await,
        ["alice.smith@example.com", "carol_100%@example.com"]
    );
    assert_eq!(emails(json!({ "status": "SUSPENDED" })).await, ["alice.smith@example.com"]);
    assert_eq!(emails(json!({ "status": "ACTIVE", "role": member_role })).await, ["carol_100%@example.com"]);

    // Without MEMBERS_MANAGE the search looks at names only: it cannot probe hidden addresses.
    let (viewer, _) = app.join_as(&owner, &tenant, "dave@example.com", "viewer").await;
    let found = |search: &'static str| {
        let (app, token, tenant) = (&app, viewer.access.clone(), tenant.clone());
        async move {
            let r =
                app.op_json::<TenantMembers>(Some(&token), json!({ "id": tenant, "search": search })).await;
            r.partial().tenant.members.as_ref().expect("members").total_count
        }
    };
    assert_eq!(found("smith").await, 0);
    assert_eq!(found("test").await, 5);
}

#[tokio::test]
async fn emails_are_visible_to_their_owner_and_to_member_managers_only() {
    let app = spawn_app().await;
    let owner = app.verified_user("guard-own@example.com").await;
    let tenant = app.create_tenant(&owner, "guard-org").await;
    let (viewer, _) = app.join_as(&owner, &tenant, "guard-viewer@example.com", "viewer").await;
    let r = app.op_json::<TenantMembers>(Some(&viewer.access), json!({ "id": tenant })).await;
    let edges = &r.partial().tenant.members.as_ref().expect("members").edges;
    assert_eq!(edges.len(), 2, "the rest of the response still arrives");
    for e in edges {
        let user = &e.node.user;
        if user.id == viewer.user_id {
            assert_eq!(
                user.email.as_deref(),
                Some("guard-viewer@example.com"),
                "one's own address is visible"
            );
        } else {
            assert!(user.email.is_none(), "another member's address is hidden");
            assert!(!user.name.is_empty());
        }
    }
    let errors = r.raw.0["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(errors[0]["path"].as_array().unwrap().last().unwrap(), "email");

    let r = app.op_json::<TenantMembers>(Some(&owner.access), json!({ "id": tenant })).await.into_data();
    let emails: Vec<_> =
        r.tenant.members.unwrap().edges.into_iter().map(|e| e.node.user.email.unwrap()).collect();
    assert_eq!(emails.len(), 2, "a member manager sees every address");
}
