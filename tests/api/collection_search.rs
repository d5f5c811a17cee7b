//! Searching collected records: full-text words (FTS5 / tsvector) with highlighted snippets
//! and relevance, every sort paged forward and backward without a row skipped or repeated,
//! filters with validation errors naming the field, saved searches and suggestions from the
//! caller's history. Records come from the sample collector (deterministic per URL).

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::{collection::World, collection::world, doc};

const URLS: &str = "https://www.instagram.com/p/alpha\nhttps://www.instagram.com/p/bravo\n\
                    https://www.instagram.com/p/charlie\nhttps://www.instagram.com/p/delta\n\
                    https://www.instagram.com/p/echo\nhttps://www.instagram.com/p/foxtrot";

/// A project with a folder of the sample records of six URLs (18 records).
async fn collected(w: &World) -> (String, String) {
    let project = w.project(&w.owner, "Search").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let r = w.start(&w.owner, &project, &sample, URLS).await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let folder = w.job(&w.owner, &job).await["folderId"].as_str().unwrap().to_string();
    (project, folder)
}

async fn search(w: &World, project: &str, vars: Value) -> crate::helpers::Gql {
    let mut v = json!({ "projectId": project });
    v.as_object_mut().unwrap().extend(vars.as_object().unwrap().clone());
    w.gql(&w.owner, doc!("collection/SearchRecords"), v).await
}

fn nodes(conn: &Value) -> Vec<Value> {
    conn["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

async fn all(w: &World, project: &str) -> Vec<Value> {
    let r = search(w, project, json!({ "first": 100 })).await;
    nodes(&r.data()["project"]["recordSearch"])
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

#[tokio::test]
async fn words_find_records_with_highlighted_snippets_and_rank_by_relevance() {
    let w = world().await;
    let (project, _) = collected(&w).await;
    let every = all(&w, &project).await;
    assert_eq!(every.len(), 18);
    let word = every[0]["hashtags"][0].as_str().unwrap().to_string();
    let expected = every
        .iter()
        .filter(|n| {
            words(n["text"].as_str().unwrap()).contains(&word)
                || words(n["author"].as_str().unwrap()).contains(&word)
        })
        .count();
    let r = search(&w, &project, json!({ "filter": { "search": word.to_uppercase() }, "first": 100 })).await;
    let conn = &r.data()["project"]["recordSearch"];
    assert_eq!(conn["totalCount"], expected as i64);
    for e in conn["edges"].as_array().unwrap() {
        let parts = e["snippet"].as_array().expect("a snippet when searching words");
        assert!(
            parts
                .iter()
                .any(|p| p["highlighted"] == true && p["text"].as_str().unwrap().to_lowercase() == word),
            "{word} highlighted in {e}"
        );
    }
    // A prefix finds at least as much; two words narrow to records holding both.
    let prefix = format!("{}*", &word[..3]);
    let r = search(&w, &project, json!({ "filter": { "search": prefix }, "first": 100 })).await;
    assert!(r.data()["project"]["recordSearch"]["totalCount"].as_i64().unwrap() >= expected as i64);
    let other = every[0]["hashtags"][1].as_str().unwrap().to_string();
    let both = every
        .iter()
        .filter(|n| {
            let t = words(n["text"].as_str().unwrap());
            t.contains(&word) && t.contains(&other)
        })
        .count();
    let q = format!("{word} {other}");
    let r = search(
        &w,
        &project,
        json!({ "filter": { "search": q }, "sort": { "field": "RELEVANCE" }, "first": 100 }),
    )
    .await;
    assert_eq!(r.data()["project"]["recordSearch"]["totalCount"], both as i64);
    // Without words there is no snippet.
    let r = search(&w, &project, json!({ "first": 1 })).await;
    assert!(r.data()["project"]["recordSearch"]["edges"][0]["snippet"].is_null());
    // Nothing matches words that appear nowhere; wildcards are plain characters.
    let r = search(&w, &project, json!({ "filter": { "search": "100%_nothing" } })).await;
    assert_eq!(r.data()["project"]["recordSearch"]["totalCount"], 0);
}

fn key(n: &Value, field: &str) -> Value {
    match field {
        "POSTED_AT" => json!(
            n["postedAt"]
                .as_str()
                .map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis())
        ),
        "LIKES" => n["likes"].clone(),
        "COMMENTS" => n["comments"].clone(),
        "SHARES" => n["shares"].clone(),
        "VIEWS" => n["views"].clone(),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn every_sort_pages_forward_and_backward_without_skipping_or_repeating() {
    let w = world().await;
    let (project, _) = collected(&w).await;
    let every: HashSet<String> =
        all(&w, &project).await.iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
    for field in ["COLLECTED", "POSTED_AT", "LIKES", "COMMENTS", "SHARES", "VIEWS"] {
        for dir in ["ASC", "DESC"] {
            let sort = json!({ "field": field, "direction": dir });
            let mut seen: Vec<Value> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let r = search(&w, &project, json!({ "sort": sort, "first": 4, "after": after })).await;
                let conn = r.data()["project"]["recordSearch"].clone();
                seen.extend(nodes(&conn));
                if conn["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = conn["pageInfo"]["endCursor"].as_str().map(str::to_string);
            }
            let ids: Vec<String> = seen.iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
            assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), every, "{field} {dir}");
            assert_eq!(ids.len(), every.len(), "{field} {dir}: no row twice");
            for pair in seen.windows(2) {
                let (a, b) = (key(&pair[0], field), key(&pair[1], field));
                if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                    assert!(if dir == "ASC" { a <= b } else { a >= b }, "{field} {dir}: {a} then {b}");
                }
            }
            // Backward from the end gives the same order.
            let mut back: Vec<String> = Vec::new();
            let mut before: Option<String> = None;
            loop {
                let r = search(&w, &project, json!({ "sort": sort, "last": 5, "before": before })).await;
                let conn = r.data()["project"]["recordSearch"].clone();
                let mut page: Vec<String> =
                    nodes(&conn).iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
                page.extend(back);
                back = page;
                if conn["pageInfo"]["hasPreviousPage"] != true {
                    break;
                }
                before = conn["pageInfo"]["startCursor"].as_str().map(str::to_string);
            }
            assert_eq!(back, ids, "{field} {dir} backward");
        }
    }
}

#[tokio::test]
async fn filters_combine_and_bad_ones_name_the_field() {
    let w = world().await;
    let (project, folder) = collected(&w).await;
    let every = all(&w, &project).await;
    let count = |f: &dyn Fn(&Value) -> bool| every.iter().filter(|n| f(n)).count() as i64;
    let total = |r: &crate::helpers::Gql| r.data()["project"]["recordSearch"]["totalCount"].clone();
    let mut comments: Vec<i64> = every.iter().map(|n| n["comments"].as_i64().unwrap()).collect();
    comments.sort();
    let (lo, hi) = (comments[4], comments[12]);
    let r = search(&w, &project, json!({ "filter": { "minComments": lo, "maxComments": hi } })).await;
    assert_eq!(total(&r), count(&|n| (lo..=hi).contains(&n["comments"].as_i64().unwrap())));
    let r = search(&w, &project, json!({ "filter": { "url": "/P/CHARLIE" } })).await;
    assert_eq!(total(&r), 3);
    let mut dates: Vec<String> = every.iter().map(|n| n["postedAt"].as_str().unwrap().to_string()).collect();
    dates.sort();
    let r =
        search(&w, &project, json!({ "filter": { "postedFrom": dates[5], "postedTo": dates[10] } })).await;
    assert_eq!(total(&r), 5);
    let r = search(&w, &project, json!({ "folderId": folder, "filter": { "platform": "instagram", "serviceType": "posts", "minViews": 0 } })).await;
    assert_eq!(total(&r), 18);
    let r = search(&w, &project, json!({ "filter": { "platform": "tiktok" } })).await;
    assert_eq!(total(&r), 0);

    let r = search(&w, &project, json!({ "filter": { "minLikes": 10, "maxLikes": 2 } })).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "filter.maxLikes"), "{}", r.0);
    let r = search(&w, &project, json!({ "filter": { "minShares": -1 } })).await;
    assert_eq!(r.field(), "filter.minShares");
    let r =
        search(&w, &project, json!({ "filter": { "postedFrom": dates[10], "postedTo": dates[5] } })).await;
    assert_eq!(r.field(), "filter.postedTo");
    let r = search(&w, &project, json!({ "sort": { "field": "RELEVANCE" } })).await;
    assert_eq!(r.field(), "sort.field");
    let r = search(&w, &project, json!({ "sort": { "field": "LIKES" }, "first": 2 })).await;
    let cursor = r.data()["project"]["recordSearch"]["pageInfo"]["endCursor"].clone();
    let r = search(&w, &project, json!({ "sort": { "field": "VIEWS" }, "after": cursor })).await;
    assert_eq!(r.field(), "after", "a cursor of another sort: {}", r.0);
    // Folder records take the same sort.
    let r = w
        .gql(
            &w.owner,
            doc!("collection/FolderRecords"),
            json!({ "id": folder, "sort": { "field": "LIKES", "direction": "DESC" }, "first": 1 }),
        )
        .await;
    let top = r.data()["collectionFolder"]["records"]["edges"][0]["node"]["likes"].as_i64().unwrap();
    assert_eq!(top, every.iter().map(|n| n["likes"].as_i64().unwrap()).max().unwrap());
}

#[tokio::test]
async fn saved_searches_are_kept_per_project_and_history_suggests_queries() {
    let w = world().await;
    let (project, folder) = collected(&w).await;
    let create = |name: &str, filter: Value| {
        w.gql(
            &w.owner,
            doc!("collection/CreateSavedSearch"),
            json!({ "input": { "projectId": project, "name": name, "folderId": folder, "filter": filter,
                               "sort": { "field": "LIKES", "direction": "DESC" } } }),
        )
    };
    let r = create("Popular sunsets", json!({ "search": "sunset", "minLikes": 10 })).await;
    let s = r.data()["createSavedSearch"]["savedSearch"].clone();
    assert_eq!(s["filter"]["search"], "sunset");
    assert_eq!(s["sort"], json!({ "field": "LIKES", "direction": "DESC" }));
    let r = create("Popular sunsets", json!({})).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("CONFLICT", "input.name"));
    let r = create("Bad", json!({ "minViews": 5, "maxViews": 1 })).await;
    assert_eq!(r.field(), "input.filter.maxViews");
    let r = w
        .gql(
            &w.owner,
            doc!("collection/UpdateSavedSearch"),
            json!({ "input": { "savedSearchId": s["id"], "name": "Sunsets", "wholeProject": true,
                               "filter": { "search": "sunset" } } }),
        )
        .await;
    let u = &r.data()["updateSavedSearch"]["savedSearch"];
    assert_eq!(
        (u["name"].as_str(), u["folderId"].is_null(), &u["filter"]["minLikes"]),
        (Some("Sunsets"), true, &Value::Null)
    );

    for q in ["sunset", "coffee time", "sunset", "summer"] {
        w.clock.advance(chrono::Duration::seconds(1));
        search(&w, &project, json!({ "filter": { "search": q } })).await.data();
    }
    let r = w
        .gql(&w.owner, doc!("collection/SavedSearches"), json!({ "projectId": project, "prefix": "su" }))
        .await;
    let p = &r.data()["project"];
    assert_eq!(p["searchSuggestions"], json!(["summer", "sunset"]), "most recent first, each once");
    assert_eq!(p["savedSearches"].as_array().unwrap().len(), 1);
    let r = w.gql(&w.owner, doc!("collection/DeleteSavedSearch"), json!({ "id": s["id"] })).await;
    assert_eq!(r.data()["deleteSavedSearch"]["savedSearch"]["name"], "Sunsets");
    let r = w.gql(&w.owner, doc!("collection/SavedSearch"), json!({ "id": s["id"] })).await;
    assert_eq!(r.code(), "NOT_FOUND");
}

#[tokio::test]
async fn copied_records_show_in_both_folders_once_in_the_project_and_go_with_their_folder() {
    let w = world().await;
    let (project, home) = collected(&w).await;
    let other_folder = |name: &str| {
        let name = name.to_string();
        let project = project.clone();
        let w = &w;
        async move {
            let r = w
                .gql(
                    &w.owner,
                    doc!("collection/CreateCollectionFolder"),
                    json!({ "input": { "projectId": project, "name": name } }),
                )
                .await;
            r.data()["createCollectionFolder"]["folder"]["id"].as_str().unwrap().to_string()
        }
    };
    let picks = other_folder("Picks").await;
    let first = w.records(&w.owner, &home, json!(null)).await;
    let ids: Vec<Value> =
        first["records"]["edges"].as_array().unwrap()[..4].iter().map(|e| e["node"]["id"].clone()).collect();
    let copy = |ids: Vec<Value>, folder: String| {
        let w = &w;
        async move {
            w.gql(
                &w.owner,
                doc!("collection/CopyCollectedRecords"),
                json!({ "input": { "recordIds": ids, "folderId": folder } }),
            )
            .await
        }
    };
    assert_eq!(copy(ids.clone(), picks.clone()).await.data()["copyCollectedRecords"]["moved"], 4);
    // Copying again adds nothing.
    assert_eq!(copy(ids.clone(), picks.clone()).await.data()["copyCollectedRecords"]["moved"], 0);
    let in_picks = w.records(&w.owner, &picks, json!(null)).await;
    assert_eq!(
        (in_picks["records"]["totalCount"].as_i64(), in_picks["recordCount"].as_i64()),
        (Some(4), Some(4))
    );
    let got: HashSet<Value> =
        in_picks["records"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].clone()).collect();
    assert_eq!(got, ids.iter().cloned().collect::<HashSet<_>>());
    assert_eq!(w.records(&w.owner, &home, json!(null)).await["records"]["totalCount"], 18, "still at home");
    assert_eq!(all(&w, &project).await.len(), 18, "once in the project");

    // A folder holding copies is not empty; deleted with its contents, only the copies go.
    let r = w.gql(&w.owner, doc!("collection/DeleteCollectionFolder"), json!({ "id": picks })).await;
    assert_eq!(r.code(), "CONFLICT");
    w.gql(&w.owner, doc!("collection/DeleteCollectionFolder"), json!({ "id": picks, "withContents": true }))
        .await
        .data();
    assert_eq!(w.records(&w.owner, &home, json!(null)).await["records"]["totalCount"], 18);

    // Moved home to a folder it was copied into, a record is no longer a copy there.
    let shelf = other_folder("Shelf").await;
    copy(ids[..2].to_vec(), shelf.clone()).await.data();
    w.gql(
        &w.owner,
        doc!("collection/MoveCollectedRecords"),
        json!({ "input": { "recordIds": [ids[0].clone()], "folderId": shelf } }),
    )
    .await
    .data();
    let on_shelf = w.records(&w.owner, &shelf, json!(null)).await;
    assert_eq!(on_shelf["records"]["totalCount"], 2, "one moved, one copied, each once");

    // Not into another project's folder.
    let elsewhere = w.project(&w.owner, "Elsewhere").await;
    let r = w
        .gql(
            &w.owner,
            doc!("collection/CreateCollectionFolder"),
            json!({ "input": { "projectId": elsewhere, "name": "Theirs" } }),
        )
        .await;
    let theirs = r.data()["createCollectionFolder"]["folder"]["id"].as_str().unwrap().to_string();
    let r = copy(ids.clone(), theirs).await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT".to_string(), "input.recordIds".to_string()));
}
