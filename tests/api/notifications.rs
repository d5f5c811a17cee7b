//! Notifications produced by real changes: in the app (list, unread count, live
//! `notificationAdded`), by one grouped mail after a burst, in the daily digest; preferences
//! honoured per kind and channel; unsubscribe links that work without signing in; a person
//! sees an organisation's notifications only while a member; bad input.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, helpers::*};

struct World {
    app: TestApp,
    clock: Clock,
    owner: Session,
    member: Session,
    tenant: String,
    membership: String,
}

/// An organisation with an owner and a member, on a manual clock (jobs run when drained).
async fn world(slug: &str) -> World {
    let clock = Clock::manual(Utc::now());
    let opts = Options { clock: Some(clock.clone()), ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user(&format!("owner@{slug}.example.com")).await;
    let tenant = app.create_tenant(&owner, slug).await;
    let (member, membership) =
        app.join_as(&owner, &tenant, &format!("member@{slug}.example.com"), "member").await;
    drain(&app.ctx).await.unwrap();
    World { app, clock, owner, member, tenant, membership }
}

impl World {
    async fn change_role(&self, role: &str) {
        let role_id = self.app.role_id(&self.owner, &self.tenant, role).await;
        let r = self
            .app
            .gql(
                Some(&self.owner.access),
                doc!("members/ChangeMemberRole"),
                json!({ "input": { "membershipId": self.membership, "roleId": role_id } }),
            )
            .await;
        assert_eq!(r.data()["changeMemberRole"]["membership"]["role"]["key"], role, "{:?}", r.0);
        drain(&self.app.ctx).await.unwrap();
    }

    async fn inbox(&self, s: &Session, vars: Value) -> Value {
        let r = self.app.gql(Some(&s.access), doc!("notifications/ViewerNotifications"), vars).await;
        r.data()["viewer"].clone()
    }

    async fn set(&self, s: &Session, kind: &str, channel: &str, enabled: bool) -> Value {
        let r = self
            .app
            .gql(
                Some(&s.access),
                doc!("notifications/UpdateNotificationSettings"),
                json!({ "input": { "settings": [{ "kind": kind, "channel": channel, "enabled": enabled }] } }),
            )
            .await;
        r.data()["updateNotificationSettings"]["settings"].clone()
    }
}

/// The first 50 notifications in `s`'s inbox, as their nodes.
pub async fn inbox(app: &TestApp, s: &Session) -> Vec<Value> {
    let r = app.gql(Some(&s.access), doc!("notifications/ViewerNotifications"), json!({ "first": 50 })).await;
    r.data()["viewer"]["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn notification_mails(app: &TestApp, to: &str) -> Vec<String> {
    app.mails_to(to).into_iter().filter(|m| m.contains("/notifications/unsubscribe?")).collect()
}

#[tokio::test]
async fn a_role_change_reaches_the_member_in_the_app_live_and_a_burst_by_one_mail() {
    let w = world("notify-live").await;
    let base = w.app.metric("zygo_subscriptions_active").await;
    let mut ws = WsClient::connect(&w.app, "graphql-transport-ws").await;
    ws.init(Some(&w.member.access)).await.expect("ack");
    ws.subscribe("1", doc!("notifications/NotificationAdded"), json!({})).await;
    // The subscription is open once its gauge counts it.
    eventually(10, || async { (w.app.metric("zygo_subscriptions_active").await > base).then_some(()) }).await;

    w.change_role("admin").await;
    let msg = ws.next_json().await.expect("an event");
    let added = &msg["payload"]["data"]["notificationAdded"];
    assert_eq!(added["kind"], "ROLE_CHANGED", "{msg}");
    assert_eq!(added["read"], false);
    assert!(added["title"].as_str().unwrap().contains("Your role in"), "{added}");
    assert!(added["body"].as_str().unwrap().to_lowercase().contains("now admin"), "{added}");
    assert_eq!(added["organisationId"], w.tenant.as_str());

    w.change_role("viewer").await;
    w.change_role("member").await;
    let inbox = w.inbox(&w.member, json!({})).await;
    assert_eq!(inbox["unreadNotificationCount"], 3);
    assert_eq!(inbox["notifications"]["totalCount"], 3);
    // The owner acted: they are not told about their own changes.
    assert_eq!(w.inbox(&w.owner, json!({})).await["unreadNotificationCount"], 0);

    // Nothing is mailed before the grouping window ends; then one mail for the three.
    let to = "member@notify-live.example.com".to_string();
    assert!(notification_mails(&w.app, &to).is_empty());
    w.clock.advance(Duration::seconds(61));
    drain(&w.app.ctx).await.unwrap();
    let mail = w.app.mail_about(&to, "3 new notifications", 1).await;
    assert!(mail.to_lowercase().contains("you are now viewer"), "{mail}");
    w.clock.advance(Duration::seconds(61));
    drain(&w.app.ctx).await.unwrap();
    assert_eq!(notification_mails(&w.app, &to).len(), 1, "each notification is mailed once");
}

#[tokio::test]
async fn preferences_are_honoured_and_an_unsubscribe_link_works_without_signing_in() {
    let w = world("notify-prefs").await;
    let to = "member@notify-prefs.example.com".to_string();
    let settings = w.set(&w.member, "ROLE_CHANGED", "EMAIL", false).await;
    let role = settings.as_array().unwrap().iter().find(|s| s["kind"] == "ROLE_CHANGED").unwrap().clone();
    assert_eq!((role["inApp"].as_bool(), role["email"].as_bool()), (Some(true), Some(false)));

    w.change_role("admin").await;
    w.clock.advance(Duration::seconds(61));
    drain(&w.app.ctx).await.unwrap();
    assert!(notification_mails(&w.app, &to).is_empty(), "e-mail switched off for the kind");
    assert_eq!(w.inbox(&w.member, json!({})).await["unreadNotificationCount"], 1);

    // In-app off too: nothing at all.
    w.set(&w.member, "ROLE_CHANGED", "IN_APP", false).await;
    w.change_role("viewer").await;
    assert_eq!(w.inbox(&w.member, json!({})).await["notifications"]["totalCount"], 1);

    // Back on for mail: the mail carries a signed link that switches it off again.
    w.set(&w.member, "ROLE_CHANGED", "EMAIL", true).await;
    w.change_role("member").await;
    w.clock.advance(Duration::seconds(61));
    drain(&w.app.ctx).await.unwrap();
    let mail = w.app.mail_about(&to, "Your role in", 1).await;
    let link = mail
        .split_whitespace()
        .find(|t| t.contains("/notifications/unsubscribe?") && t.contains("kind=member.role_changed"))
        .expect("an unsubscribe link")
        .trim_end_matches(['"', '>'])
        .replace("&amp;", "&");
    let path = &link[link.find("/notifications/").unwrap()..];
    let http = reqwest::Client::new();
    // A forged signature changes nothing.
    let forged = http.post(w.app.url(&format!("{}x", path))).send().await.unwrap();
    assert_eq!(forged.status(), 404);
    // Looking at the link (as a mail scanner does) changes nothing either.
    let page = http.get(w.app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let settings =
        w.app.gql(Some(&w.member.access), doc!("notifications/NotificationSettings"), json!({})).await;
    let role = |v: &Value| {
        v["viewer"]["notificationSettings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "ROLE_CHANGED")
            .unwrap()["email"]
            .clone()
    };
    assert_eq!(role(settings.data()), true);
    let done = http.post(w.app.url(path)).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let settings =
        w.app.gql(Some(&w.member.access), doc!("notifications/NotificationSettings"), json!({})).await;
    assert_eq!(role(settings.data()), false);
}

#[tokio::test]
async fn the_daily_digest_gathers_the_days_digest_notifications_into_one_mail() {
    let w = world("notify-digest").await;
    let to = "member@notify-digest.example.com".to_string();
    for name in ["Design", "Support"] {
        let team = w
            .app
            .gql(
                Some(&w.owner.access),
                doc!("teams/CreateTeam"),
                json!({ "input": { "tenantId": w.tenant, "name": name } }),
            )
            .await;
        let team = team.data()["createTeam"]["team"]["id"].as_str().unwrap().to_string();
        let r = w
            .app
            .gql(
                Some(&w.owner.access),
                doc!("teams/SetTeamMember"),
                json!({ "input": { "teamId": team, "membershipId": w.membership, "role": "EDITOR" } }),
            )
            .await;
        assert!(r.0.get("errors").is_none(), "{:?}", r.0);
    }
    drain(&w.app.ctx).await.unwrap();
    let inbox = w.inbox(&w.member, json!({ "kind": "ADDED_TO_TEAM" })).await;
    assert_eq!(inbox["notifications"]["totalCount"], 2);
    // Not mailed at once (digest only), nor in today's digest.
    w.clock.advance(Duration::seconds(61));
    drain(&w.app.ctx).await.unwrap();
    assert!(notification_mails(&w.app, &to).is_empty());
    w.clock.advance(Duration::days(1));
    drain(&w.app.ctx).await.unwrap();
    let mail = w.app.mail_about(&to, "Your daily digest: 2 notifications", 1).await;
    assert!(mail.contains("channel=DIGEST"), "{mail}");
    w.clock.advance(Duration::days(1));
    drain(&w.app.ctx).await.unwrap();
    assert_eq!(notification_mails(&w.app, &to).len(), 1, "a digest is sent once");
}

#[tokio::test]
async fn unread_come_first_and_marking_read_counts_down() {
    let w = world("notify-read").await;
    for role in ["admin", "viewer", "member"] {
        w.change_role(role).await;
    }
    let inbox = w.inbox(&w.member, json!({ "first": 2 })).await;
    let edges = inbox["notifications"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 2);
    assert_eq!(inbox["notifications"]["pageInfo"]["hasNextPage"], true);
    let oldest_first_page: Vec<String> =
        edges.iter().map(|e| e["node"]["id"].as_str().unwrap().to_string()).collect();
    // Newest first: the last change leads.
    assert!(edges[0]["node"]["body"].as_str().unwrap().to_lowercase().contains("now member"), "{edges:?}");

    // Mark the newest read: it moves behind the unread ones.
    let r = w
        .app
        .gql(
            Some(&w.member.access),
            doc!("notifications/MarkNotificationsRead"),
            json!({ "input": { "ids": [oldest_first_page[0]] } }),
        )
        .await;
    assert_eq!(r.data()["markNotificationsRead"], json!({ "marked": 1, "unreadCount": 2 }));
    let all = w.inbox(&w.member, json!({ "first": 2 })).await;
    let page1: Vec<Value> = all["notifications"]["edges"].as_array().unwrap().clone();
    assert!(page1.iter().all(|e| e["node"]["read"] == false), "{page1:?}");
    let cursor = all["notifications"]["pageInfo"]["endCursor"].clone();
    let rest = w.inbox(&w.member, json!({ "first": 2, "after": cursor })).await;
    let page2 = rest["notifications"]["edges"].as_array().unwrap().clone();
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0]["node"]["id"], oldest_first_page[0].as_str());
    assert_eq!(page2[0]["node"]["read"], true);

    // Another person cannot mark (or see) them.
    let r = w
        .app
        .gql(
            Some(&w.owner.access),
            doc!("notifications/MarkNotificationsRead"),
            json!({ "input": { "ids": [oldest_first_page[1]] } }),
        )
        .await;
    assert_eq!(r.data()["markNotificationsRead"]["marked"], 0);
    let node = w
        .app
        .gql(
            Some(&w.owner.access),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": oldest_first_page[1] }),
        )
        .await;
    assert_eq!(node.code(), "NOT_FOUND");

    let r = w
        .app
        .gql(
            Some(&w.member.access),
            doc!("notifications/MarkNotificationsRead"),
            json!({ "input": { "all": true } }),
        )
        .await;
    assert_eq!(r.data()["markNotificationsRead"], json!({ "marked": 2, "unreadCount": 0 }));
}

#[tokio::test]
async fn an_organisations_notifications_are_seen_only_while_a_member() {
    let w = world("notify-leave").await;
    w.change_role("admin").await;
    assert_eq!(w.inbox(&w.member, json!({})).await["notifications"]["totalCount"], 1);
    let r = w
        .app
        .gql(Some(&w.owner.access), doc!("members/RemoveMember"), json!({ "membershipId": w.membership }))
        .await;
    assert!(r.0.get("errors").is_none(), "{:?}", r.0);
    drain(&w.app.ctx).await.unwrap();
    let member = w.app.log_in("member@notify-leave.example.com").await;
    let inbox = w.inbox(&member, json!({})).await;
    assert_eq!(
        (inbox["notifications"]["totalCount"].as_i64(), inbox["unreadNotificationCount"].as_i64()),
        (Some(0), Some(0))
    );
    // Settings for an organisation one is not in: NOT_FOUND, nothing stored.
    let r = w
        .app
        .gql(
            Some(&member.access),
            doc!("notifications/UpdateNotificationSettings"),
            json!({ "input": { "organisationId": w.tenant, "settings": [{ "kind": "ROLE_CHANGED", "channel": "EMAIL", "enabled": false }] } }),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    let w = world("notify-bad").await;
    w.change_role("admin").await;
    let both = w
        .app
        .gql(
            Some(&w.member.access),
            doc!("notifications/MarkNotificationsRead"),
            json!({ "input": { "ids": [], "all": true } }),
        )
        .await;
    assert_eq!((both.code().as_str(), both.field().as_str()), ("BAD_USER_INPUT", "input.all"));
    let neither = w
        .app
        .gql(Some(&w.member.access), doc!("notifications/MarkNotificationsRead"), json!({ "input": {} }))
        .await;
    assert_eq!(neither.field(), "input.ids");
    let cursor = w
        .app
        .gql(Some(&w.member.access), doc!("notifications/ViewerNotifications"), json!({ "after": "nope" }))
        .await;
    assert_eq!(cursor.field(), "after");
    assert_eq!(w.inbox(&w.member, json!({})).await["unreadNotificationCount"], 1);
    let anonymous = w
        .app
        .gql(None, doc!("notifications/MarkNotificationsRead"), json!({ "input": { "all": true } }))
        .await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}
