//! EC2 for the AWS driver (`aws.rs`): request parameters (tags, tag filters from label
//! selectors), reading instances, volumes, images, snapshots and Elastic IPs from EC2's XML,
//! the calls that take more than one request (running an instance, picking a free device
//! name, imaging, deleting an image with its EBS snapshots) and the state of a [`Pending`]
//! (`instance:<id>:<state>`, `stop:<id>:<since>`, `volume:<id>:<state>`,
//! `modify:<id>:<size>`, `image:<id>`, `snapshot:<id>`, `rebuild:<task>`, `ptr:<id>`); root
//! volume replacement (rebuild) and the reverse DNS names of Elastic IPs.

use std::collections::HashMap;

use super::{
    ActionState, DriverError, DriverResult, Labels, Pending, RemoteFloatingIp, RemoteServer, RemoteSnapshot,
    RemoteVolume, ServerSpec,
    aws::{Aws, absent},
    aws_xml::Node,
};

/// The parameters of a Query API call, in order.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn one(k: &str, v: &str) -> Self {
        Self(vec![(k.into(), v.into())])
    }

    pub fn push(&mut self, k: impl Into<String>, v: impl Into<String>) {
        self.0.push((k.into(), v.into()));
    }

    /// `TagSpecification.n` of `resource`: `labels`, and `Name` (AWS's display name) unless a
    /// label is called so.
    pub fn tags(&mut self, n: usize, resource: &str, labels: &Labels, name: Option<&str>) {
        let prefix = format!("TagSpecification.{n}");
        self.push(format!("{prefix}.ResourceType"), resource);
        let named = name.filter(|_| !labels.contains_key("Name")).map(|n| ("Name", n));
        for (i, (k, v)) in labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(named).enumerate() {
            self.push(format!("{prefix}.Tag.{}.Key", i + 1), k);
            self.push(format!("{prefix}.Tag.{}.Value", i + 1), v);
        }
    }
}

/// Tag filters of a label selector (`key=value` or `key`, comma-separated).
pub fn filters(selector: &str) -> Params {
    let mut p = Params::default();
    for (i, term) in selector.split(',').map(str::trim).filter(|t| !t.is_empty()).enumerate() {
        let n = i + 1;
        match term.split_once('=') {
            Some((k, v)) => {
                p.push(format!("Filter.{n}.Name"), format!("tag:{}", k.trim()));
                p.push(format!("Filter.{n}.Value.1"), v.trim());
            }
            None => {
                p.push(format!("Filter.{n}.Name"), "tag-key");
                p.push(format!("Filter.{n}.Value.1"), term);
            }
        }
    }
    p
}

/// The labels of a `tagSet` (its `Name` is the display name, not a label).
fn labels_of(item: &Node) -> Labels {
    item.items("tagSet")
        .into_iter()
        .filter_map(|t| Some((t.text("key")?.to_string(), t.text("value").unwrap_or_default().to_string())))
        .filter(|(k, _)| k != "Name")
        .collect()
}

fn name_of(item: &Node, id: &str) -> String {
    item.items("tagSet")
        .into_iter()
        .find(|t| t.text("key") == Some("Name"))
        .and_then(|t| t.text("value"))
        .unwrap_or(id)
        .to_string()
}

/// Zygo's name of an EC2 instance state (the states `apply.rs` knows).
fn server_state(s: &str) -> &'static str {
    match s {
        "pending" => "initializing",
        "running" => "running",
        "stopping" => "stopping",
        "stopped" => "off",
        "shutting-down" | "terminated" => "deleting",
        _ => "unknown",
    }
}

pub fn server_of(i: &Node) -> RemoteServer {
    let id = i.text("instanceId").unwrap_or_default().to_string();
    RemoteServer {
        name: name_of(i, &id),
        status: server_state(i.text("instanceState/name").unwrap_or_default()).into(),
        server_type: i.text("instanceType").unwrap_or_default().into(),
        ipv4: i.text("ipAddress").map(str::to_string),
        labels: labels_of(i),
        id,
    }
}

pub fn volume_of(v: &Node) -> RemoteVolume {
    let id = v.text("volumeId").unwrap_or_default().to_string();
    let server = v
        .items("attachmentSet")
        .into_iter()
        .find(|a| matches!(a.text("status"), Some("attached" | "attaching")))
        .and_then(|a| a.text("instanceId"))
        .map(str::to_string);
    let status = match v.text("status").unwrap_or_default() {
        "creating" => "creating",
        "available" | "in-use" => "available",
        "deleting" | "deleted" => "deleting",
        _ => "error",
    };
    RemoteVolume {
        name: name_of(v, &id),
        size_gb: v.text("size").and_then(|s| s.parse().ok()).unwrap_or_default(),
        server,
        status: status.into(),
        labels: labels_of(v),
        id,
    }
}

fn image_of(i: &Node) -> RemoteSnapshot {
    let size: f64 = i
        .items("blockDeviceMapping")
        .into_iter()
        .filter_map(|b| b.text("ebs/volumeSize").and_then(|s| s.parse::<f64>().ok()))
        .sum();
    RemoteSnapshot {
        id: i.text("imageId").unwrap_or_default().into(),
        description: i.text("description").unwrap_or_default().into(),
        status: match i.text("imageState").unwrap_or_default() {
            "pending" => "creating",
            "available" => "available",
            _ => "error",
        }
        .into(),
        size_gb: (size > 0.0).then_some(size),
        labels: labels_of(i),
    }
}

fn ebs_snapshot_of(s: &Node) -> RemoteSnapshot {
    RemoteSnapshot {
        id: s.text("snapshotId").unwrap_or_default().into(),
        description: s.text("description").unwrap_or_default().into(),
        status: match s.text("status").unwrap_or_default() {
            "pending" => "creating",
            "completed" => "available",
            _ => "error",
        }
        .into(),
        size_gb: s.text("volumeSize").and_then(|v| v.parse().ok()),
        labels: labels_of(s),
    }
}

pub fn address_of(a: &Node) -> RemoteFloatingIp {
    RemoteFloatingIp {
        id: a.text("allocationId").unwrap_or_default().into(),
        ip: a.text("publicIp").unwrap_or_default().into(),
        server: a.text("instanceId").map(str::to_string),
        dns_ptr: None,
        labels: labels_of(a),
    }
}

/// A reverse DNS name as Zygo keeps it (AWS writes it with the root's dot).
fn ptr_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The instance states that still count as a server (terminated ones linger in listings).
const LIVE_STATES: [&str; 5] = ["pending", "running", "stopping", "stopped", "shutting-down"];

impl Aws {
    pub(super) async fn instances(&self, selector: &str) -> DriverResult<Vec<RemoteServer>> {
        let mut p = filters(selector);
        let n = p.0.iter().filter(|(k, _)| k.ends_with(".Name")).count() + 1;
        p.push(format!("Filter.{n}.Name"), "instance-state-name");
        for (i, s) in LIVE_STATES.iter().enumerate() {
            p.push(format!("Filter.{n}.Value.{}", i + 1), *s);
        }
        let items = self.ec2_all("DescribeInstances", p, "reservationSet", Some("instancesSet")).await?;
        Ok(items.iter().map(server_of).collect())
    }

    /// The instance `id` as EC2 describes it (also when terminated).
    async fn describe_instance(&self, id: &str) -> DriverResult<Option<Node>> {
        let v = absent(self.ec2("DescribeInstances", Params::one("InstanceId.1", id)).await)?;
        Ok(v.and_then(|v| {
            v.items("reservationSet").into_iter().flat_map(|r| r.items("instancesSet")).next().cloned()
        }))
    }

    pub(super) async fn instance(&self, id: &str) -> DriverResult<Option<RemoteServer>> {
        let i = self.describe_instance(id).await?;
        Ok(i.filter(|i| i.text("instanceState/name") != Some("terminated")).map(|i| server_of(&i)))
    }

    /// RunInstances of one instance tagged with `spec.labels`. Its `ClientToken` is derived
    /// from the `zygo-id` label, so AWS answers a repeated request with the first instance.
    pub(super) async fn run_instance(&self, spec: &ServerSpec) -> DriverResult<(RemoteServer, Pending)> {
        let mut p = Params::one("ImageId", &spec.image);
        p.push("InstanceType", &spec.server_type);
        p.push("MinCount", "1");
        p.push("MaxCount", "1");
        if let Some(id) = spec.labels.get("zygo-id") {
            p.push("ClientToken", format!("zygo-{id}"));
        }
        if let Some(zone) = self.zone_of(&spec.location)? {
            p.push("Placement.AvailabilityZone", zone);
        }
        p.tags(1, "instance", &spec.labels, Some(&spec.name));
        let v = self.ec2("RunInstances", p).await?;
        let item = v
            .items("instancesSet")
            .into_iter()
            .next()
            .cloned()
            .ok_or_else(|| DriverError::transient("RunInstances answered without an instance"))?;
        let mut s = server_of(&item);
        s.labels = spec.labels.clone();
        let pending = Some(format!("instance:{}:running", s.id));
        Ok((s, pending))
    }

    /// A device name (`/dev/sdf` … `/dev/sdp`, as AWS recommends for EBS data volumes) not in
    /// use on instance `server`.
    pub(super) async fn free_device(&self, server: &str) -> DriverResult<String> {
        let i = self.describe_instance(server).await?.ok_or_else(|| {
            DriverError::provider(
                "InvalidInstanceID.NotFound",
                format!("the instance {server} does not exist"),
            )
        })?;
        let used: Vec<String> = i
            .items("blockDeviceMapping")
            .into_iter()
            .filter_map(|b| b.text("deviceName").map(|d| d.replace("/dev/xvd", "/dev/sd")))
            .collect();
        ('f'..='p').map(|c| format!("/dev/sd{c}")).find(|d| !used.contains(d)).ok_or_else(|| {
            DriverError::provider("no_free_device", "the instance has no free device name left")
        })
    }

    /// An AMI of instance `source` (taken without a reboot), or an EBS snapshot when `source`
    /// is a volume (`vol-…`), tagged with `labels`.
    pub(super) async fn make_snapshot(
        &self,
        source: &str,
        description: &str,
        labels: &Labels,
    ) -> DriverResult<(RemoteSnapshot, Pending)> {
        let name = labels.get("zygo-id").map(|id| format!("zygo-{id}"));
        if source.starts_with("vol-") {
            let mut p = Params::one("VolumeId", source);
            p.push("Description", description);
            p.tags(1, "snapshot", labels, name.as_deref());
            let v = self.ec2("CreateSnapshot", p).await?;
            let mut s = ebs_snapshot_of(&v);
            s.labels = labels.clone();
            let pending = Some(format!("snapshot:{}", s.id));
            return Ok((s, pending));
        }
        let mut p = Params::one("InstanceId", source);
        // AMI names are unique in an account: the snapshot's own id makes one.
        let ami_name = name.clone().unwrap_or_else(|| format!("zygo-{}", uuid::Uuid::now_v7()));
        p.push("Name", &ami_name);
        p.push("Description", description);
        p.push("NoReboot", "true");
        p.tags(1, "image", labels, Some(&ami_name));
        let v = self.ec2("CreateImage", p).await?;
        let id = v.text("imageId").unwrap_or_default().to_string();
        let snap = RemoteSnapshot {
            id: id.clone(),
            description: description.into(),
            status: "creating".into(),
            size_gb: None,
            labels: labels.clone(),
        };
        Ok((snap, Some(format!("image:{id}"))))
    }

    /// The account's own AMIs and EBS snapshots carrying the selector's labels.
    pub(super) async fn snapshots(&self, selector: &str) -> DriverResult<Vec<RemoteSnapshot>> {
        let mut p = filters(selector);
        p.push("Owner.1", "self");
        let images = self.ec2("DescribeImages", p).await?;
        let mut out: Vec<RemoteSnapshot> = images.items("imagesSet").into_iter().map(image_of).collect();
        let mut p = filters(selector);
        p.push("Owner.1", "self");
        let snaps = self.ec2_all("DescribeSnapshots", p, "snapshotSet", None).await?;
        out.extend(snaps.iter().map(ebs_snapshot_of));
        Ok(out)
    }

    async fn describe_image(&self, id: &str) -> DriverResult<Option<Node>> {
        let v = absent(self.ec2("DescribeImages", Params::one("ImageId.1", id)).await)?;
        Ok(v.and_then(|v| v.items("imagesSet").first().map(|i| (*i).clone())))
    }

    async fn describe_ebs_snapshot(&self, id: &str) -> DriverResult<Option<Node>> {
        let v = absent(self.ec2("DescribeSnapshots", Params::one("SnapshotId.1", id)).await)?;
        Ok(v.and_then(|v| v.items("snapshotSet").first().map(|i| (*i).clone())))
    }

    pub(super) async fn snapshot(&self, id: &str) -> DriverResult<Option<RemoteSnapshot>> {
        if id.starts_with("snap-") {
            return Ok(self.describe_ebs_snapshot(id).await?.map(|s| ebs_snapshot_of(&s)));
        }
        Ok(self.describe_image(id).await?.map(|i| image_of(&i)))
    }

    /// Deletes an EBS snapshot, or deregisters an AMI and deletes the EBS snapshots it was
    /// made of (they would go on costing otherwise).
    pub(super) async fn remove_snapshot(&self, id: &str) -> DriverResult<()> {
        if id.starts_with("snap-") {
            return absent(self.ec2("DeleteSnapshot", Params::one("SnapshotId", id)).await).map(|_| ());
        }
        let Some(image) = self.describe_image(id).await? else { return Ok(()) };
        let backing: Vec<String> = image
            .items("blockDeviceMapping")
            .into_iter()
            .filter_map(|b| b.text("ebs/snapshotId").map(str::to_string))
            .collect();
        absent(self.ec2("DeregisterImage", Params::one("ImageId", id)).await)?;
        for snap in backing {
            absent(self.ec2("DeleteSnapshot", Params::one("SnapshotId", &snap)).await)?;
        }
        Ok(())
    }

    /// Elastic IP `id` and its association's id, if any.
    pub(super) async fn address(&self, id: &str) -> DriverResult<Option<(RemoteFloatingIp, Option<String>)>> {
        let v = absent(self.ec2("DescribeAddresses", Params::one("AllocationId.1", id)).await)?;
        Ok(v.and_then(|v| {
            v.items("addressesSet")
                .first()
                .map(|a| (address_of(a), a.text("associationId").map(str::to_string)))
        }))
    }

    /// Replaces the root volume of instance `id` from `image` (an AMI, or an EBS snapshot
    /// `snap-…`), deleting the old one: the instance keeps its id, addresses and interfaces.
    /// A replacement from the same source already under way (an earlier attempt whose answer
    /// was lost) is taken over rather than started twice.
    pub(super) async fn rebuild(&self, id: &str, image: &str) -> DriverResult<Pending> {
        let mut p = Params::default();
        p.push("Filter.1.Name", "instance-id");
        p.push("Filter.1.Value.1", id);
        let tasks = self.ec2("DescribeReplaceRootVolumeTasks", p).await?;
        let under_way = tasks.items("replaceRootVolumeTaskSet").into_iter().find(|t| {
            matches!(t.text("taskState"), Some("pending" | "in-progress"))
                && (t.text("imageId") == Some(image) || t.text("snapshotId") == Some(image))
        });
        let task = match under_way {
            Some(t) => t.text("replaceRootVolumeTaskId").unwrap_or_default().to_string(),
            None => {
                let mut p = Params::one("InstanceId", id);
                p.push(if image.starts_with("snap-") { "SnapshotId" } else { "ImageId" }, image);
                p.push("DeleteReplacedRootVolume", "true");
                let v = self.ec2("CreateReplaceRootVolumeTask", p).await?;
                v.text("replaceRootVolumeTask/replaceRootVolumeTaskId").unwrap_or_default().to_string()
            }
        };
        Ok(Some(format!("rebuild:{task}")))
    }

    /// Sets (`Some`) or resets to AWS's own name the reverse DNS name of Elastic IP `id`.
    /// AWS checks the name (its forward record must point at the address) and applies it a
    /// little later, so the change is waited for (`ptr:<id>`).
    pub(super) async fn set_ptr(&self, id: &str, ptr: Option<&str>) -> DriverResult<Pending> {
        let mut p = Params::one("AllocationId", id);
        match ptr {
            Some(name) => {
                p.push("DomainName", name);
                self.ec2("ModifyAddressAttribute", p).await?;
            }
            None => {
                p.push("Attribute", "domain-name");
                self.ec2("ResetAddressAttribute", p).await?;
            }
        }
        Ok(Some(format!("ptr:{id}")))
    }

    /// The `domain-name` attribute of Elastic IPs `ids` (of all the region's when empty),
    /// by allocation id.
    async fn ptr_attributes(&self, ids: &[&str]) -> DriverResult<HashMap<String, Node>> {
        let mut p = Params::one("Attribute", "domain-name");
        for (i, id) in ids.iter().enumerate() {
            p.push(format!("AllocationId.{}", i + 1), *id);
        }
        let items = self.ec2_all("DescribeAddressesAttribute", p, "addressSet", None).await?;
        Ok(items.into_iter().filter_map(|a| Some((a.text("allocationId")?.to_string(), a))).collect())
    }

    /// `ips` with their reverse DNS names (one request for all of them).
    pub(super) async fn with_ptrs(
        &self,
        mut ips: Vec<RemoteFloatingIp>,
    ) -> DriverResult<Vec<RemoteFloatingIp>> {
        if ips.is_empty() {
            return Ok(ips);
        }
        let ids: Vec<&str> = ips.iter().map(|ip| ip.id.as_str()).collect();
        let attrs = self.ptr_attributes(&ids).await?;
        for ip in &mut ips {
            ip.dns_ptr = attrs.get(&ip.id).and_then(|a| a.text("ptrRecord")).map(ptr_name);
        }
        Ok(ips)
    }

    /// Where a [`Pending`] of this driver stands, from the resource it waits for.
    pub(super) async fn pending_state(&self, pending: &str) -> DriverResult<ActionState> {
        let mut parts = pending.splitn(3, ':');
        let (kind, id, arg) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let running = |progress: i32| Ok(ActionState::Running { progress });
        let failed = |code: &str, message: String| Ok(ActionState::Failed { code: code.into(), message });
        match kind {
            "instance" | "stop" => {
                let target = if kind == "stop" { "stopped" } else { arg };
                let Some(i) = self.describe_instance(id).await? else {
                    return if target == "terminated" {
                        Ok(ActionState::Succeeded)
                    } else {
                        failed("not_found", format!("the instance {id} no longer exists"))
                    };
                };
                let state = i.text("instanceState/name").unwrap_or_default();
                if state == target {
                    return Ok(ActionState::Succeeded);
                }
                if matches!(state, "shutting-down" | "terminated") && target != "terminated" {
                    let code = i.text("stateReason/code").unwrap_or("instance_terminated");
                    let message = i.text("stateReason/message").unwrap_or("the instance was terminated");
                    return failed(code, message.into());
                }
                let since = arg.parse::<i64>().unwrap_or(i64::MAX);
                let waited = chrono::Utc::now().timestamp().saturating_sub(since).max(0) as u64;
                if kind == "stop" && state == "stopping" && waited > self.shutdown_after.as_secs() {
                    // The system did not shut down in time: the stop is forced.
                    tracing::info!(instance = %id, "shutdown not heeded in time: forcing the stop");
                    let mut p = Params::one("InstanceId.1", id);
                    p.push("Force", "true");
                    self.ec2("StopInstances", p).await?;
                }
                running(50)
            }
            "volume" => {
                let Some(v) = self.describe_volume(id).await? else {
                    return failed("not_found", format!("the volume {id} no longer exists"));
                };
                match v.text("status").unwrap_or_default() {
                    s if s == arg => Ok(ActionState::Succeeded),
                    "error" => failed("volume_error", format!("the volume {id} is in error")),
                    _ => running(50),
                }
            }
            "modify" => {
                let v = self.ec2("DescribeVolumesModifications", Params::one("VolumeId.1", id)).await?;
                let m = v.items("volumeModificationSet").into_iter().last().cloned();
                match m.as_ref().and_then(|m| m.text("modificationState")) {
                    // Usable at the new size once optimizing.
                    Some("completed" | "optimizing") | None => Ok(ActionState::Succeeded),
                    Some("failed") => failed(
                        "modification_failed",
                        m.as_ref()
                            .and_then(|m| m.text("statusMessage"))
                            .unwrap_or("the resize failed")
                            .into(),
                    ),
                    _ => {
                        running(m.and_then(|m| m.text("progress").and_then(|p| p.parse().ok())).unwrap_or(0))
                    }
                }
            }
            "image" => {
                let Some(i) = self.describe_image(id).await? else {
                    return failed("not_found", format!("the image {id} no longer exists"));
                };
                match i.text("imageState").unwrap_or_default() {
                    "available" => Ok(ActionState::Succeeded),
                    "pending" => running(50),
                    other => failed(
                        i.text("stateReason/code").unwrap_or("image_failed"),
                        i.text("stateReason/message").unwrap_or(other).to_string(),
                    ),
                }
            }
            "snapshot" => {
                let Some(s) = self.describe_ebs_snapshot(id).await? else {
                    return failed("not_found", format!("the snapshot {id} no longer exists"));
                };
                match s.text("status").unwrap_or_default() {
                    "completed" => Ok(ActionState::Succeeded),
                    "pending" => running(
                        s.text("progress").and_then(|p| p.trim_end_matches('%').parse().ok()).unwrap_or(0),
                    ),
                    _ => failed(
                        "snapshot_failed",
                        s.text("stateMessage").unwrap_or("the snapshot failed").into(),
                    ),
                }
            }
            "rebuild" => {
                let v = absent(
                    self.ec2("DescribeReplaceRootVolumeTasks", Params::one("ReplaceRootVolumeTaskId.1", id))
                        .await,
                )?;
                let task = v
                    .as_ref()
                    .and_then(|v| v.items("replaceRootVolumeTaskSet").first().map(|t| (*t).clone()));
                let Some(task) = task else {
                    return failed("not_found", format!("the root volume replacement {id} no longer exists"));
                };
                match task.text("taskState").unwrap_or_default() {
                    "succeeded" => Ok(ActionState::Succeeded),
                    "pending" => running(10),
                    "in-progress" => running(50),
                    other => failed("rebuild_failed", format!("the root volume replacement {id} is {other}")),
                }
            }
            "ptr" => {
                let attrs = absent(self.ptr_attributes(&[id]).await)?.unwrap_or_default();
                let Some(a) = attrs.get(id) else {
                    return failed("not_found", format!("the Elastic IP {id} no longer exists"));
                };
                match a.text("ptrRecordUpdate/status") {
                    Some("PENDING") => running(50),
                    Some("UNSUCCESSFUL") => failed(
                        "ptr_refused",
                        a.text("ptrRecordUpdate/reason").unwrap_or("AWS refused the reverse DNS name").into(),
                    ),
                    _ => Ok(ActionState::Succeeded),
                }
            }
            _ => failed("invalid_input", format!("unknown AWS action {pending}")),
        }
    }

    async fn describe_volume(&self, id: &str) -> DriverResult<Option<Node>> {
        let v = absent(self.ec2("DescribeVolumes", Params::one("VolumeId.1", id)).await)?;
        Ok(v.and_then(|v| v.items("volumeSet").first().map(|i| (*i).clone())))
    }
}
