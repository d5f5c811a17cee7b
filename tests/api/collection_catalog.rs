//! The catalog's checks against the BrightData fake (tests/clients/brightdata-fake.mjs), for
//! platform administrators: an environment's stored token checked with a harmless read
//! (stamped when it works, unstamped when refused), and a platform service's dataset tested —
//! its fields, the fields its output mapping reads that the dataset lacks, an unknown dataset.

use serde_json::{Value, json};

use crate::{
    collection::{World, brightdata_world},
    doc,
};

async fn validate(w: &World, env: &str) -> crate::helpers::Gql {
    w.gql(&w.admin, doc!("collection/ValidateBrightDataCredentials"), json!({ "environment": env })).await
}

async fn test_service(w: &World, id: &Value) -> Value {
    w.gql(&w.admin, doc!("collection/TestPlatformService"), json!({ "id": id })).await.data()["testPlatformService"]
        .clone()
}

/// A BrightData service of `dataset` reading `mapping`, on a platform and service type the
/// catalog does not pair yet.
async fn service(w: &World, dataset: &str, mapping: Value) -> Value {
    let catalog = w.gql(&w.admin, doc!("collection/CollectionCatalog"), json!({})).await;
    let d = catalog.data();
    let taken: Vec<(Value, Value)> = d["platformServices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["platformId"].clone(), s["serviceType"].clone()))
        .collect();
    let (platform, kind) = d["collectionPlatforms"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| ["posts", "comments", "reels", "profiles"].map(|t| (p["id"].clone(), json!(t))))
        .find(|pair| !taken.contains(pair))
        .expect("a free platform and service type");
    let r = w
        .gql(
            &w.admin,
            doc!("collection/CreatePlatformService"),
            json!({ "input": {
                "platformId": platform, "serviceType": kind, "name": format!("Test {dataset} {}", taken.len()),
                "provider": "BRIGHTDATA", "datasetId": dataset,
                "inputSchema": { "type": "object" }, "outputMapping": mapping
            } }),
        )
        .await;
    r.data()["createPlatformService"]["id"].clone()
}

#[tokio::test]
async fn credentials_are_checked_with_brightdata_and_a_refused_token_loses_its_stamp() {
    let (w, _fake, base) = brightdata_world().await;
    let r = validate(&w, "staging").await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT".to_string(), "environment".to_string()));
    w.brightdata(&base).await;
    let stored = w.gql(&w.admin, doc!("collection/BrightDataCredentials"), json!({})).await;
    let list = stored.data()["brightDataCredentials"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["environment"].as_str(), list[0]["validatedAt"].is_null()),
        (Some("development"), true)
    );

    let check = validate(&w, "development").await.data()["validateBrightDataCredentials"].clone();
    assert_eq!((check["ok"].as_bool(), check["datasetCount"].as_i64()), (Some(true), Some(1)), "{check}");
    assert!(check["validatedAt"].is_string());
    let stored = w.gql(&w.admin, doc!("collection/BrightDataCredentials"), json!({})).await;
    assert_eq!(stored.data()["brightDataCredentials"][0]["validatedAt"], check["validatedAt"]);

    // Another token BrightData refuses: the check says why and the stamp goes.
    w.gql(
        &w.admin,
        doc!("collection/SetBrightDataCredentials"),
        json!({ "input": { "environment": "development", "apiToken": "not-the-token", "webhookSecret": "notify-secret-0123456789" } }),
    )
    .await
    .data();
    let check = validate(&w, "development").await.data()["validateBrightDataCredentials"].clone();
    assert_eq!(check["ok"], false);
    assert!(check["message"].as_str().unwrap().contains("401"), "{check}");
    let stored = w.gql(&w.admin, doc!("collection/BrightDataCredentials"), json!({})).await;
    assert!(stored.data()["brightDataCredentials"][0]["validatedAt"].is_null());

    // Organisations' owners reach none of it.
    let r = validate(&World { admin: w.owner.clone(), ..w }, "development").await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn a_dataset_test_lists_its_fields_and_names_those_the_mapping_reads_that_it_lacks() {
    let (w, _fake, base) = brightdata_world().await;
    w.brightdata(&base).await;
    let good =
        service(&w, "gd_lk5ns7kz21pck8jpis", json!({ "author": "user_posted", "likes": "likes" })).await;
    let t = test_service(&w, &good).await;
    assert_eq!(t["ok"], true, "{t}");
    assert!(t["fields"].as_array().unwrap().iter().any(|f| f == "user_posted"));
    assert_eq!(t["missingFields"], json!([]));

    let off =
        service(&w, "gd_lk5ns7kz21pck8jpis", json!({ "author": "owner.username", "text": "caption" })).await;
    let t = test_service(&w, &off).await;
    assert_eq!(
        (t["ok"].as_bool(), t["missingFields"].clone()),
        (Some(false), json!(["caption", "owner"])),
        "{t}"
    );

    let unknown = service(&w, "gd_nosuchdataset0000", json!({})).await;
    let t = test_service(&w, &unknown).await;
    assert_eq!(t["ok"], false);
    assert!(t["message"].as_str().unwrap().contains("does not exist"), "{t}");

    // The sample collector has no dataset to test.
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    assert_eq!(test_service(&w, &json!(sample)).await["ok"], true);
}
