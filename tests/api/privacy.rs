//! GDPR: a person's export holds their rows from every table that names them (checked against
//! the database itself), an owner exports the whole organisation, links expire; account deletion
//! waits 30 days, can be cancelled, is blocked for a sole owner, and then leaves no trace of the
//! person's address or name in any table.

use std::io::Read;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, helpers::*};

async fn clocked() -> (TestApp, Clock) {
    let clock = Clock::manual(Utc::now());
    let opts = Options { clock: Some(clock.clone()), ..Default::default() };
    (spawn_app_on(Backend::fresh().await, opts).await, clock)
}

/// The link in the newest "data export is ready" mail to `to`, as a path.
async fn export_link(app: &TestApp, to: &str, n: usize) -> String {
    let mail = app.mail_about(to, "data export is ready", n).await;
    let link = mail
        .split_whitespace()
        .find(|t| t.contains("/privacy/exports/"))
        .expect("a download link")
        .trim_end_matches(['"', '>'])
        .replace("&amp;", "&");
    link[link.find("/privacy/").unwrap()..].to_string()
}

async fn unzip(app: &TestApp, path: &str) -> std::collections::BTreeMap<String, Value> {
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        let name = f.name().to_string();
        if let Some(table) = name.strip_suffix(".json") {
            out.insert(table.to_string(), serde_json::from_str(&s).unwrap());
        }
    }
    out
}

/// Tables with a row whose person column names `user_id` (as the database stores it).
async fn tables_naming(app: &TestApp, user_id: &str) -> Vec<String> {
    let db = app.db().await;
    let backend = db.get_database_backend();
    let tables = zygo::modules::privacy::catalog::tables(&db).await.unwrap();
    let mut out = Vec::new();
    for (table, columns) in tables {
        for c in
            columns.iter().filter(|c| zygo::modules::privacy::catalog::PERSON_COLUMNS.contains(&c.as_str()))
        {
            let sql = match backend {
                DbBackend::Postgres => {
                    format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE \"{c}\"::text = '{user_id}'")
                }
                _ => format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" WHERE lower(hex(\"{c}\")) = replace('{user_id}', '-', '') OR \"{c}\" = '{user_id}'"
                ),
            };
            let row = db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                out.push(table.clone());
                break;
            }
        }
    }
    out
}

/// Every (table, column) holding `needle` in its text.
async fn occurrences(app: &TestApp, needle: &str) -> Vec<String> {
    let db = app.db().await;
    let backend = db.get_database_backend();
    let tables = zygo::modules::privacy::catalog::tables(&db).await.unwrap();
    let mut out = Vec::new();
    for (table, columns) in tables {
        for c in columns {
            let sql = match backend {
                DbBackend::Postgres => {
                    format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE strpos(\"{c}\"::text, $1) > 0")
                }
                _ => format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" WHERE instr(CAST(\"{c}\" AS TEXT), ?1) > 0"
                ),
            };
            let row = db
                .query_one_raw(Statement::from_sql_and_values(backend, sql, [needle.into()]))
                .await
                .unwrap()
                .unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                out.push(format!("{table}.{c}"));
            }
        }
    }
    out
}

fn user_uuid(global: &str) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(global).unwrap();
    String::from_utf8(raw).unwrap().split(':').nth(1).unwrap().to_string()
}

#[tokio::test]
async fn an_export_holds_the_persons_rows_from_every_table_that_names_them() {
    let (app, clock) = clocked().await;
    let owner = app.verified_user("owner@px.example.com").await;
    let tenant = app.create_tenant(&owner, "px-org").await;
    let (member, membership) = app.join_as(&owner, &tenant, "member@px.example.com", "admin").await;
    // The member leaves traces across areas: a team, a workflow, a notification, sessions.
    let team = app
        .gql(
            Some(&member.access),
            doc!("teams/CreateTeam"),
            json!({ "input": { "tenantId": tenant, "name": "Ops" } }),
        )
        .await;
    assert!(team.0.get("errors").is_none(), "{:?}", team.0);
    let wf = app
        .gql(
            Some(&member.access),
            doc!("workflows/CreateWorkflow"),
            json!({ "input": { "tenantId": tenant, "name": "Nightly" } }),
        )
        .await;
    assert!(wf.0.get("errors").is_none(), "{:?}", wf.0);
    let role = app.role_id(&owner, &tenant, "member").await;
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": membership, "roleId": role } }),
    )
    .await
    .data();
    drain(&app.ctx).await.unwrap();

    let r = app.gql(Some(&member.access), doc!("privacy/RequestDataExport"), json!({})).await;
    assert_eq!(r.data()["requestDataExport"]["export"]["status"], "PENDING");
    // One at a time.
    let again = app.gql(Some(&member.access), doc!("privacy/RequestDataExport"), json!({})).await;
    assert_eq!(again.code(), "CONFLICT");
    drain(&app.ctx).await.unwrap();
    let path = export_link(&app, "member@px.example.com", 1).await;
    let files = unzip(&app, &path).await;

    let me = user_uuid(&member.user_id);
    let expected = tables_naming(&app, &me).await;
    for table in &expected {
        assert!(files.contains_key(table), "the export lacks {table} (has {:?})", files.keys());
    }
    for table in
        ["users", "memberships", "sessions", "audit_entries", "notifications", "workflows", "security_events"]
    {
        assert!(files.contains_key(table), "the export lacks {table} (has {:?})", files.keys());
    }
    assert_eq!(files["users"][0]["email"], "member@px.example.com");
    assert!(
        files["invitations"].as_array().is_some_and(|a| !a.is_empty()),
        "the invitation to their address"
    );
    let text = serde_json::to_string(&files).unwrap();
    assert!(!text.contains("password_hash") && !text.contains("token_hash"), "secrets are never exported");
    // Only their rows: the owner's sessions are not in it.
    let owner_id = user_uuid(&owner.user_id);
    assert!(files["sessions"].as_array().unwrap().iter().all(|s| !s.to_string().contains(&owner_id)));

    // The viewer sees it ready with the same link; after seven days it is gone.
    let v = app.gql(Some(&member.access), doc!("privacy/ViewerPrivacy"), json!({})).await;
    let export = &v.data()["viewer"]["dataExports"][0];
    assert_eq!(export["status"], "READY");
    assert!(export["downloadUrl"].as_str().unwrap().ends_with(&path));
    clock.advance(Duration::days(8));
    let gone = reqwest::get(app.url(&path)).await.unwrap();
    assert_eq!(gone.status(), 404);
    let forged = reqwest::get(app.url(&path.replace("sig=", "sig=x"))).await.unwrap();
    assert_eq!(forged.status(), 404);
}

#[tokio::test]
async fn an_owner_exports_the_whole_organisation_and_no_one_else_can() {
    let (app, _clock) = clocked().await;
    let owner = app.verified_user("owner@ox.example.com").await;
    let tenant = app.create_tenant(&owner, "ox-org").await;
    let (admin, _) = app.join_as(&owner, &tenant, "admin@ox.example.com", "admin").await;
    let refused = app
        .gql(
            Some(&admin.access),
            doc!("privacy/RequestDataExport"),
            json!({ "input": { "organisationId": tenant } }),
        )
        .await;
    assert_eq!(refused.code(), "FORBIDDEN");
    let other = app.verified_user("other@ox.example.com").await;
    let outsider = app
        .gql(
            Some(&other.access),
            doc!("privacy/RequestDataExport"),
            json!({ "input": { "organisationId": tenant } }),
        )
        .await;
    assert_eq!(outsider.code(), "NOT_FOUND");
    let r = app
        .gql(
            Some(&owner.access),
            doc!("privacy/RequestDataExport"),
            json!({ "input": { "organisationId": tenant } }),
        )
        .await;
    assert_eq!(r.data()["requestDataExport"]["export"]["organisationId"], tenant.as_str());
    drain(&app.ctx).await.unwrap();
    let files = unzip(&app, &export_link(&app, "owner@ox.example.com", 1).await).await;
    for table in ["tenants", "memberships", "roles", "audit_entries", "invitations", "members.people"] {
        assert!(files.contains_key(table), "the organisation export lacks {table} (has {:?})", files.keys());
    }
    assert_eq!(files["memberships"].as_array().unwrap().len(), 2);
    let people = serde_json::to_string(&files["members.people"]).unwrap();
    assert!(people.contains("admin@ox.example.com") && !people.contains("other@ox.example.com"), "{people}");
}

#[tokio::test]
async fn deletion_waits_thirty_days_can_be_cancelled_and_then_leaves_no_trace_of_the_person() {
    let (app, clock) = clocked().await;
    let owner = app.verified_user("owner@del.example.com").await;
    let tenant = app.create_tenant(&owner, "del").await;
    let email = "zelda.quintessa@del.example.com";
    let name = "Zelda Quintessa";
    let (member, membership) = app.join_as(&owner, &tenant, email, "admin").await;
    app.gql(Some(&member.access), doc!("identity/UpdateProfile"), json!({ "input": { "name": name } }))
        .await
        .data();
    app.gql(
        Some(&member.access),
        doc!("teams/CreateTeam"),
        json!({ "input": { "tenantId": tenant, "name": "Ops" } }),
    )
    .await
    .data();
    let role = app.role_id(&owner, &tenant, "member").await;
    app.gql(
        Some(&owner.access),
        doc!("members/ChangeMemberRole"),
        json!({ "input": { "membershipId": membership, "roleId": role } }),
    )
    .await
    .data();
    drain(&app.ctx).await.unwrap();

    // A sole owner cannot leave this way.
    let sole = app
        .gql(
            Some(&owner.access),
            doc!("privacy/ScheduleAccountDeletion"),
            json!({ "input": { "confirmEmail": "owner@del.example.com", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(sole.code(), "SOLE_OWNER");
    assert!(sole.message().contains("Org del"), "{}", sole.message());

    let schedule = |password: &'static str| {
        let (app, token) = (&app, member.access.clone());
        async move {
            app.gql(
                Some(&token),
                doc!("privacy/ScheduleAccountDeletion"),
                json!({ "input": { "confirmEmail": email, "password": password } }),
            )
            .await
        }
    };
    let wrong = schedule("not the password").await;
    assert_eq!(wrong.field(), "input.password");
    let r = schedule(PASSWORD).await;
    let at: chrono::DateTime<Utc> =
        r.data()["scheduleAccountDeletion"]["scheduledAt"].as_str().unwrap().parse().unwrap();
    assert_eq!((at - clock.now()).num_days(), 30);
    app.mail_about(email, "will be deleted", 1).await;
    let c = app.gql(Some(&member.access), doc!("privacy/CancelAccountDeletion"), json!({})).await;
    assert_eq!(c.data()["cancelAccountDeletion"]["scheduledAt"], Value::Null);
    // The cancelled schedule's job finds nothing to do when its day comes.
    schedule(PASSWORD).await.data();

    clock.advance(Duration::days(29));
    drain(&app.ctx).await.unwrap();
    app.log_in(email).await;
    assert!(!occurrences(&app, email).await.is_empty());

    clock.advance(Duration::days(2));
    drain(&app.ctx).await.unwrap();
    assert_eq!(occurrences(&app, email).await, Vec::<String>::new(), "the address is gone everywhere");
    assert_eq!(occurrences(&app, name).await, Vec::<String>::new(), "the name is gone everywhere");
    let login = app
        .gql(None, doc!("identity/LogIn"), json!({ "input": { "email": email, "password": PASSWORD } }))
        .await;
    assert!(login.0.get("errors").is_some(), "an erased account cannot sign in: {:?}", login.0);
    // What the organisation keeps stays, with the person as a bare id.
    let teams = app.tenant(&owner.access, &tenant).await;
    assert!(serde_json::to_string(&teams).unwrap().contains("Org del"));
}

#[tokio::test]
async fn a_new_policy_version_is_asked_for_again_and_acceptances_are_recorded() {
    let backend = Backend::fresh().await;
    let data_dir = std::env::temp_dir().join(format!("zygo-test-policies-{}", uuid::Uuid::new_v4().simple()));
    let env = |terms: &str| {
        vec![
            ("ZYGO_TERMS_VERSION", terms.to_string()),
            ("ZYGO_TERMS_URL", "https://zygo.test/terms".to_string()),
            ("ZYGO_PRIVACY_POLICY_VERSION", "2026-01".to_string()),
            ("ZYGO_PRIVACY_POLICY_URL", "https://zygo.test/privacy".to_string()),
        ]
    };
    let v1 = spawn_app_on(
        backend.clone(),
        Options { data_dir: Some(data_dir.clone()), env: env("1"), ..Default::default() },
    )
    .await;
    let public = v1.gql(None, doc!("privacy/Policies"), json!({})).await;
    assert_eq!(public.data()["policies"].as_array().unwrap().len(), 2);
    let s = v1.verified_user("consent@example.com").await;
    let pending = v1.gql(Some(&s.access), doc!("privacy/PoliciesToAccept"), json!({})).await;
    assert_eq!(pending.data()["viewer"]["policiesToAccept"].as_array().unwrap().len(), 2);

    // A stale version is refused, naming it; nothing is recorded.
    let stale = v1
        .gql(
            Some(&s.access),
            doc!("privacy/AcceptPolicies"),
            json!({ "input": { "policies": [{ "kind": "PRIVACY", "version": "2026-01" }, { "kind": "TERMS", "version": "0" }] } }),
        )
        .await;
    assert_eq!(stale.field(), "input.policies.1.version");
    let pending = v1.gql(Some(&s.access), doc!("privacy/PoliciesToAccept"), json!({})).await;
    assert_eq!(pending.data()["viewer"]["policyAcceptances"], json!([]));

    let ok = v1
        .gql(
            Some(&s.access),
            doc!("privacy/AcceptPolicies"),
            json!({ "input": { "policies": [{ "kind": "PRIVACY", "version": "2026-01" }, { "kind": "TERMS", "version": "1" }] } }),
        )
        .await;
    assert_eq!(ok.data()["acceptPolicies"]["policiesToAccept"], json!([]));

    // Version 2 of the terms is published: only it is asked for again.
    let v2 = spawn_app_on(backend, Options { data_dir: Some(data_dir), env: env("2"), ..Default::default() })
        .await;
    let s2 = v2.log_in("consent@example.com").await;
    let pending = v2.gql(Some(&s2.access), doc!("privacy/PoliciesToAccept"), json!({})).await;
    let viewer = &pending.data()["viewer"];
    assert_eq!(
        viewer["policiesToAccept"],
        json!([{ "kind": "TERMS", "version": "2", "url": "https://zygo.test/terms" }])
    );
    assert_eq!(viewer["policyAcceptances"].as_array().unwrap().len(), 2);
    let anonymous =
        v2.gql(None, doc!("privacy/AcceptPolicies"), json!({ "input": { "policies": [] } })).await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}
