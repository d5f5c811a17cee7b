//! AWS Signature Version 4 for the AWS driver: the canonical request, the string to sign, the
//! derived signing key and the `Authorization` header, for the Query APIs (EC2, CloudWatch,
//! STS: form-encoded POST bodies) and Route 53's REST API alike. Small on purpose (HMAC-SHA256
//! from `hmac`/`sha2`) instead of an SDK; it knows nothing of any service's operations.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Whose keys sign, and for which region and service (`ec2`, `route53`, `monitoring`, `sts`).
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// What is signed: the request as it will be sent.
pub struct Signable<'a> {
    pub method: &'a str,
    /// `host` or `host:port` (the port when it is not the scheme's default), as sent.
    pub host: &'a str,
    /// The absolute path, made of unreserved characters and `/` only.
    pub path: &'a str,
    /// The canonical query string (see [`canonical_query`]), as sent.
    pub query: &'a str,
    /// Further headers to sign besides `host` and `x-amz-date` (lower-case names).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// AWS's URI encoding (RFC 3986): every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`, upper-case.
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pairs` encoded and sorted by name, then value: the form of a query string (or a
/// form-encoded body) AWS signs; send exactly this.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut enc: Vec<(String, String)> = pairs.iter().map(|(k, v)| (uri_encode(k), uri_encode(v))).collect();
    enc.sort();
    enc.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

impl Signer<'_> {
    /// The signing key of `date` (`YYYYMMDD`).
    pub fn key(&self, date: &str) -> Vec<u8> {
        let k = hmac(format!("AWS4{}", self.secret_access_key).as_bytes(), date);
        let k = hmac(&k, self.region);
        let k = hmac(&k, self.service);
        hmac(&k, "aws4_request")
    }

    /// The headers to add to `req` signed at `now`: `x-amz-date`, `x-amz-content-sha256` and
    /// `authorization`.
    pub fn sign(&self, req: &Signable<'_>, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let date = &amz_date[..8];
        let payload = sha256_hex(req.body);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), req.host.to_string()),
            ("x-amz-content-sha256".into(), payload.clone()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        headers.extend(req.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string())));
        headers.sort();
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
        let canonical =
            format!("{}\n{}\n{}\n{canonical_headers}\n{signed}\n{payload}", req.method, req.path, req.query);
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", sha256_hex(canonical.as_bytes()));
        let signature = hex(&hmac(&self.key(date), &to_sign));
        vec![
            ("x-amz-date", amz_date),
            ("x-amz-content-sha256", payload),
            (
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                    self.access_key_id
                ),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn the_signing_key_is_the_one_of_aws_documentation() {
        // "Derive a signing key" in AWS's SigV4 documentation (20150830, us-east-1, iam).
        let s = Signer {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            region: "us-east-1",
            service: "iam",
        };
        assert_eq!(
            hex(&s.key("20150830")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("a-b_c.d~e f/g+h=é"), "a-b_c.d~e%20f%2Fg%2Bh%3D%C3%A9");
        let q = canonical_query(&[
            ("b".into(), "2 3".into()),
            ("a".into(), "x/y".into()),
            ("a".into(), "w".into()),
        ]);
        assert_eq!(q, "a=w&a=x%2Fy&b=2%203");
    }

    /// Signatures computed by botocore's `SigV4Auth` for the same requests at the same time.
    #[test]
    fn signatures_match_botocore() {
        let now = Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap();
        let ec2 = Signer {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            region: "eu-central-1",
            service: "ec2",
        };
        let body = "Action=DescribeRegions&Version=2016-11-15";
        let ct = "application/x-www-form-urlencoded; charset=utf-8";
        let h = ec2.sign(
            &Signable {
                method: "POST",
                host: "ec2.eu-central-1.amazonaws.com",
                path: "/",
                query: "",
                headers: &[("content-type", ct)],
                body: body.as_bytes(),
            },
            now,
        );
        assert_eq!(
            h[2].1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-central-1/ec2/aws4_request, \
             SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
             Signature=36a333e394afa1f0d0380fd7bbe46e353b50e94419ffa6d3605bfdbbd906b0b9"
        );
        let r53 = Signer {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            region: "us-east-1",
            service: "route53",
        };
        let h = r53.sign(
            &Signable {
                method: "GET",
                host: "127.0.0.1:5000",
                path: "/2013-04-01/hostedzonesbyname",
                query: &canonical_query(&[("dnsname".into(), "example.com".into())]),
                headers: &[],
                body: b"",
            },
            now,
        );
        assert_eq!(
            h[2].1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=fdd354c5c0aab672f9f5677495ef674d479ce76a9437a2da98786fc4dbf2edc9"
        );
    }
}
