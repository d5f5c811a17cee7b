//! Importing and exporting collected records over the real API: each export format written by
//! the background job, downloaded through its signed link and read back (the workbook with
//! `calamine`: header row, typed cells, frozen header), progress events of an export, links
//! altered, expired or of another organisation refused, and CSV imports checked per line —
//! nothing imported when a row is bad, the good rows with `skipInvalid`, re-imports updating
//! the records they name rather than duplicating them, an upload as a multipart file, an export
//! paging through a folder larger than one read, and imports stopped at the plan's allowance.

use std::collections::{BTreeMap, HashSet};

use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    collection::{World, world},
    doc,
    helpers::*,
};

const URLS: &str = "https://www.instagram.com/p/io-one\nhttps://www.instagram.com/p/io-two\n\
                    https://www.instagram.com/p/io-three\nhttps://www.instagram.com/p/io-four";

/// The header every format writes, in order.
const COLUMNS: &[&str] = &[
    "id",
    "platform",
    "serviceType",
    "externalId",
    "url",
    "author",
    "text",
    "hashtags",
    "mentions",
    "postedAt",
    "likes",
    "comments",
    "shares",
    "views",
    "collectedAt",
    "updatedAt",
];

/// A project with a folder of the sample records of four URLs (12 records).
async fn collected(w: &World) -> (String, String) {
    let project = w.project(&w.owner, "Exports").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let r = w.start(&w.owner, &project, &sample, URLS).await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let folder = w.job(&w.owner, &job).await["folderId"].as_str().unwrap().to_string();
    (project, folder)
}

/// The folder's records by external id.
async fn by_external_id(w: &World, folder: &str) -> BTreeMap<String, Value> {
    let f = w.records(&w.owner, folder, json!({})).await;
    f["records"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["node"]["externalId"].as_str().unwrap().to_string(), e["node"].clone()))
        .collect()
}

async fn start(w: &World, who: &Session, folder: &str, format: &str, filter: Value) -> Gql {
    w.gql(
        who,
        doc!("collection/StartRecordExport"),
        json!({ "input": { "folderId": folder, "format": format, "filter": filter } }),
    )
    .await
}

async fn export(w: &World, id: &str) -> Value {
    w.gql(&w.owner, doc!("collection/RecordExport"), json!({ "id": id })).await.data()["recordExport"].clone()
}

/// Exports `folder` to `format` (through the job) and returns the finished export.
async fn exported(w: &World, folder: &str, format: &str, filter: Value) -> Value {
    let r = start(w, &w.owner, folder, format, filter).await;
    let started = &r.data()["startRecordExport"]["export"];
    assert_eq!(started["state"], "PENDING", "{}", r.0);
    assert!(started["downloadUrl"].is_null(), "no link before the file exists");
    w.drain().await;
    let e = export(w, started["id"].as_str().unwrap()).await;
    assert_eq!(e["state"], "SUCCEEDED", "{e}");
    assert_eq!(e["writtenRows"], e["totalRows"]);
    assert_eq!(e["progress"], 1.0);
    e
}

/// The app's path of a download link (its host is the configured public URL).
fn path_of(url: &str) -> String {
    url[url.find("/collection/exports/").expect("an export link")..].to_string()
}

async fn download(w: &World, url: &str) -> reqwest::Response {
    w.app.http.get(w.app.url(&path_of(url))).send().await.unwrap()
}

async fn file(w: &World, e: &Value) -> (String, Vec<u8>) {
    let resp = download(w, e["downloadUrl"].as_str().unwrap()).await;
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
    let disposition = resp.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains(e["fileName"].as_str().unwrap()), "{disposition}");
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert_eq!(e["sizeBytes"], bytes.len() as i64);
    (kind, bytes)
}

#[tokio::test]
async fn a_folder_exports_to_csv_and_reads_back_row_for_row() {
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let records = by_external_id(&w, &folder).await;
    assert_eq!(records.len(), 12);
    let e = exported(&w, &folder, "CSV", json!(null)).await;
    assert_eq!(e["totalRows"], 12);
    assert!(e["fileName"].as_str().unwrap().ends_with(".csv"));
    let (kind, bytes) = file(&w, &e).await;
    assert!(kind.starts_with("text/csv"), "{kind}");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 12);
    for row in &rows {
        let r = &records[&row[3]];
        assert_eq!(row[0], r["id"].as_str().unwrap().to_string());
        assert_eq!(row[6], r["text"].as_str().unwrap().to_string(), "text survives quoting");
        assert_eq!(row[10].parse::<i64>().unwrap(), r["likes"].as_i64().unwrap());
        assert_eq!(row[13].parse::<i64>().unwrap(), r["views"].as_i64().unwrap());
        let tags: Vec<&str> = row[7].split(' ').filter(|t| !t.is_empty()).collect();
        assert_eq!(json!(tags), r["hashtags"]);
        let posted = chrono::DateTime::parse_from_rfc3339(&row[9]).unwrap();
        let expected = chrono::DateTime::parse_from_rfc3339(r["postedAt"].as_str().unwrap()).unwrap();
        assert_eq!(posted.timestamp(), expected.timestamp());
    }
}

#[tokio::test]
async fn a_filtered_export_to_json_lines_holds_only_the_matching_records() {
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let records = by_external_id(&w, &folder).await;
    let mut likes: Vec<i64> = records.values().map(|r| r["likes"].as_i64().unwrap()).collect();
    likes.sort();
    let median = likes[6];
    let expected: HashSet<String> = records
        .iter()
        .filter(|(_, r)| r["likes"].as_i64().unwrap() >= median)
        .map(|(k, _)| k.clone())
        .collect();
    let e = exported(&w, &folder, "JSON", json!({ "minLikes": median })).await;
    assert_eq!(e["totalRows"], expected.len() as i64);
    assert_eq!(e["filter"]["minLikes"], median);
    let (kind, bytes) = file(&w, &e).await;
    assert_eq!(kind, "application/x-ndjson");
    let lines: Vec<Value> =
        String::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        lines.iter().map(|l| l["externalId"].as_str().unwrap().to_string()).collect::<HashSet<_>>(),
        expected
    );
    for l in &lines {
        let r = &records[l["externalId"].as_str().unwrap()];
        for key in ["id", "platform", "serviceType", "url", "author", "text", "hashtags", "mentions", "likes"]
        {
            assert_eq!(l[key], r[key], "{key}");
        }
        assert!(l["raw"].is_object(), "the provider's payload comes along");
    }
    // A bad filter is named and starts nothing.
    let r = start(&w, &w.owner, &folder, "JSON", json!({ "minLikes": 5, "maxLikes": 1 })).await;
    assert_eq!(
        (r.code().as_str(), r.field().as_str()),
        ("BAD_USER_INPUT", "input.filter.maxLikes"),
        "{}",
        r.0
    );
}

#[tokio::test]
async fn an_xlsx_export_has_a_styled_frozen_header_and_typed_cells() {
    use calamine::{Data, Reader, Xlsx};
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let records = by_external_id(&w, &folder).await;
    let e = exported(&w, &folder, "XLSX", json!(null)).await;
    let (kind, bytes) = file(&w, &e).await;
    assert_eq!(kind, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let mut book = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let sheet = book.worksheet_range("Records").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows.len(), 13, "the header and 12 records");
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header, COLUMNS);
    for row in &rows[1..] {
        let Data::String(external) = &row[3] else { panic!("externalId is text: {:?}", row[3]) };
        let r = &records[external];
        assert_eq!(row[10], Data::Float(r["likes"].as_i64().unwrap() as f64), "likes is a number");
        assert_eq!(row[12], Data::Float(r["shares"].as_i64().unwrap() as f64));
        let Data::DateTime(posted) = &row[9] else { panic!("postedAt is a date: {:?}", row[9]) };
        let expected = chrono::DateTime::parse_from_rfc3339(r["postedAt"].as_str().unwrap()).unwrap();
        let serial = expected.timestamp() as f64 / 86_400.0 + 25_569.0;
        assert!((posted.as_f64() - serial).abs() < 1.0 / 86_400.0, "{} vs {serial}", posted.as_f64());
        assert_eq!(row[6], Data::String(r["text"].as_str().unwrap().to_string()));
    }
    // The header is frozen and bold: read off the package's own parts.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let part = |zip: &mut zip::ZipArchive<_>, name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let sheet_xml = part(&mut zip, "xl/worksheets/sheet1.xml");
    assert!(
        sheet_xml.contains(r#"ySplit="1""#) && sheet_xml.contains(r#"state="frozen""#),
        "{sheet_xml:.600}"
    );
    assert!(part(&mut zip, "xl/styles.xml").contains("<b/>"), "a bold header style");
}

#[tokio::test]
async fn export_progress_streams_until_the_download_link() {
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let r = start(&w, &w.owner, &folder, "CSV", json!(null)).await;
    let id = r.data()["startRecordExport"]["export"]["id"].as_str().unwrap().to_string();
    let mut ws = WsClient::connect(&w.app, "graphql-transport-ws").await;
    ws.init(Some(&w.owner.access)).await.expect("ack");
    ws.subscribe("1", doc!("collection/RecordExportUpdated"), json!({ "id": id })).await;
    let mut next = async || {
        let msg = ws.next_json().await.expect("an event");
        assert_eq!(msg["type"], "next", "{msg}");
        msg["payload"]["data"]["recordExportUpdated"].clone()
    };
    // The export as it is when the subscription starts (nothing runs until the test drains).
    let now = next().await;
    assert_eq!((now["id"].as_str(), now["state"].as_str()), (Some(id.as_str()), Some("PENDING")));
    w.drain().await;
    let mut seen = vec![now];
    while seen.last().unwrap()["state"] != "SUCCEEDED" {
        seen.push(next().await);
    }
    let states: Vec<&str> = seen.iter().map(|e| e["state"].as_str().unwrap()).collect();
    assert_eq!(states.first(), Some(&"PENDING"));
    assert!(states.contains(&"RUNNING"), "{states:?}");
    let progress: Vec<f64> = seen.iter().map(|e| e["progress"].as_f64().unwrap()).collect();
    assert!(progress.windows(2).all(|p| p[0] <= p[1]), "progress only grows: {progress:?}");
    let done = seen.last().unwrap();
    assert_eq!((done["writtenRows"].as_i64(), done["totalRows"].as_i64()), (Some(12), Some(12)));
    assert!(seen[..seen.len() - 1].iter().all(|e| e["downloadUrl"].is_null()));
    assert_eq!(download(&w, done["downloadUrl"].as_str().unwrap()).await.status(), 200);
}

#[tokio::test]
async fn an_altered_or_expired_link_is_refused() {
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let e = exported(&w, &folder, "CSV", json!(null)).await;
    let url = e["downloadUrl"].as_str().unwrap().to_string();
    assert_eq!(download(&w, &url).await.status(), 200);
    let (base, query) = url.split_once('?').unwrap();
    let params: BTreeMap<&str, &str> = query.split('&').filter_map(|p| p.split_once('=')).collect();
    let expires: i64 = params["expires"].parse().unwrap();
    let sig = params["sig"];
    let forged_sig = format!(
        "{base}?expires={expires}&sig={}",
        sig.replace(&sig[..1], if &sig[..1] == "a" { "b" } else { "a" })
    );
    let longer = format!("{base}?expires={}&sig={sig}", expires + 3600);
    let other_export = format!("{}/{}?{query}", base.rsplit_once('/').unwrap().0, uuid::Uuid::now_v7());
    for bad in [forged_sig, longer, other_export, format!("{base}?expires={expires}")] {
        let resp = download(&w, &bad).await;
        assert_eq!(resp.status(), 404, "{bad}");
    }
    // Past its 15 minutes the link is refused; a fresh read gives one that works.
    w.clock.advance(Duration::minutes(16));
    assert_eq!(download(&w, &url).await.status(), 404);
    let fresh = export(&w, e["id"].as_str().unwrap()).await;
    assert_eq!(download(&w, fresh["downloadUrl"].as_str().unwrap()).await.status(), 200);
}

#[tokio::test]
async fn another_organisations_export_and_link_are_refused() {
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let e = exported(&w, &folder, "JSON", json!(null)).await;
    let id = e["id"].as_str().unwrap();
    // Someone of another organisation, with an export of their own.
    let other = w.app.verified_user("other@example.com").await;
    let tenant = w.app.create_tenant(&other, "globex").await;
    let r = w
        .gql(
            &other,
            doc!("collection/CreateProject"),
            json!({ "input": { "tenantId": tenant, "name": "Theirs" } }),
        )
        .await;
    let project = r.data()["createProject"]["project"]["id"].clone();
    let r = w
        .gql(
            &other,
            doc!("collection/CreateCollectionFolder"),
            json!({ "input": { "projectId": project, "name": "f" } }),
        )
        .await;
    let theirs = r.data()["createCollectionFolder"]["folder"]["id"].as_str().unwrap().to_string();
    let r = start(&w, &other, &theirs, "CSV", json!(null)).await;
    let their_export = r.data()["startRecordExport"]["export"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let their = w.gql(&other, doc!("collection/RecordExport"), json!({ "id": their_export })).await;
    let their_url = their.data()["recordExport"]["downloadUrl"].as_str().unwrap().to_string();
    assert_eq!(download(&w, &their_url).await.status(), 200, "an empty folder exports too");

    let r = w.gql(&other, doc!("collection/RecordExport"), json!({ "id": id })).await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.0);
    let r = start(&w, &other, &folder, "CSV", json!(null)).await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.0);
    let mut ws = WsClient::connect(&w.app, "graphql-transport-ws").await;
    ws.init(Some(&other.access)).await.expect("ack");
    ws.subscribe("1", doc!("collection/RecordExportUpdated"), json!({ "id": id })).await;
    let msg = ws.next_json().await.expect("an answer");
    // Refused when it starts: an error answer, never data.
    assert!(msg["payload"]["data"].is_null(), "{msg}");
    assert_eq!(msg["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{msg}");
    // Their signed link pointed at this organisation's export is refused.
    let a_tenant = path_of(e["downloadUrl"].as_str().unwrap()).split('/').nth(3).unwrap().to_string();
    let b_tenant = path_of(&their_url).split('/').nth(3).unwrap().to_string();
    let raw_id = path_of(e["downloadUrl"].as_str().unwrap())
        .split('/')
        .nth(4)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let their_raw = path_of(&their_url).split('/').nth(4).unwrap().split('?').next().unwrap().to_string();
    for bad in [their_url.replace(&their_raw, &raw_id), their_url.replace(&b_tenant, &a_tenant)] {
        assert_eq!(download(&w, &bad).await.status(), 404, "{bad}");
    }
}

/// A project with an empty folder.
async fn empty_folder(w: &World) -> String {
    let project = w.project(&w.owner, "Imports").await;
    let r = w
        .gql(
            &w.owner,
            doc!("collection/CreateCollectionFolder"),
            json!({ "input": { "projectId": project, "name": "In" } }),
        )
        .await;
    r.data()["createCollectionFolder"]["folder"]["id"].as_str().unwrap().to_string()
}

async fn import(w: &World, folder: &str, csv: &str, skip: Option<bool>) -> Gql {
    w.gql(
        &w.owner,
        doc!("collection/ImportRecords"),
        json!({ "input": { "folderId": folder, "csv": csv, "skipInvalid": skip } }),
    )
    .await
}

const MIXED: &str = "platform,serviceType,externalId,url,author,text,likes,postedAt\n\
                     instagram,posts,imp-1,https://www.instagram.com/p/imp-1,ana,\"Sunny, #beach\",10,2026-11-30T10:00:00Z\n\
                     instagram,posts,imp-2,,bob,nothing,many,\n\
                     tiktok,reels,imp-3,,cy,\"two\nlines\",3,2026-11-29 08:30:00\n\
                     myspace,posts,,,dee,,1,yesterday\n";

#[tokio::test]
async fn a_bad_row_imports_nothing_and_every_error_names_its_line() {
    let w = world().await;
    let folder = empty_folder(&w).await;
    let r = import(&w, &folder, MIXED, None).await;
    assert_eq!((r.code().as_str(), r.field().as_str()), ("BAD_USER_INPUT", "input.csv"), "{}", r.0);
    let message = r.message();
    for part in [
        "nothing imported",
        "line 3: likes:",
        "line 6: platform:",
        "line 6: externalId:",
        "line 6: postedAt:",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert!(!message.contains("line 2") && !message.contains("line 4"), "{message}");
    assert_eq!(w.records(&w.owner, &folder, json!({})).await["records"]["totalCount"], 0);
    // A header naming what no record has is refused as a whole.
    let r = import(&w, &folder, "platform,serviceType,colour\ninstagram,posts,red\n", None).await;
    assert!(r.message().contains("line 1: unknown column `colour`"), "{}", r.0);
    let r =
        w.gql(&w.owner, doc!("collection/ImportRecords"), json!({ "input": { "folderId": folder } })).await;
    assert_eq!(r.field(), "input.csv");
}

#[tokio::test]
async fn skip_invalid_imports_the_good_rows_and_a_second_import_updates_them() {
    let w = world().await;
    let folder = empty_folder(&w).await;
    let r = import(&w, &folder, MIXED, Some(true)).await;
    let p = &r.data()["importRecords"];
    assert_eq!(
        (p["imported"].as_i64(), p["updated"].as_i64(), p["skipped"].as_i64()),
        (Some(2), Some(0), Some(2))
    );
    let lines: Vec<(i64, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["column"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(
        lines,
        vec![(3, "likes".into()), (6, "platform".into()), (6, "externalId".into()), (6, "postedAt".into())]
    );
    let records = by_external_id(&w, &folder).await;
    assert_eq!(records.keys().collect::<Vec<_>>(), ["imp-1", "imp-3"]);
    let one = &records["imp-1"];
    assert_eq!((one["platform"].as_str(), one["likes"].as_i64()), (Some("instagram"), Some(10)));
    assert_eq!(one["hashtags"], json!(["beach"]), "read off the text");
    assert_eq!(records["imp-3"]["text"], "two\nlines");
    assert_eq!(records["imp-3"]["postedAt"].as_str().map(|d| &d[..19]), Some("2026-11-29T08:30:00"));
    // The same identities again: updated in place, not duplicated.
    let again = "platform,serviceType,externalId,likes\ninstagram,posts,imp-1,99\n";
    let r = import(&w, &folder, again, None).await;
    assert_eq!(
        (r.data()["importRecords"]["imported"].as_i64(), r.data()["importRecords"]["updated"].as_i64()),
        (Some(0), Some(1))
    );
    let records = by_external_id(&w, &folder).await;
    assert_eq!((records.len(), records["imp-1"]["likes"].as_i64()), (2, Some(99)));
}

#[tokio::test]
async fn an_exported_csv_uploaded_as_a_file_imports_back_onto_the_same_records() {
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let e = exported(&w, &folder, "CSV", json!(null)).await;
    let (_, bytes) = file(&w, &e).await;
    let target = empty_folder(&w).await;
    let (status, body) = crate::resources::multipart(
        &w.app,
        Some(&w.owner.access),
        doc!("collection/ImportRecords"),
        json!({ "input": { "folderId": target } }),
        "records.csv",
        "text/csv",
        &bytes,
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let p = &body["data"]["importRecords"];
    assert_eq!((p["imported"].as_i64(), p["updated"].as_i64()), (Some(0), Some(12)), "{body}");
    // Known records stay in the folder they were collected into.
    assert_eq!(w.records(&w.owner, &target, json!({})).await["records"]["totalCount"], 0);
    assert_eq!(by_external_id(&w, &folder).await.len(), 12);
}

/// `n` records from `from` on, as CSV.
fn bulk(from: usize, n: usize) -> String {
    let mut csv = String::from("platform,serviceType,externalId,author,text,likes\n");
    for i in from..from + n {
        csv.push_str(&format!("instagram,posts,bulk-{i},author {},\"text, number {i}\",{i}\n", i % 7));
    }
    csv
}

async fn upload(w: &World, folder: &str, csv: &str) -> (reqwest::StatusCode, Value) {
    crate::resources::multipart(
        &w.app,
        Some(&w.owner.access),
        doc!("collection/ImportRecords"),
        json!({ "input": { "folderId": folder } }),
        "bulk.csv",
        "text/csv",
        csv.as_bytes(),
        true,
    )
    .await
}

#[tokio::test]
async fn an_export_pages_through_a_large_folder_and_imports_stop_at_the_plan_allowance() {
    // The shipped Free plan: 1,000 collected records a month.
    let w = crate::collection::world_with(vec![(SHIPPED_PLANS.0, SHIPPED_PLANS.1.to_string())]).await;
    let folder = empty_folder(&w).await;
    let (status, body) = upload(&w, &folder, &bulk(0, 1_234)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUOTA_EXCEEDED",
        "the free plan allows 1,000: {body}"
    );
    assert_eq!(w.records(&w.owner, &folder, json!({})).await["records"]["totalCount"], 0, "nothing imported");
    let (_, body) = upload(&w, &folder, &bulk(0, 1_000)).await;
    assert_eq!(body["data"]["importRecords"]["imported"], 1_000, "{body}");
    // More than one page of the export's reads, every record once.
    let e = exported(&w, &folder, "JSON", json!(null)).await;
    assert_eq!(e["totalRows"], 1_000);
    let (_, bytes) = file(&w, &e).await;
    let lines: Vec<Value> =
        String::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: HashSet<String> = lines.iter().map(|l| l["externalId"].as_str().unwrap().to_string()).collect();
    assert_eq!((lines.len(), ids.len()), (1_000, 1_000));
    assert_eq!(lines.iter().map(|l| l["likes"].as_i64().unwrap()).sum::<i64>(), (0..1_000).sum::<i64>());
    // Known records again cost nothing of the allowance; one new one is past it.
    let (_, body) = upload(&w, &folder, &bulk(0, 1_000)).await;
    assert_eq!(body["data"]["importRecords"]["updated"], 1_000, "{body}");
    let (_, body) = upload(&w, &folder, &bulk(999, 2)).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "QUOTA_EXCEEDED", "{body}");
    assert_eq!(w.records(&w.owner, &folder, json!({})).await["records"]["totalCount"], 1_000);
}

#[tokio::test]
async fn deleting_a_folder_removes_its_export_files_from_the_store() {
    use sea_orm::EntityTrait;
    let w = world().await;
    let (_, folder) = collected(&w).await;
    let e = exported(&w, &folder, "CSV", json!(null)).await;
    let keys: Vec<String> = entity::collection_export::Entity::find()
        .all(&w.app.db().await)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|x| x.storage_key)
        .collect();
    assert_eq!(keys.len(), 1);
    assert!(w.app.ctx.storage.get(&keys[0], None).await.is_ok(), "the file is stored");
    w.gql(&w.owner, doc!("collection/DeleteCollectionFolder"), json!({ "id": folder, "withContents": true }))
        .await
        .data();
    assert_eq!(download(&w, e["downloadUrl"].as_str().unwrap()).await.status(), 404, "the link is dead");
    w.drain().await;
    assert!(
        matches!(w.app.ctx.storage.get(&keys[0], None).await, Err(object_store::Error::NotFound { .. })),
        "the file left the store"
    );
}
