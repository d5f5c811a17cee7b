//! AWS networks, firewalls and load balancers end to end against `moto` in server mode (the
//! moto, proxy and world of `infrastructure_aws.rs`): a VPC made with its subnets, a server
//! joining it through an ENI and leaving it (and one in a zone without a subnet refused
//! plainly); a security group holding exactly its rules (AWS's allow-all egress removed),
//! changed by revoking and authorizing only the difference, applied to a server and then to
//! the instances a label selector matches; an ELBv2 application load balancer with a target
//! group and listener per service, its targets and algorithm changed; each deleted leaving
//! nothing at AWS; bad AWS input naming its field; creates whose answers were lost adopted by
//! their `zygo-id` tag. moto's state is read through the driver and, where the driver does
//! not say, with plain Query API calls through the proxy.

use serde_json::{Value, json};
use zygo::modules::infrastructure::drivers::net::{
    FirewallRule, HealthCheck, LbService, NetDriver, NetKind, NetSpec, Subnet, Target,
};

use crate::{
    doc,
    helpers::eventually,
    infrastructure::{World, zygo_id_of},
    infrastructure_aws::{Cloud, aws_world, aws_world_with},
    infrastructure_networking::{count, id, one},
};

/// A Query API call straight to moto (through the proxy), for what the driver does not read;
/// moto does not check signatures, only which service the credential scope names.
pub(crate) async fn raw(t: &Cloud, service: &str, params: &[(&str, &str)]) -> String {
    let version = if service == "ec2" { "2016-11-15" } else { "2015-12-01" };
    let mut form: Vec<(&str, &str)> = vec![("Version", version)];
    form.extend_from_slice(params);
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIAZYGOTESTKEY00001/20240101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host, Signature=0"
    );
    let r = reqwest::Client::new()
        .post(&t.endpoint)
        .header("authorization", auth)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{params:?}: {}", r.status());
    r.text().await.unwrap()
}

/// The security groups instance `ext` holds, as EC2 describes it.
async fn groups_of(t: &Cloud, ext: &str) -> String {
    raw(t, "ec2", &[("Action", "DescribeInstances"), ("InstanceId.1", ext)]).await
}

/// A running server in `zone` with `labels`: (Zygo id, instance id).
async fn server_in(t: &Cloud, p: &str, name: &str, zone: &str, labels: Value) -> (String, String) {
    let (s, a) =
        t.w.change(
            doc!("infrastructure/CreateServer"),
            "createServer",
            "server",
            json!({ "input": { "providerId": p, "name": name, "serverType": "t3.micro",
                "image": crate::infrastructure_aws::AMI, "location": zone, "labels": labels } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let id = id(&s);
    let ext = t.w.server(&id).await["externalId"].as_str().unwrap().to_string();
    (id, ext)
}

async fn delete(t: &Cloud, doc: &str, root: &str, key: &str, id: &str) {
    let (r, a) = t.w.change(doc, root, key, json!({ "id": id })).await;
    assert_eq!(r["status"], "DELETING");
    t.w.succeeded(&a).await;
}

fn rule(dir: &str, proto: &str, port: Option<&str>, ips: &[&str], description: Option<&str>) -> FirewallRule {
    let ips: Vec<String> = ips.iter().map(|s| s.to_string()).collect();
    let (source_ips, destination_ips) = if dir == "in" { (ips, vec![]) } else { (vec![], ips) };
    FirewallRule {
        direction: dir.into(),
        protocol: proto.into(),
        port: port.map(str::to_string),
        source_ips,
        destination_ips,
        description: description.map(str::to_string),
    }
}

fn rules_at(spec: &NetSpec) -> Vec<FirewallRule> {
    match spec {
        NetSpec::Firewall { rules, .. } => rules.clone(),
        other => panic!("not a firewall: {other:?}"),
    }
}

#[tokio::test]
async fn a_vpc_gets_its_subnets_and_a_server_joins_and_leaves_it_through_an_eni() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (s1, e1) = t.running(&p, "db-1").await;
    let subnets = json!([{ "networkZone": "us-east-1a", "ipRange": "10.0.1.0/24" },
        { "networkZone": "us-east-1b", "ipRange": "10.0.2.0/24" }]);
    let (n, a) =
        t.w.change(
            doc!("infrastructure/CreateNetwork"),
            "createNetwork",
            "network",
            json!({ "input": { "providerId": p, "name": "backend", "ipRange": "10.0.0.0/16",
                "subnets": subnets, "serverIds": [s1], "labels": { "tier": "db" } } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let net = id(&n);
    let row = one(&t.w, "networks", &net).await;
    assert_eq!((row["status"].as_str(), &row["serverIds"]), (Some("READY"), &json!([s1])), "{row}");
    let vpc = row["externalId"].as_str().unwrap().to_string();
    assert!(vpc.starts_with("vpc-"), "{vpc}");
    let d = t.driver();
    let remote = d.get_net(NetKind::Network, &vpc).await.unwrap().expect("the VPC at AWS");
    let zone = |z: &str, r: &str| Subnet { network_zone: z.into(), ip_range: r.into() };
    assert_eq!(
        remote.spec,
        NetSpec::Network {
            ip_range: "10.0.0.0/16".into(),
            subnets: vec![zone("us-east-1a", "10.0.1.0/24"), zone("us-east-1b", "10.0.2.0/24")],
            servers: vec![e1.clone()],
        }
    );
    assert_eq!((remote.name.as_str(), remote.labels["tier"].as_str()), ("backend", "db"));
    assert_eq!(remote.labels["zygo-id"], zygo_id_of(&net));
    let attach = t.body("AttachNetworkInterface", 0);
    assert!(attach.contains(&format!("InstanceId={e1}")) && attach.contains("DeviceIndex=1"), "{attach}");

    // A server in a zone where the network has no subnet cannot join: refused plainly.
    let (s2, _) = server_in(&t, &p, "db-2", "us-east-1c", json!({})).await;
    let (_, a) =
        t.w.change(
            doc!("infrastructure/UpdateNetwork"),
            "updateNetwork",
            "network",
            json!({ "input": { "networkId": net, "serverIds": [s1, s2] } }),
        )
        .await;
    let ended = t.w.ended(&a).await;
    assert_eq!(
        (ended["status"].as_str(), ended["errorCode"].as_str()),
        (Some("FAILED"), Some("invalid_input"))
    );
    assert!(ended["error"].as_str().unwrap().contains("us-east-1c"), "{ended}");
    assert_eq!(one(&t.w, "networks", &net).await["serverIds"], json!([s1]), "the spec put back");

    let (_, a) =
        t.w.change(
            doc!("infrastructure/UpdateNetwork"),
            "updateNetwork",
            "network",
            json!({ "input": { "networkId": net, "serverIds": [] } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let NetSpec::Network { servers, .. } = d.get_net(NetKind::Network, &vpc).await.unwrap().unwrap().spec
    else {
        panic!()
    };
    assert!(servers.is_empty(), "{servers:?}");
    assert_eq!((t.calls("DetachNetworkInterface"), t.calls("DeleteNetworkInterface")), (1, 1));

    delete(&t, doc!("infrastructure/DeleteNetwork"), "deleteNetwork", "network", &net).await;
    assert!(d.get_net(NetKind::Network, &vpc).await.unwrap().is_none(), "deleted at AWS");
    assert!(d.list_net(NetKind::Network, &t.tenant_selector()).await.unwrap().is_empty());
    let enis = raw(
        &t,
        "ec2",
        &[
            ("Action", "DescribeNetworkInterfaces"),
            ("Filter.1.Name", "tag-key"),
            ("Filter.1.Value.1", "zygo-network"),
        ],
    )
    .await;
    assert!(!enis.contains("<item>"), "no interface of Zygo's left: {enis}");
    assert_eq!(count(&t.w, "networks").await, 0);
}

#[tokio::test]
async fn a_security_group_holds_exactly_its_rules_and_follows_its_servers_and_label_selector() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (s1, e1) = t.running(&p, "web-1").await;
    let (_, e2) = server_in(&t, &p, "web-2", "us-east-1a", json!({ "role": "web" })).await;
    let (f, a) = t
        .w
        .change(
            doc!("infrastructure/CreateFirewall"),
            "createFirewall",
            "firewall",
            json!({ "input": { "providerId": p, "name": "web", "serverIds": [s1], "rules": [
                { "direction": "IN", "protocol": "TCP", "port": "443", "sourceIps": ["0.0.0.0/0", "::/0"], "description": "HTTPS" },
                { "direction": "IN", "protocol": "ICMP", "sourceIps": ["10.0.0.0/8"] },
                { "direction": "OUT", "protocol": "UDP", "port": "53", "destinationIps": ["0.0.0.0/0"] },
            ] } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let fw = id(&f);
    let row = one(&t.w, "firewalls", &fw).await;
    assert_eq!(row["status"], "READY", "{row}");
    let sg = row["externalId"].as_str().unwrap().to_string();
    let d = t.driver();
    let remote = d.get_net(NetKind::Firewall, &sg).await.unwrap().expect("the group at AWS");
    let https = rule("in", "tcp", Some("443"), &["0.0.0.0/0", "::/0"], Some("HTTPS"));
    assert_eq!(
        remote.spec,
        NetSpec::Firewall {
            rules: vec![
                rule("in", "icmp", None, &["10.0.0.0/8"], None),
                https.clone(),
                rule("out", "udp", Some("53"), &["0.0.0.0/0"], None),
            ],
            apply_to: vec![Target::Server(e1.clone())],
        },
        "exactly the spec: AWS's allow-all egress revoked"
    );
    // Stored as the group holds them, so the reconciler compares like with like.
    let stored: Vec<(String, String)> = row["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["direction"].as_str().unwrap().into(), r["protocol"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        stored,
        [("IN".into(), "ICMP".into()), ("IN".into(), "TCP".into()), ("OUT".into(), "UDP".into())]
    );
    assert_eq!(remote.labels["zygo-id"], zygo_id_of(&fw));
    assert!(groups_of(&t, &e1).await.contains(&sg), "web-1 holds the group");

    // One rule removed, one added, the egress rule gone; the label selector instead of web-1.
    let (_, a) = t
        .w
        .change(
            doc!("infrastructure/UpdateFirewall"),
            "updateFirewall",
            "firewall",
            json!({ "input": { "firewallId": fw, "serverIds": [], "labelSelectors": ["role=web"], "rules": [
                { "direction": "IN", "protocol": "TCP", "port": "443", "sourceIps": ["::/0", "0.0.0.0/0"], "description": "HTTPS" },
                { "direction": "IN", "protocol": "TCP", "port": "22", "sourceIps": ["203.0.113.0/24"] },
            ] } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let remote = d.get_net(NetKind::Firewall, &sg).await.unwrap().unwrap();
    assert_eq!(rules_at(&remote.spec), vec![rule("in", "tcp", Some("22"), &["203.0.113.0/24"], None), https]);
    let NetSpec::Firewall { apply_to, .. } = &remote.spec else { panic!() };
    assert_eq!(apply_to, &[Target::LabelSelector("role=web".into())], "web-2 is explained by the selector");
    assert!(groups_of(&t, &e2).await.contains(&sg), "the matching instance holds the group");
    let web1 = groups_of(&t, &e1).await;
    assert!(!web1.contains(&sg) && web1.contains("<groupId>sg-"), "web-1 left with a group: {web1}");
    let second = t.body("AuthorizeSecurityGroupIngress", 1);
    assert!(
        second.contains("FromPort=22") && !second.contains("Port=443"),
        "only the new rule asked for: {second}"
    );
    assert_eq!((t.calls("RevokeSecurityGroupIngress"), t.calls("RevokeSecurityGroupEgress")), (1, 2));
    let row = one(&t.w, "firewalls", &fw).await;
    assert_eq!((&row["serverIds"], &row["labelSelectors"]), (&json!([]), &json!(["role=web"])));

    delete(&t, doc!("infrastructure/DeleteFirewall"), "deleteFirewall", "firewall", &fw).await;
    assert!(d.get_net(NetKind::Firewall, &sg).await.unwrap().is_none(), "deleted at AWS");
    assert!(!groups_of(&t, &e2).await.contains(&sg));
    assert!(d.list_net(NetKind::Firewall, &t.tenant_selector()).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_application_load_balancer_gets_a_target_group_and_listener_per_service() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (s1, e1) = t.running(&p, "web-1").await;
    let (s2, e2) = server_in(&t, &p, "web-2", "us-east-1b", json!({})).await;
    let service = json!({ "protocol": "HTTP", "listenPort": 80, "destinationPort": 8080,
        "healthCheck": { "protocol": "HTTP", "port": 8080, "path": "/health" } });
    let (l, a) = t
        .w
        .change(
            doc!("infrastructure/CreateLoadBalancer"),
            "createLoadBalancer",
            "loadBalancer",
            json!({ "input": { "providerId": p, "name": "front", "type": "application", "location": "us-east-1",
                "services": [service], "serverIds": [s1, s2] } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let lb = id(&l);
    let row = one(&t.w, "loadBalancers", &lb).await;
    assert_eq!(row["status"], "READY", "{row}");
    let arn = row["externalId"].as_str().unwrap().to_string();
    let d = t.driver();
    let remote = d.get_net(NetKind::LoadBalancer, &arn).await.unwrap().expect("the balancer at AWS");
    assert!(remote.public_ip.as_deref().is_some_and(|h| h.ends_with(".elb.amazonaws.com")), "{remote:?}");
    assert_eq!(row["publicIp"].as_str(), remote.public_ip.as_deref(), "its DNS name");
    let http = LbService {
        protocol: "http".into(),
        listen_port: 80,
        destination_port: 8080,
        health_check: HealthCheck {
            protocol: "http".into(),
            port: 8080,
            interval: 15,
            timeout: 10,
            retries: 3,
            path: Some("/health".into()),
        },
    };
    let mut both = vec![Target::Server(e1.clone()), Target::Server(e2)];
    both.sort();
    let spec = |algorithm: &str, targets: Vec<Target>| NetSpec::LoadBalancer {
        load_balancer_type: "application".into(),
        location: "us-east-1".into(),
        algorithm: algorithm.into(),
        services: vec![http.clone()],
        targets,
    };
    assert_eq!(remote.spec, spec("round_robin", both));
    assert_eq!(remote.labels["zygo-id"], zygo_id_of(&lb));
    assert_eq!((t.calls("CreateTargetGroup"), t.calls("CreateListener")), (1, 1));

    let (_, a) =
        t.w.change(
            doc!("infrastructure/UpdateLoadBalancer"),
            "updateLoadBalancer",
            "loadBalancer",
            json!({ "input": { "loadBalancerId": lb, "algorithm": "LEAST_CONNECTIONS", "serverIds": [s1] } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let remote = d.get_net(NetKind::LoadBalancer, &arn).await.unwrap().unwrap();
    assert_eq!(remote.spec, spec("least_connections", vec![Target::Server(e1)]));
    assert!(t.body("ModifyTargetGroupAttributes", 0).contains("least_outstanding_requests"));
    assert_eq!((t.calls("DeregisterTargets"), t.calls("CreateListener")), (1, 1), "the service kept");

    delete(&t, doc!("infrastructure/DeleteLoadBalancer"), "deleteLoadBalancer", "loadBalancer", &lb).await;
    assert!(d.get_net(NetKind::LoadBalancer, &arn).await.unwrap().is_none(), "deleted at AWS");
    assert!(d.list_net(NetKind::LoadBalancer, &t.tenant_selector()).await.unwrap().is_empty());
    let groups = raw(&t, "elasticloadbalancing", &[("Action", "DescribeTargetGroups")]).await;
    assert!(!groups.contains("<TargetGroupArn>"), "its target group deleted too: {groups}");
    assert_eq!(t.calls("DeleteListener"), 1);
}

#[tokio::test]
async fn bad_aws_network_firewall_and_load_balancer_input_names_the_field() {
    let t = aws_world().await;
    let p = t.provider().await;
    let net = |zone: &str| {
        json!({ "input": { "providerId": p, "name": "n", "ipRange": "10.0.0.0/16",
            "subnets": [{ "networkZone": zone, "ipRange": "10.0.1.0/24" }] } })
    };
    let lb = |kind: &str, algorithm: &str, location: &str, service: Value| {
        json!({ "input": { "providerId": p, "name": "l", "type": kind, "algorithm": algorithm,
            "location": location, "services": [service] } })
    };
    let http = json!({ "protocol": "HTTP", "listenPort": 80, "destinationPort": 80,
        "healthCheck": { "protocol": "HTTP", "port": 80, "path": "/" } });
    let tcp = json!({ "protocol": "TCP", "listenPort": 5432, "destinationPort": 5432 });
    let (rr, lc) = ("ROUND_ROBIN", "LEAST_CONNECTIONS");
    let cases = [
        (doc!("infrastructure/CreateNetwork"), net("eu-central"), "input.subnets.0.networkZone"),
        (doc!("infrastructure/CreateNetwork"), net("us-west-2a"), "input.subnets.0.networkZone"),
        (doc!("infrastructure/CreateLoadBalancer"), lb("lb11", rr, "us-east-1", http.clone()), "input.type"),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            lb("application", rr, "us-east-1", tcp.clone()),
            "input.services.0.protocol",
        ),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            lb("network", rr, "us-east-1", http.clone()),
            "input.services.0.protocol",
        ),
        (doc!("infrastructure/CreateLoadBalancer"), lb("network", lc, "us-east-1", tcp), "input.algorithm"),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            lb("application", rr, "eu-central-1", http),
            "input.location",
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            json!({ "input": { "providerId": p, "name": "f", "rules": [
                { "direction": "IN", "protocol": "TCP", "port": "80", "sourceIps": ["0.0.0.0/0"], "description": "a" },
                { "direction": "IN", "protocol": "TCP", "port": "80", "sourceIps": ["0.0.0.0/0"], "description": "b" }] } }),
            "input.rules.1.sourceIps.0",
        ),
    ];
    for (path, vars, field) in cases {
        let r = t.w.gql(&t.w.owner, path, vars.clone()).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{vars}: {}", r.message());
        assert_eq!(r.field(), field, "{vars}: {}", r.message());
    }
    for list in ["networks", "firewalls", "loadBalancers"] {
        assert_eq!(count(&t.w, list).await, 0, "{list}");
    }
    for action in ["CreateVpc", "CreateSecurityGroup", "CreateLoadBalancer"] {
        assert_eq!(t.calls(action), 0, "nothing asked of AWS: {action}");
    }
}

#[tokio::test]
async fn creates_whose_answers_were_lost_are_adopted_by_their_tag_not_made_twice() {
    let t = aws_world().await;
    let p = t.provider().await;
    let d = t.driver();
    let cases = [
        (
            "CreateVpc",
            NetKind::Network,
            doc!("infrastructure/CreateNetwork"),
            "createNetwork",
            "network",
            "networks",
            json!({ "providerId": p, "name": "lan", "ipRange": "10.1.0.0/16" }),
        ),
        (
            "CreateSecurityGroup",
            NetKind::Firewall,
            doc!("infrastructure/CreateFirewall"),
            "createFirewall",
            "firewall",
            "firewalls",
            json!({ "providerId": p, "name": "edge", "rules": [] }),
        ),
        (
            "CreateLoadBalancer",
            NetKind::LoadBalancer,
            doc!("infrastructure/CreateLoadBalancer"),
            "createLoadBalancer",
            "loadBalancer",
            "loadBalancers",
            json!({ "providerId": p, "name": "tcp", "type": "network", "location": "us-east-1",
                "services": [{ "protocol": "TCP", "listenPort": 5432, "destinationPort": 5432 }] }),
        ),
    ];
    for (action, kind, path, root, key, list, input) in cases {
        t.faults.lock().unwrap().lose = Some(action.into());
        let (r, a) = t.w.change(path, root, key, json!({ "input": input })).await;
        t.w.succeeded(&a).await;
        assert_eq!(t.calls(action), 1, "{action}: the retry found it by its zygo-id tag");
        let remote = d.list_net(kind, &format!("zygo-id={}", zygo_id_of(&id(&r)))).await.unwrap();
        assert_eq!(remote.len(), 1, "{action}: {remote:?}");
        let row = one(&t.w, list, &id(&r)).await;
        assert_eq!(
            (row["status"].as_str(), row["externalId"].as_str()),
            (Some("READY"), Some(remote[0].id.as_str()))
        );
    }
}

async fn drifts(w: &World, action: &str) -> usize {
    let vars = json!({ "id": w.tenant, "filter": { "action": action }, "first": 10 });
    let r = w.gql(&w.owner, doc!("audit/TenantAuditLog"), vars).await;
    r.data()["tenant"]["auditLog"]["edges"].as_array().unwrap().len()
}

#[tokio::test]
async fn aws_resources_as_specified_stay_ready_and_a_rule_added_outside_zygo_is_drift() {
    let t = aws_world_with(vec![("ZYGO_INFRASTRUCTURE_RECONCILE_INTERVAL", "1".into())]).await;
    let p = t.provider().await;
    let (s1, _) = t.running(&p, "web-1").await;
    // web-2 is named and matched by a selector alike: AWS cannot tell the two apart, and that
    // is no drift.
    let (s2, _) = server_in(&t, &p, "web-2", "us-east-1b", json!({ "role": "web" })).await;
    let made = [
        (
            doc!("infrastructure/CreateNetwork"),
            "createNetwork",
            "network",
            json!({ "providerId": p, "name": "lan", "ipRange": "10.2.0.0/16", "serverIds": [s1],
                "subnets": [{ "networkZone": "us-east-1a", "ipRange": "10.2.1.0/24" }] }),
        ),
        (
            doc!("infrastructure/CreateFirewall"),
            "createFirewall",
            "firewall",
            json!({ "providerId": p, "name": "web", "serverIds": [s1, s2], "labelSelectors": ["role=web"], "rules": [
                { "direction": "OUT", "protocol": "TCP", "port": "1000-2000", "destinationIps": ["10.0.0.0/8"] },
                { "direction": "IN", "protocol": "ESP", "sourceIps": ["192.0.2.0/24"] },
                { "direction": "IN", "protocol": "TCP", "port": "443", "sourceIps": ["0.0.0.0/0"] }] }),
        ),
        (
            doc!("infrastructure/CreateLoadBalancer"),
            "createLoadBalancer",
            "loadBalancer",
            json!({ "providerId": p, "name": "db", "type": "network", "location": "us-east-1",
                "services": [{ "protocol": "TCP", "listenPort": 5432, "destinationPort": 5432 }],
                "serverIds": [s2], "labelSelectors": ["role=web"] }),
        ),
    ];
    let mut ids = vec![];
    for (path, root, key, input) in made {
        let (r, a) = t.w.change(path, root, key, json!({ "input": input })).await;
        t.w.succeeded(&a).await;
        ids.push(id(&r));
    }
    let (net, fw, lb) = (&ids[0], &ids[1], &ids[2]);
    let sg = one(&t.w, "firewalls", fw).await["externalId"].as_str().unwrap().to_string();

    // Opened outside Zygo: found as drift, with what AWS has.
    let open = [
        ("GroupId", sg.as_str()),
        ("IpPermissions.1.IpProtocol", "tcp"),
        ("IpPermissions.1.FromPort", "3306"),
        ("IpPermissions.1.ToPort", "3306"),
        ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
    ];
    let mut call = vec![("Action", "AuthorizeSecurityGroupIngress")];
    call.extend(open);
    raw(&t, "ec2", &call).await;
    let got = eventually(60, || async {
        let f = one(&t.w, "firewalls", fw).await;
        (f["status"] == "DRIFTED").then_some(f)
    })
    .await;
    let ports: Vec<&str> =
        got["observed"]["rules"].as_array().unwrap().iter().filter_map(|r| r["port"].as_str()).collect();
    assert!(ports.contains(&"3306"), "{got}");
    // Put back outside Zygo: in step again at a later pass.
    call[0] = ("Action", "RevokeSecurityGroupIngress");
    raw(&t, "ec2", &call).await;
    eventually(60, || async { (one(&t.w, "firewalls", fw).await["status"] == "READY").then_some(()) }).await;

    // A rule naming another security group (Zygo's name ranges): drift too, naming the group,
    // and an update converges it away.
    let grant = [
        ("Action", "AuthorizeSecurityGroupIngress"),
        ("GroupId", sg.as_str()),
        ("IpPermissions.1.IpProtocol", "tcp"),
        ("IpPermissions.1.FromPort", "22"),
        ("IpPermissions.1.ToPort", "22"),
        ("IpPermissions.1.Groups.1.GroupId", sg.as_str()),
    ];
    raw(&t, "ec2", &grant).await;
    let got = eventually(60, || async {
        let f = one(&t.w, "firewalls", fw).await;
        (f["status"] == "DRIFTED").then_some(f)
    })
    .await;
    let sources: Vec<&str> = got["observed"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["source_ips"].as_array().into_iter().flatten().filter_map(|s| s.as_str()))
        .collect();
    assert!(sources.contains(&sg.as_str()), "{got}");
    let (_, a) =
        t.w.change(
            doc!("infrastructure/UpdateFirewall"),
            "updateFirewall",
            "firewall",
            json!({ "input": { "firewallId": fw } }),
        )
        .await;
    t.w.succeeded(&a).await;
    let held = raw(&t, "ec2", &[("Action", "DescribeSecurityGroups"), ("GroupId.1", &sg)]).await;
    assert!(!held.contains("<fromPort>22</fromPort>"), "the group rule is revoked: {held}");
    assert_eq!(one(&t.w, "firewalls", fw).await["status"], "READY");

    // Those as specified were compared in the same passes and never drifted.
    assert_eq!(one(&t.w, "networks", net).await["status"], "READY");
    assert_eq!(one(&t.w, "loadBalancers", lb).await["status"], "READY");
    assert_eq!(drifts(&t.w, "firewall.drift_detected").await, 2);
    for action in ["network.drift_detected", "load_balancer.drift_detected"] {
        assert_eq!(drifts(&t.w, action).await, 0, "{action}");
    }
}
