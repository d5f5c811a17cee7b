//! AWS accounts end to end against `moto` in server mode, with the EC2 actions it lacks added
//! by `moto_extras.py` (started by each test on a free port; a missing moto fails the test): connecting (fields checked, the keys tried with EC2 before
//! anything is saved, a refusal saving nothing), EC2 instances through their life, EBS volumes,
//! AMIs and EBS snapshots, Elastic IPs, Route 53 zones and records, what AWS does not offer
//! here refused plainly, throttling waited out, and a RunInstances whose answer was lost
//! adopted instead of run twice. A small proxy in front of moto counts the calls and loses or
//! refuses the ones a test asks it to; the test reads moto's state through the driver itself.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use zygo::modules::infrastructure::drivers::{
    ActionState, CloudDriver, VolumeSpec,
    aws::{Aws, AwsKeys},
};

use crate::{
    doc,
    helpers::*,
    infrastructure::{World, world, zygo_id_of},
};

pub(crate) const REGION: &str = "us-east-1";
pub(crate) const AMI: &str = "ami-0123456789abcdef0";
pub(crate) const KEY: &str = "AKIAZYGOTESTKEY00001";
pub(crate) const SECRET: &str = "zygo-test-secret-key-0000000000000000";

/// What the proxy in front of moto saw and is to do with the next calls (by `Action`).
#[derive(Default)]
pub(crate) struct Faults {
    /// Each call's action and body.
    pub(crate) calls: Vec<(String, String)>,
    /// The next call of this action is forwarded, then answered 503: its answer is lost.
    pub(crate) lose: Option<String>,
    /// The next call of this action is answered (status, AWS error code) without reaching moto.
    pub(crate) refuse: Option<(String, u16, &'static str)>,
}

#[derive(Clone)]
struct Proxy {
    moto: String,
    faults: Arc<Mutex<Faults>>,
    http: reqwest::Client,
}

fn aws_error(status: u16, code: &str) -> Response {
    let body = format!(
        "<Response><Errors><Error><Code>{code}</Code><Message>{code} (from the test)</Message></Error></Errors>\
         <RequestID>test</RequestID></Response>"
    );
    (StatusCode::from_u16(status).unwrap(), [("content-type", "text/xml")], body).into_response()
}

async fn forward(
    State(p): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).to_string();
    // A Query API call's `Action`; a JSON one's operation (`X-Amz-Target: Service.Operation`).
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let action = url::form_urlencoded::parse(text.as_bytes())
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.to_string())
        .or_else(|| target.and_then(|t| t.rsplit('.').next()).map(str::to_string))
        .unwrap_or_else(|| format!("{method} {}", uri.path()));
    let (refused, lose) = {
        let mut f = p.faults.lock().unwrap();
        f.calls.push((action.clone(), text));
        (f.refuse.take_if(|r| r.0 == action), f.lose.take_if(|l| *l == action).is_some())
    };
    if let Some((_, status, code)) = refused {
        return aws_error(status, code);
    }
    let target = format!("{}{}", p.moto, uri.path_and_query().map(|q| q.as_str()).unwrap_or("/"));
    let mut req = p.http.request(method, target).body(body);
    for (k, v) in headers.iter().filter(|(k, _)| *k != "host" && *k != "content-length") {
        req = req.header(k, v);
    }
    let res = req.send().await.expect("moto answers");
    let status = res.status().as_u16();
    let ct =
        res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("text/xml").to_string();
    let bytes = res.bytes().await.unwrap();
    if lose {
        return aws_error(503, "ServiceUnavailable");
    }
    (StatusCode::from_u16(status).unwrap(), [("content-type", ct)], bytes).into_response()
}

/// moto, the proxy in front of it, and the app pointed at the proxy.
pub(crate) struct Cloud {
    pub(crate) w: World,
    _moto: crate::moto::Moto,
    pub(crate) faults: Arc<Mutex<Faults>>,
    pub(crate) endpoint: String,
}

pub(crate) async fn aws_world() -> Cloud {
    aws_world_with(vec![]).await
}

/// [`aws_world`] with more of the app's environment.
pub(crate) async fn aws_world_with(mut env: Vec<(&'static str, String)>) -> Cloud {
    // moto, with the EC2 actions it lacks (root volume replacement, Elastic IP reverse DNS,
    // the serial console's key) added by `moto_extras.py`.
    let mut command = std::process::Command::new("python3");
    command.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/moto_extras.py"));
    let moto = crate::moto::start(
        command,
        "python3 with moto must be installed (pip install 'moto[server]'; scripts/test.sh does)",
    )
    .await;
    let http = reqwest::Client::new();
    let faults = Arc::new(Mutex::new(Faults::default()));
    let proxy = Proxy { moto: moto.endpoint.clone(), faults: faults.clone(), http };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    env.push(("ZYGO_AWS_ENDPOINT", endpoint.clone()));
    let w = world(env).await;
    Cloud { w, _moto: moto, faults, endpoint }
}

impl Cloud {
    /// The driver, as the test's own window on moto.
    pub(crate) fn driver(&self) -> Aws {
        let keys =
            AwsKeys { access_key_id: KEY.into(), secret_access_key: SECRET.into(), region: REGION.into() };
        Aws::new(keys, Some(self.endpoint.clone()), Duration::from_millis(20), Duration::from_secs(5))
    }

    /// Sends a mutation as the owner and waits for its action to succeed; the resource.
    pub(crate) async fn done(&self, path: &str, root: &str, resource: &str, vars: Value) -> Value {
        let (r, a) = self.w.change(path, root, resource, vars).await;
        self.w.succeeded(&a).await;
        r
    }

    pub(crate) fn calls(&self, action: &str) -> usize {
        self.faults.lock().unwrap().calls.iter().filter(|c| c.0 == action).count()
    }

    /// The body of the `n`th call of `action`.
    pub(crate) fn body(&self, action: &str, n: usize) -> String {
        let f = self.faults.lock().unwrap();
        f.calls.iter().filter(|c| c.0 == action).nth(n).map(|c| c.1.clone()).unwrap_or_default()
    }

    pub(crate) async fn connect(&self, creds: Value) -> Gql {
        self.w.connect("AWS", creds).await
    }

    pub(crate) async fn provider(&self) -> String {
        let r =
            self.connect(json!({ "accessKeyId": KEY, "secretAccessKey": SECRET, "region": REGION })).await;
        r.data()["connectCloudProvider"]["provider"]["id"].as_str().unwrap().to_string()
    }

    pub(crate) fn tenant_selector(&self) -> String {
        format!("zygo-tenant={}", zygo_id_of(&self.w.tenant))
    }

    pub(crate) async fn create_server(&self, provider: &str, name: &str) -> (String, String) {
        let (s, a) = self
            .w
            .change(
                doc!("infrastructure/CreateServer"),
                "createServer",
                "server",
                json!({ "input": { "providerId": provider, "name": name, "serverType": "t3.micro",
                    "image": AMI, "location": "us-east-1a", "labels": { "env": "prod" } } }),
            )
            .await;
        (s["id"].as_str().unwrap().to_string(), a)
    }

    pub(crate) async fn running(&self, provider: &str, name: &str) -> (String, String) {
        let (id, a) = self.create_server(provider, name).await;
        self.w.succeeded(&a).await;
        let ext = self.w.server(&id).await["externalId"].as_str().unwrap().to_string();
        (id, ext)
    }
}

#[tokio::test]
async fn aws_credentials_are_checked_by_field_and_with_ec2_before_anything_is_saved() {
    let t = aws_world().await;
    let (key, secret) = (KEY, SECRET);
    for (creds, field) in [
        (json!({ "secretAccessKey": secret, "region": REGION }), "input.credentials.accessKeyId"),
        (json!({ "accessKeyId": key, "region": REGION }), "input.credentials.secretAccessKey"),
        (json!({ "accessKeyId": key, "secretAccessKey": secret }), "input.credentials.region"),
        (
            json!({ "accessKeyId": key, "secretAccessKey": secret, "region": "Frankfurt" }),
            "input.credentials.region",
        ),
    ] {
        let r = t.connect(creds).await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", field));
    }
    assert_eq!(t.calls("DescribeRegions"), 0, "nothing asked of AWS for bad input");
    // AWS refuses the keys: nothing is saved.
    t.faults.lock().unwrap().refuse = Some(("DescribeRegions".into(), 401, "AuthFailure"));
    let r = t.connect(json!({ "accessKeyId": key, "secretAccessKey": secret, "region": REGION })).await;
    assert_eq!(r.code(), "PROVIDER_ERROR");
    assert_eq!(r.0["errors"][0]["extensions"]["providerCode"], "AuthFailure");
    let list = t.w.gql(&t.w.owner, doc!("infrastructure/CloudProviders"), json!({ "id": t.w.tenant })).await;
    assert_eq!(list.data()["tenant"]["cloudProviders"], json!([]));
    // Accepted keys are saved (never returned) and checked again on request.
    let p = t.provider().await;
    assert_eq!(t.calls("DescribeRegions"), 2);
    let body = t.body("DescribeRegions", 1);
    assert!(body.contains("RegionName.1=us-east-1"), "{body}");
    let r = t.w.gql(&t.w.owner, doc!("infrastructure/ValidateCloudProvider"), json!({ "id": p })).await;
    assert!(r.data()["validateCloudProvider"]["provider"]["validatedAt"].is_string());
    assert_eq!(t.calls("DescribeRegions"), 3);
}

#[tokio::test]
async fn an_ec2_instance_comes_up_stops_resizes_starts_reboots_and_is_terminated() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (id, a) = t.create_server(&p, "web-1").await;
    t.w.succeeded(&a).await;
    let s = t.w.server(&id).await;
    assert_eq!((s["status"].as_str(), s["serverType"].as_str()), (Some("RUNNING"), Some("t3.micro")), "{s}");
    assert!(s["ipv4"].as_str().is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()), "{s}");
    let ext = s["externalId"].as_str().unwrap().to_string();
    assert!(ext.starts_with("i-"), "{ext}");
    // The instance carries Zygo's tags beside the member's, and its name.
    let d = t.driver();
    let remote = d.get_server(&ext).await.unwrap().expect("the instance at AWS");
    assert_eq!(remote.name, "web-1");
    assert_eq!(remote.labels["env"], "prod");
    assert_eq!(remote.labels["zygo-id"], zygo_id_of(&id));
    assert_eq!(remote.labels["zygo-tenant"], zygo_id_of(&t.w.tenant));
    let run = t.body("RunInstances", 0);
    assert!(run.contains(&format!("ClientToken=zygo-{}", zygo_id_of(&id))), "idempotency token sent: {run}");
    assert!(run.contains("Placement.AvailabilityZone=us-east-1a"), "{run}");

    let a = t.w.server_action(&id, "STOP", None).await;
    t.w.succeeded(&a).await;
    assert_eq!(t.w.server(&id).await["status"], "OFF");
    assert_eq!(d.get_server(&ext).await.unwrap().unwrap().status, "off");
    let a = t.w.server_action(&id, "RESIZE", Some("t3.large")).await;
    t.w.succeeded(&a).await;
    let s = t.w.server(&id).await;
    assert_eq!((s["status"].as_str(), s["serverType"].as_str()), (Some("OFF"), Some("t3.large")));
    assert_eq!(d.get_server(&ext).await.unwrap().unwrap().server_type, "t3.large");
    let a = t.w.server_action(&id, "START", None).await;
    t.w.succeeded(&a).await;
    assert_eq!(t.w.server(&id).await["status"], "RUNNING");
    let a = t.w.server_action(&id, "REBOOT", None).await;
    t.w.succeeded(&a).await;
    assert_eq!(t.w.server(&id).await["status"], "RUNNING");
    assert_eq!(t.calls("RebootInstances"), 1);

    let s = t.done(doc!("infrastructure/DeleteServer"), "deleteServer", "server", json!({ "id": id })).await;
    assert_eq!(s["status"], "DELETING");
    assert!(t.w.servers(json!({})).await.is_empty());
    assert!(d.get_server(&ext).await.unwrap().is_none(), "terminated at AWS");
    assert!(d.list_servers(&t.tenant_selector()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_run_instances_whose_answer_was_lost_is_adopted_not_run_twice() {
    let t = aws_world().await;
    let p = t.provider().await;
    t.faults.lock().unwrap().lose = Some("RunInstances".into());
    let (id, a) = t.create_server(&p, "web-1").await;
    t.w.succeeded(&a).await;
    assert_eq!(t.calls("RunInstances"), 1, "the retry found the instance by its zygo-id tag");
    let remote = t.driver().list_servers(&t.tenant_selector()).await.unwrap();
    assert_eq!(remote.len(), 1, "one instance at AWS: {remote:?}");
    let s = t.w.server(&id).await;
    assert_eq!(
        (s["status"].as_str(), s["externalId"].as_str()),
        (Some("RUNNING"), Some(remote[0].id.as_str()))
    );
}

#[tokio::test]
async fn a_throttled_call_is_tried_again() {
    let t = aws_world().await;
    let p = t.provider().await;
    t.faults.lock().unwrap().refuse = Some(("RunInstances".into(), 503, "RequestLimitExceeded"));
    let (id, a) = t.create_server(&p, "web-1").await;
    t.w.succeeded(&a).await;
    assert_eq!(t.calls("RunInstances"), 2, "refused once, then made");
    assert_eq!(t.driver().list_servers(&t.tenant_selector()).await.unwrap().len(), 1);
    assert_eq!(t.w.server(&id).await["status"], "RUNNING");
}

#[tokio::test]
async fn an_ebs_volume_is_created_attached_grown_detached_and_deleted() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (server, ext) = t.running(&p, "db-1").await;
    let v = t
        .done(
            doc!("infrastructure/CreateVolume"),
            "createVolume",
            "volume",
            json!({ "input": { "providerId": p, "name": "data", "sizeGb": 20, "location": "us-east-1a" } }),
        )
        .await;
    let vol = v["id"].as_str().unwrap().to_string();
    let row = t.w.volumes().await[0].clone();
    assert_eq!(row["status"], "AVAILABLE");
    let vext = row["externalId"].as_str().unwrap().to_string();
    let d = t.driver();
    let remote = d.get_volume(&vext).await.unwrap().unwrap();
    assert_eq!((remote.size_gb, remote.name.as_str()), (20, "data"));
    assert_eq!(remote.labels["zygo-id"], zygo_id_of(&vol));

    t.done(
        doc!("infrastructure/AttachVolume"),
        "attachVolume",
        "volume",
        json!({ "input": { "volumeId": vol, "serverId": server } }),
    )
    .await;
    assert_eq!(t.w.volumes().await[0]["serverId"], server.as_str());
    assert_eq!(d.get_volume(&vext).await.unwrap().unwrap().server.as_deref(), Some(ext.as_str()));
    let attach = t.body("AttachVolume", 0);
    assert!(attach.contains("Device=%2Fdev%2Fsdf"), "a free data device: {attach}");

    t.done(
        doc!("infrastructure/ResizeVolume"),
        "resizeVolume",
        "volume",
        json!({ "input": { "volumeId": vol, "sizeGb": 40 } }),
    )
    .await;
    assert_eq!(t.w.volumes().await[0]["sizeGb"], 40);
    assert_eq!(d.get_volume(&vext).await.unwrap().unwrap().size_gb, 40);

    t.done(doc!("infrastructure/DetachVolume"), "detachVolume", "volume", json!({ "volumeId": vol })).await;
    assert!(t.w.volumes().await[0]["serverId"].is_null());
    assert_eq!(d.get_volume(&vext).await.unwrap().unwrap().server, None);
    t.done(doc!("infrastructure/DeleteVolume"), "deleteVolume", "volume", json!({ "id": vol })).await;
    assert!(t.w.volumes().await.is_empty());
    assert!(d.get_volume(&vext).await.unwrap().is_none(), "deleted at AWS");
}

pub(crate) async fn snapshots(t: &Cloud) -> Vec<Value> {
    let r =
        t.w.gql(&t.w.owner, doc!("infrastructure/TenantSnapshots"), json!({ "id": t.w.tenant, "first": 50 }))
            .await;
    r.data()["tenant"]["snapshots"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

#[tokio::test]
async fn a_server_is_imaged_to_an_ami_and_a_volume_copied_to_an_ebs_snapshot() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (server, _) = t.running(&p, "web-1").await;
    let input = json!({ "serverId": server, "description": "before upgrade", "labels": { "k": "v" } });
    let snap = t
        .done(doc!("infrastructure/CreateSnapshot"), "createSnapshot", "snapshot", json!({ "input": input }))
        .await;
    let s = snapshots(&t).await.into_iter().find(|s| s["id"] == snap["id"]).unwrap();
    assert_eq!(s["status"], "AVAILABLE", "{s}");
    let ami = s["externalId"].as_str().unwrap().to_string();
    assert!(ami.starts_with("ami-"), "{ami}");
    assert!(s["sizeGb"].as_f64().is_some_and(|g| g > 0.0), "its size once made: {s}");
    let d = t.driver();
    let remote = d.get_snapshot(&ami).await.unwrap().unwrap();
    assert_eq!((remote.description.as_str(), remote.labels["k"].as_str()), ("before upgrade", "v"));
    t.done(doc!("infrastructure/DeleteSnapshot"), "deleteSnapshot", "snapshot", json!({ "id": snap["id"] }))
        .await;
    assert!(snapshots(&t).await.is_empty());
    assert!(d.get_snapshot(&ami).await.unwrap().is_none(), "deregistered at AWS");
    assert_eq!(t.calls("DeleteSnapshot"), 1, "with the EBS snapshot it was made of");

    // Volumes have no snapshot in the API yet: the driver's EBS snapshot, directly.
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("zygo-id".to_string(), "vol-snap-test".to_string());
    let spec =
        VolumeSpec { name: "data".into(), size_gb: 8, location: "us-east-1a".into(), labels: labels.clone() };
    let (vol, pending) = d.create_volume(&spec).await.unwrap();
    assert_eq!(d.action(&pending.unwrap()).await.unwrap(), ActionState::Succeeded);
    let (ebs, pending) = d.create_snapshot(&vol.id, "data copy", &labels).await.unwrap();
    assert!(ebs.id.starts_with("snap-"), "{ebs:?}");
    assert_eq!(d.action(&pending.unwrap()).await.unwrap(), ActionState::Succeeded);
    let found = d.list_snapshots("zygo-id=vol-snap-test").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].status.as_str(), found[0].size_gb), ("available", Some(8.0)));
    d.delete_snapshot(&ebs.id).await.unwrap();
    assert!(d.get_snapshot(&ebs.id).await.unwrap().is_none());
    d.delete_snapshot(&ebs.id).await.expect("one already gone is not an error");
    d.delete_volume(&vol.id).await.unwrap();
}

pub(crate) async fn floating_ip(t: &Cloud, id: &str) -> Value {
    let r = t
        .w
        .gql(&t.w.owner, doc!("infrastructure/TenantFloatingIps"), json!({ "id": t.w.tenant, "first": 50 }))
        .await;
    r.data()["tenant"]["floatingIps"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no floating IP {id}"))
}

#[tokio::test]
async fn an_elastic_ip_is_allocated_associated_moved_unassigned_and_released() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (s1, e1) = t.running(&p, "mail-1").await;
    let (s2, e2) = t.running(&p, "mail-2").await;
    let create = |name: &str, kind: &str| {
        json!({ "input": { "providerId": p, "name": name, "type": kind, "homeLocation": REGION,
            "labels": { "role": "mail" } } })
    };
    let f = t
        .done(
            doc!("infrastructure/CreateFloatingIp"),
            "createFloatingIp",
            "floatingIp",
            create("mail-ip", "IPV4"),
        )
        .await;
    let ip = f["id"].as_str().unwrap().to_string();
    let row = floating_ip(&t, &ip).await;
    assert_eq!(row["status"], "READY");
    let alloc = row["externalId"].as_str().unwrap().to_string();
    assert!(alloc.starts_with("eipalloc-"), "{alloc}");
    let d = t.driver();
    let remote = d.get_floating_ip(&alloc).await.unwrap().unwrap();
    assert_eq!(Some(remote.ip.as_str()), row["ip"].as_str());
    assert_eq!(remote.labels["role"], "mail");
    assert_eq!(remote.labels["zygo-id"], zygo_id_of(&ip));

    let assign = |server: &str| json!({ "input": { "floatingIpId": ip, "serverId": server } });
    t.done(doc!("infrastructure/AssignFloatingIp"), "assignFloatingIp", "floatingIp", assign(&s1)).await;
    assert_eq!(floating_ip(&t, &ip).await["serverId"], s1.as_str());
    assert_eq!(d.get_floating_ip(&alloc).await.unwrap().unwrap().server.as_deref(), Some(e1.as_str()));
    t.done(doc!("infrastructure/AssignFloatingIp"), "assignFloatingIp", "floatingIp", assign(&s2)).await;
    assert_eq!(d.get_floating_ip(&alloc).await.unwrap().unwrap().server.as_deref(), Some(e2.as_str()));

    t.done(
        doc!("infrastructure/UnassignFloatingIp"),
        "unassignFloatingIp",
        "floatingIp",
        json!({ "floatingIpId": ip }),
    )
    .await;
    assert_eq!(floating_ip(&t, &ip).await["serverId"], Value::Null);
    assert_eq!(d.get_floating_ip(&alloc).await.unwrap().unwrap().server, None);
    t.done(doc!("infrastructure/DeleteFloatingIp"), "deleteFloatingIp", "floatingIp", json!({ "id": ip }))
        .await;
    assert!(d.get_floating_ip(&alloc).await.unwrap().is_none(), "released at AWS");

    // Elastic IPs are IPv4 only.
    let (f, a) =
        t.w.change(
            doc!("infrastructure/CreateFloatingIp"),
            "createFloatingIp",
            "floatingIp",
            create("v6", "IPV6"),
        )
        .await;
    let ended = t.w.ended(&a).await;
    assert_eq!(
        (ended["status"].as_str(), ended["errorCode"].as_str()),
        (Some("FAILED"), Some("not_supported"))
    );
    assert_eq!(floating_ip(&t, f["id"].as_str().unwrap()).await["status"], "ERROR");
}

/// Writes a DNS record and waits for it; its id.
async fn upsert(t: &Cloud, input: Value) -> String {
    let (r, a) = t.w.change(doc!("infrastructure/UpsertDnsRecord"), "upsertDnsRecord", "record", input).await;
    t.w.succeeded(&a).await;
    r["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn route53_zones_and_records_are_written_upserted_and_deleted() {
    let t = aws_world().await;
    let p = t.provider().await;
    let z = t
        .done(
            doc!("infrastructure/CreateDnsZone"),
            "createDnsZone",
            "zone",
            json!({ "input": { "providerId": p, "name": "example.com" } }),
        )
        .await;
    let zone = z["id"].as_str().unwrap().to_string();
    let d = t.driver();
    let remote = d.find_zone("example.com").await.unwrap().expect("the hosted zone");
    assert!(!remote.name_servers.is_empty(), "{remote:?}");
    let rec = |kind: &str, name: &str, value: &str, id: Option<&str>| {
        json!({ "input": { "zoneId": zone, "recordId": id, "type": kind, "name": name, "value": value,
            "ttl": 300 } })
    };
    let www = upsert(&t, rec("A", "www", "203.0.113.10", None)).await;
    let second = upsert(&t, rec("A", "www", "203.0.113.20", None)).await;
    let txt = upsert(&t, rec("TXT", "@", "v=spf1 -all", None)).await;
    // The first record changed: replaced in its set, the other value kept.
    upsert(&t, rec("A", "www", "203.0.113.11", Some(&www))).await;
    let mut records = d.list_records(&remote.id).await.unwrap();
    records.sort_by(|a, b| (&a.record_type, &a.value).cmp(&(&b.record_type, &b.value)));
    let seen: Vec<(&str, &str, &str)> =
        records.iter().map(|r| (r.record_type.as_str(), r.name.as_str(), r.value.as_str())).collect();
    assert_eq!(
        seen,
        vec![("A", "www", "203.0.113.11"), ("A", "www", "203.0.113.20"), ("TXT", "@", "v=spf1 -all")],
        "the organisation's records (not Route 53's SOA and NS)"
    );
    let zones = t.w.zones().await;
    assert!(zones[0]["records"].as_array().unwrap().iter().all(|r| r["status"] == "ACTIVE"), "{zones:?}");

    for id in [&second, &www, &txt] {
        t.done(doc!("infrastructure/DeleteDnsRecord"), "deleteDnsRecord", "record", json!({ "id": id }))
            .await;
    }
    assert!(d.list_records(&remote.id).await.unwrap().is_empty(), "every set gone at Route 53");
    assert_eq!(t.w.zones().await[0]["records"], json!([]));
}

#[tokio::test]
async fn metrics_come_from_cloudwatch_and_what_aws_does_not_offer_is_refused_plainly() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (id, _) = t.running(&p, "web-1").await;
    let r =
        t.w.gql(&t.w.owner, doc!("infrastructure/ServerMetrics"), json!({ "id": id, "family": "NETWORK" }))
            .await;
    let node = &r.data()["node"];
    let names: Vec<&str> =
        node["metrics"]["series"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["network.0.pps.in", "network.0.pps.out", "network.0.bandwidth.in", "network.0.bandwidth.out"]
    );
    assert_eq!(t.calls("GetMetricData"), 1);
    assert!(node["monthlyCost"].is_null(), "no price listed for AWS");
    // AWS has no rescue system: the action fails plainly and the server is as it was.
    let (_, a) =
        t.w.change(
            doc!("infrastructure/ServerAction"),
            "serverAction",
            "server",
            json!({ "input": { "serverId": id, "action": "ENABLE_RESCUE" } }),
        )
        .await;
    let ended = t.w.ended(&a).await;
    assert_eq!(
        (ended["status"].as_str(), ended["errorCode"].as_str()),
        (Some("FAILED"), Some("not_supported"))
    );
    let s = t.w.server(&id).await;
    assert_eq!((s["status"].as_str(), s["rescueEnabled"].as_bool()), (Some("RUNNING"), Some(false)), "{s}");
}
