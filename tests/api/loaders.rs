use serde_json::json;

use crate::{doc, gql::*, helpers::*};

/// Statements the nested `viewer.tenants { viewerRole, members { user role }, roles }` query
/// costs for a user in `n` organisations.
async fn statements_for(n: usize) -> f64 {
    // No background polling while counting: mail is sent on wake-up only, and this instance
    // runs no workflow workers, scheduler or job workers (they poll their queues; the job
    // schedules, e.g. the presence sweep, run every few seconds).
    let opts = Options {
        env: vec![
            ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
            ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ("ZYGO_JOB_WORKERS", "0".into()),
        ],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let s = app.verified_user(&format!("n{n}@example.com")).await;
    for i in 0..n {
        app.create_tenant(&s, &format!("org-{n}-{i}")).await;
    }
    // Let the mail worker settle (it only wakes on sign-up/resend).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The first request warms this instance's access cache (the access check then costs
    // memberships, roles, grants and tenant states, four statements); the count is of the
    // steady state that follows.
    app.gql(Some(&s.access), doc!("tenancy/MyOrganisations"), json!({ "first": 25 })).await.data();
    let before = app.metric("zygo_db_statements_total").await;
    let r = app.gql(Some(&s.access), doc!("tenancy/MyOrganisations"), json!({ "first": 25 })).await;
    let after = app.metric("zygo_db_statements_total").await;
    let edges = r.typed::<MyOrganisations>().into_data().viewer.expect("a viewer").tenants.edges;
    assert_eq!(edges.len(), n);
    for e in &edges {
        let t = &e.node;
        assert_eq!(
            t.viewer_role.permissions.len(),
            zygo::auth::Permission::ALL.len(),
            "the owner holds every permission"
        );
        let members = t.members.as_ref().expect("members");
        assert_eq!(members.total_count, 1);
        assert_eq!(members.edges[0].node.role.key, "owner");
        assert_eq!(t.roles.total_count, 4);
        assert_eq!(t.roles.edges.len(), 4);
    }
    after - before
}

/// The viewer's user (the session itself comes from the instance's session cache, warmed by
/// the sign-in, and the access check — memberships, roles, grants, tenant states — from its
/// access cache), the tenants page and its count, the members pages (their users joined) and
/// the roles pages with their counts: 7 statements, whatever the number of organisations.
/// Without batching, 25 organisations would cost well over a hundred.
const EXPECTED: f64 = 7.0;

/// On PostgreSQL the operation's reads share one transaction (`BEGIN`, not counted, and a
/// rollback at the end), whose wall is set once per change of wall (`set_config`, counted):
/// across tenants for the tenants page (by the viewer's memberships), then to the listed
/// tenants for the members and roles pages.
const WALLED: f64 = 2.0;

#[tokio::test]
async fn a_nested_list_costs_the_same_statements_whatever_its_length() {
    let small = statements_for(2).await;
    let large = statements_for(25).await;
    eprintln!("nested organisations query: {small} statements for 2 organisations, {large} for 25");
    let on_postgres = std::env::var("ZYGO_TEST_DATABASE_URL").is_ok_and(|s| !s.is_empty());
    let expected = if on_postgres { EXPECTED + WALLED } else { EXPECTED };
    assert_eq!((small, large), (expected, expected), "statement count changed with the list length");
}

/// An organisation of three members and `n` teams, each holding two of them (a member and a
/// viewer): the app, the owner and the organisation's ID.
async fn organisation_with_teams(n: usize) -> (TestApp, Session, String) {
    let opts = Options {
        env: vec![
            ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
            ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ("ZYGO_JOB_WORKERS", "0".into()),
        ],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user(&format!("teams{n}@example.com")).await;
    let tenant = app.create_tenant(&owner, &format!("teams-{n}")).await;
    let (_, m1) = app.join_as(&owner, &tenant, &format!("a{n}@example.com"), "member").await;
    let (_, m2) = app.join_as(&owner, &tenant, &format!("b{n}@example.com"), "viewer").await;
    for i in 0..n {
        let r = app
            .op_json::<CreateTeam>(
                Some(&owner.access),
                json!({ "input": { "tenantId": tenant, "name": format!("Team {i}") } }),
            )
            .await;
        let team = r.into_data().create_team.team.id;
        for m in [&m1, &m2] {
            app.gql(
                Some(&owner.access),
                doc!("teams/SetTeamMember"),
                json!({ "input": { "teamId": team, "membershipId": m, "role": "EDITOR" } }),
            )
            .await
            .data();
        }
    }
    (app, owner, tenant)
}

/// The statements `document` costs once the access cache is warm (as in `statements_for`),
/// and its answer.
async fn statements_of(app: &TestApp, s: &Session, document: &str, vars: serde_json::Value) -> (f64, Gql) {
    app.gql(Some(&s.access), document, vars.clone()).await.data();
    let before = app.metric("zygo_db_statements_total").await;
    let r = app.gql(Some(&s.access), document, vars).await;
    let after = app.metric("zygo_db_statements_total").await;
    (after - before, r)
}

/// Statements of `TenantTeams` (tenant → teams → members → membership → user) for an
/// organisation of three members and `n` teams, each holding two of them.
async fn team_statements_for(n: usize) -> f64 {
    let (app, owner, tenant) = organisation_with_teams(n).await;
    let (statements, r) =
        statements_of(&app, &owner, doc!("teams/TenantTeams"), json!({ "id": tenant })).await;
    let teams = r.typed::<TenantTeams>().into_data().tenant.teams.edges;
    assert_eq!(teams.len(), n);
    for t in &teams {
        let members = &t.node.members.edges;
        assert_eq!(members.len(), 2);
        assert!(members.iter().all(|m| !m.node.membership.user.name.is_empty()), "{members:?}");
    }
    statements
}

#[tokio::test]
async fn a_connection_counts_its_list_only_when_its_total_count_is_selected() {
    let (app, owner, tenant) = organisation_with_teams(3).await;
    let (counted, r) = statements_of(&app, &owner, doc!("teams/TenantTeams"), json!({ "id": tenant })).await;
    let teams = &r.data()["tenant"]["teams"];
    assert_eq!(teams["totalCount"], 3);
    assert!(teams["edges"].as_array().unwrap().iter().all(|t| t["node"]["members"]["totalCount"] == 2));
    // The same lists without `totalCount`: neither the teams nor their members are counted,
    // and the pages still know whether more follow (they read one row past the page).
    let vars = json!({ "id": tenant, "membersFirst": 1 });
    let (uncounted, r) = statements_of(&app, &owner, doc!("teams/TenantTeamNames"), vars).await;
    assert_eq!(counted - uncounted, 2.0, "one count statement fewer per connection");
    let teams = &r.data()["tenant"]["teams"];
    assert_eq!(teams["pageInfo"]["hasNextPage"], false);
    let edges = teams["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3);
    for t in edges {
        let members = &t["node"]["members"];
        assert_eq!(members["pageInfo"]["hasNextPage"], true, "{t}");
        assert!(members["pageInfo"]["endCursor"].is_string(), "the cursor is encoded when asked for: {t}");
        assert_eq!(members["edges"].as_array().unwrap().len(), 1);
        assert!(members["edges"][0]["node"]["membership"]["user"]["name"].is_string(), "{t}");
    }
    // Both in one operation: each connection is counted as its own selection asks.
    let both = "query Both($id: ID!) { a: tenant(id: $id) { teams(first: 5) { totalCount } } \
                b: tenant(id: $id) { teams(first: 5) { edges { node { name } } } } }";
    let r = app.gql(Some(&owner.access), both, json!({ "id": tenant })).await;
    assert_eq!(r.data()["a"]["teams"]["totalCount"], 3);
    assert_eq!(r.data()["b"]["teams"]["edges"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn teams_with_their_members_and_users_cost_the_same_statements_whatever_their_number() {
    let small = team_statements_for(2).await;
    let large = team_statements_for(8).await;
    eprintln!("nested teams query: {small} statements for 2 teams, {large} for 8");
    assert_eq!(small, large, "statement count changed with the number of teams");
    // The tenant, the teams page and its count, the team members pages (with their
    // memberships and users joined) and their count; on PostgreSQL one `set_config` more, for
    // the operation's one walled read transaction; and the operation's metering.
    let on_postgres = std::env::var("ZYGO_TEST_DATABASE_URL").is_ok_and(|s| !s.is_empty());
    assert_eq!(large, if on_postgres { 6.0 } else { 5.0 } + metering_statements());
}

/// Statements the metering of an operation served for one organisation adds (see
/// `modules::billing::metering`): none with Redis (its counter is there); otherwise the
/// counter's upsert, and on PostgreSQL the `set_config` of the read transaction the upsert
/// commits before the reads after it open the next.
fn metering_statements() -> f64 {
    let set = |k: &str| std::env::var(k).is_ok_and(|s| !s.is_empty());
    match (set("ZYGO_TEST_REDIS_URL"), set("ZYGO_TEST_DATABASE_URL")) {
        (true, _) => 0.0,
        (false, true) => 2.0,
        (false, false) => 1.0,
    }
}

/// Statements of one `node(id:)` lookup, counted after a first lookup has warmed the
/// instance's access cache.
async fn node_statements(app: &TestApp, s: &Session, id: &str) -> (f64, node::NodeNode) {
    app.gql(Some(&s.access), doc!("relay/Node"), json!({ "id": id })).await.data();
    let before = app.metric("zygo_db_statements_total").await;
    let r = app.gql(Some(&s.access), doc!("relay/Node"), json!({ "id": id })).await;
    let after = app.metric("zygo_db_statements_total").await;
    (after - before, r.typed::<Node>().into_data().node)
}

#[tokio::test]
async fn a_lookup_by_id_costs_at_most_two_statements() {
    let opts = Options {
        env: vec![
            ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
            ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ("ZYGO_JOB_WORKERS", "0".into()),
        ],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user("lookup@example.com").await;
    let tenant = app.create_tenant(&owner, "lookup").await;
    let (member, membership) = app.join_as(&owner, &tenant, "lookup-m@example.com", "member").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The row itself (on PostgreSQL after one `set_config` setting the operation's wall): a
    // tenant behind the tenant's wall; a membership read across the wall, since its ID does
    // not name its tenant, and returned only when the access check for the tenant it names
    // passes (that check comes from the warmed access cache).
    let on_postgres = std::env::var("ZYGO_TEST_DATABASE_URL").is_ok_and(|s| !s.is_empty());
    let expected = if on_postgres { 2.0 } else { 1.0 } + metering_statements();
    let (n, found) = node_statements(&app, &owner, &tenant).await;
    let node::NodeNodeOn::Tenant(t) = &found.on else { panic!("not a tenant: {found:?}") };
    assert_eq!((n, t.slug.as_str()), (expected, "lookup"), "tenant by ID");
    let (n, found) = node_statements(&app, &owner, &membership).await;
    let node::NodeNodeOn::Membership(m) = &found.on else { panic!("not a membership: {found:?}") };
    assert_eq!((n, &m.status), (expected, &node::MemberStatus::ACTIVE), "membership by ID");
    let (n, found) = node_statements(&app, &member, &membership).await;
    assert_eq!((n, found.id.as_str()), (expected, membership.as_str()), "own membership by ID");
}

/// An operation's reads share one connection, and a mutation gives it back before taking
/// its write connection: no request ever holds one connection while waiting for another,
/// which under load (more concurrent requests than connections) would leave every request
/// waiting on the others until the pool times out. With a pool of one connection, any
/// such wait fails at once into INTERNAL after the acquire timeout; these mutations must
/// all go through, each on a cold access cache.
#[tokio::test]
async fn a_mutation_never_holds_two_connections() {
    let opts = Options {
        env: vec![
            ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
            ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ("ZYGO_JOB_WORKERS", "0".into()),
            ("ZYGO_DB_MAX_CONNECTIONS", "1".into()),
            ("ZYGO_ACCESS_CACHE_TTL", "0".into()),
        ],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user("onepool@example.com").await;
    let tenant = app.create_tenant(&owner, "onepool").await;
    let graph = json!({
        "nodes": [
            { "id": "start", "type": "trigger.manual", "name": "start", "config": {} },
            { "id": "out", "type": "code", "name": "out", "config": { "source": "1 + 1" } },
        ],
        "edges": [{ "id": "e1", "source": "start", "sourcePort": "main", "target": "out", "targetPort": "main" }],
    });
    let r = app
        .op_json::<CreateWorkflow>(
            Some(&owner.access),
            json!({ "input": { "tenantId": tenant, "name": "one pool", "graph": graph } }),
        )
        .await;
    let workflow = r.into_data().create_workflow.workflow.id;
    let r = app
        .op_json::<ExecuteWorkflow>(Some(&owner.access), json!({ "input": { "workflowId": workflow } }))
        .await;
    assert_eq!(r.data().execute_workflow.execution.status, execute_workflow::ExecutionStatus::QUEUED);
    let r = app
        .gql(
            Some(&owner.access),
            doc!("workflows/PublishWorkflowVersion"),
            json!({ "input": { "workflowId": workflow, "note": "first" } }),
        )
        .await;
    r.data();
    let r = app
        .op_json::<UpdateTenant>(
            Some(&owner.access),
            json!({ "input": { "id": tenant, "slug": "onepool-renamed" } }),
        )
        .await;
    assert_eq!(r.data().update_tenant.tenant.slug, "onepool-renamed");
    let (_, _) = app.join_as(&owner, &tenant, "onepool-m@example.com", "member").await;
}

/// Statements of the billing fields (plan, limits, features, subscription, account,
/// invoices) of a user's `n` organisations, each on Pro with one invoice.
async fn billing_statements_for(n: usize) -> f64 {
    let opts = Options {
        env: vec![
            ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
            ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ("ZYGO_JOB_WORKERS", "0".into()),
            (SHIPPED_PLANS.0, SHIPPED_PLANS.1.into()),
        ],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let s = app.verified_user(&format!("bn{n}@example.com")).await;
    for i in 0..n {
        let t = app.create_tenant(&s, &format!("borg-{n}-{i}")).await;
        app.gql(
            Some(&s.access),
            doc!("billing/ChangePlan"),
            json!({ "input": { "tenantId": t, "plan": "pro", "interval": "MONTH" } }),
        )
        .await
        .data();
    }
    // Each upgrade mails its invoice: let the mail worker deliver them all (it wakes on each
    // commit) before counting; the warm-up request below covers its last look at the queue.
    app.mail_about(&format!("bn{n}@example.com"), "Invoice", n).await;
    app.gql(Some(&s.access), doc!("billing/MyOrganisationsBilling"), json!({ "first": 25 })).await.data();
    // The counter is the process's: the mail worker's last look at its queue may still land in
    // a window on a loaded machine. Background work only ever adds statements, so the least of
    // three identical requests is the request's own count.
    let mut counts = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let before = app.metric("zygo_db_statements_total").await;
        let r =
            app.gql(Some(&s.access), doc!("billing/MyOrganisationsBilling"), json!({ "first": 25 })).await;
        counts.push(app.metric("zygo_db_statements_total").await - before);
        last = Some(r);
    }
    let (r, before, after) = (last.unwrap(), 0.0, counts.into_iter().fold(f64::INFINITY, f64::min));
    let edges = r.typed::<MyOrganisationsBilling>().into_data().viewer.expect("a viewer").tenants.edges;
    assert_eq!(edges.len(), n);
    for e in &edges {
        assert_eq!(e.node.subscription.as_ref().map(|s| s.plan.key.as_str()), Some("pro"));
        assert_eq!(e.node.invoices.as_ref().map(|i| i.total_count), Some(1));
    }
    after - before
}

#[tokio::test]
async fn billing_fields_of_many_organisations_cost_the_same_statements_as_of_two() {
    let small = billing_statements_for(2).await;
    let large = billing_statements_for(6).await;
    eprintln!("organisations' billing: {small} statements for 2 organisations, {large} for 6");
    assert_eq!(small, large, "a billing field costs a statement per organisation");
}

/// Statements of a workflow list with each workflow's versions and newest runs, for `n`
/// workflows of one published version and two queued runs each (no workers, so the runs
/// stay queued and nothing else reads the database meanwhile).
async fn workflow_statements_for(n: usize) -> f64 {
    let opts = Options {
        env: vec![
            ("ZYGO_MAIL_POLL_INTERVAL", "3600".into()),
            ("ZYGO_WORKFLOW_WORKERS", "0".into()),
            ("ZYGO_JOB_WORKERS", "0".into()),
        ],
        ..Default::default()
    };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user(&format!("wf{n}@example.com")).await;
    let tenant = app.create_tenant(&owner, &format!("wf-{n}")).await;
    for i in 0..n {
        let r = app
            .op_json::<CreateWorkflow>(
                Some(&owner.access),
                json!({ "input": { "tenantId": tenant, "name": format!("Flow {i}") } }),
            )
            .await;
        let id = r.into_data().create_workflow.workflow.id;
        app.gql(
            Some(&owner.access),
            doc!("workflows/PublishWorkflowVersion"),
            json!({ "input": { "workflowId": id } }),
        )
        .await
        .data();
        for _ in 0..2 {
            crate::workflows::execute(&app, &owner.access, &id, json!({})).await;
        }
    }
    const QUERY: &str = "query($id: ID!) { tenant(id: $id) { workflows(first: 10) { edges { node { id \
        versions(first: 5) { totalCount edges { node { version } } } \
        executions(last: 5, status: QUEUED) { totalCount edges { node { id status } } } } } } } }";
    #[derive(serde::Deserialize)]
    struct Data {
        tenant: Tenant,
    }
    #[derive(serde::Deserialize)]
    struct Tenant {
        workflows: Conn<Workflow>,
    }
    #[derive(serde::Deserialize)]
    struct Workflow {
        versions: Conn<serde_json::Value>,
        executions: Conn<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Conn<T> {
        #[serde(default)]
        total_count: i64,
        edges: Vec<Edge<T>>,
    }
    #[derive(serde::Deserialize)]
    struct Edge<T> {
        node: T,
    }
    app.gql(Some(&owner.access), QUERY, json!({ "id": tenant })).await.data();
    let before = app.metric("zygo_db_statements_total").await;
    let r = app.gql(Some(&owner.access), QUERY, json!({ "id": tenant })).await;
    let after = app.metric("zygo_db_statements_total").await;
    let data: Data = serde_json::from_value(r.data().clone()).expect("the answer's shape");
    let workflows = data.tenant.workflows.edges;
    assert_eq!(workflows.len(), n);
    for w in &workflows {
        assert_eq!(w.node.versions.total_count, 1);
        assert_eq!(w.node.versions.edges.len(), 1);
        assert_eq!(w.node.executions.total_count, 2);
        assert_eq!(w.node.executions.edges.len(), 2);
    }
    after - before
}

#[tokio::test]
async fn workflows_with_their_versions_and_runs_cost_the_same_statements_whatever_their_number() {
    let small = workflow_statements_for(2).await;
    let large = workflow_statements_for(6).await;
    eprintln!("workflows with versions and runs: {small} statements for 2 workflows, {large} for 6");
    assert_eq!(small, large, "statement count changed with the number of workflows");
}
