//! Networks, firewalls and load balancers end to end, on the local cloud and through the
//! Hetzner fake: created (a create whose answer was lost adopts what it made), changed by
//! declaring the new shape (only the difference is asked of the provider), deleted; a deleted
//! server leaves their specs; bad input names its field and changes nothing; the reconciler
//! finds a firewall changed and a network deleted outside Zygo (DRIFTED / DELETED, audited),
//! and an update converges a drifted one again; a floating IP moved outside Zygo is noticed.

use serde_json::{Value, json};

use crate::{
    doc,
    helpers::*,
    infrastructure::{TOKEN, World, fake_control, fake_state, hetzner_fake, world, zygo_id_of},
};

pub(crate) async fn networking(w: &World) -> Value {
    let r = w
        .gql(&w.owner, doc!("infrastructure/TenantNetworking"), json!({ "id": w.tenant, "first": 50 }))
        .await;
    r.data()["tenant"].clone()
}

pub(crate) async fn one(w: &World, list: &str, id: &str) -> Value {
    networking(w).await[list]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["id"] == id)
        .unwrap_or_else(|| panic!("no {list} {id}"))
}

pub(crate) async fn count(w: &World, list: &str) -> usize {
    networking(w).await[list]["edges"].as_array().unwrap().len()
}

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn servers(w: &World, p: &str) -> (String, String) {
    let (a, x) = w.create_server(p, "web-1").await;
    let (b, y) = w.create_server(p, "web-2").await;
    w.succeeded(&x).await;
    w.succeeded(&y).await;
    (a, b)
}

fn rules() -> Value {
    json!([
        { "direction": "IN", "protocol": "TCP", "port": "443", "sourceIps": ["0.0.0.0/0", "::/0"], "description": "HTTPS" },
        { "direction": "IN", "protocol": "ICMP", "sourceIps": ["10.0.0.0/8"] },
    ])
}

/// Network: made with a subnet, servers attached, one detached, a subnet added; deleted.
async fn network_lifecycle(w: &World, p: &str, s1: &str, s2: &str) -> String {
    let (n, a) = w
        .change(
            doc!("infrastructure/CreateNetwork"),
            "createNetwork",
            "network",
            json!({ "input": { "providerId": p, "name": "backend", "ipRange": "10.0.0.0/16",
                "subnets": [{ "networkZone": "eu-central", "ipRange": "10.0.1.0/24" }],
                "serverIds": [s1], "labels": { "tier": "db" } } }),
        )
        .await;
    assert_eq!(n["status"], "PENDING");
    w.succeeded(&a).await;
    let net = id(&n);
    let got = one(w, "networks", &net).await;
    assert_eq!(got["status"], "READY", "{got}");
    assert_eq!(got["serverIds"], json!([s1]));
    assert!(got["externalId"].is_string());

    let (_, a) = w
        .change(
            doc!("infrastructure/UpdateNetwork"),
            "updateNetwork",
            "network",
            json!({ "input": { "networkId": net, "serverIds": [s2],
                "subnets": [{ "networkZone": "eu-central", "ipRange": "10.0.1.0/24" }, { "networkZone": "eu-central", "ipRange": "10.0.2.0/24" }] } }),
        )
        .await;
    w.succeeded(&a).await;
    let got = one(w, "networks", &net).await;
    assert_eq!(got["serverIds"], json!([s2]));
    assert_eq!(got["subnets"].as_array().unwrap().len(), 2);
    net
}

async fn firewall_lifecycle(w: &World, p: &str, s1: &str) -> String {
    let (f, a) = w
        .change(
            doc!("infrastructure/CreateFirewall"),
            "createFirewall",
            "firewall",
            json!({ "input": { "providerId": p, "name": "web", "rules": rules(), "serverIds": [s1], "labelSelectors": ["role=web"] } }),
        )
        .await;
    w.succeeded(&a).await;
    let fw = id(&f);
    let got = one(w, "firewalls", &fw).await;
    assert_eq!(got["status"], "READY", "{got}");
    assert_eq!(got["rules"][0]["port"], "443");
    assert_eq!(got["rules"][1]["protocol"], "ICMP");
    assert_eq!(got["labelSelectors"], json!(["role=web"]));

    // New rules; the label selector kept (not named), the server dropped.
    let (_, a) = w
        .change(
            doc!("infrastructure/UpdateFirewall"),
            "updateFirewall",
            "firewall",
            json!({ "input": { "firewallId": fw, "serverIds": [],
                "rules": [{ "direction": "IN", "protocol": "TCP", "port": "22", "sourceIps": ["203.0.113.0/24"] },
                          { "direction": "OUT", "protocol": "UDP", "port": "53", "destinationIps": ["0.0.0.0/0"] }] } }),
        )
        .await;
    w.succeeded(&a).await;
    let got = one(w, "firewalls", &fw).await;
    assert_eq!(got["rules"].as_array().unwrap().len(), 2);
    assert_eq!(got["rules"][1]["direction"], "OUT");
    assert_eq!(got["serverIds"], json!([]));
    assert_eq!(got["labelSelectors"], json!(["role=web"]));
    fw
}

async fn load_balancer_lifecycle(w: &World, p: &str, s1: &str, s2: &str) -> String {
    let (l, a) = w
        .change(
            doc!("infrastructure/CreateLoadBalancer"),
            "createLoadBalancer",
            "loadBalancer",
            json!({ "input": { "providerId": p, "name": "front", "type": "lb11", "location": "fsn1",
                "services": [{ "protocol": "HTTP", "listenPort": 80, "destinationPort": 8080,
                    "healthCheck": { "protocol": "HTTP", "port": 8080, "path": "/health" } }],
                "serverIds": [s1] } }),
        )
        .await;
    w.succeeded(&a).await;
    let lb = id(&l);
    let got = one(w, "loadBalancers", &lb).await;
    assert_eq!(got["status"], "READY", "{got}");
    assert_eq!(got["algorithm"], "ROUND_ROBIN");
    assert!(got["publicIp"].as_str().is_some_and(|ip| ip.starts_with("203.0.113.")), "{got}");
    assert_eq!(got["services"][0]["healthCheck"]["interval"], 15);

    let (_, a) = w
        .change(
            doc!("infrastructure/UpdateLoadBalancer"),
            "updateLoadBalancer",
            "loadBalancer",
            json!({ "input": { "loadBalancerId": lb, "algorithm": "LEAST_CONNECTIONS", "serverIds": [s1, s2],
                "services": [{ "protocol": "HTTP", "listenPort": 80, "destinationPort": 8080,
                    "healthCheck": { "protocol": "HTTP", "port": 8080, "path": "/health" } },
                    { "protocol": "TCP", "listenPort": 5432, "destinationPort": 5432 }] } }),
        )
        .await;
    w.succeeded(&a).await;
    let got = one(w, "loadBalancers", &lb).await;
    assert_eq!(got["algorithm"], "LEAST_CONNECTIONS");
    assert_eq!(got["services"].as_array().unwrap().len(), 2);
    assert_eq!(got["serverIds"].as_array().unwrap().len(), 2);
    lb
}

async fn delete(w: &World, doc: &str, root: &str, key: &str, id: &str) {
    let (r, a) = w.change(doc, root, key, json!({ "id": id })).await;
    assert_eq!(r["status"], "DELETING");
    w.succeeded(&a).await;
}

async fn delete_all(w: &World, net: &str, fw: &str, lb: &str) {
    delete(w, doc!("infrastructure/DeleteNetwork"), "deleteNetwork", "network", net).await;
    delete(w, doc!("infrastructure/DeleteFirewall"), "deleteFirewall", "firewall", fw).await;
    delete(w, doc!("infrastructure/DeleteLoadBalancer"), "deleteLoadBalancer", "loadBalancer", lb).await;
    for list in ["networks", "firewalls", "loadBalancers"] {
        assert_eq!(count(w, list).await, 0, "{list}");
    }
}

#[tokio::test]
async fn local_networks_firewalls_and_load_balancers_are_made_changed_and_deleted() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let (s1, s2) = servers(&w, &p).await;
    let net = network_lifecycle(&w, &p, &s1, &s2).await;
    let fw = firewall_lifecycle(&w, &p, &s1).await;
    let lb = load_balancer_lifecycle(&w, &p, &s1, &s2).await;

    // The account cannot go while they exist.
    let r = w.gql(&w.owner, doc!("infrastructure/RemoveCloudProvider"), json!({ "id": p })).await;
    assert_eq!(r.code(), "CONFLICT");
    assert!(r.message().contains("3 network(s), firewall(s) or load balancer(s)"), "{}", r.message());

    // A deleted server leaves the network and the load balancer with it.
    let (_, a) =
        w.change(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": s2 })).await;
    w.succeeded(&a).await;
    assert_eq!(one(&w, "networks", &net).await["serverIds"], json!([]));
    assert_eq!(one(&w, "loadBalancers", &lb).await["serverIds"], json!([s1]));
    delete_all(&w, &net, &fw, &lb).await;
}

#[tokio::test]
async fn hetzner_networks_firewalls_and_load_balancers_go_through_the_cloud_api() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (s1, s2) = servers(&w, &p).await;
    let ext = |s: &str| {
        let w = &w;
        let s = s.to_string();
        async move { w.server(&s).await["externalId"].as_str().unwrap().parse::<u64>().unwrap() }
    };
    let (e1, e2) = (ext(&s1).await, ext(&s2).await);

    let net = network_lifecycle(&w, &p, &s1, &s2).await;
    let st = fake_state(&base).await;
    let n = &st["networks"][0];
    assert_eq!(n["servers"], json!([e2]), "{n}");
    assert_eq!(n["subnets"].as_array().unwrap().len(), 2);
    assert_eq!(n["labels"]["zygo-id"], zygo_id_of(&net));
    assert_eq!(n["labels"]["tier"], "db");

    let fw = firewall_lifecycle(&w, &p, &s1).await;
    let st = fake_state(&base).await;
    let f = &st["firewalls"][0];
    assert_eq!(f["rules"][0]["port"], "22", "{f}");
    assert_eq!(f["rules"][1]["destination_ips"], json!(["0.0.0.0/0"]));
    assert_eq!(
        f["applied_to"],
        json!([{ "type": "label_selector", "label_selector": { "selector": "role=web" } }])
    );

    let lb = load_balancer_lifecycle(&w, &p, &s1, &s2).await;
    let st = fake_state(&base).await;
    let l = &st["load_balancers"][0];
    assert_eq!(l["algorithm"]["type"], "least_connections");
    assert_eq!(l["services"].as_array().unwrap().len(), 2);
    assert_eq!(l["services"][0]["health_check"]["http"]["path"], "/health", "{l}");
    let mut targets: Vec<u64> =
        l["targets"].as_array().unwrap().iter().map(|t| t["server"]["id"].as_u64().unwrap()).collect();
    targets.sort();
    // The two servers are made by jobs that may run in either order, so their ids may too.
    let mut expected = [e1, e2];
    expected.sort();
    assert_eq!(targets, expected);
    assert_eq!(one(&w, "loadBalancers", &lb).await["publicIp"], l["public_net"]["ipv4"]["ip"]);

    delete_all(&w, &net, &fw, &lb).await;
    let st = fake_state(&base).await;
    for k in ["networks", "firewalls", "load_balancers"] {
        assert_eq!(st[k], json!([]), "{k}");
    }
}

#[tokio::test]
async fn a_firewall_whose_answer_was_lost_is_adopted_not_made_twice() {
    let (_fake, base, env) = hetzner_fake();
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    fake_control(&base, "drop-next-create", json!({ "resource": "firewalls" })).await;
    let (f, a) = w
        .change(
            doc!("infrastructure/CreateFirewall"),
            "createFirewall",
            "firewall",
            json!({ "input": { "providerId": p, "name": "edge", "rules": rules() } }),
        )
        .await;
    w.succeeded(&a).await;
    let st = fake_state(&base).await;
    assert_eq!(st["creates"]["firewalls"], 1, "{st}");
    assert_eq!(one(&w, "firewalls", &id(&f)).await["externalId"], st["firewalls"][0]["id"].to_string());
}

#[tokio::test]
async fn bad_network_firewall_and_load_balancer_input_names_the_field_and_changes_nothing() {
    let w = world(vec![]).await;
    let p = w.provider("LOCAL").await;
    let net = |extra: Value| {
        let mut input = json!({ "providerId": p, "name": "n", "ipRange": "10.0.0.0/16" });
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json!({ "input": input })
    };
    let cases = [
        (doc!("infrastructure/CreateNetwork"), net(json!({ "ipRange": "8.8.0.0/16" })), "input.ipRange"),
        (doc!("infrastructure/CreateNetwork"), net(json!({ "ipRange": "10.0.0.1/16" })), "input.ipRange"),
        (doc!("infrastructure/CreateNetwork"), net(json!({ "name": "bad name!" })), "input.name"),
        (
            doc!("infrastructure/CreateNetwork"),
            net(json!({ "subnets": [{ "networkZone": "eu-central", "ipRange": "10.1.0.0/24" }] })),
            "input.subnets.0.ipRange",
        ),
        (
            doc!("infrastructure/CreateNetwork"),
            net(json!({ "subnets": [{ "networkZone": "mars", "ipRange": "10.0.1.0/24" }] })),
            "input.subnets.0.networkZone",
        ),
        (
            doc!("infrastructure/CreateNetwork"),
            net(
                json!({ "subnets": [{ "networkZone": "eu-central", "ipRange": "10.0.0.0/23" }, { "networkZone": "eu-central", "ipRange": "10.0.1.0/24" }] }),
            ),
            "input.subnets.1.ipRange",
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            json!({ "input": { "providerId": p, "name": "f", "rules": [{ "direction": "IN", "protocol": "TCP", "sourceIps": ["0.0.0.0/0"] }] } }),
            "input.rules.0.port",
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            json!({ "input": { "providerId": p, "name": "f", "rules": [{ "direction": "IN", "protocol": "ICMP", "port": "1", "sourceIps": ["0.0.0.0/0"] }] } }),
            "input.rules.0.port",
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            json!({ "input": { "providerId": p, "name": "f", "rules": [{ "direction": "IN", "protocol": "TCP", "port": "90-80", "sourceIps": ["0.0.0.0/0"] }] } }),
            "input.rules.0.port",
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            json!({ "input": { "providerId": p, "name": "f", "rules": [{ "direction": "IN", "protocol": "TCP", "port": "80" }] } }),
            "input.rules.0.sourceIps",
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            json!({ "input": { "providerId": p, "name": "f", "rules": [{ "direction": "IN", "protocol": "TCP", "port": "80", "sourceIps": ["not-a-range"] }] } }),
            "input.rules.0.sourceIps.0",
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            json!({ "input": { "providerId": p, "name": "f", "rules": [], "labelSelectors": ["role web"] } }),
            "input.labelSelectors.0",
        ),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            json!({ "input": { "providerId": p, "name": "l", "type": "lb99", "location": "fsn1", "services": [] } }),
            "input.type",
        ),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            json!({ "input": { "providerId": p, "name": "l", "type": "lb11", "location": "fsn1", "services": [
                { "protocol": "TCP", "listenPort": 80, "destinationPort": 80 }, { "protocol": "TCP", "listenPort": 80, "destinationPort": 81 }] } }),
            "input.services.1.listenPort",
        ),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            json!({ "input": { "providerId": p, "name": "l", "type": "lb11", "location": "fsn1", "services": [
                { "protocol": "HTTP", "listenPort": 80, "destinationPort": 80, "healthCheck": { "protocol": "HTTP", "port": 80 } }] } }),
            "input.services.0.healthCheck.path",
        ),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            json!({ "input": { "providerId": p, "name": "l", "type": "lb11", "location": "fsn1", "services": [],
                "serverIds": ["not-an-id"] } }),
            "input.serverIds.0",
        ),
    ];
    for (path, vars, field) in cases {
        let r = w.gql(&w.owner, path, vars.clone()).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{vars}: {}", r.message());
        assert_eq!(r.field(), field, "{vars}: {}", r.message());
    }
    for list in ["networks", "firewalls", "loadBalancers"] {
        assert_eq!(count(&w, list).await, 0, "{list}");
    }
    let a = w
        .gql(&w.owner, doc!("infrastructure/InfrastructureActions"), json!({ "id": w.tenant, "first": 10 }))
        .await;
    assert_eq!(a.data()["tenant"]["infrastructureActions"]["edges"], json!([]));
}

async fn hetzner_call(base: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .request(method, format!("{base}/v1{path}"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

async fn drift_actions(w: &World) -> Vec<String> {
    let mut out = vec![];
    for action in ["firewall.drift_detected", "floating_ip.drift_detected", "network.drift_detected"] {
        let vars = json!({ "id": w.tenant, "filter": { "action": action }, "first": 10 });
        let r = w.gql(&w.owner, doc!("audit/TenantAuditLog"), vars).await;
        let n = r.data()["tenant"]["auditLog"]["edges"].as_array().unwrap().len();
        out.extend(std::iter::repeat_n(action.to_string(), n));
    }
    out
}

#[tokio::test]
async fn changes_made_outside_zygo_are_found_as_drift_and_an_update_converges_again() {
    let (_fake, base, mut env) = hetzner_fake();
    env.push(("ZYGO_INFRASTRUCTURE_RECONCILE_INTERVAL", "1".into()));
    let w = world(env).await;
    let p = w.provider("HETZNER").await;
    let (s1, _) = servers(&w, &p).await;
    let (f, a) = w
        .change(
            doc!("infrastructure/CreateFirewall"),
            "createFirewall",
            "firewall",
            json!({ "input": { "providerId": p, "name": "web", "rules": rules() } }),
        )
        .await;
    w.succeeded(&a).await;
    let (n, a) = w
        .change(
            doc!("infrastructure/CreateNetwork"),
            "createNetwork",
            "network",
            json!({ "input": { "providerId": p, "name": "lan", "ipRange": "10.0.0.0/16" } }),
        )
        .await;
    w.succeeded(&a).await;
    let (ip, a) = w
        .change(
            doc!("infrastructure/CreateFloatingIp"),
            "createFloatingIp",
            "floatingIp",
            json!({ "input": { "providerId": p, "name": "ip", "type": "IPV4", "homeLocation": "fsn1" } }),
        )
        .await;
    w.succeeded(&a).await;
    let (fw, net, ip) = (id(&f), id(&n), id(&ip));

    // Outside Zygo: the firewall opened wide, the network deleted, the address assigned.
    let st = fake_state(&base).await;
    let (fx, nx, ipx) = (&st["firewalls"][0]["id"], &st["networks"][0]["id"], &st["floating_ips"][0]["id"]);
    let open = json!({ "rules": [{ "direction": "in", "protocol": "tcp", "port": "1-65535", "source_ips": ["0.0.0.0/0"] }] });
    let set =
        hetzner_call(&base, reqwest::Method::POST, &format!("/firewalls/{fx}/actions/set_rules"), open).await;
    hetzner_call(&base, reqwest::Method::DELETE, &format!("/networks/{nx}"), Value::Null).await;
    // The provider made the two servers in whichever order their jobs ran: web-1 by its id.
    let e1: Value = w.server(&s1).await["externalId"].as_str().unwrap().parse::<u64>().unwrap().into();
    let assign = hetzner_call(
        &base,
        reqwest::Method::POST,
        &format!("/floating_ips/{ipx}/actions/assign"),
        json!({ "server": e1 }),
    )
    .await;
    // The fake's actions land as they are looked at: look until both have.
    for action in [&set["actions"][0]["id"], &assign["action"]["id"]] {
        eventually(10, || async {
            let a =
                hetzner_call(&base, reqwest::Method::GET, &format!("/actions/{action}"), Value::Null).await;
            (a["action"]["status"] == "success").then_some(())
        })
        .await;
    }

    let got = eventually(60, || async {
        let f = one(&w, "firewalls", &fw).await;
        let n = one(&w, "networks", &net).await;
        (f["status"] == "DRIFTED" && n["status"] == "DELETED").then_some(f)
    })
    .await;
    assert_eq!(got["observed"]["rules"][0]["port"], "1-65535", "{got}");
    assert_eq!(got["rules"].as_array().unwrap().len(), 2, "the spec is kept: {got}");
    let ip_row = eventually(60, || async {
        let r = w
            .gql(&w.owner, doc!("infrastructure/TenantFloatingIps"), json!({ "id": w.tenant, "first": 5 }))
            .await;
        let f = r.data()["tenant"]["floatingIps"]["edges"][0]["node"].clone();
        (f["serverId"] == s1).then_some(f)
    })
    .await;
    assert_eq!(ip_row["id"], ip);
    let mut drifts = eventually(30, || async {
        let d = drift_actions(&w).await;
        (d.len() >= 3).then_some(d)
    })
    .await;
    drifts.sort();
    assert_eq!(drifts, ["firewall.drift_detected", "floating_ip.drift_detected", "network.drift_detected"]);

    // An update naming nothing converges the firewall to its spec again.
    let (_, a) = w
        .change(
            doc!("infrastructure/UpdateFirewall"),
            "updateFirewall",
            "firewall",
            json!({ "input": { "firewallId": fw } }),
        )
        .await;
    w.succeeded(&a).await;
    let f = one(&w, "firewalls", &fw).await;
    assert_eq!(f["status"], "READY");
    assert!(f["observed"].is_null());
    assert_eq!(fake_state(&base).await["firewalls"][0]["rules"][0]["port"], "443");
    // A network deleted outside can only be deleted.
    let r =
        w.gql(&w.owner, doc!("infrastructure/UpdateNetwork"), json!({ "input": { "networkId": net } })).await;
    assert_eq!(r.code(), "CONFLICT");
    delete(&w, doc!("infrastructure/DeleteNetwork"), "deleteNetwork", "network", &net).await;
}
