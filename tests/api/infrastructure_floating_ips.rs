//! Floating IPs end to end, on the local cloud and through the Hetzner fake: reserved (a
//! create whose answer was lost adopts the address instead of reserving a second), assigned,
//! moved, given a reverse DNS name, unassigned, freed when their server goes, released; bad
//! input names its field and changes nothing; an account with one cannot be removed; members
//! read but cannot change them.

use serde_json::{Value, json};

use crate::{
    doc,
    infrastructure::{World, fake_control, fake_state, hetzner_fake, world},
};

async fn floating_ips(w: &World) -> Vec<Value> {
    let r = w
        .gql(&w.owner, doc!("infrastructure/TenantFloatingIps"), json!({ "id": w.tenant, "first": 50 }))
        .await;
    r.data()["tenant"]["floatingIps"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

async fn floating_ip(w: &World, id: &str) -> Value {
    floating_ips(w).await.into_iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("no floating IP {id}"))
}

async fn create(w: &World, provider: &str, name: &str) -> (String, String) {
    let (f, a) = w
        .change(
            doc!("infrastructure/CreateFloatingIp"),
            "createFloatingIp",
            "floatingIp",
            json!({ "input": { "providerId": provider, "name": name, "type": "IPV4", "homeLocation": "fsn1",
                "description": "Mail", "labels": { "role": "mail" } } }),
        )
        .await;
    assert_eq!(f["status"], "PENDING");
    (f["id"].as_str().unwrap().to_string(), a)
}

async fn assign(w: &World, ip: &str, server: &str) -> String {
    w.change(
        doc!("infrastructure/AssignFloatingIp"),
        "assignFloatingIp",
        "floatingIp",
        json!({ "input": { "floatingIpId": ip, "serverId": server } }),
    )
    .await
    .1
}

/// Reserve → assign → move → reverse DNS → unassign → release, on `provider`.
async fn lifecycle(w: &World, provider: &str) -> String {
    let (s1, a) = w.create_server(provider, "mail-1").await;
    w.succeeded(&a).await;
    let (s2, a) = w.create_server(provider, "mail-2").await;
    w.succeeded(&a).await;

    // Bad input names its field and reserves nothing.
    for (input, field) in [
        (json!({ "name": "bad name!", "type": "IPV4", "homeLocation": "fsn1" }), "input.name"),
        (json!({ "name": "ok", "type": "IPV4", "homeLocation": "" }), "input.homeLocation"),
        (
            json!({ "name": "ok", "type": "IPV4", "homeLocation": "fsn1", "labels": { "zygo-id": "x" } }),
            "input.labels.zygo-id",
        ),
    ] {
        let mut input = input;
        input["providerId"] = json!(provider);
        let r = w.gql(&w.owner, doc!("infrastructure/CreateFloatingIp"), json!({ "input": input })).await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", field));
    }
    assert!(floating_ips(w).await.is_empty());

    let (ip, a) = create(w, provider, "mail-ip").await;
    w.succeeded(&a).await;
    let f = floating_ip(w, &ip).await;
    assert_eq!((f["status"].as_str(), f["type"].as_str()), (Some("READY"), Some("IPV4")));
    assert!(f["ip"].as_str().unwrap().parse::<std::net::Ipv4Addr>().is_ok(), "{f}");
    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/CreateFloatingIp"),
            json!({ "input": { "providerId": provider, "name": "mail-ip", "type": "IPV4", "homeLocation": "fsn1" } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("CONFLICT", "input.name"));

    let a = assign(w, &ip, &s1).await;
    w.succeeded(&a).await;
    assert_eq!(floating_ip(w, &ip).await["serverId"], s1.as_str());
    // Moved to the other server in one step.
    let a = assign(w, &ip, &s2).await;
    w.succeeded(&a).await;
    assert_eq!(floating_ip(w, &ip).await["serverId"], s2.as_str());
    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/AssignFloatingIp"),
            json!({ "input": { "floatingIpId": ip, "serverId": s2 } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("CONFLICT", "input.serverId"));

    let r = w
        .gql(
            &w.owner,
            doc!("infrastructure/SetFloatingIpReverseDns"),
            json!({ "input": { "floatingIpId": ip, "dnsPtr": "not a host" } }),
        )
        .await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.dnsPtr"));
    let (_, a) = w
        .change(
            doc!("infrastructure/SetFloatingIpReverseDns"),
            "setFloatingIpReverseDns",
            "floatingIp",
            json!({ "input": { "floatingIpId": ip, "dnsPtr": "Mail.Example.com." } }),
        )
        .await;
    w.succeeded(&a).await;
    assert_eq!(floating_ip(w, &ip).await["dnsPtr"], "mail.example.com");

    let (_, a) = w
        .change(
            doc!("infrastructure/UnassignFloatingIp"),
            "unassignFloatingIp",
            "floatingIp",
            json!({ "floatingIpId": ip }),
        )
        .await;
    w.succeeded(&a).await;
    assert_eq!(floating_ip(w, &ip).await["serverId"], Value::Null);

    // Deleting its server frees an assigned address.
    let a = assign(w, &ip, &s1).await;
    w.succeeded(&a).await;
    let (_, a) =
        w.change(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": s1 })).await;
    w.succeeded(&a).await;
    assert_eq!(floating_ip(w, &ip).await["serverId"], Value::Null);

    // The account cannot go while the address is reserved on it.
    let r = w.gql(&w.owner, doc!("infrastructure/RemoveCloudProvider"), json!({ "id": provider })).await;
    assert_eq!(r.code(), "CONFLICT");
    assert!(r.message().contains("1 floating IP(s)"), "{}", r.message());
    ip
}

async fn release(w: &World, ip: &str) {
    let (_, a) = w
        .change(
            doc!("infrastructure/DeleteFloatingIp"),
            "deleteFloatingIp",
            "floatingIp",
            json!({ "id": ip }),
        )
        .await;
    w.succeeded(&a).await;
    assert!(floating_ips(w).await.is_empty());
}

#[tokio::test]
async fn a_local_floating_ip_is_reserved_assigned_moved_named_unassigned_and_released() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let ip = lifecycle(&w, &p).await;
    release(&w, &ip).await;
}

#[tokio::test]
async fn a_hetzner_floating_ip_goes_through_the_cloud_api() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let ip = lifecycle(&w, &p).await;
    let st = fake_state(&base).await;
    let remote = &st["floating_ips"][0];
    assert_eq!(remote["labels"]["role"], "mail");
    assert_eq!(remote["labels"]["zygo-id"], crate::infrastructure::zygo_id_of(&ip));
    assert_eq!(remote["dns_ptr"][0]["dns_ptr"], "mail.example.com");
    assert_eq!(remote["ip"], floating_ip(&w, &ip).await["ip"]);
    // A reset gives the address the provider's default name back, and the row shows it.
    let (_, a) = w
        .change(
            doc!("infrastructure/SetFloatingIpReverseDns"),
            "setFloatingIpReverseDns",
            "floatingIp",
            json!({ "input": { "floatingIpId": ip, "dnsPtr": null } }),
        )
        .await;
    w.succeeded(&a).await;
    let default = format!("static.{}.clients.your-server.de", remote["id"]);
    assert_eq!(floating_ip(&w, &ip).await["dnsPtr"], default.as_str());
    release(&w, &ip).await;
    assert_eq!(fake_state(&base).await["floating_ips"], json!([]));
}

#[tokio::test]
async fn a_floating_ip_whose_answer_was_lost_is_adopted_not_reserved_twice() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    fake_control(&base, "drop-next-create", json!({ "resource": "floating_ips" })).await;
    let (ip, a) = create(&w, &p, "web-ip").await;
    w.succeeded(&a).await;
    let st = fake_state(&base).await;
    assert_eq!(st["creates"]["floating_ips"], 1, "{st}");
    let f = floating_ip(&w, &ip).await;
    assert_eq!(f["ip"], st["floating_ips"][0]["ip"]);
    // The provider's own reverse DNS name is recorded, so the reconciler sees no drift in it.
    assert_eq!(f["dnsPtr"], st["floating_ips"][0]["dns_ptr"][0]["dns_ptr"], "{f}");
}

#[tokio::test]
async fn a_floating_ip_the_provider_refused_is_released_without_asking_it() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (f, a) = w
        .change(
            doc!("infrastructure/CreateFloatingIp"),
            "createFloatingIp",
            "floatingIp",
            json!({ "input": { "providerId": p, "name": "nowhere", "type": "IPV4", "homeLocation": "mars1" } }),
        )
        .await;
    let ended = w.ended(&a).await;
    assert_eq!(ended["status"], "FAILED", "{ended}");
    let ip = f["id"].as_str().unwrap();
    let row = floating_ip(&w, ip).await;
    assert_eq!(row["status"], "ERROR", "{row}");
    assert!(row["ip"].is_null(), "{row}");
    release(&w, ip).await;
    assert_eq!(fake_state(&base).await["creates"]["floating_ips"], 0);
}

#[tokio::test]
async fn members_see_floating_ips_but_cannot_change_them() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let (ip, a) = create(&w, &p, "web-ip").await;
    w.succeeded(&a).await;
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "member@example.com", "member").await;
    let r =
        w.gql(&member, doc!("infrastructure/TenantFloatingIps"), json!({ "id": w.tenant, "first": 5 })).await;
    assert_eq!(r.data()["tenant"]["floatingIps"]["edges"][0]["node"]["id"], ip.as_str());
    let r = w.gql(&member, doc!("infrastructure/DeleteFloatingIp"), json!({ "id": ip })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(floating_ip(&w, &ip).await["status"], "READY");
}
