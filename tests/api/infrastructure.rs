//! Infrastructure end to end: cloud accounts (LOCAL, and Hetzner through the fake in
//! tests/clients/hetzner-fake.mjs speaking the Cloud and DNS APIs), refused credentials,
//! server, volume and DNS lifecycles carried out by durable actions, a create whose answer is
//! lost retried without a second server (adopted by its `zygo-id` label), a rate limit waited
//! out, validation (volumes only grow, records by type), removal refused while in use,
//! members who read but cannot change, and live updates over the WebSocket.

use serde_json::{Value, json};

use crate::{doc, helpers::*};

pub(crate) const TOKEN: &str = "hetzner-test-token";

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) owner: Session,
    pub(crate) tenant: String,
}

pub(crate) async fn world(env: Vec<(&'static str, String)>) -> World {
    let mut env = env;
    env.push(("ZYGO_INFRASTRUCTURE_POLL_MS", "20".into()));
    let app = spawn_app_on(Backend::fresh().await, Options { env, ..Default::default() }).await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    World { app, owner, tenant }
}

/// A running Hetzner fake and the environment that points the app at it.
pub(crate) fn hetzner_fake() -> (NodeService, String, Vec<(&'static str, String)>) {
    let fake = NodeService::start("hetzner-fake.mjs", &[], &[("TOKEN", TOKEN), ("DNS_TOKEN", TOKEN)]);
    let base = format!("http://127.0.0.1:{}", fake.info["port"]);
    let env = vec![
        ("ZYGO_HETZNER_API_URL", format!("{base}/v1")),
        ("ZYGO_HETZNER_DNS_API_URL", format!("{base}/dns/api/v1")),
    ];
    (fake, base, env)
}

pub(crate) async fn fake_state(base: &str) -> Value {
    reqwest::get(format!("{base}/_state")).await.unwrap().json().await.unwrap()
}

pub(crate) async fn fake_control(base: &str, path: &str, body: Value) {
    let r = reqwest::Client::new().post(format!("{base}/_control/{path}")).json(&body).send().await.unwrap();
    assert!(r.status().is_success());
}

impl World {
    pub(crate) async fn gql(&self, who: &Session, path: &str, vars: Value) -> Gql {
        self.app.gql(Some(&who.access), path, vars).await
    }

    pub(crate) async fn connect(&self, kind: &str, creds: Value) -> Gql {
        self.gql(
            &self.owner,
            doc!("infrastructure/ConnectCloudProvider"),
            json!({ "input": { "tenantId": self.tenant, "kind": kind, "name": format!("{kind} account"), "credentials": creds } }),
        )
        .await
    }

    pub(crate) async fn provider(&self, kind: &str) -> String {
        let creds = if kind == "HETZNER" { json!({ "apiToken": TOKEN }) } else { json!({}) };
        self.connect(kind, creds).await.data()["connectCloudProvider"]["provider"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Sends a mutation as the owner and returns `(resource, action id)` of its payload.
    pub(crate) async fn change(
        &self,
        path: &str,
        root: &str,
        resource: &str,
        vars: Value,
    ) -> (Value, String) {
        let r = self.gql(&self.owner, path, vars).await;
        let d = &r.data()[root];
        (d[resource].clone(), d["action"]["id"].as_str().unwrap().to_string())
    }

    pub(crate) async fn action(&self, id: &str) -> Value {
        let r = self
            .gql(
                &self.owner,
                doc!("infrastructure/InfrastructureActions"),
                json!({ "id": self.tenant, "first": 100 }),
            )
            .await;
        r.data()["tenant"]["infrastructureActions"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .find(|n| n["id"] == id)
            .unwrap_or_else(|| panic!("no action {id}"))
    }

    /// Waits for action `id` to end and returns it.
    pub(crate) async fn ended(&self, id: &str) -> Value {
        eventually(60, || async {
            let a = self.action(id).await;
            matches!(a["status"].as_str(), Some("SUCCEEDED" | "FAILED")).then_some(a)
        })
        .await
    }

    pub(crate) async fn succeeded(&self, id: &str) {
        let a = self.ended(id).await;
        assert_eq!(a["status"], "SUCCEEDED", "{a}");
        assert_eq!(a["progress"], 100);
    }

    pub(crate) async fn servers(&self, vars: Value) -> Vec<Value> {
        let mut v = json!({ "id": self.tenant, "first": 50 });
        v.as_object_mut().unwrap().extend(vars.as_object().unwrap().clone());
        let r = self.gql(&self.owner, doc!("infrastructure/TenantServers"), v).await;
        r.data()["tenant"]["servers"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
    }

    pub(crate) async fn server(&self, id: &str) -> Value {
        self.servers(json!({}))
            .await
            .into_iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no server {id}"))
    }

    pub(crate) async fn volumes(&self) -> Vec<Value> {
        let r = self
            .gql(&self.owner, doc!("infrastructure/TenantVolumes"), json!({ "id": self.tenant, "first": 50 }))
            .await;
        r.data()["tenant"]["volumes"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
    }

    pub(crate) async fn zones(&self) -> Vec<Value> {
        let r = self.gql(&self.owner, doc!("infrastructure/DnsZones"), json!({ "id": self.tenant })).await;
        r.data()["tenant"]["dnsZones"].as_array().unwrap().clone()
    }

    pub(crate) async fn create_server(&self, provider: &str, name: &str) -> (String, String) {
        let (s, a) = self
            .change(
                doc!("infrastructure/CreateServer"),
                "createServer",
                "server",
                json!({ "input": { "providerId": provider, "name": name, "serverType": "cx22",
                    "image": "ubuntu-24.04", "location": "fsn1", "labels": { "env": "prod" } } }),
            )
            .await;
        assert_eq!(s["status"], "PENDING");
        (s["id"].as_str().unwrap().to_string(), a)
    }

    pub(crate) async fn server_action(
        &self,
        server: &str,
        action: &str,
        server_type: Option<&str>,
    ) -> String {
        self.change(
            doc!("infrastructure/ServerAction"),
            "serverAction",
            "server",
            json!({ "input": { "serverId": server, "action": action, "serverType": server_type } }),
        )
        .await
        .1
    }
}

/// Create → running → stop → resize → start → delete, on `provider`.
async fn server_lifecycle(w: &World, provider: &str) {
    let (id, a) = w.create_server(provider, "web-1").await;
    w.succeeded(&a).await;
    let s = w.server(&id).await;
    assert_eq!(s["status"], "RUNNING", "{s}");
    assert!(s["ipv4"].as_str().is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()), "{s}");
    assert!(s["externalId"].is_string());
    assert_eq!(s["labels"], json!({ "env": "prod" }));

    // A resize needs the server off: refused while running, nothing changed.
    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/ServerAction"),
            json!({ "input": { "serverId": id, "action": "RESIZE", "serverType": "cx32" } }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    assert_eq!(w.server(&id).await["status"], "RUNNING");

    let a = w.server_action(&id, "STOP", None).await;
    w.succeeded(&a).await;
    assert_eq!(w.server(&id).await["status"], "OFF");
    let a = w.server_action(&id, "RESIZE", Some("cx32")).await;
    w.succeeded(&a).await;
    let s = w.server(&id).await;
    assert_eq!((s["status"].as_str(), s["serverType"].as_str()), (Some("OFF"), Some("cx32")));
    let a = w.server_action(&id, "START", None).await;
    w.succeeded(&a).await;
    assert_eq!(w.server(&id).await["status"], "RUNNING");
    assert_eq!(w.servers(json!({ "status": "RUNNING", "label": "env=prod" })).await.len(), 1);
    assert_eq!(w.servers(json!({ "label": "env=staging" })).await.len(), 0);

    let (s, a) =
        w.change(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": id })).await;
    assert_eq!(s["status"], "DELETING");
    w.succeeded(&a).await;
    assert!(w.servers(json!({})).await.is_empty());
}

#[tokio::test]
async fn a_local_server_comes_up_stops_resizes_starts_and_goes() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    server_lifecycle(&w, &p).await;
}

#[tokio::test]
async fn a_hetzner_server_lives_its_life_through_the_cloud_api() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (id, a) = w.create_server(&p, "web-1").await;
    w.succeeded(&a).await;
    // The provider's copy carries Zygo's labels beside the member's.
    let st = fake_state(&base).await;
    let labels = &st["servers"][0]["labels"];
    assert_eq!(labels["env"], "prod");
    assert!(labels["zygo-tenant"].is_string());
    assert_eq!(
        zygo_id_of(&id),
        labels["zygo-id"].as_str().unwrap(),
        "the zygo-id label names the server's own id"
    );
    let (_, a) =
        w.change(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": id })).await;
    w.succeeded(&a).await;
    assert_eq!(fake_state(&base).await["servers"], json!([]));
    server_lifecycle(&w, &p).await;
    assert_eq!(fake_state(&base).await["servers"].as_array().unwrap().len(), 0);
}

/// The UUID inside a global ID.
pub(crate) fn zygo_id_of(global: &str) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(global).unwrap();
    String::from_utf8(raw).unwrap().split_once(':').unwrap().1.to_string()
}

#[tokio::test]
async fn refused_hetzner_credentials_save_nothing() {
    let (_fake, _base, env) = hetzner_fake();
    let w = world(env).await;
    let r = w.connect("HETZNER", json!({ "apiToken": "wrong" })).await;
    assert_eq!(r.code(), "PROVIDER_ERROR");
    assert_eq!(r.0["errors"][0]["extensions"]["providerCode"], "unauthorized");
    let r = w.connect("HETZNER", json!({})).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.credentials.apiToken"));
    let list = w.gql(&w.owner, doc!("infrastructure/CloudProviders"), json!({ "id": w.tenant })).await;
    assert_eq!(list.data()["tenant"]["cloudProviders"], json!([]));
    // A good token is accepted and checked again on request.
    let p = w.provider("HETZNER").await;
    let r = w.gql(&w.owner, doc!("infrastructure/ValidateCloudProvider"), json!({ "id": p })).await;
    assert!(r.data()["validateCloudProvider"]["provider"]["validatedAt"].is_string());
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_adopts_the_server_instead_of_making_a_second() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    fake_control(&base, "drop-next-create", json!({ "resource": "servers" })).await;
    let (id, a) = w.create_server(&p, "web-1").await;
    w.succeeded(&a).await;
    let st = fake_state(&base).await;
    assert_eq!(st["creates"]["servers"], 1, "one create call reached the provider: {st}");
    assert_eq!(st["servers"].as_array().unwrap().len(), 1);
    let s = w.server(&id).await;
    assert_eq!(s["status"], "RUNNING");
    assert_eq!(s["externalId"].as_str().unwrap(), st["servers"][0]["id"].to_string());
}

#[tokio::test]
async fn a_rate_limited_call_is_tried_again_after_the_reset() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    fake_control(&base, "rate-limit-next", json!({})).await;
    let (_, a) = w.create_server(&p, "web-1").await;
    w.succeeded(&a).await;
    assert_eq!(fake_state(&base).await["servers"].as_array().unwrap().len(), 1);
}

async fn volume_lifecycle(w: &World, provider: &str) {
    let (server, a) = w.create_server(provider, "db-1").await;
    w.succeeded(&a).await;
    let (v, a) = w
        .change(
            doc!("infrastructure/CreateVolume"),
            "createVolume",
            "volume",
            json!({ "input": { "providerId": provider, "name": "data", "sizeGb": 20, "location": "fsn1" } }),
        )
        .await;
    let vol = v["id"].as_str().unwrap().to_string();
    w.succeeded(&a).await;
    assert_eq!(w.volumes().await[0]["status"], "AVAILABLE");

    // Volumes only grow: a smaller size is a validation error and changes nothing.
    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/ResizeVolume"),
            json!({ "input": { "volumeId": vol, "sizeGb": 15 } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.sizeGb"));
    assert_eq!(w.volumes().await[0]["sizeGb"], 20);

    let (_, a) = w
        .change(
            doc!("infrastructure/AttachVolume"),
            "attachVolume",
            "volume",
            json!({ "input": { "volumeId": vol, "serverId": server } }),
        )
        .await;
    w.succeeded(&a).await;
    assert_eq!(w.volumes().await[0]["serverId"], server.as_str());
    let (_, a) = w
        .change(
            doc!("infrastructure/ResizeVolume"),
            "resizeVolume",
            "volume",
            json!({ "input": { "volumeId": vol, "sizeGb": 40 } }),
        )
        .await;
    w.succeeded(&a).await;
    assert_eq!(w.volumes().await[0]["sizeGb"], 40);
    // Attached: deleting is refused until it is detached.
    let r = w.gql(&w.owner, doc!("infrastructure/DeleteVolume"), json!({ "id": vol })).await;
    assert_eq!(r.code(), "CONFLICT");
    let (_, a) = w
        .change(doc!("infrastructure/DetachVolume"), "detachVolume", "volume", json!({ "volumeId": vol }))
        .await;
    w.succeeded(&a).await;
    assert!(w.volumes().await[0]["serverId"].is_null());
    let (_, a) =
        w.change(doc!("infrastructure/DeleteVolume"), "deleteVolume", "volume", json!({ "id": vol })).await;
    w.succeeded(&a).await;
    assert!(w.volumes().await.is_empty());
}

#[tokio::test]
async fn a_local_volume_is_created_attached_grown_detached_and_deleted() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    volume_lifecycle(&w, &p).await;
}

#[tokio::test]
async fn a_hetzner_volume_is_created_attached_grown_detached_and_deleted() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    volume_lifecycle(&w, &p).await;
    assert_eq!(fake_state(&base).await["volumes"], json!([]));
}

async fn dns_lifecycle(w: &World, provider: &str) -> (String, String) {
    let (z, a) = w
        .change(
            doc!("infrastructure/CreateDnsZone"),
            "createDnsZone",
            "zone",
            json!({ "input": { "providerId": provider, "name": "Example.COM." } }),
        )
        .await;
    assert_eq!(z["name"], "example.com");
    let zone = z["id"].as_str().unwrap().to_string();
    w.succeeded(&a).await;
    // Each type is checked by its own rules; nothing is written when one fails.
    for (t, name, value, field) in [
        ("A", "www", "not-an-address", "input.value"),
        ("AAAA", "www", "203.0.113.1", "input.value"),
        ("CNAME", "@", "example.net.", "input.name"),
        ("MX", "@", "mail.example.com.", "input.value"),
        ("SRV", "sip", "10 5 5060 sip.example.com.", "input.name"),
        ("CAA", "@", "0 issue letsencrypt.org", "input.value"),
        ("SPF", "@", "v=spf1", "input.type"),
    ] {
        let r = w
            .gql(
                &w.owner,
                doc!("infrastructure/UpsertDnsRecord"),
                json!({ "input": { "zoneId": zone, "type": t, "name": name, "value": value } }),
            )
            .await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", field), "{t} {value}");
    }
    assert_eq!(w.zones().await[0]["records"], json!([]));
    let (r, a) = w
        .change(
            doc!("infrastructure/UpsertDnsRecord"),
            "upsertDnsRecord",
            "record",
            json!({ "input": { "zoneId": zone, "type": "A", "name": "www", "value": "203.0.113.10", "ttl": 300 } }),
        )
        .await;
    let record = r["id"].as_str().unwrap().to_string();
    w.succeeded(&a).await;
    let (_, a) = w
        .change(
            doc!("infrastructure/UpsertDnsRecord"),
            "upsertDnsRecord",
            "record",
            json!({ "input": { "zoneId": zone, "recordId": record, "type": "A", "name": "www", "value": "203.0.113.11" } }),
        )
        .await;
    w.succeeded(&a).await;
    let zones = w.zones().await;
    let rec = &zones[0]["records"][0];
    assert_eq!(
        (rec["value"].as_str(), rec["status"].as_str(), rec["ttl"].as_i64()),
        (Some("203.0.113.11"), Some("ACTIVE"), Some(3600))
    );
    (zone, record)
}

#[tokio::test]
async fn local_dns_records_are_checked_by_type_written_and_changed() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let (_, record) = dns_lifecycle(&w, &p).await;
    let (_, a) = w
        .change(doc!("infrastructure/DeleteDnsRecord"), "deleteDnsRecord", "record", json!({ "id": record }))
        .await;
    w.succeeded(&a).await;
    assert_eq!(w.zones().await[0]["records"], json!([]));
}

#[tokio::test]
async fn hetzner_dns_records_go_through_the_dns_api() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (_, record) = dns_lifecycle(&w, &p).await;
    let st = fake_state(&base).await;
    assert_eq!(st["zones"][0]["name"], "example.com");
    let recs = st["records"].as_array().unwrap();
    assert_eq!(recs.len(), 1, "the change replaced the record: {st}");
    assert_eq!((recs[0]["type"].as_str(), recs[0]["value"].as_str()), (Some("A"), Some("203.0.113.11")));
    let (_, a) = w
        .change(doc!("infrastructure/DeleteDnsRecord"), "deleteDnsRecord", "record", json!({ "id": record }))
        .await;
    w.succeeded(&a).await;
    assert_eq!(fake_state(&base).await["records"], json!([]));
}

#[tokio::test]
async fn an_account_in_use_cannot_be_removed() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let (id, a) = w.create_server(&p, "web-1").await;
    w.succeeded(&a).await;
    let r = w.gql(&w.owner, doc!("infrastructure/RemoveCloudProvider"), json!({ "id": p })).await;
    assert_eq!(r.code(), "CONFLICT");
    let (_, a) =
        w.change(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": id })).await;
    w.succeeded(&a).await;
    let r = w.gql(&w.owner, doc!("infrastructure/RemoveCloudProvider"), json!({ "id": p })).await;
    assert_eq!(r.data()["removeCloudProvider"]["removedProviderId"], p.as_str());
}

#[tokio::test]
async fn members_see_infrastructure_but_cannot_change_it() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let (id, a) = w.create_server(&p, "web-1").await;
    w.succeeded(&a).await;
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "member@example.com", "member").await;
    let list =
        w.gql(&member, doc!("infrastructure/TenantServers"), json!({ "id": w.tenant, "first": 10 })).await;
    assert_eq!(list.data()["tenant"]["servers"]["edges"][0]["node"]["id"], id.as_str());
    let r = w
        .gql(
            &member,
            doc!("infrastructure/ServerAction"),
            json!({ "input": { "serverId": id, "action": "STOP" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .gql(
            &member,
            doc!("infrastructure/CreateServer"),
            json!({ "input": { "providerId": p, "name": "web-2", "serverType": "cx22", "image": "x", "location": "fsn1" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(w.servers(json!({})).await.len(), 1);
    assert_eq!(w.server(&id).await["status"], "RUNNING");
}

#[tokio::test]
async fn a_server_coming_up_is_announced_live() {
    const GAUGE: &str = "zygo_subscriptions_active";
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let base = w.app.metric(GAUGE).await;
    let mut ws = WsClient::connect(&w.app, "graphql-transport-ws").await;
    ws.init(Some(&w.owner.access)).await.expect("ack");
    ws.subscribe("r", doc!("infrastructure/CloudResourceChanged"), json!({ "tenantId": w.tenant })).await;
    ws.subscribe("a", doc!("infrastructure/InfrastructureActionUpdated"), json!({ "tenantId": w.tenant }))
        .await;
    // Both streams are open once the gauge counts them.
    eventually(10, || async { (w.app.metric(GAUGE).await >= base + 2.0).then_some(()) }).await;
    let (id, a) = w.create_server(&p, "web-1").await;
    let (mut statuses, mut action_done) = (Vec::new(), false);
    while !(action_done && statuses.last().map(String::as_str) == Some("RUNNING")) {
        let m = ws.next_json().await.expect("an event");
        assert_eq!(m["type"], "next", "{m}");
        let data = &m["payload"]["data"];
        if m["id"] == "r" {
            let e = &data["cloudResourceChanged"];
            // The status a change gave the server (the server itself may have moved on by now);
            // an event about its action alone carries none.
            if let (true, Some(s)) = (e["resourceId"] == id.as_str(), e["status"].as_str()) {
                statuses.push(s.to_string());
            }
        } else {
            let e = &data["infrastructureActionUpdated"];
            assert_eq!(e["id"], a.as_str());
            if e["status"] == "SUCCEEDED" {
                assert_eq!(e["progress"], 100);
                action_done = true;
            }
        }
    }
    assert!(statuses.iter().any(|s| s == "INITIALIZING"), "seen coming up: {statuses:?}");
}

/// The plan's server allowance counts the organisation's servers: one past it is refused with
/// QUOTA_EXCEEDED naming the limit, creates nothing and starts no action; a server deleted at
/// the provider gives its place back. The billing page lists servers among the metered uses.
#[tokio::test]
async fn servers_past_the_plans_allowance_are_refused_until_one_is_deleted() {
    let plans = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/plans-servers.json");
    let w = world(vec![("ZYGO_BILLING_PLANS_FILE", plans.into())]).await;
    let p = w.provider("LOCAL").await;
    let (first, created) = w.create_server(&p, "web-1").await;
    w.succeeded(&created).await;
    let actions_before =
        w.gql(&w.owner, doc!("infrastructure/InfrastructureActions"), json!({ "id": w.tenant })).await;
    let input = json!({ "input": { "providerId": p, "name": "web-2", "serverType": "cx22", "image": "ubuntu-24.04", "location": "fsn1" } });
    let refused = w.gql(&w.owner, doc!("infrastructure/CreateServer"), input.clone()).await;
    assert_eq!(refused.code(), "QUOTA_EXCEEDED", "{:?}", refused.0);
    let ext = &refused.0["errors"][0]["extensions"];
    assert_eq!(
        (ext["limit"].clone(), ext["used"].clone(), ext["allowed"].clone()),
        (json!("servers"), json!(1), json!(1))
    );
    assert_eq!(w.servers(json!({})).await.len(), 1);
    let actions_after =
        w.gql(&w.owner, doc!("infrastructure/InfrastructureActions"), json!({ "id": w.tenant })).await;
    assert_eq!(actions_before.0["data"], actions_after.0["data"], "no action was requested");
    let usage = w.gql(&w.owner, doc!("billing/TenantBilling"), json!({ "id": w.tenant })).await;
    let servers = usage.data()["tenant"]["usage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["limit"] == "SERVERS")
        .cloned()
        .expect("servers are listed");
    assert_eq!((servers["used"].clone(), servers["metered"].clone()), (json!(1), json!(true)));

    // Deleted at the provider, the server frees its place.
    let (_, deleting) =
        w.change(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": first })).await;
    w.succeeded(&deleting).await;
    assert!(w.servers(json!({})).await.is_empty());
    let again = w.gql(&w.owner, doc!("infrastructure/CreateServer"), input).await;
    assert_eq!(again.data()["createServer"]["server"]["name"], "web-2");
}

#[tokio::test]
async fn a_shutdown_the_system_ignores_ends_in_a_power_off_and_a_reset_power_cycles() {
    let (_fake, base, mut env) = hetzner_fake();
    env.push(("ZYGO_INFRASTRUCTURE_SHUTDOWN_TIMEOUT_SECONDS", "1".into()));
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (id, a) = w.create_server(&p, "web-1").await;
    w.succeeded(&a).await;

    let a = w.server_action(&id, "RESET", None).await;
    w.succeeded(&a).await;
    assert_eq!(w.server(&id).await["status"], "RUNNING");
    let st = fake_state(&base).await;
    assert!(st["actions"].as_array().unwrap().iter().any(|a| a["command"] == "reset_server"), "{st}");

    // The system ignores the shutdown: after the timeout the power is cut, once.
    fake_control(&base, "ignore-next-shutdown", json!({})).await;
    let a = w.server_action(&id, "STOP", None).await;
    w.succeeded(&a).await;
    assert_eq!(w.server(&id).await["status"], "OFF");
    assert_eq!(fake_state(&base).await["powerOffs"], 1);

    // A heeded shutdown needs no power cut.
    let a = w.server_action(&id, "START", None).await;
    w.succeeded(&a).await;
    let a = w.server_action(&id, "STOP", None).await;
    w.succeeded(&a).await;
    assert_eq!(w.server(&id).await["status"], "OFF");
    assert_eq!(fake_state(&base).await["powerOffs"], 1);

    // A reset needs a running server.
    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/ServerAction"),
            json!({ "input": { "serverId": id, "action": "RESET" } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("CONFLICT", "input.action"));
}
