//! AWS beyond the basics, against moto with the EC2 actions it lacks (`moto_extras.py`): a
//! server rebuilt from one of AWS's images and from its own AMI keeps its instance and public
//! address and gets a new root volume (a replacement whose answer was lost is taken over, not
//! made twice); an Elastic IP starts with AWS's own reverse DNS name, takes a custom one and
//! goes back; a serial console opens with a one-time key whose public half AWS got.

use serde_json::{Value, json};
use ssh_key::PrivateKey;
use zygo::modules::infrastructure::drivers::CloudDriver;

use crate::{
    doc,
    infrastructure_aws::{Cloud, REGION, aws_world, floating_ip, snapshots},
    infrastructure_aws_net::raw,
};

/// One of moto's own images (AWS's catalogue stands in for the test's plain AMI id).
const MOTO_AMI: &str = "ami-03cf127a";

/// An EC2 action straight to moto (the test's own look at AWS's state).
async fn ec2_raw(t: &Cloud, action: &str, params: &[(&str, &str)]) -> String {
    let mut call = vec![("Action", action)];
    call.extend_from_slice(params);
    raw(t, "ec2", &call).await
}

/// The text of the first `<name>` element after `after` in `xml`.
fn element_after<'a>(xml: &'a str, after: &str, name: &str) -> Option<&'a str> {
    let from = xml.find(after)?;
    let open = format!("<{name}>");
    let start = from + xml[from..].find(&open)? + open.len();
    let end = start + xml[start..].find('<')?;
    Some(&xml[start..end])
}

/// The id of instance `ext`'s root EBS volume.
async fn root_volume(t: &Cloud, ext: &str) -> String {
    let xml = ec2_raw(t, "DescribeInstances", &[("InstanceId.1", ext)]).await;
    element_after(&xml, "<blockDeviceMapping>", "volumeId")
        .unwrap_or_else(|| panic!("no root volume: {xml}"))
        .into()
}

async fn rebuild(t: &Cloud, server: &str, from: Value) -> Value {
    let mut input = json!({ "serverId": server, "action": "REBUILD" });
    input.as_object_mut().unwrap().extend(from.as_object().unwrap().clone());
    let (s, a) =
        t.w.change(doc!("infrastructure/ServerAction"), "serverAction", "server", json!({ "input": input }))
            .await;
    assert_eq!(s["status"], "REBUILDING");
    t.w.succeeded(&a).await;
    t.w.server(server).await
}

#[tokio::test]
async fn a_server_is_rebuilt_from_an_image_and_from_its_own_ami_keeping_its_instance_and_address() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (id, ext) = t.running(&p, "web-1").await;
    let before = t.w.server(&id).await;
    let root = root_volume(&t, &ext).await;

    // Bad input names its field, and nothing is asked of AWS.
    for (from, field) in [
        (json!({ "image": MOTO_AMI, "snapshotId": id }), "input.image"),
        (json!({ "image": "not an image" }), "input.image"),
        (json!({}), "input.snapshotId"),
    ] {
        let mut input = json!({ "serverId": id, "action": "REBUILD" });
        input.as_object_mut().unwrap().extend(from.as_object().unwrap().clone());
        let r = t.w.gql(&t.w.owner, doc!("infrastructure/ServerAction"), json!({ "input": input })).await;
        assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", field), "{from}");
    }
    assert_eq!(t.calls("CreateReplaceRootVolumeTask"), 0);
    assert_eq!(t.w.server(&id).await["status"], "RUNNING");

    // From one of AWS's images: the same instance and address, a new root volume, the old
    // one deleted.
    let s = rebuild(&t, &id, json!({ "image": MOTO_AMI })).await;
    assert_eq!(
        (s["status"].as_str(), s["image"].as_str(), s["externalId"].as_str(), &s["ipv4"]),
        (Some("RUNNING"), Some(MOTO_AMI), Some(ext.as_str()), &before["ipv4"]),
        "{s}"
    );
    let body = t.body("CreateReplaceRootVolumeTask", 0);
    assert!(
        body.contains(&format!("ImageId={MOTO_AMI}")) && body.contains("DeleteReplacedRootVolume=true"),
        "{body}"
    );
    let new_root = root_volume(&t, &ext).await;
    assert_ne!(new_root, root);
    let gone =
        ec2_raw(&t, "DescribeVolumes", &[("Filter.1.Name", "volume-id"), ("Filter.1.Value.1", &root)]).await;
    assert!(!gone.contains(&root), "the replaced root volume is deleted: {gone}");

    // From its own AMI (a Zygo snapshot of the server).
    let input = json!({ "serverId": id, "description": "golden" });
    let snap = t
        .done(doc!("infrastructure/CreateSnapshot"), "createSnapshot", "snapshot", json!({ "input": input }))
        .await;
    let ami = snapshots(&t).await.into_iter().find(|s| s["id"] == snap["id"]).unwrap()["externalId"]
        .as_str()
        .unwrap()
        .to_string();
    let s = rebuild(&t, &id, json!({ "snapshotId": snap["id"] })).await;
    assert_eq!((s["status"].as_str(), s["image"].as_str()), (Some("RUNNING"), Some(ami.as_str())), "{s}");
    assert_ne!(root_volume(&t, &ext).await, new_root);
    assert_eq!(t.calls("CreateReplaceRootVolumeTask"), 2);

    // A replacement whose answer was lost is found under way and waited for, not made twice.
    t.faults.lock().unwrap().lose = Some("CreateReplaceRootVolumeTask".into());
    let s = rebuild(&t, &id, json!({ "image": MOTO_AMI })).await;
    assert_eq!((s["status"].as_str(), s["image"].as_str()), (Some("RUNNING"), Some(MOTO_AMI)));
    assert_eq!(t.calls("CreateReplaceRootVolumeTask"), 3, "the lost call only, never repeated");
    let tasks = ec2_raw(
        &t,
        "DescribeReplaceRootVolumeTasks",
        &[("Filter.1.Name", "instance-id"), ("Filter.1.Value.1", &ext)],
    )
    .await;
    assert_eq!(tasks.matches("<replaceRootVolumeTaskId>").count(), 3, "{tasks}");
}

#[tokio::test]
async fn an_elastic_ip_takes_a_reverse_dns_name_and_goes_back_to_aws_own() {
    let t = aws_world().await;
    let p = t.provider().await;
    let input =
        json!({ "input": { "providerId": p, "name": "mail-ip", "type": "IPV4", "homeLocation": REGION } });
    let f = t.done(doc!("infrastructure/CreateFloatingIp"), "createFloatingIp", "floatingIp", input).await;
    let ip = f["id"].as_str().unwrap().to_string();
    let row = floating_ip(&t, &ip).await;
    let address = row["ip"].as_str().unwrap().to_string();
    // AWS's own name, recorded at once (the reconciler would see drift otherwise).
    let aws_own = format!("ec2-{}.compute-1.amazonaws.com", address.replace('.', "-"));
    assert_eq!(row["dnsPtr"].as_str(), Some(aws_own.as_str()), "{row}");
    let alloc = row["externalId"].as_str().unwrap().to_string();
    let d = t.driver();

    let set = |ptr: Value| json!({ "input": { "floatingIpId": ip, "dnsPtr": ptr } });
    t.done(
        doc!("infrastructure/SetFloatingIpReverseDns"),
        "setFloatingIpReverseDns",
        "floatingIp",
        set(json!("Mail.Example.com.")),
    )
    .await;
    let body = t.body("ModifyAddressAttribute", 0);
    assert!(
        body.contains(&format!("AllocationId={alloc}")) && body.contains("DomainName=mail.example.com"),
        "{body}"
    );
    assert_eq!(floating_ip(&t, &ip).await["dnsPtr"], "mail.example.com");
    let remote = d.get_floating_ip(&alloc).await.unwrap().unwrap();
    assert_eq!(remote.dns_ptr.as_deref(), Some("mail.example.com"), "as AWS has it");
    // The reconciler's reading of every address agrees with the row.
    let listed = d.list_floating_ips(&t.tenant_selector()).await.unwrap();
    assert_eq!(listed.iter().map(|f| f.dns_ptr.as_deref()).collect::<Vec<_>>(), [Some("mail.example.com")]);

    // Reset: back to AWS's own name.
    t.done(
        doc!("infrastructure/SetFloatingIpReverseDns"),
        "setFloatingIpReverseDns",
        "floatingIp",
        set(Value::Null),
    )
    .await;
    assert_eq!(t.calls("ResetAddressAttribute"), 1);
    assert_eq!(floating_ip(&t, &ip).await["dnsPtr"].as_str(), Some(aws_own.as_str()));
    assert_eq!(d.get_floating_ip(&alloc).await.unwrap().unwrap().dns_ptr.as_deref(), Some(aws_own.as_str()));
}

#[tokio::test]
async fn a_serial_console_opens_with_a_one_time_key_aws_was_given() {
    let t = aws_world().await;
    let p = t.provider().await;
    let (id, ext) = t.running(&p, "web-1").await;
    let input = json!({ "input": { "serverId": id, "reason": "the boot hangs after the upgrade" } });
    let r = t.w.gql(&t.w.owner, doc!("infrastructure/OpenServerConsole"), input).await;
    let c = &r.data()["openServerConsole"];
    assert_eq!(c["url"], format!("ssh://{ext}.port0@serial-console.ec2-instance-connect.{REGION}.aws"));
    let password = c["password"].as_str().unwrap();
    assert!(password.len() >= 32, "{c}");
    // The key is handed out encrypted with the one-time password, and only that opens it.
    let key = PrivateKey::from_openssh(c["privateKey"].as_str().expect("a private key")).unwrap();
    assert!(key.is_encrypted());
    assert!(key.decrypt("not the password").is_err());
    let key = key.decrypt(password).unwrap();
    // AWS got its public half for this instance's serial port.
    assert_eq!(t.calls("SendSerialConsoleSSHPublicKey"), 1);
    let sent: Value = serde_json::from_str(&t.body("SendSerialConsoleSSHPublicKey", 0)).unwrap();
    assert_eq!((sent["InstanceId"].as_str(), sent["SerialPort"].as_u64()), (Some(ext.as_str()), Some(0)));
    assert_eq!(sent["SSHPublicKey"].as_str(), Some(key.public_key().to_openssh().unwrap().as_str()));

    // Each console has its own key.
    let again = json!({ "input": { "serverId": id, "reason": "once more, after the fix" } });
    let r = t.w.gql(&t.w.owner, doc!("infrastructure/OpenServerConsole"), again).await;
    assert_ne!(r.data()["openServerConsole"]["privateKey"], c["privateKey"]);
    let second: Value = serde_json::from_str(&t.body("SendSerialConsoleSSHPublicKey", 1)).unwrap();
    assert_ne!(second["SSHPublicKey"], sent["SSHPublicKey"]);
}
