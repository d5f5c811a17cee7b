//! The permission sweep: every operation document under `graphql/`, discovered at run time,
//! run as anonymous, as the owner of another organisation holding the first one's IDs, and
//! as each built-in role of that organisation. Each answer must be exactly what the access
//! table (`catalog.rs`, read off the resolvers and services) and the server's permission
//! matrix say — UNAUTHENTICATED, NOT_FOUND (never FORBIDDEN: that would tell an outsider the object
//! exists), FORBIDDEN at the guarded path (partial data around it is fine), or, for a caller
//! who may, no error at all (a document that does not run proves nothing) — and none of the
//! refused attempts may change the organisation.
//!
//! Queries and subscriptions are sent by every caller; a mutation only by the callers its
//! root refuses (allowed ones would change the fixture; each module's tests cover them), so
//! public mutations (sign-up, log-in, token redemptions) are never sent.
//!
//! A new document is swept without any edit here. A root field without a document or an
//! access rule fails `every_root_field_has_a_document_and_an_access_rule`, as does a
//! variable the generator cannot fill (a new kind of ID), naming the document and variable.
//! `ZYGO_SWEEP_VERBOSE=1` lists every check with the errors it got.
//!
//! - `catalog.rs`: the oracle, the hand-written access table per root field and guarded field;
//! - `generator.rs`: the documents, the guarded fields each selects and the variables that
//!   point at the fixture;
//! - `verdict.rs`: what each caller must get and whether an answer is exactly that;
//! - here: the fixture organisation, the callers (each holding what the server's permission
//!   matrix gives its role, checked against the README), and the sweep itself.

mod catalog;
mod generator;
mod verdict;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    time::Duration,
};

use async_graphql::parser::types::OperationType;
use futures::future::join_all;
use serde_json::{Value, json};

use catalog::*;
use generator::*;
use verdict::*;

use crate::{
    doc,
    gql::{
        ChangePlan, CreateApiKey, CreateRole, CreateSecret, CreateTeam, CreateWebhookEndpoint,
        CreateWorkflow, ExecuteWorkflow, Execution, InviteMember, PermissionMatrix, SaveWorkflowAsTemplate,
        SendTestWebhookEvent, SetEnvironmentVariable, SetTeamMember, TenantWebhookEndpoints, ViewerSecurity,
        execution, permission_matrix, viewer_security,
    },
    helpers::*,
};

/// A permission's enum name, as the API writes it (`TENANT_READ`).
fn permission_name(p: &Permission) -> String {
    serde_json::to_value(p).ok().and_then(|v| v.as_str().map(str::to_string)).expect("a permission name")
}

// ---------------------------------------------------------------------------------------
// The completeness check (no server).
// ---------------------------------------------------------------------------------------

#[test]
fn every_root_field_has_a_document_and_an_access_rule() {
    let schema = Schema::load();
    let mut problems = Vec::new();
    let ops = match load_operations(&schema, &Fixture::placeholder()) {
        Ok(ops) => ops,
        Err(p) => {
            problems.extend(p);
            Vec::new()
        }
    };
    let covered: HashSet<(&str, &str)> =
        ops.iter().flat_map(|o| o.roots.iter().map(move |(_, f)| (op_kind(o.kind), f.as_str()))).collect();
    let roots = schema.root_fields();
    for (t, f) in &roots {
        let ty = &schema.roots[op_kind(*t)];
        if !covered.contains(&(op_kind(*t), f.as_str())) {
            problems.push(format!("{ty}.{f} has no document under graphql/"));
        }
        if !ROOT.iter().any(|(k, _)| k == f) {
            problems.push(format!("{ty}.{f} has no entry in the access table (ROOT)"));
        }
    }
    let names: Vec<&str> = roots.iter().map(|(_, f)| f.as_str()).collect();
    for (k, _) in ROOT {
        if !names.contains(k) {
            problems.push(format!("ROOT has `{k}`, which is no root field of the schema"));
        }
    }
    for (k, _, _) in NESTED {
        let (ty, field) = k.split_once('.').unwrap();
        if schema.field(ty, field).is_none() {
            problems.push(format!("NESTED has `{k}`, which is not in the schema"));
        }
    }
    // Fields documented as guarded must be in the table.
    let root_types: Vec<&String> = schema.roots.values().collect();
    for (key, d) in &schema.descriptions {
        let ty = key.split('.').next().unwrap();
        if root_types.iter().any(|r| *r == ty) {
            continue;
        }
        if (d.contains("needs `") || d.contains("FORBIDDEN")) && !NESTED.iter().any(|(k, _, _)| k == key) {
            problems.push(format!("{key} is documented as guarded but has no entry in NESTED"));
        }
    }
    for (d, _) in EXCLUDED {
        if !ops.iter().any(|o| o.doc == *d) {
            problems.push(format!("EXCLUDED names `{d}`, which is no document"));
        }
    }
    assert!(problems.is_empty(), "the sweep cannot cover everything:\n  {}", problems.join("\n  "));
}

// ---------------------------------------------------------------------------------------
// The sweep.
// ---------------------------------------------------------------------------------------

/// An answer's `data` as JSON, for comparing whole answers before and after.
async fn data(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    app.gql(Some(token), query, variables).await.data().clone()
}

pub(crate) struct World {
    pub(crate) fixture: Fixture,
    principals: Vec<Principal>,
    pub(crate) owner: String,
}

/// Two organisations: `sweep-a` with a row in every tenant-owned table the API fills when
/// used (members of each role, a custom role, a team, an invitation, an API key, a secret,
/// a variable, a workflow with a finished run, a template), and the outsider's `sweep-b`.
pub(crate) async fn build_world(app: &TestApp) -> World {
    let owner = app.verified_user("sweep-owner@example.com").await;
    let tenant = app.create_tenant(&owner, "sweep-a").await;
    let outsider = app.verified_user("sweep-outsider@example.com").await;
    app.create_tenant(&outsider, "sweep-b").await;
    let o = owner.access.clone();
    let mut joined = HashMap::new();
    for role in ["admin", "member", "viewer", "target"] {
        let key = if role == "target" { "member" } else { role };
        let (s, m) = app.join_as(&owner, &tenant, &format!("sweep-{role}@example.com"), key).await;
        joined.insert(role, (s, m));
    }
    let member_role = app.role_id(&owner, &tenant, "member").await;

    // What each built-in role holds is what the server reports; the README's catalog must
    // say the same (people rely on it).
    let matrix = app
        .op::<PermissionMatrix>(Some(&o), permission_matrix::Variables { tenant_id: tenant.clone() })
        .await
        .into_data()
        .tenant
        .permission_matrix;
    let held = |role: &str| -> Vec<Permission> {
        matrix
            .rows
            .iter()
            .find(|r| r.role.key == role)
            .unwrap_or_else(|| panic!("no built-in role {role}"))
            .effective
            .clone()
    };
    let server: BTreeSet<(String, String)> = BUILT_IN_ROLES
        .iter()
        .flat_map(|role| held(role).into_iter().map(move |p| (role.to_string(), permission_name(&p))))
        .collect();
    let catalog: BTreeSet<String> =
        matrix.permissions.iter().map(|p| permission_name(&p.permission)).collect();
    let (readme, listed) = readme_catalog();
    assert_eq!(listed, catalog, "the README's catalog lists other permissions than the server's");
    let granted_not_listed: Vec<_> = server.difference(&readme).collect();
    let listed_not_granted: Vec<_> = readme.difference(&server).collect();
    assert!(
        granted_not_listed.is_empty() && listed_not_granted.is_empty(),
        "the README's catalog and the server disagree: the server grants {granted_not_listed:?}, \
         which the README does not tick; the README ticks {listed_not_granted:?}, which the server does not grant"
    );

    let owner = Some(o.as_str());
    let role = app
        .op_json::<CreateRole>(
            owner,
            json!({ "input": {
                "tenantId": tenant, "key": "sweep-custom", "name": "Sweep custom", "permissions": [WORKFLOW_READ],
            } }),
        )
        .await
        .into_data()
        .create_role
        .role
        .id;
    let team = app
        .op_json::<CreateTeam>(owner, json!({ "input": { "tenantId": tenant, "name": "Sweep team" } }))
        .await
        .into_data()
        .create_team
        .team
        .id;
    for (who, team_role) in [("member", "OWNER"), ("target", "EDITOR")] {
        app.op_json::<SetTeamMember>(
            owner,
            json!({ "input": { "teamId": team, "membershipId": joined[who].1, "role": team_role } }),
        )
        .await
        .data();
    }
    let invitation = app
        .op_json::<InviteMember>(
            owner,
            json!({ "input": {
                "tenantId": tenant, "email": "sweep-pending@example.com", "roleId": member_role,
            } }),
        )
        .await
        .into_data()
        .invite_member
        .invitation
        .id;
    let api_key = app
        .op_json::<CreateApiKey>(
            owner,
            json!({ "input": { "tenantId": tenant, "name": "sweep", "permissions": [TENANT_READ] } }),
        )
        .await
        .into_data()
        .create_api_key
        .api_key
        .id;
    let secret = app
        .op_json::<CreateSecret>(
            owner,
            json!({ "input": { "tenantId": tenant, "name": "SWEEP_SECRET", "value": "s3cret" } }),
        )
        .await
        .into_data()
        .create_secret
        .secret
        .id;
    let env_var = app
        .op_json::<SetEnvironmentVariable>(
            owner,
            json!({ "input": { "tenantId": tenant, "name": "SWEEP_VAR", "value": "v" } }),
        )
        .await
        .into_data()
        .set_environment_variable
        .environment_variable
        .id;
    let graph = json!({
        "nodes": [
            { "id": "start", "type": "trigger.manual", "name": "start", "config": {} },
            { "id": "step", "type": "code", "name": "step", "config": { "source": "1" } },
        ],
        "edges": [
            { "id": "e1", "source": "start", "sourcePort": "main", "target": "step", "targetPort": "main" },
        ],
    });
    let workflow = app
        .op_json::<CreateWorkflow>(
            owner,
            json!({ "input": { "tenantId": tenant, "name": "Sweep flow", "graph": graph } }),
        )
        .await
        .into_data()
        .create_workflow
        .workflow;
    let (workflow, revision) = (workflow.id, workflow.revision);
    let execution = app
        .op_json::<ExecuteWorkflow>(owner, json!({ "input": { "workflowId": workflow } }))
        .await
        .into_data()
        .execute_workflow
        .execution
        .id;
    let template = app
        .op_json::<SaveWorkflowAsTemplate>(
            owner,
            json!({ "input": { "workflowId": workflow, "name": "Sweep template" } }),
        )
        .await
        .into_data()
        .save_workflow_as_template
        .template
        .id;
    // A paid plan: a billing account, a subscription and an (open) invoice of A.
    let invoice = app
        .op_json::<ChangePlan>(
            owner,
            json!({ "input": { "tenantId": tenant, "plan": "pro", "interval": "MONTH" } }),
        )
        .await
        .into_data()
        .change_plan
        .invoice
        .expect("the upgrade's invoice")
        .id;
    // A document of the team with a section, published once.
    let created = app
        .gql(
            owner,
            doc!("studio/CreateDocument"),
            json!({ "input": { "teamId": team, "title": "Sweep document" } }),
        )
        .await;
    let document = created.data()["createDocument"]["document"].clone();
    let page = document["pages"][0]["id"].as_str().expect("a first page").to_string();
    let document = document["id"].as_str().unwrap().to_string();
    let added = app
        .gql(
            owner,
            doc!("studio/AddSection"),
            json!({ "input": { "pageId": page, "baseRevision": 1, "kind": "TEXT" } }),
        )
        .await;
    let section = added.data()["addSection"]["section"]["id"].as_str().unwrap().to_string();
    let published = app
        .gql(owner, doc!("studio/PublishDocument"), json!({ "input": { "id": document, "baseRevision": 2 } }))
        .await;
    let version = published.data()["publishDocument"]["version"]["id"].as_str().unwrap().to_string();
    let outsiders_session = app
        .op::<ViewerSecurity>(Some(&outsider.access), viewer_security::Variables { events_last: None })
        .await
        .into_data()
        .viewer
        .expect("the outsider")
        .sessions
        .remove(0)
        .id;
    // A webhook endpoint with one logged delivery (a test event to a closed local port: the
    // delivery is refused as private and logged).
    let webhook_endpoint = app
        .op_json::<CreateWebhookEndpoint>(
            owner,
            json!({ "input": { "tenantId": tenant, "url": "http://127.0.0.1:9/hook", "eventTypes": ["team.created"] } }),
        )
        .await
        .into_data()
        .create_webhook_endpoint
        .endpoint
        .id;
    app.op_json::<SendTestWebhookEvent>(owner, json!({ "id": webhook_endpoint })).await.data();
    zygo::jobs::drain(&app.ctx).await.unwrap();
    let webhook_delivery = app
        .op_json::<TenantWebhookEndpoints>(owner, json!({ "id": tenant }))
        .await
        .into_data()
        .tenant
        .webhook_endpoints
        .expect("its endpoints")
        .edges
        .remove(0)
        .node
        .deliveries
        .edges
        .remove(0)
        .node
        .id;
    // A LINK-visible file with a share link.
    let uploaded = crate::resources::upload(
        app,
        owner.unwrap(),
        &tenant,
        json!({ "visibility": "LINK" }),
        "sweep.txt",
        b"sweep",
    )
    .await;
    let resource = uploaded.data()["uploadResource"]["resource"]["id"].as_str().unwrap().to_string();
    let resource_version = uploaded.data()["uploadResource"]["version"]["id"].as_str().unwrap().to_string();
    let link = app
        .gql(owner, doc!("resources/CreateResourceShareLink"), json!({ "input": { "resourceId": resource } }))
        .await
        .data()["createResourceShareLink"]["shareLink"]
        .clone();
    let share_link = link["id"].as_str().unwrap().to_string();
    // One download through it, so the download log has a row of A's.
    let downloaded = app
        .http
        .get(app.url(&format!("/resources/share/{}", link["token"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(downloaded.status(), 200);
    // A project every member owns, with a folder holding a finished sample collection.
    let gq = |query: &'static str, vars: Value| {
        let o = o.clone();
        async move { app.gql(Some(&o), query, vars).await.data().clone() }
    };
    let project = gq(
        doc!("collection/CreateProject"),
        json!({ "input": { "tenantId": tenant, "name": "Sweep project" } }),
    )
    .await["createProject"]["project"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for role in ["admin", "member", "viewer"] {
        let user = joined[role].0.user_id.clone();
        gq(
            doc!("collection/SetProjectMember"),
            json!({ "input": { "projectId": project, "userId": user, "role": "OWNER" } }),
        )
        .await;
    }
    let collector = gq(doc!("collection/AvailableCollectors"), json!({ "id": tenant })).await["tenant"]
        ["availableCollectors"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let collection_job = gq(
        doc!("collection/StartCollectionJob"),
        json!({ "input": { "projectId": project, "collectorId": collector, "urls": "https://www.instagram.com/p/sweep" } }),
    )
    .await["startCollectionJob"]["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    zygo::jobs::drain(&app.ctx).await.unwrap();
    let folder = eventually(30, || async {
        let job = gq(doc!("collection/CollectionJob"), json!({ "id": collection_job })).await;
        (job["collectionJob"]["status"] == "SUCCEEDED")
            .then(|| job["collectionJob"]["folderId"].as_str().unwrap().to_string())
    })
    .await;
    let record = gq(doc!("collection/FolderRecords"), json!({ "id": folder, "first": 1 })).await["collectionFolder"]
        ["records"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The record copied into a second folder (a row of `collection_record_copies`).
    let picks = gq(
        doc!("collection/CreateCollectionFolder"),
        json!({ "input": { "projectId": project, "name": "sweep picks" } }),
    )
    .await["createCollectionFolder"]["folder"]["id"]
        .clone();
    gq(
        doc!("collection/CopyCollectedRecords"),
        json!({ "input": { "recordIds": [record], "folderId": picks } }),
    )
    .await;
    let saved_search = gq(
        doc!("collection/CreateSavedSearch"),
        json!({ "input": { "projectId": project, "name": "sweep", "filter": { "search": "sweep" } } }),
    )
    .await["createSavedSearch"]["savedSearch"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A finished export of the folder.
    let record_export =
        gq(doc!("collection/StartRecordExport"), json!({ "input": { "folderId": folder, "format": "CSV" } }))
            .await["startRecordExport"]["export"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    zygo::jobs::drain(&app.ctx).await.unwrap();
    // A search with words, so the search history has a row of A's.
    gq(doc!("collection/SearchRecords"), json!({ "projectId": project, "filter": { "search": "sweep" } }))
        .await;
    let user = joined["target"].0.user_id.clone();
    let domain = gq(
        doc!("domains/AddTenantDomain"),
        json!({ "input": { "tenantId": tenant, "domain": "sweep-fixture.example.com" } }),
    )
    .await["addTenantDomain"]["domain"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Developer mode: an operator's session into A, ended at once — a platform role alone
    // must give nothing of the organisation.
    let (operator, _) = app.platform_operator("sweep-operator@example.com", "super-admin").await;
    let started = app
        .gql(
            Some(&operator.access),
            doc!("support/AdminStartSupportSession"),
            json!({ "input": { "tenantId": tenant, "reason": "sweep fixture: a session to refer to", "readOnly": true } }),
        )
        .await;
    let support_session =
        started.data()["adminStartSupportSession"]["session"]["id"].as_str().unwrap().to_string();
    app.gql(Some(&operator.access), doc!("support/AdminEndSupportSession"), json!({ "id": support_session }))
        .await
        .data();

    // Infrastructure: a LOCAL account with a server, a volume, a zone and a record, every
    // action ended before the snapshot.
    let cloud_provider = gq(
        doc!("infrastructure/ConnectCloudProvider"),
        json!({ "input": { "tenantId": tenant, "kind": "LOCAL", "name": "sweep cloud" } }),
    )
    .await["connectCloudProvider"]["provider"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let server = gq(
        doc!("infrastructure/CreateServer"),
        json!({ "input": { "providerId": cloud_provider, "name": "sweep-1", "serverType": "cx22",
            "image": "ubuntu-24.04", "location": "fsn1", "labels": { "env": "sweep" } } }),
    )
    .await;
    let infrastructure_action = server["createServer"]["action"]["id"].as_str().unwrap().to_string();
    let server = server["createServer"]["server"]["id"].as_str().unwrap().to_string();
    let volume = gq(
        doc!("infrastructure/CreateVolume"),
        json!({ "input": { "providerId": cloud_provider, "name": "sweep-data", "sizeGb": 10, "location": "fsn1" } }),
    )
    .await["createVolume"]["volume"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dns_zone = gq(
        doc!("infrastructure/CreateDnsZone"),
        json!({ "input": { "providerId": cloud_provider, "name": "sweep.example" } }),
    )
    .await["createDnsZone"]["zone"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dns_record = gq(
        doc!("infrastructure/UpsertDnsRecord"),
        json!({ "input": { "zoneId": dns_zone, "type": "A", "name": "www", "value": "203.0.113.9" } }),
    )
    .await["upsertDnsRecord"]["record"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(60, || async {
        zygo::jobs::drain(&app.ctx).await.unwrap();
        let r = gq(doc!("infrastructure/InfrastructureActions"), json!({ "id": tenant, "first": 50 })).await;
        r["tenant"]["infrastructureActions"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["status"] == "SUCCEEDED")
            .then_some(())
    })
    .await;

    // A snapshot of the (now running) server, made before the snapshot of the world.
    let snapshot = gq(
        doc!("infrastructure/CreateSnapshot"),
        json!({ "input": { "serverId": server, "description": "sweep" } }),
    )
    .await["createSnapshot"]["snapshot"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(60, || async {
        zygo::jobs::drain(&app.ctx).await.unwrap();
        let r = gq(doc!("infrastructure/TenantSnapshots"), json!({ "id": tenant, "first": 5 })).await;
        (r["tenant"]["snapshots"]["edges"][0]["node"]["status"] == "AVAILABLE").then_some(())
    })
    .await;

    // A floating IP reserved on the account.
    let floating_ip = gq(
        doc!("infrastructure/CreateFloatingIp"),
        json!({ "input": { "providerId": cloud_provider, "name": "sweep-ip", "type": "IPV4", "homeLocation": "fsn1" } }),
    )
    .await["createFloatingIp"]["floatingIp"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(60, || async {
        zygo::jobs::drain(&app.ctx).await.unwrap();
        let r = gq(doc!("infrastructure/TenantFloatingIps"), json!({ "id": tenant, "first": 5 })).await;
        (r["tenant"]["floatingIps"]["edges"][0]["node"]["status"] == "READY").then_some(())
    })
    .await;

    // A network, a firewall and a load balancer on the account.
    let mut nets = Vec::new();
    for (path, root, key, input) in [
        (
            doc!("infrastructure/CreateNetwork"),
            "createNetwork",
            "network",
            json!({ "providerId": cloud_provider, "name": "sweep-net", "ipRange": "10.0.0.0/16" }),
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            "createFirewall",
            "firewall",
            json!({ "providerId": cloud_provider, "name": "sweep-fw", "rules": [] }),
        ),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            "createLoadBalancer",
            "loadBalancer",
            json!({ "providerId": cloud_provider, "name": "sweep-lb", "type": "lb11", "location": "fsn1", "services": [] }),
        ),
    ] {
        let id = gq(path, json!({ "input": input })).await[root][key]["id"].as_str().unwrap().to_string();
        nets.push(id);
    }
    eventually(60, || async {
        zygo::jobs::drain(&app.ctx).await.unwrap();
        let r = gq(doc!("infrastructure/TenantNetworking"), json!({ "id": tenant, "first": 5 })).await;
        ["networks", "firewalls", "loadBalancers"]
            .iter()
            .all(|l| r["tenant"][*l]["edges"][0]["node"]["status"] == "READY")
            .then_some(())
    })
    .await;
    let [network, firewall, load_balancer]: [String; 3] = nets.try_into().unwrap();

    // The run must be over before the snapshot.
    eventually(30, || async {
        let vars = execution::Variables { id: execution.clone(), logs: None };
        let status = app.op::<Execution>(owner, vars).await.into_data().execution.status;
        use execution::ExecutionStatus::*;
        matches!(status, SUCCEEDED | FAILED | CANCELLED).then_some(())
    })
    .await;

    let fixture = Fixture {
        tenant,
        slug: "sweep-a".into(),
        member_role,
        role,
        team,
        target_membership: joined["target"].1.clone(),
        invitation,
        api_key,
        secret,
        env_var,
        workflow,
        revision,
        execution,
        template,
        session: outsiders_session,
        connected_account: global_id("ConnectedAccount", uuid::Uuid::new_v4()),
        invoice,
        webhook_endpoint,
        webhook_delivery,
        document,
        page,
        section,
        version,
        resource,
        resource_version,
        share_link,
        project,
        folder,
        collection_job,
        record,
        saved_search,
        record_export,
        collector,
        user,
        domain,
        support_session,
        cloud_provider,
        server,
        volume,
        snapshot,
        floating_ip,
        infrastructure_action,
        network,
        firewall,
        load_balancer,
        dns_zone,
        dns_record,
    };
    let principals = vec![
        Principal {
            name: "anonymous",
            kind: Kind::Anonymous,
            token: None,
            perms: Vec::new(),
            team_owner: false,
        },
        Principal {
            name: "outsider",
            kind: Kind::Outsider,
            token: Some(outsider.access.clone()),
            perms: Vec::new(),
            team_owner: false,
        },
        Principal {
            name: "owner",
            kind: Kind::Member("owner"),
            token: Some(o.clone()),
            perms: held("owner"),
            team_owner: false,
        },
        Principal {
            name: "admin",
            kind: Kind::Member("admin"),
            token: Some(joined["admin"].0.access.clone()),
            perms: held("admin"),
            team_owner: false,
        },
        Principal {
            name: "member",
            kind: Kind::Member("member"),
            token: Some(joined["member"].0.access.clone()),
            perms: held("member"),
            team_owner: true,
        },
        Principal {
            name: "viewer",
            kind: Kind::Member("viewer"),
            token: Some(joined["viewer"].0.access.clone()),
            perms: held("viewer"),
            team_owner: false,
        },
        Principal {
            name: "operator",
            kind: Kind::Operator,
            token: Some(operator.access.clone()),
            perms: Vec::new(),
            team_owner: false,
        },
    ];
    World { fixture, principals, owner: o }
}

/// Everything of the organisation the owner can read.
async fn snapshot(app: &TestApp, owner: &str, fx: &Fixture) -> BTreeMap<&'static str, Value> {
    let (t, w) = (&fx.tenant, &fx.workflow);
    let reads: Vec<(&'static str, &'static str, Value)> = vec![
        ("settings", doc!("tenancy/TenantSettings"), json!({ "id": t })),
        ("members", doc!("members/TenantMembers"), json!({ "id": t, "first": 100 })),
        ("invitations", doc!("members/TenantInvitations"), json!({ "id": t, "first": 100 })),
        ("roles", doc!("roles/TenantRoles"), json!({ "id": t })),
        ("permission matrix", doc!("roles/PermissionMatrix"), json!({ "tenantId": t })),
        ("teams", doc!("teams/TenantTeams"), json!({ "id": t })),
        ("api keys", doc!("api_keys/TenantApiKeys"), json!({ "id": t })),
        (
            "workflows",
            doc!("workflows/Workflows"),
            json!({ "tenantId": t, "includeArchived": true, "first": 100 }),
        ),
        ("workflow", doc!("workflows/Workflow"), json!({ "id": w })),
        ("webhook", doc!("workflows/WorkflowWebhook"), json!({ "id": w })),
        ("executions", doc!("workflows/WorkflowExecutions"), json!({ "id": w, "last": 100 })),
        ("templates", doc!("workflows/WorkflowTemplates"), json!({ "tenantId": t })),
        ("secrets and environment", doc!("secrets/Secrets"), json!({ "tenantId": t, "withAccessLog": true })),
        ("audit log", doc!("audit/TenantAuditLog"), json!({ "id": t, "first": 100 })),
        ("webhook endpoints", doc!("webhooks/TenantWebhookEndpoints"), json!({ "id": t, "deliveries": 20 })),
        ("documents", doc!("studio/Documents"), json!({ "tenantId": t, "first": 100 })),
        ("document", doc!("studio/Document"), json!({ "id": fx.document })),
        (
            "resources",
            doc!("resources/Resources"),
            json!({ "tenantId": t, "first": 100, "withDownloadUrls": false }),
        ),
        (
            "resource",
            doc!("resources/Resource"),
            json!({ "id": fx.resource, "withShareLinks": true, "withDownloadUrls": false }),
        ),
        (
            "bin",
            doc!("resources/Resources"),
            json!({ "tenantId": t, "deleted": true, "withDownloadUrls": false }),
        ),
        ("project", doc!("collection/Project"), json!({ "id": fx.project })),
        ("records", doc!("collection/FolderRecords"), json!({ "id": fx.folder, "first": 100 })),
    ];
    let mut out = BTreeMap::new();
    for (name, query, vars) in reads {
        out.insert(name, data(app, owner, query, vars).await);
    }
    out
}

/// `ZYGO_SWEEP_VERBOSE=1` lists every check with the errors it got.
fn verbose(op: &Operation, p: &Principal, resp: &Value) {
    if std::env::var_os("ZYGO_SWEEP_VERBOSE").is_some() {
        let errors = resp["errors"].as_array().cloned().unwrap_or_default();
        println!("sweep: {:<40} {:<9} {}", op.doc, p.name, summary(&errors));
    }
}

async fn post(app: &TestApp, token: Option<&str>, op: &Operation) -> Value {
    // An upload (`input.file`) goes as a GraphQL multipart request with a small file.
    if op.variables.get("input").and_then(|i| i.get("file")).is_some_and(Value::is_null) {
        let vars = Value::Object(op.variables.clone());
        let (status, body) = crate::resources::multipart(
            app,
            token,
            &op.text,
            vars,
            "sweep.txt",
            "text/plain",
            b"sweep",
            true,
        )
        .await;
        if status.is_server_error() {
            return json!({ "errors": [{ "message": format!("HTTP {status}: {body}") }] });
        }
        return body;
    }
    let mut req = app.http.post(app.url("/graphql")).json(&json!({
        "query": op.text,
        "operationName": op.operation_name,
        "variables": op.variables,
    }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let body: Value =
        resp.json().await.unwrap_or_else(|e| json!({ "errors": [{ "message": e.to_string() }] }));
    if status.is_server_error() {
        return json!({ "errors": [{ "message": format!("HTTP {status}: {body}") }] });
    }
    body
}

/// Queries and refused mutations of one caller, over HTTP.
async fn sweep_http(app: &TestApp, ops: &[Operation], p: &Principal) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut failures = Vec::new();
    for op in ops.iter().filter(|o| o.kind != OperationType::Subscription && runs(o, p)) {
        let resp = post(app, p.token.as_deref(), op).await;
        verbose(op, p, &resp);
        if let Err(e) = check(op, p, &resp) {
            failures.push(format!("{} ({}) as {}: {e}", op.doc, op_kind(op.kind), p.name));
        }
        checked += 1;
    }
    (checked, failures)
}

/// Subscriptions of one caller over one WebSocket: each refused one answers its error; each
/// allowed one answers data or goes live (counted by `zygo_subscriptions_active`).
async fn sweep_subscriptions(app: &TestApp, ops: &[Operation], p: &Principal) -> (usize, Vec<String>) {
    const GAUGE: &str = "zygo_subscriptions_active";
    let subs: Vec<&Operation> =
        ops.iter().filter(|o| o.kind == OperationType::Subscription && runs(o, p)).collect();
    let mut failures = Vec::new();
    if subs.is_empty() {
        return (0, failures);
    }
    let base = app.metric(GAUGE).await;
    let refused =
        |op: &Operation| verdicts(op, p).iter().any(|(v, reached)| *reached && *v != Verdict::Allow);
    let live = subs.iter().filter(|o| !refused(o)).count() as f64;
    let mut ws = WsClient::connect(app, "graphql-transport-ws").await;
    let ack = ws.init(p.token.as_deref()).await;
    assert_eq!(ack.as_ref().map(|a| a["type"].clone()), Some(json!("connection_ack")), "{}", p.name);
    for (i, op) in subs.iter().enumerate() {
        ws.subscribe(&i.to_string(), &op.text, Value::Object(op.variables.clone())).await;
    }
    let mut first: HashMap<usize, Value> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let went_live = loop {
        while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(100), ws.next_json()).await {
            let id = msg["id"].as_str().and_then(|i| i.parse::<usize>().ok());
            if let (Some(id), Some("next" | "error")) = (id, msg["type"].as_str()) {
                first.entry(id).or_insert(msg);
            }
        }
        let answered = subs.iter().enumerate().all(|(i, o)| !refused(o) || first.contains_key(&i));
        let live_now = app.metric(GAUGE).await == base + live;
        if (answered && live_now) || tokio::time::Instant::now() > deadline {
            break live_now;
        }
    };
    for (i, op) in subs.iter().enumerate() {
        let resp = match first.get(&i) {
            Some(m) if m["type"] == "error" => json!({ "errors": m["payload"] }),
            Some(m) => m["payload"].clone(),
            None if refused(op) => json!({ "errors": [{ "message": "no answer within 10 s" }] }),
            None => json!({}),
        };
        verbose(op, p, &resp);
        if let Err(e) = check(op, p, &resp) {
            failures.push(format!("{} (subscription) as {}: {e}", op.doc, p.name));
        }
    }
    if !went_live {
        failures.push(format!(
            "as {}: {} of the allowed subscriptions did not go live ({GAUGE} = {} over {base})",
            p.name,
            live,
            app.metric(GAUGE).await - base
        ));
    }
    let _ = ws.socket.close(None).await;
    eventually(10, || async { (app.metric(GAUGE).await <= base).then_some(()) }).await;
    (subs.len(), failures)
}

#[tokio::test]
async fn every_document_answers_each_caller_exactly_as_the_access_table_says_and_refusals_change_nothing() {
    let unlimited = "1000000".to_string();
    let app = spawn_app_on(
        Backend::fresh().await,
        Options {
            env: vec![
                ("ZYGO_RATE_LIMIT_PER_MINUTE", unlimited.clone()),
                ("ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE", unlimited),
            ],
            ..Default::default()
        },
    )
    .await;
    let world = build_world(&app).await;
    let schema = Schema::load();
    let ops = load_operations(&schema, &world.fixture)
        .unwrap_or_else(|p| panic!("documents the sweep cannot run:\n  {}", p.join("\n  ")));
    let principals = &world.principals;

    let planned: usize = ops.iter().map(|o| principals.iter().filter(|p| runs(o, p)).count()).sum();
    let skipped: usize = ops
        .iter()
        .filter(|o| excluded(o).is_none())
        .map(|o| principals.iter().filter(|p| !runs(o, p)).count())
        .sum();
    let excluded_pairs = ops.iter().filter(|o| excluded(o).is_some()).count() * principals.len();

    let before = snapshot(&app, &world.owner, &world.fixture).await;
    let results = join_all(principals.iter().map(|p| sweep_http(&app, &ops, p))).await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for (n, f) in results {
        checked += n;
        failures.extend(f);
    }
    for p in principals {
        let (n, f) = sweep_subscriptions(&app, &ops, p).await;
        checked += n;
        failures.extend(f);
    }
    let after = snapshot(&app, &world.owner, &world.fixture).await;
    for (name, b) in &before {
        if after.get(name) != Some(b) {
            failures.push(format!("the {name} changed:\n    before {b}\n    after  {}", after[name]));
        }
    }

    let count = |k: OperationType| ops.iter().filter(|o| o.kind == k).count();
    let denials: usize = ops
        .iter()
        .flat_map(|o| principals.iter().filter(move |p| runs(o, p)).map(move |p| (o, p)))
        .filter(|(o, p)| verdicts(o, p).iter().any(|(v, r)| *r && *v != Verdict::Allow))
        .count();
    println!(
        "sweep: {} documents ({} queries, {} mutations, {} subscriptions) x {} principals = {}: \
         {checked} checked ({denials} refusals, {} allowed), {skipped} allowed mutations not sent, \
         {excluded_pairs} excluded",
        ops.len(),
        count(OperationType::Query),
        count(OperationType::Mutation),
        count(OperationType::Subscription),
        principals.len(),
        ops.len() * principals.len(),
        checked - denials,
    );
    // Every query and subscription was tried by every caller; every mutation by each caller
    // its root rule refuses: anonymous for a signed-in rule, anonymous and the outsider (at
    // least) for an organisation's rule.
    for o in &ops {
        let n = principals.iter().filter(|p| runs(o, p)).count();
        let root_rules: Vec<Rule> = o.guards.iter().filter(|g| g.parent.is_none()).map(|g| g.rule).collect();
        let want = match o.kind {
            _ if excluded(o).is_some() => 0,
            OperationType::Mutation if root_rules.iter().all(|r| matches!(r, Public)) => 0,
            OperationType::Mutation if root_rules.iter().all(|r| matches!(r, Public | SignedIn)) => 1,
            OperationType::Mutation => 2,
            _ => principals.len(),
        };
        assert!(n >= want, "{} was tried by {n} callers only, expected at least {want}", o.doc);
    }
    assert_eq!(checked, planned, "checks made vs planned");
    assert_eq!(checked + skipped + excluded_pairs, ops.len() * principals.len());
    failures.sort();
    assert!(failures.is_empty(), "{} failures:\n  {}", failures.len(), failures.join("\n  "));
}
