//! Organisation addresses: custom domains proven by a TXT record looked up at a local DNS
//! server (tests/clients/dns-server.mjs), re-checked and lapsing after the grace period, one
//! primary that the others redirect to, one organisation per domain; subdomains of the base
//! domain routed by the Host header; Caddy's on-demand TLS question.

use chrono::Duration;
use serde_json::{Value, json};
use zygo::{ctx::Clock, jobs::drain};

use crate::{doc, helpers::*};

struct World {
    app: TestApp,
    clock: Clock,
    dns: NodeService,
    owner: Session,
    tenant: String,
}

async fn world(env: Vec<(&'static str, String)>) -> World {
    let dns = NodeService::start("dns-server.mjs", &[], &[]);
    let clock = Clock::manual(chrono::Utc::now());
    let mut env = env;
    env.push(("ZYGO_DNS_RESOLVER", format!("127.0.0.1:{}", dns.info["dnsPort"])));
    let opts = Options { clock: Some(clock.clone()), env, ..Default::default() };
    let app = spawn_app_on(Backend::fresh().await, opts).await;
    let owner = app.verified_user("owner@acme.example").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    World { app, clock, dns, owner, tenant }
}

impl World {
    async fn call(&self, who: &Session, query: &str, vars: Value) -> Gql {
        self.app.gql(Some(&who.access), query, vars).await
    }

    async fn add(&self, who: &Session, tenant: &str, domain: &str) -> Gql {
        self.call(
            who,
            doc!("domains/AddTenantDomain"),
            json!({ "input": { "tenantId": tenant, "domain": domain } }),
        )
        .await
    }

    async fn verify(&self, id: &str) -> Value {
        self.call(&self.owner, doc!("domains/VerifyTenantDomain"), json!({ "id": id })).await.data()["verifyTenantDomain"]
            .clone()
    }

    async fn publish(&self, name: &str, values: &[&str]) {
        let url = format!("http://127.0.0.1:{}/_records", self.dns.info["port"]);
        let r = self.app.http.put(url).json(&json!({ "name": name, "values": values })).send().await.unwrap();
        assert!(r.status().is_success());
    }

    async fn domains(&self) -> Vec<Value> {
        let r = self.call(&self.owner, doc!("domains/TenantDomains"), json!({ "id": self.tenant })).await;
        r.data()["tenant"]["domains"].as_array().unwrap().clone()
    }

    /// GET `path` with `Host: host`, redirects not followed: status, Location and body.
    async fn get_as(&self, host: &str, path: &str) -> (u16, Option<String>, String) {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = http.get(self.app.url(path)).header("host", host).send().await.unwrap();
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), location, r.text().await.unwrap())
    }
}

#[tokio::test]
async fn a_custom_domain_is_verified_by_its_txt_record_and_lapses_when_it_disappears_for_the_grace_period() {
    let w = world(vec![]).await;
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "member@acme.example", "member").await;
    assert_eq!(w.add(&member, &w.tenant, "app.acme.example").await.code(), "FORBIDDEN");
    let bad = w.add(&w.owner, &w.tenant, "not a domain").await;
    assert_eq!((bad.code().as_str(), bad.field().as_str()), ("BAD_USER_INPUT", "input.domain"));

    let added = w.add(&w.owner, &w.tenant, "App.Acme.Example.").await;
    let app_domain = added.data()["addTenantDomain"]["domain"].clone();
    assert_eq!(app_domain["domain"], "app.acme.example");
    assert_eq!(app_domain["status"], "PENDING");
    let record = &app_domain["verificationRecord"];
    assert_eq!(record["name"], "_zygo-challenge.app.acme.example");
    assert_eq!(record["type"], "TXT");
    let token = record["value"].as_str().unwrap().to_string();
    let app_id = app_domain["id"].as_str().unwrap().to_string();

    // Checked before the record exists, then with another value: still pending, and why.
    let checked = w.verify(&app_id).await;
    assert_eq!(checked["domain"]["status"], "PENDING");
    assert!(checked["problem"].as_str().unwrap().contains("no TXT record"), "{checked}");
    w.publish("_zygo-challenge.app.acme.example", &["something-else"]).await;
    let checked = w.verify(&app_id).await;
    assert!(checked["problem"].as_str().unwrap().contains("does not hold"), "{checked}");
    w.publish("_zygo-challenge.app.acme.example", &["something-else", &token]).await;
    let checked = w.verify(&app_id).await;
    assert_eq!(checked["problem"], Value::Null, "{checked}");
    assert_eq!(
        (&checked["domain"]["status"], &checked["domain"]["isPrimary"]),
        (&json!("VERIFIED"), &json!(true))
    );

    // One organisation per domain.
    let other_owner = w.app.verified_user("owner@other.example").await;
    let other = w.app.create_tenant(&other_owner, "other").await;
    assert_eq!(w.add(&other_owner, &other, "app.acme.example").await.code(), "CONFLICT");

    // A second verified domain becomes primary: the first redirects to it.
    let www =
        w.add(&w.owner, &w.tenant, "www.acme.example").await.data()["addTenantDomain"]["domain"].clone();
    let www_id = www["id"].as_str().unwrap().to_string();
    let pending = w.call(&w.owner, doc!("domains/SetPrimaryTenantDomain"), json!({ "id": www_id })).await;
    assert_eq!(pending.code(), "DOMAIN_NOT_VERIFIED");
    w.publish("_zygo-challenge.www.acme.example", &[www["verificationRecord"]["value"].as_str().unwrap()])
        .await;
    assert_eq!(w.verify(&www_id).await["domain"]["isPrimary"], false);
    w.call(&w.owner, doc!("domains/SetPrimaryTenantDomain"), json!({ "id": www_id })).await.data();
    let (status, location, _) = w.get_as("app.acme.example", "/o/acme/teams?x=1").await;
    assert_eq!((status, location.as_deref()), (308, Some("http://www.acme.example/o/acme/teams?x=1")));
    let (status, location, _) = w.get_as("www.acme.example", "/").await;
    assert_eq!((status, location.as_deref()), (307, Some("/o/acme")), "the app opens on the organisation");
    let (status, _, _) = w.get_as("unknown.example", "/healthz").await;
    assert_eq!(status, 200, "a name that is no one's is the platform's");

    // Caddy may get certificates for verified domains only.
    let ask = |domain: &str| {
        let (app, domain) = (&w.app, domain.to_string());
        async move {
            app.http
                .get(app.url(&format!("/tls/ask?domain={domain}")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(ask("www.acme.example").await, 200);
    assert_eq!(ask("app.acme.example").await, 200);
    let pending = w.add(&w.owner, &w.tenant, "pending.acme.example").await;
    assert_eq!(pending.data()["addTenantDomain"]["domain"]["status"], "PENDING");
    assert_eq!(ask("pending.acme.example").await, 404);
    assert_eq!(ask("evil.example").await, 404);

    // The primary's record disappears: it stays verified through the grace period, then goes
    // back to pending and the other verified domain takes over as primary.
    w.publish("_zygo-challenge.www.acme.example", &[]).await;
    w.clock.advance(Duration::hours(2));
    drain(&w.app.ctx).await.unwrap();
    let www_now = w.domains().await.into_iter().find(|d| d["domain"] == "www.acme.example").unwrap();
    assert_eq!(www_now["status"], "VERIFIED");
    assert!(www_now["failingSince"].is_string(), "{www_now}");
    w.clock.advance(Duration::hours(73));
    drain(&w.app.ctx).await.unwrap();
    let now = w.domains().await;
    let by = |d: &str| now.iter().find(|x| x["domain"] == d).unwrap().clone();
    assert_eq!(
        (by("www.acme.example")["status"].as_str(), by("www.acme.example")["isPrimary"].as_bool()),
        (Some("PENDING"), Some(false))
    );
    assert_eq!(by("app.acme.example")["isPrimary"], true);
    assert_eq!(ask("www.acme.example").await, 404);

    w.call(&w.owner, doc!("domains/RemoveTenantDomain"), json!({ "id": app_id })).await.data();
    assert!(w.domains().await.iter().all(|d| d["domain"] != "app.acme.example"));
    assert_eq!(ask("app.acme.example").await, 404);
}

#[tokio::test]
async fn each_organisation_is_reachable_at_its_subdomain_and_reserved_names_cannot_be_slugs() {
    let w = world(vec![("ZYGO_BASE_DOMAIN", "zygo.test".into())]).await;
    let r = w.call(&w.owner, doc!("domains/TenantDomains"), json!({ "id": w.tenant })).await;
    assert_eq!(r.data()["tenant"]["subdomainUrl"], "https://acme.zygo.test");
    let (status, location, _) = w.get_as("acme.zygo.test", "/").await;
    assert_eq!((status, location.as_deref()), (307, Some("/o/acme")));
    // Signing in there joins the organisation's context: the sign-in page goes on to it.
    let (status, location, _) = w.get_as("acme.zygo.test", "/login").await;
    assert_eq!((status, location.as_deref()), (307, Some("/login?next=%2Fo%2Facme")));
    let (status, location, _) = w.get_as("acme.zygo.test", "/login?email=a%40b.test").await;
    assert_eq!((status, location.as_deref()), (307, Some("/login?email=a%40b.test&next=%2Fo%2Facme")));
    // Told where to go already: the page is served as it is.
    let (status, location, _) = w.get_as("acme.zygo.test", "/login?next=%2Fo%2Facme%2Fworkflows").await;
    assert_eq!((status, location), (200, None));
    // On the platform's own address nothing changes.
    let (status, location, _) = w.get_as("zygo.test", "/login").await;
    assert_eq!((status, location), (200, None));
    let (status, _, body) = w.get_as("nobody.zygo.test", "/o/nobody").await;
    assert_eq!(status, 404);
    assert!(body.contains("No organisation is reachable at <b>nobody.zygo.test</b>"), "{body}");
    let (status, _, _) = w.get_as("zygo.test", "/healthz").await;
    assert_eq!(status, 200);
    let ask = w.app.http.get(w.app.url("/tls/ask?domain=acme.zygo.test")).send().await.unwrap();
    assert_eq!(ask.status(), 200);
    let ask = w.app.http.get(w.app.url("/tls/ask?domain=nobody.zygo.test")).send().await.unwrap();
    assert_eq!(ask.status(), 404);
    // Names under the base domain are the platform's, not custom domains.
    let under = w.add(&w.owner, &w.tenant, "shop.zygo.test").await;
    assert_eq!(under.field(), "input.domain");
    let reserved = w
        .call(
            &w.owner,
            doc!("tenancy/CreateTenant"),
            json!({ "input": { "name": "Admin", "slug": "admin" } }),
        )
        .await;
    assert_eq!((reserved.code().as_str(), reserved.field().as_str()), ("BAD_USER_INPUT", "input.slug"));
}
