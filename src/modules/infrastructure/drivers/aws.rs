//! The AWS driver: servers are EC2 instances, volumes EBS volumes, snapshots AMIs (of a
//! server) or EBS snapshots (of a volume), floating IPs Elastic IPs — all through the EC2
//! Query API (`Version=2016-11-15`, form-encoded POSTs, XML answers; `aws_ec2.rs`) — DNS is
//! Route 53's REST API and metrics CloudWatch's `GetMetricData` (`aws_dns.rs`). Requests are
//! signed with SigV4 (`aws_sign.rs`); answers and error bodies read with `aws_xml.rs`.
//!
//! Networks, firewalls and load balancers ([`CloudDriver::net`]): a network is a VPC with a
//! subnet per availability zone asked for, servers joining it through a secondary ENI; a
//! firewall a security group of the default VPC (`aws_net.rs`); a load balancer an ELBv2
//! application or network load balancer with a target group and listener per service, its DNS
//! name standing in for a public IP (`aws_elb.rs`, Query API `Version=2015-12-01`).
//!
//! Endpoints: AWS's own (`https://ec2.{region}.amazonaws.com`, `https://route53.amazonaws.com`,
//! …), or every service at `ZYGO_AWS_ENDPOINT` (moto, LocalStack; the only place plain http is
//! allowed), set by the operator, so the client is a plain one without redirects, like
//! Hetzner's. Resources carry Zygo's labels as tags and are looked up by tag filters.
//!
//! AWS changes are mostly synchronous state changes; where one goes on at AWS (an instance
//! starting, a volume attaching, an image being made, an interface attaching) the driver
//! returns a [`Pending`] that names the resource and the state it is waiting for
//! (`instance:i-…:running`), and [`CloudDriver::action`] looks at the resource until it is
//! there.
//!
//! A console is EC2's serial console over SSH with a one-time key (`aws_console.rs`); a
//! rebuild replaces the root volume (`CreateReplaceRootVolumeTask`).
//!
//! What AWS does not have is `PROVIDER_ERROR` `not_supported`: IPv6 Elastic IPs (Elastic IPs
//! are IPv4 only), rescue mode and root password resets (AWS has no such thing outside the
//! guest); prices are not listed.

use std::time::Duration;

use reqwest::Method;

use super::{
    ActionState, CloudDriver, DriverError, DriverResult, FloatingIpSpec, Labels, MetricSeries, MetricWindow,
    MonthlyPrice, Pending, RemoteConsole, RemoteFloatingIp, RemoteRecord, RemoteServer, RemoteSnapshot,
    RemoteVolume, RemoteZone, ServerOp, ServerSpec, VolumeSpec,
    aws_ec2::{self, Params},
    aws_sign::{Signable, Signer, canonical_query},
    aws_xml::{self, Node},
    net,
};

/// AWS's codes of a refusal worth trying again later.
const TRANSIENT: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "PriorRequestNotComplete",
    "ServiceUnavailable",
    "Unavailable",
    "InternalError",
    "InternalFailure",
    "InsufficientInstanceCapacity",
];

/// The keys of an AWS account (an IAM user's access key) and the region it works in (no
/// `Debug`: the secret must not reach a log line).
#[derive(Clone)]
pub struct AwsKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

/// EC2, Route 53 and CloudWatch of one AWS account in one region.
pub struct Aws {
    keys: AwsKeys,
    /// `ZYGO_AWS_ENDPOINT`, when every service is there.
    endpoint: Option<String>,
    poll: Duration,
    /// After this long a graceful stop is forced.
    pub(super) shutdown_after: Duration,
    http: reqwest::Client,
}

fn unreachable(e: reqwest::Error) -> DriverError {
    DriverError::transient(format!("AWS unreachable: {}", e.without_url()))
}

impl Aws {
    /// The driver of `keys`; `endpoint` replaces AWS's own endpoints when given.
    pub fn new(keys: AwsKeys, endpoint: Option<String>, poll: Duration, shutdown_after: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            keys,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
            poll,
            shutdown_after,
            http,
        }
    }

    /// The base URL of `service` (`ec2`, `monitoring`, `sts` regional; `route53` global).
    fn base(&self, service: &str) -> String {
        match (&self.endpoint, service) {
            (Some(e), _) => e.clone(),
            (None, "route53") => "https://route53.amazonaws.com".into(),
            (None, s) => format!("https://{s}.{}.amazonaws.com", self.keys.region),
        }
    }

    /// Sends a signed request to `service` and reads its XML answer; refusals become
    /// [`DriverError`]s (throttling and 5xx transient, others with AWS's code).
    pub(super) async fn call(
        &self,
        service: &str,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> DriverResult<Node> {
        let headers: Vec<(&str, &str)> = content_type.map(|c| ("content-type", c)).into_iter().collect();
        let text = self.send(service, method, path, query, body, &headers).await?;
        if text.trim().is_empty() {
            return Ok(Node::default());
        }
        aws_xml::parse(&text).map_err(|e| DriverError::transient(format!("unreadable AWS answer: {e}")))
    }

    /// An action of a JSON 1.1 service (EC2 Instance Connect): `target` is its
    /// `X-Amz-Target` (`Service.Operation`).
    pub(super) async fn json11(
        &self,
        service: &str,
        target: &str,
        body: &serde_json::Value,
    ) -> DriverResult<serde_json::Value> {
        let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target)];
        let text =
            self.send(service, Method::POST, "/", &[], body.to_string().into_bytes(), &headers).await?;
        serde_json::from_str(&text).map_err(|e| DriverError::transient(format!("unreadable AWS answer: {e}")))
    }

    /// Sends a request to `service` signed with `headers`, and returns the body of a
    /// success; refusals become [`DriverError`]s (throttling and 5xx transient, others with
    /// AWS's code, read from an XML or a JSON error).
    async fn send(
        &self,
        service: &str,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> DriverResult<String> {
        let base = self.base(service);
        let url = reqwest::Url::parse(&format!("{base}{path}"))
            .map_err(|e| DriverError::provider("invalid_endpoint", e.to_string()))?;
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let query = canonical_query(query);
        // Route 53 is global: signed for us-east-1 whatever the account's region.
        let region = if service == "route53" { "us-east-1" } else { self.keys.region.as_str() };
        let signer = Signer {
            access_key_id: &self.keys.access_key_id,
            secret_access_key: &self.keys.secret_access_key,
            region,
            service,
        };
        let signed = signer.sign(
            &Signable {
                method: method.as_str(),
                host: &host,
                path: url.path(),
                query: &query,
                headers,
                body: &body,
            },
            chrono::Utc::now(),
        );
        let full = if query.is_empty() {
            url.to_string()
        } else {
            format!("{}?{query}", url.as_str().trim_end_matches('?'))
        };
        let mut req = self.http.request(method, full).header("host", host);
        for (k, v) in headers.iter().map(|(k, v)| (*k, v.to_string())).chain(signed) {
            req = req.header(k, v);
        }
        let res = req.body(body).send().await.map_err(unreachable)?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let text = res.text().await.map_err(unreachable)?;
        if status.is_success() {
            return Ok(text);
        }
        let (code, message) = aws_xml::error_of(&text)
            .or_else(|| json_error_of(&text))
            .unwrap_or_else(|| (status.as_u16().to_string(), text.chars().take(200).collect()));
        if status.is_server_error() || status.as_u16() == 429 || TRANSIENT.contains(&code.as_str()) {
            return Err(DriverError::Transient {
                message: format!("AWS answered {}: {code}: {message}", status.as_u16()),
                retry_after,
            });
        }
        Err(DriverError::provider(code, message))
    }

    /// A Query API action of `service` (`Version` `version`), sent as a form-encoded POST.
    pub(super) async fn query(
        &self,
        service: &str,
        version: &str,
        action: &str,
        params: Params,
    ) -> DriverResult<Node> {
        let mut pairs =
            vec![("Action".to_string(), action.to_string()), ("Version".to_string(), version.to_string())];
        pairs.extend(params.0);
        let body = canonical_query(&pairs).into_bytes();
        self.call(
            service,
            Method::POST,
            "/",
            &[],
            body,
            Some("application/x-www-form-urlencoded; charset=utf-8"),
        )
        .await
    }

    /// An EC2 action.
    pub(super) async fn ec2(&self, action: &str, params: Params) -> DriverResult<Node> {
        self.query("ec2", "2016-11-15", action, params).await
    }

    /// Every `<item>` of a paged EC2 list (`list` under the answer; `nextToken` paging);
    /// `nested` reads one level further (DescribeInstances' reservations).
    pub(super) async fn ec2_all(
        &self,
        action: &str,
        params: Params,
        list: &str,
        nested: Option<&str>,
    ) -> DriverResult<Vec<Node>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..1000 {
            let mut p = params.clone();
            if let Some(t) = &token {
                p.push("NextToken", t);
            }
            let v = self.ec2(action, p).await?;
            for item in v.items(list) {
                match nested {
                    Some(n) => out.extend(item.items(n).into_iter().cloned()),
                    None => out.push(item.clone()),
                }
            }
            token = v.text("nextToken").map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The account's region (`eu-central-1`).
    pub(super) fn region(&self) -> &str {
        &self.keys.region
    }

    /// The availability zone of `location`: itself when it is one of the account's region
    /// (`eu-central-1a`), the region's first zone when it is the region.
    pub(super) fn zone_of(&self, location: &str) -> DriverResult<Option<String>> {
        let region = &self.keys.region;
        if location.is_empty() {
            return Ok(None);
        }
        if location == region {
            return Ok(Some(format!("{region}a")));
        }
        match location.strip_prefix(region.as_str()) {
            Some(rest) if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase()) => {
                Ok(Some(location.into()))
            }
            _ => Err(DriverError::provider(
                "invalid_location",
                format!("{location} is not an availability zone of {region} (such as {region}a)"),
            )),
        }
    }
}

/// The code and message of a JSON protocol error (`{"__type": "…#Code", "message": …}`).
fn json_error_of(body: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let code = v.get("__type")?.as_str()?;
    let code = code.rsplit('#').next().unwrap_or(code).to_string();
    let message = v.get("message").or_else(|| v.get("Message")).and_then(|m| m.as_str()).unwrap_or_default();
    Some((code, message.to_string()))
}

/// `true` when a refusal means the resource is not (any more) there.
pub(super) fn not_found(e: &DriverError) -> bool {
    matches!(e, DriverError::Provider { code, .. }
        if code.ends_with(".NotFound") || code.ends_with(".Malformed") || code == "NoSuchHostedZone")
}

/// `Ok(None)` for a resource that is gone.
pub(super) fn absent<T>(r: DriverResult<T>) -> DriverResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn not_supported(what: &str) -> DriverError {
    DriverError::provider("not_supported", format!("{what} is not supported for AWS accounts"))
}

#[async_trait::async_trait]
impl CloudDriver for Aws {
    async fn validate(&self) -> DriverResult<()> {
        // A harmless read that needs valid keys and the region's EC2.
        let mut p = Params::default();
        p.push("RegionName.1", &self.keys.region);
        self.ec2("DescribeRegions", p).await.map(|_| ())
    }

    async fn list_servers(&self, selector: &str) -> DriverResult<Vec<RemoteServer>> {
        self.instances(selector).await
    }

    async fn create_server(&self, spec: &ServerSpec) -> DriverResult<(RemoteServer, Pending)> {
        self.run_instance(spec).await
    }

    async fn get_server(&self, id: &str) -> DriverResult<Option<RemoteServer>> {
        self.instance(id).await
    }

    async fn delete_server(&self, id: &str) -> DriverResult<Pending> {
        match self.ec2("TerminateInstances", Params::one("InstanceId.1", id)).await {
            Ok(_) => Ok(Some(format!("instance:{id}:terminated"))),
            // Gone already (an earlier attempt terminated it): what was asked is true.
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn server_action(&self, id: &str, op: &ServerOp) -> DriverResult<Pending> {
        let one = || Params::one("InstanceId.1", id);
        match op {
            ServerOp::Start => {
                self.ec2("StartInstances", one()).await?;
                Ok(Some(format!("instance:{id}:running")))
            }
            ServerOp::Stop => {
                self.ec2("StopInstances", one()).await?;
                // Forced by `action` once the shutdown timeout has passed.
                Ok(Some(format!("stop:{id}:{}", chrono::Utc::now().timestamp())))
            }
            ServerOp::PowerOff => {
                let mut p = one();
                p.push("Force", "true");
                self.ec2("StopInstances", p).await?;
                Ok(Some(format!("instance:{id}:stopped")))
            }
            // EC2 has no hard reset: a reboot is the nearest.
            ServerOp::Reboot | ServerOp::Reset => {
                self.ec2("RebootInstances", one()).await?;
                Ok(None)
            }
            ServerOp::Resize { server_type } => {
                let mut p = Params::one("InstanceId", id);
                p.push("InstanceType.Value", server_type);
                self.ec2("ModifyInstanceAttribute", p).await?;
                Ok(None)
            }
            ServerOp::Rebuild { image } => self.rebuild(id, image).await,
        }
    }

    async fn list_volumes(&self, selector: &str) -> DriverResult<Vec<RemoteVolume>> {
        let items = self.ec2_all("DescribeVolumes", aws_ec2::filters(selector), "volumeSet", None).await?;
        Ok(items.iter().map(aws_ec2::volume_of).collect())
    }

    async fn create_volume(&self, spec: &VolumeSpec) -> DriverResult<(RemoteVolume, Pending)> {
        let zone = self.zone_of(&spec.location)?.ok_or_else(|| {
            DriverError::provider("invalid_location", "a volume needs an availability zone")
        })?;
        let mut p = Params::one("AvailabilityZone", &zone);
        p.push("Size", spec.size_gb.to_string());
        p.push("VolumeType", "gp3");
        p.tags(1, "volume", &spec.labels, Some(&spec.name));
        let v = self.ec2("CreateVolume", p).await?;
        let mut vol = aws_ec2::volume_of(&v);
        vol.labels = spec.labels.clone();
        let pending = Some(format!("volume:{}:available", vol.id));
        Ok((vol, pending))
    }

    async fn get_volume(&self, id: &str) -> DriverResult<Option<RemoteVolume>> {
        let v = absent(self.ec2("DescribeVolumes", Params::one("VolumeId.1", id)).await)?;
        Ok(v.and_then(|v| v.items("volumeSet").first().map(|i| aws_ec2::volume_of(i))))
    }

    async fn attach_volume(&self, id: &str, server: &str) -> DriverResult<Pending> {
        let device = self.free_device(server).await?;
        let mut p = Params::one("VolumeId", id);
        p.push("InstanceId", server);
        p.push("Device", device);
        self.ec2("AttachVolume", p).await?;
        Ok(Some(format!("volume:{id}:in-use")))
    }

    async fn detach_volume(&self, id: &str) -> DriverResult<Pending> {
        // Named with its instance (optional at AWS, needed by some look-alikes such as moto).
        let Some(server) = self.get_volume(id).await?.and_then(|v| v.server) else { return Ok(None) };
        let mut p = Params::one("VolumeId", id);
        p.push("InstanceId", &server);
        match self.ec2("DetachVolume", p).await {
            Ok(_) => Ok(Some(format!("volume:{id}:available"))),
            Err(DriverError::Provider { code, .. }) if code == "IncorrectState" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn resize_volume(&self, id: &str, size_gb: i32) -> DriverResult<Pending> {
        let mut p = Params::one("VolumeId", id);
        p.push("Size", size_gb.to_string());
        self.ec2("ModifyVolume", p).await?;
        Ok(Some(format!("modify:{id}:{size_gb}")))
    }

    async fn delete_volume(&self, id: &str) -> DriverResult<()> {
        absent(self.ec2("DeleteVolume", Params::one("VolumeId", id)).await).map(|_| ())
    }

    async fn create_snapshot(
        &self,
        server: &str,
        description: &str,
        labels: &Labels,
    ) -> DriverResult<(RemoteSnapshot, Pending)> {
        self.make_snapshot(server, description, labels).await
    }

    async fn list_snapshots(&self, selector: &str) -> DriverResult<Vec<RemoteSnapshot>> {
        self.snapshots(selector).await
    }

    async fn get_snapshot(&self, id: &str) -> DriverResult<Option<RemoteSnapshot>> {
        self.snapshot(id).await
    }

    async fn delete_snapshot(&self, id: &str) -> DriverResult<()> {
        self.remove_snapshot(id).await
    }

    async fn list_floating_ips(&self, selector: &str) -> DriverResult<Vec<RemoteFloatingIp>> {
        let v = self.ec2("DescribeAddresses", aws_ec2::filters(selector)).await?;
        self.with_ptrs(v.items("addressesSet").into_iter().map(aws_ec2::address_of).collect()).await
    }

    async fn create_floating_ip(&self, spec: &FloatingIpSpec) -> DriverResult<(RemoteFloatingIp, Pending)> {
        if spec.ip_type != "ipv4" {
            return Err(not_supported("an IPv6 Elastic IP"));
        }
        let mut p = Params::one("Domain", "vpc");
        p.tags(1, "elastic-ip", &spec.labels, Some(&spec.name));
        let v = self.ec2("AllocateAddress", p).await?;
        let mut ip = aws_ec2::address_of(&v);
        ip.labels = spec.labels.clone();
        // Recorded with AWS's own reverse DNS name (else the first look would see drift).
        let ip = self.with_ptrs(vec![ip]).await?.remove(0);
        Ok((ip, None))
    }

    async fn get_floating_ip(&self, id: &str) -> DriverResult<Option<RemoteFloatingIp>> {
        let Some((ip, _)) = self.address(id).await? else { return Ok(None) };
        Ok(self.with_ptrs(vec![ip]).await?.pop())
    }

    async fn assign_floating_ip(&self, id: &str, server: &str) -> DriverResult<Pending> {
        let mut p = Params::one("AllocationId", id);
        p.push("InstanceId", server);
        // Moved from another instance in one step.
        p.push("AllowReassociation", "true");
        self.ec2("AssociateAddress", p).await?;
        Ok(None)
    }

    async fn unassign_floating_ip(&self, id: &str) -> DriverResult<Pending> {
        if let Some((_, Some(association))) = self.address(id).await? {
            absent(self.ec2("DisassociateAddress", Params::one("AssociationId", &association)).await)?;
        }
        Ok(None)
    }

    async fn set_floating_ip_dns_ptr(&self, id: &str, _ip: &str, ptr: Option<&str>) -> DriverResult<Pending> {
        self.set_ptr(id, ptr).await
    }

    async fn delete_floating_ip(&self, id: &str) -> DriverResult<()> {
        let Some((_, association)) = self.address(id).await? else { return Ok(()) };
        if let Some(a) = association {
            absent(self.ec2("DisassociateAddress", Params::one("AssociationId", &a)).await)?;
        }
        absent(self.ec2("ReleaseAddress", Params::one("AllocationId", id)).await).map(|_| ())
    }

    async fn find_zone(&self, name: &str) -> DriverResult<Option<RemoteZone>> {
        self.r53_find_zone(name).await
    }

    async fn create_zone(&self, name: &str, ttl: i32) -> DriverResult<RemoteZone> {
        self.r53_create_zone(name, ttl).await
    }

    async fn list_records(&self, zone: &str) -> DriverResult<Vec<RemoteRecord>> {
        self.r53_records(zone).await
    }

    async fn put_record(&self, zone: &str, record: &RemoteRecord) -> DriverResult<RemoteRecord> {
        self.r53_put(zone, record).await
    }

    async fn delete_record(&self, id: &str) -> DriverResult<()> {
        self.r53_delete(id).await
    }

    async fn server_metrics(&self, id: &str, window: &MetricWindow) -> DriverResult<Vec<MetricSeries>> {
        self.metrics(id, window).await
    }

    async fn request_console(&self, id: &str) -> DriverResult<RemoteConsole> {
        self.serial_console(id).await
    }

    async fn server_price(&self, _server_type: &str, _location: &str) -> DriverResult<Option<MonthlyPrice>> {
        // AWS's Price List API is a separate, large catalogue; no price is listed.
        Ok(None)
    }

    async fn action(&self, id: &str) -> DriverResult<ActionState> {
        if let Some(state) = self.net_pending(id).await? {
            return Ok(state);
        }
        self.pending_state(id).await
    }

    fn poll_interval(&self) -> Duration {
        self.poll
    }

    fn net(&self) -> Option<&dyn net::NetDriver> {
        Some(self)
    }
}
