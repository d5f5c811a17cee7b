//! What is read live from the provider about a server: metrics over a window (Hetzner's
//! `/servers/{id}/metrics` through the fake, the local cloud's simulation), the monthly cost
//! from the price list, and console sessions (`infrastructure.console` only, the reason
//! audited, refused input changes nothing; the local cloud says it has none).

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::{
    doc,
    helpers::*,
    infrastructure::{World, fake_state, hetzner_fake, world},
};

async fn metrics(w: &World, who: &Session, server: &str, vars: Value) -> Gql {
    let mut v = json!({ "id": server, "family": "CPU" });
    v.as_object_mut().unwrap().extend(vars.as_object().unwrap().clone());
    w.gql(who, doc!("infrastructure/ServerMetrics"), v).await
}

async fn running_server(w: &World, provider: &str) -> String {
    let (id, a) = w.create_server(provider, "web-1").await;
    w.succeeded(&a).await;
    id
}

async fn console(w: &World, who: &Session, server: &str, reason: &str) -> Gql {
    w.gql(
        who,
        doc!("infrastructure/OpenServerConsole"),
        json!({ "input": { "serverId": server, "reason": reason } }),
    )
    .await
}

async fn console_audits(w: &World) -> Vec<Value> {
    let r = w.gql(&w.owner, doc!("audit/TenantAuditLog"), json!({ "id": w.tenant, "first": 100 })).await;
    r.data()["tenant"]["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["action"] == "server.console_opened")
        .collect()
}

#[tokio::test]
async fn hetzner_metrics_cost_and_console_come_from_the_cloud_api() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let id = running_server(&w, &p).await;

    // Ten minutes every minute: eleven samples of the one CPU series, all of a running server.
    let end = Utc::now() - Duration::minutes(1);
    let window =
        json!({ "start": (end - Duration::minutes(10)).to_rfc3339(), "end": end.to_rfc3339(), "step": 60 });
    let r = metrics(&w, &w.owner, &id, window.clone()).await;
    let node = &r.data()["node"];
    let series = node["metrics"]["series"].as_array().unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["name"], "cpu");
    let points = series[0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 11, "{points:?}");
    assert!(points.iter().all(|p| p["value"].as_f64().unwrap() > 0.0));
    assert_eq!(node["metrics"]["step"], 60);
    assert_eq!(node["monthlyCost"], json!({ "net": 3.79, "gross": 4.5101, "currency": "EUR" }));

    let mut disk = window.clone();
    disk["family"] = json!("NETWORK");
    let r = metrics(&w, &w.owner, &id, disk).await;
    let names: Vec<&str> = r.data()["node"]["metrics"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    assert!(names.contains(&"network.0.bandwidth.in") && names.contains(&"network.0.pps.out"), "{names:?}");

    // A window that ends before it starts, or reaches past what is kept, names its field.
    let r = metrics(
        &w,
        &w.owner,
        &id,
        json!({ "start": end.to_rfc3339(), "end": (end - Duration::hours(1)).to_rfc3339() }),
    )
    .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "start"));
    let r =
        metrics(&w, &w.owner, &id, json!({ "start": (Utc::now() - Duration::days(31)).to_rfc3339() })).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "start"));
    let r = metrics(&w, &w.owner, &id, json!({ "step": 0 })).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "step"));

    // A member reads metrics but may not open a console; a reason too short is refused; in
    // both cases the provider was never asked and nothing was audited.
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "member@example.com", "member").await;
    assert_eq!(
        metrics(&w, &member, &id, json!({})).await.data()["node"]["metrics"]["series"][0]["name"],
        "cpu"
    );
    assert_eq!(console(&w, &member, &id, "Debugging the boot loop").await.code(), "FORBIDDEN");
    let r = console(&w, &w.owner, &id, "hm").await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.reason"));
    assert_eq!(fake_state(&base).await["consoles"], json!([]));
    assert!(console_audits(&w).await.is_empty());

    let r = console(&w, &w.owner, &id, "Ticket 7: the server does not boot").await;
    let c = &r.data()["openServerConsole"];
    let opened = fake_state(&base).await["consoles"].clone();
    assert_eq!(opened.as_array().unwrap().len(), 1);
    let token = opened[0]["token"].as_str().unwrap();
    assert!(c["url"].as_str().unwrap().starts_with("wss://console.hetzner.cloud/"), "{c}");
    assert!(c["url"].as_str().unwrap().ends_with(&format!("token={token}")));
    assert_eq!(c["password"], format!("pw-{token}"));
    let audits = console_audits(&w).await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["after"]["reason"], "Ticket 7: the server does not boot");
    assert_eq!(audits[0]["after"]["name"], "web-1");
}

#[tokio::test]
async fn the_local_cloud_simulates_metrics_and_prices_and_says_it_has_no_console() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let id = running_server(&w, &p).await;
    let end = Utc::now() - Duration::minutes(5);
    let window =
        json!({ "start": (end - Duration::hours(2)).to_rfc3339(), "end": end.to_rfc3339(), "step": 600 });
    let first = metrics(&w, &w.owner, &id, window.clone()).await;
    let points = first.data()["node"]["metrics"]["series"][0]["points"].as_array().unwrap().clone();
    assert_eq!(points.len(), 13);
    assert!(points.iter().all(|p| (0.0..=100.0).contains(&p["value"].as_f64().unwrap())));
    assert!(points.iter().any(|p| p["value"].as_f64().unwrap() > 0.0));
    // The same window reads the same again: a simulation, but a steady one.
    let again = metrics(&w, &w.owner, &id, window.clone()).await;
    assert_eq!(again.data()["node"]["metrics"]["series"][0]["points"].as_array().unwrap(), &points);
    assert_eq!(first.data()["node"]["monthlyCost"]["net"], 3.79);

    // A stopped server does nothing.
    let a = w.server_action(&id, "STOP", None).await;
    w.succeeded(&a).await;
    let stopped = metrics(&w, &w.owner, &id, window).await;
    let points = stopped.data()["node"]["metrics"]["series"][0]["points"].as_array().unwrap().clone();
    assert!(points.iter().all(|p| p["value"].as_f64().unwrap() == 0.0));

    let r = console(&w, &w.owner, &id, "Looking at the boot log").await;
    assert_eq!(r.code(), "PROVIDER_ERROR");
    assert!(r.message().contains("no console"), "{}", r.message());
}

/// Sets (or with no values removes) the local DNS server's answers for one name and type.
async fn serve(dns: &NodeService, name: &str, record_type: &str, values: &[&str]) {
    let r = reqwest::Client::new()
        .put(format!("http://127.0.0.1:{}/_records", dns.info["port"]))
        .json(&json!({ "name": name, "type": record_type, "values": values }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

async fn propagation(w: &World, record: &str) -> Value {
    let r = w.gql(&w.owner, doc!("infrastructure/DnsPropagation"), json!({ "id": record })).await;
    r.data()["node"]["propagation"].clone()
}

fn statuses(p: &Value) -> Vec<(String, String)> {
    p["nameServers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["nameServer"].as_str().unwrap().to_string(), s["status"].as_str().unwrap().to_string()))
        .collect()
}

async fn upsert(w: &World, zone: &str, t: &str, name: &str, value: &str) -> String {
    let (r, a) = w
        .change(
            doc!("infrastructure/UpsertDnsRecord"),
            "upsertDnsRecord",
            "record",
            json!({ "input": { "zoneId": zone, "type": t, "name": name, "value": value } }),
        )
        .await;
    w.succeeded(&a).await;
    r["id"].as_str().unwrap().to_string()
}

async fn zone(w: &World, provider: &str) -> String {
    let (z, a) = w
        .change(
            doc!("infrastructure/CreateDnsZone"),
            "createDnsZone",
            "zone",
            json!({ "input": { "providerId": provider, "name": "example.com" } }),
        )
        .await;
    w.succeeded(&a).await;
    z["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_propagation_check_asks_each_of_the_zones_name_servers_at_hetzner() {
    let dns = NodeService::start("dns-server.mjs", &[], &[]);
    let dns_port = dns.info["dnsPort"].to_string();
    let fake = NodeService::start(
        "hetzner-fake.mjs",
        &[],
        &[
            ("TOKEN", crate::infrastructure::TOKEN),
            ("DNS_TOKEN", crate::infrastructure::TOKEN),
            ("NS", "ns1.zygo-test.net,ns2.zygo-test.net"),
        ],
    );
    let base = format!("http://127.0.0.1:{}", fake.info["port"]);
    let w = world(vec![
        ("ZYGO_HETZNER_API_URL", format!("{base}/v1")),
        ("ZYGO_HETZNER_DNS_API_URL", format!("{base}/dns/api/v1")),
        ("ZYGO_DNS_RESOLVER", format!("127.0.0.1:{dns_port}")),
        ("ZYGO_DNS_AUTHORITY_PORT", dns_port.clone()),
    ])
    .await;
    let p = w.provider("HETZNER").await;
    let z = zone(&w, &p).await;
    let record = upsert(&w, &z, "A", "www", "203.0.113.10").await;
    serve(&dns, "ns1.zygo-test.net", "A", &["127.0.0.1"]).await;

    // ns1 is asked and has nothing yet; ns2's name has no address.
    let p1 = propagation(&w, &record).await;
    assert_eq!(p1["fqdn"], "www.example.com");
    assert_eq!(p1["propagated"], false);
    assert_eq!(
        statuses(&p1),
        [("ns1.zygo-test.net".into(), "MISSING".into()), ("ns2.zygo-test.net".into(), "UNREACHABLE".into())]
    );
    assert_eq!(p1["nameServers"][0]["address"], "127.0.0.1");
    assert!(p1["nameServers"][1]["error"].as_str().unwrap().contains("no address"), "{p1}");

    // An older value is told apart from a missing one.
    serve(&dns, "www.example.com", "A", &["203.0.113.9"]).await;
    let p2 = propagation(&w, &record).await;
    assert_eq!(statuses(&p2)[0].1, "OUTDATED");
    assert_eq!(p2["nameServers"][0]["values"], json!(["203.0.113.9"]));

    // Once every name server answers with the value, the record has propagated.
    serve(&dns, "www.example.com", "A", &["203.0.113.10"]).await;
    serve(&dns, "ns2.zygo-test.net", "A", &["127.0.0.1"]).await;
    let p3 = propagation(&w, &record).await;
    assert_eq!(
        statuses(&p3),
        [
            ("ns1.zygo-test.net".into(), "PROPAGATED".into()),
            ("ns2.zygo-test.net".into(), "PROPAGATED".into())
        ]
    );
    assert_eq!(p3["propagated"], true);
    // The questions really went to the name server.
    let asked: Value = reqwest::get(format!("http://127.0.0.1:{}/_queries", dns.info["port"]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(asked.as_array().unwrap().iter().any(|q| q["name"] == "www.example.com" && q["type"] == "A"));
}

#[tokio::test]
async fn on_the_local_cloud_the_zones_own_ns_records_name_the_servers_asked() {
    let dns = NodeService::start("dns-server.mjs", &[], &[]);
    let dns_port = dns.info["dnsPort"].to_string();
    let w = world(vec![
        ("ZYGO_DNS_RESOLVER", format!("127.0.0.1:{dns_port}")),
        ("ZYGO_DNS_AUTHORITY_PORT", dns_port.clone()),
    ])
    .await;
    let p = w.provider("LOCAL").await;
    let z = zone(&w, &p).await;
    let record = upsert(&w, &z, "TXT", "_check", "hello propagation").await;
    // No name server known yet: nothing to ask, not propagated.
    let p0 = propagation(&w, &record).await;
    assert_eq!((p0["propagated"].clone(), p0["nameServers"].clone()), (json!(false), json!([])));

    upsert(&w, &z, "NS", "@", "ns1.zygo-test.net").await;
    serve(&dns, "ns1.zygo-test.net", "A", &["127.0.0.1"]).await;
    serve(&dns, "_check.example.com", "TXT", &["hello propagation"]).await;
    let p1 = propagation(&w, &record).await;
    assert_eq!(statuses(&p1), [("ns1.zygo-test.net".into(), "PROPAGATED".into())]);
    assert_eq!(p1["propagated"], true);

    // A member reads it too (infrastructure.read).
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "member@example.com", "member").await;
    let r = w.gql(&member, doc!("infrastructure/DnsPropagation"), json!({ "id": record })).await;
    assert_eq!(r.data()["node"]["propagation"]["propagated"], true);
}
