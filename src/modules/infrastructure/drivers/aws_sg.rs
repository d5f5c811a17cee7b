//! AWS firewalls for the AWS driver (`aws.rs`, through `aws_net.rs`'s [`NetDriver`]): a
//! firewall is a security group of the region's default VPC. Its rules are the group's
//! ingress (`in`) and egress (`out`) permissions, one per protocol, port and range (read back
//! in [`canonical_rules`] form, AWS's own allow-all egress included as an `all` rule until
//! converged away); its servers are the instances whose primary network interface holds the
//! group (set with `ModifyNetworkInterfaceAttribute`, never leaving one without a group); its
//! label selectors are remembered in `zygo-selector-…` tags and resolved to instances
//! whenever it is converged.
//!
//! [`NetDriver`]: super::net::NetDriver

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::{
    DriverError, DriverResult, Labels,
    aws::{Aws, absent},
    aws_ec2::Params,
    aws_net::{labels_and_name, selector_tag_changes, settling, tags_of},
    aws_xml::Node,
    net::{FirewallRule, NetSpec, RemoteNet, Target},
};

/// One permission of a security group: a protocol (Zygo's name), ports and one range.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Perm {
    egress: bool,
    protocol: String,
    /// `80`, `1000-2000` (tcp, udp); an ICMP type/code `8/0` other than all; none otherwise.
    port: Option<String>,
    ip: String,
    description: Option<String>,
}

fn norm_ip(ip: &str) -> String {
    ip.trim().parse::<IpNet>().map(|n| n.to_string()).unwrap_or_else(|_| ip.trim().to_string())
}

fn perms_of_rules(rules: &[FirewallRule]) -> BTreeSet<Perm> {
    let mut out = BTreeSet::new();
    for r in rules {
        let egress = r.direction == "out";
        let ips = if egress { &r.destination_ips } else { &r.source_ips };
        for ip in ips {
            out.insert(Perm {
                egress,
                protocol: r.protocol.clone(),
                port: r.port.clone().filter(|_| matches!(r.protocol.as_str(), "tcp" | "udp")),
                ip: norm_ip(ip),
                description: r.description.clone(),
            });
        }
    }
    out
}

fn rules_of_perms<'a>(perms: impl IntoIterator<Item = &'a Perm>) -> Vec<FirewallRule> {
    type Key = (bool, String, Option<String>, Option<String>);
    let mut groups: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for p in perms {
        let k = (p.egress, p.protocol.clone(), p.port.clone(), p.description.clone());
        groups.entry(k).or_default().push(p.ip.clone());
    }
    groups
        .into_iter()
        .map(|((egress, protocol, port, description), mut ips)| {
            ips.sort();
            ips.dedup();
            let (source_ips, destination_ips) = if egress { (vec![], ips) } else { (ips, vec![]) };
            FirewallRule {
                direction: if egress { "out" } else { "in" }.into(),
                protocol,
                port,
                source_ips,
                destination_ips,
                description,
            }
        })
        .collect()
}

/// `rules` as an AWS security group holds them, and as this driver reads them back: one rule
/// per direction, protocol, port and description, its ranges sorted, the rules in order.
pub fn canonical_rules(rules: &[FirewallRule]) -> Vec<FirewallRule> {
    rules_of_perms(&perms_of_rules(rules))
}

/// The permissions of a `DescribeSecurityGroups` item. Zygo's rules name address ranges; one
/// made outside Zygo that names another security group or a prefix list is read with that
/// group's or list's id in place of a range (`sg-…`, `pl-…`), so it shows as drift and a
/// converge revokes it.
fn perms_of_group(g: &Node) -> BTreeSet<Perm> {
    let mut out = BTreeSet::new();
    for (egress, list) in [(false, "ipPermissions"), (true, "ipPermissionsEgress")] {
        for p in g.items(list) {
            let raw = p.text("ipProtocol").unwrap_or("-1");
            let protocol = match raw {
                "tcp" | "6" => "tcp",
                "udp" | "17" => "udp",
                "icmp" | "1" => "icmp",
                "50" => "esp",
                "47" => "gre",
                "-1" => "all",
                other => other,
            };
            let port_of = |k: &str| p.text(k).and_then(|v| v.parse::<i64>().ok());
            let port = match (protocol, port_of("fromPort"), port_of("toPort")) {
                ("tcp" | "udp", Some(a), Some(b)) if a == b => Some(a.to_string()),
                ("tcp" | "udp", Some(a), Some(b)) => Some(format!("{a}-{b}")),
                ("icmp", Some(a), Some(b)) if a != -1 || b != -1 => Some(format!("{a}/{b}")),
                _ => None,
            };
            let ranges = [
                ("ipRanges", "cidrIp"),
                ("ipv6Ranges", "cidrIpv6"),
                ("groups", "groupId"),
                ("prefixListIds", "prefixListId"),
            ]
            .into_iter()
            .flat_map(|(list, field)| p.items(list).into_iter().map(move |r| (r, field)));
            for (r, field) in ranges {
                let Some(ip) = r.text(field) else { continue };
                out.insert(Perm {
                    egress,
                    protocol: protocol.into(),
                    port: port.clone(),
                    ip: norm_ip(ip),
                    description: r.text("description").map(str::to_string),
                });
            }
        }
    }
    out
}

/// `IpPermissions.N` of `perms` (all of one direction).
fn permission_params(group: &str, perms: &[&Perm]) -> Params {
    let mut p = Params::one("GroupId", group);
    for (i, perm) in perms.iter().enumerate() {
        let n = format!("IpPermissions.{}", i + 1);
        let proto = match perm.protocol.as_str() {
            "esp" => "50",
            "gre" => "47",
            "all" => "-1",
            other => other,
        };
        p.push(format!("{n}.IpProtocol"), proto);
        let (from, to) = match (perm.protocol.as_str(), perm.port.as_deref()) {
            (_, Some(port)) => {
                let (a, b) = port.split_once('/').or_else(|| port.split_once('-')).unwrap_or((port, port));
                (Some(a.to_string()), Some(b.to_string()))
            }
            ("all", None) => (None, None),
            // ICMP: every type; ESP and GRE have no ports (AWS ignores them, moto needs them).
            _ => (Some("-1".into()), Some("-1".into())),
        };
        if let (Some(a), Some(b)) = (from, to) {
            p.push(format!("{n}.FromPort"), a);
            p.push(format!("{n}.ToPort"), b);
        }
        let (list, field) = match perm.ip.as_str() {
            ip if ip.starts_with("sg-") => ("Groups", "GroupId"),
            ip if ip.starts_with("pl-") => ("PrefixListIds", "PrefixListId"),
            ip if ip.contains(':') => ("Ipv6Ranges", "CidrIpv6"),
            _ => ("IpRanges", "CidrIp"),
        };
        p.push(format!("{n}.{list}.1.{field}"), &perm.ip);
        if let Some(d) = &perm.description {
            p.push(format!("{n}.{list}.1.Description"), d);
        }
    }
    p
}

/// An instance's primary network interface (device 0): the one a firewall guards, as a
/// Hetzner firewall guards a server's public interface and not its private networks. AWS sets
/// groups per interface (`ModifyInstanceAttribute GroupId` is refused for an instance with
/// more than one, as a server in a Zygo network has).
struct Primary {
    instance: String,
    eni: String,
    vpc: String,
    groups: Vec<String>,
}

impl Primary {
    fn of(n: &Node) -> Option<Self> {
        if n.text("attachment/deviceIndex") != Some("0") {
            return None;
        }
        Some(Self {
            instance: n.text("attachment/instanceId")?.to_string(),
            eni: n.text("networkInterfaceId")?.to_string(),
            vpc: n.text("vpcId").unwrap_or_default().to_string(),
            groups: n
                .items("groupSet")
                .into_iter()
                .filter_map(|g| g.text("groupId").map(str::to_string))
                .collect(),
        })
    }
}

impl Aws {
    pub(super) async fn group_net(&self, g: &Node) -> DriverResult<RemoteNet> {
        let id = g.text("groupId").unwrap_or_default().to_string();
        let tags = tags_of(g);
        let (labels, _) = labels_and_name(&tags, &id);
        let holders: BTreeSet<String> = self.holders(&id).await?.into_iter().map(|h| h.instance).collect();
        let (apply_to, matched) = self.targets_of(&tags, &holders).await?;
        let spec = NetSpec::Firewall { rules: rules_of_perms(&perms_of_group(g)), apply_to };
        let name = g.text("groupName").unwrap_or(&id).to_string();
        Ok(RemoteNet { id, name, labels, spec: spec.canonical(), public_ip: None, matched })
    }

    /// The instances whose primary interface holds security group `group`.
    async fn holders(&self, group: &str) -> DriverResult<Vec<Primary>> {
        self.primaries("group-id", group).await
    }

    /// The primary interfaces matching one `DescribeNetworkInterfaces` filter.
    async fn primaries(&self, filter: &str, value: &str) -> DriverResult<Vec<Primary>> {
        let mut p = Params::one("Filter.1.Name", filter);
        p.push("Filter.1.Value.1", value);
        let items = self.ec2_all("DescribeNetworkInterfaces", p, "networkInterfaceSet", None).await?;
        Ok(items.iter().filter_map(|n| Primary::of(n)).collect())
    }

    /// Instance `id`'s primary interface.
    async fn primary(&self, id: &str) -> DriverResult<Primary> {
        self.primaries("attachment.instance-id", id).await?.into_iter().next().ok_or_else(|| {
            DriverError::provider("invalid_input", format!("the instance {id} has no network interface"))
        })
    }

    pub(super) async fn describe_group(&self, id: &str) -> DriverResult<Option<Node>> {
        let v = absent(self.ec2("DescribeSecurityGroups", Params::one("GroupId.1", id)).await)?;
        Ok(v.and_then(|v| v.items("securityGroupInfo").first().map(|g| (*g).clone())))
    }

    /// Sets the security groups of primary interface `at` (never none: its VPC's default group
    /// then).
    async fn set_groups(&self, at: &Primary, mut groups: Vec<String>) -> DriverResult<()> {
        if groups.is_empty() {
            let mut p = Params::one("Filter.1.Name", "vpc-id");
            p.push("Filter.1.Value.1", &at.vpc);
            p.push("Filter.2.Name", "group-name");
            p.push("Filter.2.Value.1", "default");
            let v = self.ec2("DescribeSecurityGroups", p).await?;
            groups.extend(
                v.items("securityGroupInfo").first().and_then(|g| g.text("groupId")).map(str::to_string),
            );
        }
        let mut p = Params::one("NetworkInterfaceId", &at.eni);
        for (i, g) in groups.iter().enumerate() {
            p.push(format!("SecurityGroupId.{}", i + 1), g);
        }
        self.ec2("ModifyNetworkInterfaceAttribute", p).await.map(|_| ())
    }

    /// Adds or removes the `zygo-selector-…` tags of EC2 resource `id` so they name `want`.
    async fn ec2_selector_tags(&self, id: &str, have: &Labels, want: &[Target]) -> DriverResult<()> {
        let (gone, new) = selector_tag_changes(have, want);
        if !gone.is_empty() {
            let mut p = Params::one("ResourceId.1", id);
            for (i, k) in gone.iter().enumerate() {
                p.push(format!("Tag.{}.Key", i + 1), k);
            }
            self.ec2("DeleteTags", p).await?;
        }
        if !new.is_empty() {
            let mut p = Params::one("ResourceId.1", id);
            for (i, (k, v)) in new.iter().enumerate() {
                p.push(format!("Tag.{}.Key", i + 1), k);
                p.push(format!("Tag.{}.Value", i + 1), v);
            }
            self.ec2("CreateTags", p).await?;
        }
        Ok(())
    }

    pub(super) async fn converge_firewall(
        &self,
        group: &str,
        want: &[FirewallRule],
        apply_to: &[Target],
    ) -> DriverResult<()> {
        let g = self
            .describe_group(group)
            .await?
            .ok_or_else(|| DriverError::provider("not_found", "the security group is gone"))?;
        let have = perms_of_group(&g);
        let want = perms_of_rules(want);
        // Revoked first: a permission whose description changed is revoked and authorized again.
        let stale: Vec<&Perm> = have.iter().filter(|p| !want.contains(p)).collect();
        let new: Vec<&Perm> = want.iter().filter(|p| !have.contains(p)).collect();
        for (egress, verb) in [(false, "Ingress"), (true, "Egress")] {
            let revoke: Vec<&Perm> = stale.iter().filter(|p| p.egress == egress).copied().collect();
            if !revoke.is_empty() {
                absent(
                    self.ec2(&format!("RevokeSecurityGroup{verb}"), permission_params(group, &revoke)).await,
                )?;
            }
        }
        for (egress, verb) in [(false, "Ingress"), (true, "Egress")] {
            let grant: Vec<&Perm> = new.iter().filter(|p| p.egress == egress).copied().collect();
            if !grant.is_empty() {
                self.ec2(&format!("AuthorizeSecurityGroup{verb}"), permission_params(group, &grant)).await?;
            }
        }
        self.ec2_selector_tags(group, &tags_of(&g), apply_to).await?;
        let wanted = self.resolve(apply_to).await?;
        let holders = self.holders(group).await?;
        for h in holders.iter().filter(|h| !wanted.contains(&h.instance)) {
            self.set_groups(h, h.groups.iter().filter(|g| *g != group).cloned().collect()).await?;
        }
        for i in wanted.iter().filter(|w| !holders.iter().any(|h| &h.instance == *w)) {
            let at = self.primary(i).await?;
            let mut groups = at.groups.clone();
            groups.push(group.to_string());
            self.set_groups(&at, groups).await?;
        }
        Ok(())
    }

    pub(super) async fn delete_firewall(&self, group: &str) -> DriverResult<()> {
        for h in self.holders(group).await? {
            self.set_groups(&h, h.groups.iter().filter(|g| *g != group).cloned().collect()).await?;
        }
        absent(self.ec2("DeleteSecurityGroup", Params::one("GroupId", group)).await)
            .map_err(settling)
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::infrastructure::drivers::aws_xml::parse;

    fn rule(dir: &str, proto: &str, port: Option<&str>, ips: &[&str], d: Option<&str>) -> FirewallRule {
        let ips: Vec<String> = ips.iter().map(|s| s.to_string()).collect();
        let (source_ips, destination_ips) = if dir == "in" { (ips, vec![]) } else { (vec![], ips) };
        FirewallRule {
            direction: dir.into(),
            protocol: proto.into(),
            port: port.map(str::to_string),
            source_ips,
            destination_ips,
            description: d.map(str::to_string),
        }
    }

    #[test]
    fn rules_are_merged_sorted_and_read_back_as_aws_holds_them() {
        let asked = [
            rule("out", "udp", Some("53"), &["0.0.0.0/0"], None),
            rule("in", "tcp", Some("443"), &["::/0"], Some("HTTPS")),
            rule("in", "tcp", Some("443"), &["0.0.0.0/0"], Some("HTTPS")),
            rule("in", "esp", None, &["10.0.0.0/8"], None),
        ];
        let canonical = canonical_rules(&asked);
        assert_eq!(
            canonical,
            [
                rule("in", "esp", None, &["10.0.0.0/8"], None),
                rule("in", "tcp", Some("443"), &["0.0.0.0/0", "::/0"], Some("HTTPS")),
                rule("out", "udp", Some("53"), &["0.0.0.0/0"], None),
            ]
        );
        assert_eq!(canonical_rules(&canonical), canonical, "canonical twice is canonical");

        let group = parse(
            "<item><groupId>sg-1</groupId><ipPermissions>\
               <item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort>\
                 <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp><description>HTTPS</description></item></ipRanges>\
                 <ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6><description>HTTPS</description></item></ipv6Ranges></item>\
               <item><ipProtocol>50</ipProtocol><fromPort>-1</fromPort><toPort>-1</toPort>\
                 <ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item>\
             </ipPermissions><ipPermissionsEgress>\
               <item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>\
             </ipPermissionsEgress></item>",
        )
        .unwrap();
        let read = rules_of_perms(&perms_of_group(&group));
        assert_eq!(read[..2], canonical[..2]);
        assert_eq!(read[2], rule("out", "all", None, &["0.0.0.0/0"], None), "AWS's allow-all egress shows");
    }

    #[test]
    fn permissions_are_asked_for_in_aws_terms() {
        let perms = perms_of_rules(&[
            rule("in", "tcp", Some("1000-2000"), &["::/0"], Some("range")),
            rule("in", "gre", None, &["192.0.2.0/24"], None),
            rule("in", "icmp", None, &["10.0.0.0/8"], None),
        ]);
        let all: Vec<&Perm> = perms.iter().collect();
        let p = permission_params("sg-1", &all).0;
        assert!(p.iter().any(|(k, v)| k.ends_with("IpProtocol") && v == "47"), "{p:?}");
        assert!(p.iter().any(|(k, v)| k.ends_with("Ipv6Ranges.1.CidrIpv6") && v == "::/0"), "{p:?}");
        assert!(p.iter().any(|(k, v)| k.ends_with("FromPort") && v == "1000"), "{p:?}");
        assert!(p.iter().any(|(k, v)| k.ends_with("ToPort") && v == "2000"), "{p:?}");
        assert!(p.iter().any(|(k, v)| k.ends_with("Ipv6Ranges.1.Description") && v == "range"), "{p:?}");
        assert_eq!(p.iter().filter(|(k, v)| k.ends_with("FromPort") && v == "-1").count(), 2, "ICMP and GRE");
    }
}
