//! Route 53 and CloudWatch for the AWS driver (`aws.rs`).
//!
//! Route 53 (REST, `/2013-04-01/…`, XML): hosted zones found by name
//! (`ListHostedZonesByName`, public ones), made with `CreateHostedZone`; records read with
//! `ListResourceRecordSets` and written with `ChangeResourceRecordSets`. Route 53 keeps one
//! record *set* per name and type, Zygo one record per value: a record's id is
//! `<zone>/<TYPE>/<fqdn>/<value>`, and writing or deleting one UPSERTs its set with the other
//! values kept (DELETEs the set when it was the last). TXT values are quoted on the way in
//! and unquoted on the way out; names are relative to the zone (`@` the apex).
//!
//! CloudWatch: `GetMetricData` of the instance's `AWS/EC2` metrics, named like Hetzner's
//! series (`cpu`, `disk.0.iops.read`, `network.0.bandwidth.in`, …; per second).

use reqwest::Method;

use super::{
    DriverError, DriverResult, MetricFamily, MetricSeries, MetricWindow, RemoteRecord, RemoteZone,
    aws::{Aws, absent},
    aws_ec2::Params,
    aws_xml::{Node, escape},
};

const API: &str = "/2013-04-01";
const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// `name` with the trailing dot Route 53 writes.
fn dotted(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// Route 53's octal escapes (`\052` for `*`) undone.
fn unescape_name(name: &str) -> String {
    let mut out = String::new();
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        let digits: String = chars.clone().take(3).collect();
        if c == '\\'
            && digits.len() == 3
            && digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
            && let Ok(n) = u8::from_str_radix(&digits, 8)
        {
            out.push(n as char);
            chars.nth(2);
            continue;
        }
        out.push(c);
    }
    out
}

/// The relative name (`www`, `@`) of `fqdn` in zone `zone` (both dotted).
fn relative(fqdn: &str, zone: &str) -> String {
    if fqdn == zone {
        return "@".into();
    }
    fqdn.strip_suffix(&format!(".{zone}")).unwrap_or(fqdn.trim_end_matches('.')).to_string()
}

fn absolute(name: &str, zone: &str) -> String {
    match name.trim_end_matches('.') {
        "@" | "" => zone.to_string(),
        n if dotted(n).ends_with(&format!(".{zone}")) => dotted(n),
        n => format!("{}.{zone}", n.to_ascii_lowercase()),
    }
}

/// A TXT value as Route 53 wants it: quoted strings of at most 255 characters.
fn txt_in(v: &str) -> String {
    if v.starts_with('"') {
        return v.to_string();
    }
    let chars: Vec<char> = v.chars().collect();
    let parts: Vec<String> = chars
        .chunks(255)
        .map(|c| format!("\"{}\"", c.iter().collect::<String>().replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    if parts.is_empty() { "\"\"".into() } else { parts.join(" ") }
}

/// A TXT value as written: its quoted strings joined.
fn txt_out(v: &str) -> String {
    if !v.starts_with('"') {
        return v.to_string();
    }
    let mut out = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in v.chars() {
        match (quoted, escaped, c) {
            (true, true, c) => {
                out.push(c);
                escaped = false;
            }
            (true, false, '\\') => escaped = true,
            (_, false, '"') => quoted = !quoted,
            (true, false, c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// One record set: its name, type, TTL and values (as Route 53 holds them).
#[derive(Clone, Debug)]
struct RecordSet {
    name: String,
    kind: String,
    ttl: i32,
    values: Vec<String>,
}

fn set_of(n: &Node) -> RecordSet {
    RecordSet {
        name: unescape_name(n.text("Name").unwrap_or_default()),
        kind: n.text("Type").unwrap_or_default().into(),
        ttl: n.text("TTL").and_then(|t| t.parse().ok()).unwrap_or(300),
        values: n
            .get("ResourceRecords")
            .map(|r| r.all("ResourceRecord").filter_map(|r| r.text("Value").map(str::to_string)).collect())
            .unwrap_or_default(),
    }
}

fn change_xml(action: &str, set: &RecordSet) -> String {
    let values: String = set
        .values
        .iter()
        .map(|v| format!("<ResourceRecord><Value>{}</Value></ResourceRecord>", escape(v)))
        .collect();
    format!(
        "<Change><Action>{action}</Action><ResourceRecordSet><Name>{}</Name><Type>{}</Type><TTL>{}</TTL>\
         <ResourceRecords>{values}</ResourceRecords></ResourceRecordSet></Change>",
        escape(&set.name),
        escape(&set.kind),
        set.ttl
    )
}

fn record_id(zone: &str, set: &RecordSet, value: &str) -> String {
    format!("{zone}/{}/{}/{value}", set.kind, set.name)
}

/// The zone, type, name and value in a record id.
fn parse_id(id: &str) -> DriverResult<(String, String, String, String)> {
    let mut p = id.splitn(4, '/');
    match (p.next(), p.next(), p.next(), p.next()) {
        (Some(z), Some(t), Some(n), Some(v)) if !z.is_empty() && !t.is_empty() && !n.is_empty() => {
            Ok((z.into(), t.into(), n.into(), v.into()))
        }
        _ => Err(DriverError::provider("invalid_input", format!("{id} is not a Route 53 record id of Zygo"))),
    }
}

impl Aws {
    async fn r53(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<String>,
    ) -> DriverResult<Node> {
        let q: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let ct = body.as_ref().map(|_| "application/xml");
        self.call("route53", method, &format!("{API}{path}"), &q, body.unwrap_or_default().into_bytes(), ct)
            .await
    }

    /// The zone `id` (bare, without `/hostedzone/`) and its name servers.
    async fn r53_zone(&self, id: &str) -> DriverResult<Option<(String, Vec<String>)>> {
        let Some(v) = absent(self.r53(Method::GET, &format!("/hostedzone/{id}"), &[], None).await)? else {
            return Ok(None);
        };
        let name = v.text("HostedZone/Name").unwrap_or_default().to_string();
        let ns = v
            .get("DelegationSet/NameServers")
            .map(|n| n.all("NameServer").map(|s| s.text.clone()).collect())
            .unwrap_or_default();
        Ok(Some((name, ns)))
    }

    pub(super) async fn r53_find_zone(&self, name: &str) -> DriverResult<Option<RemoteZone>> {
        let want = dotted(name);
        let v = self
            .r53(Method::GET, "/hostedzonesbyname", &[("dnsname", &want), ("maxitems", "10")], None)
            .await?;
        let found = v.get("HostedZones").and_then(|zs| {
            zs.all("HostedZone")
                .find(|z| {
                    z.text("Name") == Some(want.as_str()) && z.text("Config/PrivateZone") != Some("true")
                })
                .and_then(|z| z.text("Id").map(|id| id.trim_start_matches("/hostedzone/").to_string()))
        });
        let Some(id) = found else { return Ok(None) };
        let ns = self.r53_zone(&id).await?.map(|(_, ns)| ns).unwrap_or_default();
        Ok(Some(RemoteZone { id, name: name.trim_end_matches('.').into(), ttl: 3600, name_servers: ns }))
    }

    pub(super) async fn r53_create_zone(&self, name: &str, ttl: i32) -> DriverResult<RemoteZone> {
        // A caller reference is single-use at AWS; `apply` looks the zone up by name first.
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CreateHostedZoneRequest xmlns=\"{XMLNS}\">\
             <Name>{}</Name><CallerReference>zygo-{}</CallerReference></CreateHostedZoneRequest>",
            escape(&dotted(name)),
            uuid::Uuid::now_v7()
        );
        let v = self.r53(Method::POST, "/hostedzone", &[], Some(body)).await?;
        let id = v.text("HostedZone/Id").unwrap_or_default().trim_start_matches("/hostedzone/").to_string();
        let ns = v
            .get("DelegationSet/NameServers")
            .map(|n| n.all("NameServer").map(|s| s.text.clone()).collect())
            .unwrap_or_default();
        Ok(RemoteZone { id, name: name.trim_end_matches('.').into(), ttl, name_servers: ns })
    }

    /// Every record set of `zone` (paged), or only those from `start` (name, type) on.
    async fn r53_sets(&self, zone: &str, start: Option<(&str, &str)>) -> DriverResult<Vec<RecordSet>> {
        let mut out = Vec::new();
        let mut next: Option<(String, String)> = start.map(|(n, t)| (n.to_string(), t.to_string()));
        for _ in 0..1000 {
            let mut q: Vec<(&str, &str)> = vec![];
            if let Some((n, t)) = &next {
                q.push(("name", n));
                q.push(("type", t));
                if start.is_some() {
                    q.push(("maxitems", "1"));
                }
            }
            let v = self.r53(Method::GET, &format!("/hostedzone/{zone}/rrset"), &q, None).await?;
            if let Some(sets) = v.get("ResourceRecordSets") {
                out.extend(sets.all("ResourceRecordSet").map(set_of));
            }
            if start.is_some() || v.text("IsTruncated") != Some("true") {
                break;
            }
            next = match (v.text("NextRecordName"), v.text("NextRecordType")) {
                (Some(n), Some(t)) => Some((n.to_string(), t.to_string())),
                _ => break,
            };
        }
        Ok(out)
    }

    /// The set `name` (dotted) of type `kind` in `zone`, if there is one.
    async fn r53_set(&self, zone: &str, name: &str, kind: &str) -> DriverResult<Option<RecordSet>> {
        Ok(self
            .r53_sets(zone, Some((name, kind)))
            .await?
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(name) && s.kind == kind))
    }

    async fn r53_change(&self, zone: &str, changes: &[String]) -> DriverResult<()> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ChangeResourceRecordSetsRequest xmlns=\"{XMLNS}\">\
             <ChangeBatch><Changes>{}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
            changes.concat()
        );
        self.r53(Method::POST, &format!("/hostedzone/{zone}/rrset/"), &[], Some(body)).await.map(|_| ())
    }

    /// The changes that take `value` out of `set` (kept, or deleted when it was the last).
    fn without(set: &RecordSet, value: &str) -> Option<String> {
        if !set.values.iter().any(|v| v == value) {
            return None;
        }
        let mut rest = set.clone();
        rest.values.retain(|v| v != value);
        Some(if rest.values.is_empty() { change_xml("DELETE", set) } else { change_xml("UPSERT", &rest) })
    }

    pub(super) async fn r53_records(&self, zone: &str) -> DriverResult<Vec<RemoteRecord>> {
        let (zone_name, _) = self
            .r53_zone(zone)
            .await?
            .ok_or_else(|| DriverError::provider("NoSuchHostedZone", format!("no hosted zone {zone}")))?;
        let mut out = Vec::new();
        for set in self.r53_sets(zone, None).await? {
            // The zone's own SOA and NS sets are Route 53's, not records of the organisation.
            if set.name == zone_name && matches!(set.kind.as_str(), "SOA" | "NS") {
                continue;
            }
            for v in &set.values {
                let value = if set.kind == "TXT" { txt_out(v) } else { v.clone() };
                out.push(RemoteRecord {
                    id: Some(record_id(zone, &set, v)),
                    record_type: set.kind.clone(),
                    name: relative(&set.name, &zone_name),
                    value,
                    ttl: set.ttl,
                });
            }
        }
        Ok(out)
    }

    pub(super) async fn r53_put(&self, zone: &str, record: &RemoteRecord) -> DriverResult<RemoteRecord> {
        let (zone_name, _) = self
            .r53_zone(zone)
            .await?
            .ok_or_else(|| DriverError::provider("NoSuchHostedZone", format!("no hosted zone {zone}")))?;
        let name = absolute(&record.name, &zone_name);
        let kind = record.record_type.to_ascii_uppercase();
        let value = if kind == "TXT" { txt_in(&record.value) } else { record.value.clone() };
        let old = record.id.as_deref().map(parse_id).transpose()?;
        let mut changes = Vec::new();
        let mut set = self.r53_set(zone, &name, &kind).await?.unwrap_or(RecordSet {
            name: name.clone(),
            kind: kind.clone(),
            ttl: record.ttl,
            values: vec![],
        });
        if let Some((_, t, n, v)) = &old {
            if *t == kind && n.eq_ignore_ascii_case(&name) {
                set.values.retain(|x| x != v);
            } else if let Some(prev) = self.r53_set(zone, n, t).await? {
                // Moved to another name or type: taken out of its old set.
                changes.extend(Self::without(&prev, v));
            }
        }
        if !set.values.contains(&value) {
            set.values.push(value.clone());
        }
        set.ttl = record.ttl;
        changes.push(change_xml("UPSERT", &set));
        self.r53_change(zone, &changes).await?;
        Ok(RemoteRecord {
            id: Some(record_id(zone, &set, &value)),
            record_type: kind,
            name: relative(&set.name, &zone_name),
            value: record.value.clone(),
            ttl: record.ttl,
        })
    }

    pub(super) async fn r53_delete(&self, id: &str) -> DriverResult<()> {
        let (zone, kind, name, value) = parse_id(id)?;
        let Some(set) = absent(self.r53_set(&zone, &name, &kind).await)?.flatten() else { return Ok(()) };
        match Self::without(&set, &value) {
            Some(change) => self.r53_change(&zone, &[change]).await,
            // Not there (deleted by an earlier attempt): what was asked is true.
            None => Ok(()),
        }
    }

    /// CloudWatch `GetMetricData` of instance `id` for `w`.
    pub(super) async fn metrics(&self, id: &str, w: &MetricWindow) -> DriverResult<Vec<MetricSeries>> {
        // (query id, metric, statistic, series name, per second)
        let wanted: &[(&str, &str, &str, &str, bool)] = match w.family {
            MetricFamily::Cpu => &[("cpu", "CPUUtilization", "Average", "cpu", false)],
            MetricFamily::Disk => &[
                ("iopsread", "DiskReadOps", "Sum", "disk.0.iops.read", true),
                ("iopswrite", "DiskWriteOps", "Sum", "disk.0.iops.write", true),
                ("bwread", "DiskReadBytes", "Sum", "disk.0.bandwidth.read", true),
                ("bwwrite", "DiskWriteBytes", "Sum", "disk.0.bandwidth.write", true),
            ],
            MetricFamily::Network => &[
                ("ppsin", "NetworkPacketsIn", "Sum", "network.0.pps.in", true),
                ("ppsout", "NetworkPacketsOut", "Sum", "network.0.pps.out", true),
                ("bwin", "NetworkIn", "Sum", "network.0.bandwidth.in", true),
                ("bwout", "NetworkOut", "Sum", "network.0.bandwidth.out", true),
            ],
        };
        // CloudWatch periods are multiples of 60 seconds.
        let period = ((w.step.max(60) + 59) / 60) * 60;
        let mut p = Params::default();
        p.push("StartTime", w.start.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        p.push("EndTime", w.end.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        p.push("ScanBy", "TimestampAscending");
        for (i, (qid, metric, stat, _, _)) in wanted.iter().enumerate() {
            let m = format!("MetricDataQueries.member.{}", i + 1);
            p.push(format!("{m}.Id"), *qid);
            p.push(format!("{m}.MetricStat.Metric.Namespace"), "AWS/EC2");
            p.push(format!("{m}.MetricStat.Metric.MetricName"), *metric);
            p.push(format!("{m}.MetricStat.Metric.Dimensions.member.1.Name"), "InstanceId");
            p.push(format!("{m}.MetricStat.Metric.Dimensions.member.1.Value"), id);
            p.push(format!("{m}.MetricStat.Period"), period.to_string());
            p.push(format!("{m}.MetricStat.Stat"), *stat);
        }
        let v = self.query("monitoring", "2010-08-01", "GetMetricData", p).await?;
        let results: Vec<&Node> =
            v.find("MetricDataResults").map(|r| r.all("member").collect()).unwrap_or_default();
        Ok(wanted
            .iter()
            .map(|(qid, _, _, name, per_second)| {
                let r = results.iter().find(|r| r.text("Id") == Some(*qid));
                let list = |field: &str| -> Vec<String> {
                    r.and_then(|r| r.get(field))
                        .map(|n| n.all("member").map(|m| m.text.clone()).collect())
                        .unwrap_or_default()
                };
                let mut points: Vec<(f64, f64)> = list("Timestamps")
                    .iter()
                    .zip(list("Values"))
                    .filter_map(|(t, y)| {
                        let t = chrono::DateTime::parse_from_rfc3339(t).ok()?.timestamp() as f64;
                        let y: f64 = y.parse().ok()?;
                        Some((t, if *per_second { y / period as f64 } else { y }))
                    })
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                MetricSeries { name: name.to_string(), points }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_relative_to_the_zone_and_escapes_undone() {
        assert_eq!(relative("www.example.com.", "example.com."), "www");
        assert_eq!(relative("example.com.", "example.com."), "@");
        assert_eq!(absolute("@", "example.com."), "example.com.");
        assert_eq!(absolute("WWW", "example.com."), "www.example.com.");
        assert_eq!(absolute("www.example.com.", "example.com."), "www.example.com.");
        assert_eq!(unescape_name("\\052.example.com."), "*.example.com.");
    }

    #[test]
    fn txt_values_are_quoted_in_and_unquoted_out() {
        assert_eq!(txt_in("v=spf1 \"x\""), "\"v=spf1 \\\"x\\\"\"");
        assert_eq!(txt_out(&txt_in("v=spf1 \"x\"")), "v=spf1 \"x\"");
        let long = "a".repeat(300);
        assert_eq!(txt_in(&long).matches('"').count(), 4);
        assert_eq!(txt_out(&txt_in(&long)), long);
    }

    #[test]
    fn record_ids_keep_values_with_slashes() {
        let set = RecordSet { name: "www.example.com.".into(), kind: "TXT".into(), ttl: 300, values: vec![] };
        let id = record_id("Z1", &set, "\"a/b\"");
        assert_eq!(
            parse_id(&id).unwrap(),
            ("Z1".into(), "TXT".into(), "www.example.com.".into(), "\"a/b\"".into())
        );
        assert!(parse_id("Z1/A").is_err());
    }
}
