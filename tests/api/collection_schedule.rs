//! Auto-update of collection jobs and "run now": a job with an interval collects its inputs
//! again into the same folder when its time comes (records seen again updated, not
//! duplicated), a changed or stopped schedule drops the run planned before, bad intervals
//! change nothing, and the organisation's collection administrators can make what a job waits
//! for (its next run, a BrightData poll waiting to be tried again) happen now.

use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    collection::{World, brightdata_world, world},
    doc,
    helpers::{Backend, Options, spawn_app_on},
};

async fn jobs(w: &World, project: &str) -> Vec<Value> {
    let p = w.gql(&w.owner, doc!("collection/Project"), json!({ "id": project })).await;
    p.data()["project"]["collectionJobs"].as_array().unwrap().clone()
}

async fn start_every(w: &World, project: &str, collector: &str, hours: Value) -> crate::helpers::Gql {
    w.gql(
        &w.owner,
        doc!("collection/StartCollectionJob"),
        json!({ "input": {
            "projectId": project, "collectorId": collector,
            "urls": "https://www.instagram.com/p/AAA", "repeatEveryHours": hours
        } }),
    )
    .await
}

fn at(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap_or_else(|| panic!("not a time: {v}")).parse().unwrap()
}

#[tokio::test]
async fn an_auto_updated_job_collects_again_into_its_folder_until_its_schedule_is_stopped() {
    let w = world().await;
    let project = w.project(&w.owner, "Watch").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    let r = start_every(&w, &project, &sample, json!(6)).await;
    let first = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.data()["startCollectionJob"]["job"]["repeatEveryHours"], 6);
    w.drain().await;
    let done = w.job(&w.owner, &first).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    // Six hours after it started (to the second).
    let gap = at(&done["nextRunAt"]) - at(&done["createdAt"]);
    assert!(gap > Duration::hours(6) - Duration::seconds(1) && gap <= Duration::hours(6), "{done}");
    let folder = done["folderId"].as_str().unwrap().to_string();
    // Nothing runs before its time.
    w.clock.advance(Duration::hours(5));
    w.drain().await;
    assert_eq!(jobs(&w, &project).await.len(), 1);

    w.clock.advance(Duration::hours(1));
    w.drain().await;
    let all = jobs(&w, &project).await;
    assert_eq!(all.len(), 2, "{all:?}");
    let second = all.iter().find(|j| j["id"] != first.as_str()).unwrap().clone();
    assert_eq!(second["repeatOfId"], first.as_str());
    assert_eq!(second["folderId"], folder.as_str(), "the same folder");
    assert_eq!(second["status"], "SUCCEEDED");
    assert_eq!(second["repeatEveryHours"], 6);
    assert!(second["nextRunAt"].is_string(), "the schedule goes on: {second}");
    assert!(w.job(&w.owner, &first).await["nextRunAt"].is_null(), "the plan was passed on");
    let recs = w.records(&w.owner, &folder, json!(null)).await;
    assert_eq!(recs["records"]["totalCount"], 3, "seen again, not duplicated");

    // Every 12 hours instead: the run planned for 6 hours later does nothing.
    let second = second["id"].as_str().unwrap().to_string();
    let r = w
        .gql(&w.owner, doc!("collection/SetCollectionJobSchedule"), json!({ "id": second, "everyHours": 12 }))
        .await;
    let job = r.data()["setCollectionJobSchedule"]["job"].clone();
    assert_eq!(job["repeatEveryHours"], 12);
    w.clock.advance(Duration::hours(6));
    w.drain().await;
    assert_eq!(jobs(&w, &project).await.len(), 2, "the old plan did nothing");
    w.clock.advance(Duration::hours(6));
    w.drain().await;
    let all = jobs(&w, &project).await;
    assert_eq!(all.len(), 3);
    let third = all.iter().find(|j| j["nextRunAt"].is_string()).unwrap()["id"].as_str().unwrap().to_string();

    // Stopped: no run is planned and none comes.
    let r = w
        .gql(
            &w.owner,
            doc!("collection/SetCollectionJobSchedule"),
            json!({ "id": third, "everyHours": null }),
        )
        .await;
    let job = r.data()["setCollectionJobSchedule"]["job"].clone();
    assert!(job["repeatEveryHours"].is_null() && job["nextRunAt"].is_null(), "{job}");
    w.clock.advance(Duration::hours(24));
    w.drain().await;
    assert_eq!(jobs(&w, &project).await.len(), 3);
}

#[tokio::test]
async fn a_bad_interval_is_refused_naming_the_field_and_nothing_is_created() {
    let w = world().await;
    let project = w.project(&w.owner, "Watch").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    for bad in [0, 721] {
        let r = start_every(&w, &project, &sample, json!(bad)).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{}", r.0);
        assert_eq!(r.field(), "input.repeatEveryHours");
    }
    assert!(jobs(&w, &project).await.is_empty());
    let r = start_every(&w, &project, &sample, json!(null)).await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    let r = w
        .gql(&w.owner, doc!("collection/SetCollectionJobSchedule"), json!({ "id": job, "everyHours": -3 }))
        .await;
    assert_eq!(r.field(), "input.repeatEveryHours");
    assert!(w.job(&w.owner, &job).await["repeatEveryHours"].is_null());
}

#[tokio::test]
async fn run_now_starts_the_next_run_at_once_for_collection_administrators_only() {
    let w = world().await;
    let project = w.project(&w.owner, "Watch").await;
    let sample = w.collector(&w.owner, "Instagram posts (sample)").await;
    // A job without a plan that ended has nothing to run.
    let r = start_every(&w, &project, &sample, json!(null)).await;
    let once = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    let r = w.gql(&w.owner, doc!("collection/RunCollectionJobNow"), json!({ "id": once })).await;
    assert_eq!(r.code(), "CONFLICT");

    let r = start_every(&w, &project, &sample, json!(24)).await;
    let daily = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    // A project editor without `collection.manage` may not.
    let (member, _) = w.app.join_as(&w.owner, &w.tenant, "member@example.com", "member").await;
    w.gql(
        &w.owner,
        doc!("collection/SetProjectMember"),
        json!({ "input": { "projectId": project, "userId": member.user_id, "role": "EDITOR" } }),
    )
    .await
    .data();
    let r = w.gql(&member, doc!("collection/RunCollectionJobNow"), json!({ "id": daily })).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(jobs(&w, &project).await.len(), 2);
    // The owner may: the next run happens without waiting for its day.
    let r = w.gql(&w.owner, doc!("collection/RunCollectionJobNow"), json!({ "id": daily })).await;
    r.data();
    w.drain().await;
    let all = jobs(&w, &project).await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().any(|j| j["repeatOfId"] == daily.as_str() && j["status"] == "SUCCEEDED"));
}

#[tokio::test]
async fn run_now_makes_a_waiting_brightdata_poll_happen_at_once() {
    let (w, _fake, base) = brightdata_world().await;
    let _http = w.brightdata(&base).await;
    let project = w.project(&w.owner, "P").await;
    let reels = w.collector(&w.owner, "Instagram reels").await;
    let r = w.start(&w.owner, &project, &reels, "https://www.instagram.com/reel/OK1").await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    assert_eq!(w.job(&w.owner, &job).await["status"], "TRIGGERED");
    // The poll waits its minute; run now does not wait.
    w.gql(&w.owner, doc!("collection/RunCollectionJobNow"), json!({ "id": job })).await.data();
    w.drain().await;
    assert_eq!(w.job(&w.owner, &job).await["status"], "RUNNING", "polled at once");
}

#[tokio::test]
async fn workflow_nodes_collect_into_a_project_and_read_its_records_as_the_user_they_act_for() {
    use crate::workflows::{ExecutionStatus, Org, create, edge, execute, finished, node, node_state};
    // The system clock: the run waits for the collection job, which the workers run beside it.
    let app = spawn_app_on(Backend::fresh().await, Options::default()).await;
    let owner = app.verified_user("owner@example.com").await;
    let tenant = app.create_tenant(&owner, "acme").await;
    app.gql(
        Some(&owner.access),
        doc!("collection/CreateProject"),
        json!({ "input": { "tenantId": tenant, "name": "Feeds" } }),
    )
    .await
    .data();
    let o = Org { owner: owner.clone(), tenant: tenant.clone() };
    let (id, _) = create(
        &app,
        &o,
        "Collect",
        vec![
            node("start", "trigger.manual", json!({})),
            node(
                "collect",
                "collection.collect",
                json!({
                    "project": "Feeds", "collector": "Instagram posts (sample)",
                    "urls": ["https://www.instagram.com/p/AAA", "https://www.instagram.com/p/BBB"]
                }),
            ),
            node(
                "top",
                "collection.records",
                json!({ "project": "Feeds", "sort": { "field": "LIKES", "descending": true }, "limit": 2 }),
            ),
        ],
        vec![edge("e1", "start", "main", "collect"), edge("e2", "collect", "main", "top")],
    )
    .await;
    let run = execute(&app, &owner.access, &id, json!({})).await;
    let e = finished(&app, &owner.access, &run).await;
    assert_eq!(e.status, ExecutionStatus::SUCCEEDED, "{e:?}");
    let out = |n: &str| node_state(&e, n).output.clone().unwrap();
    let collected = out("collect");
    assert_eq!(collected["job"]["status"], "succeeded", "{collected}");
    assert_eq!((collected["count"].as_i64(), collected["items"].as_array().unwrap().len()), (Some(6), 6));
    // What the node collected is what the API shows.
    let job = app
        .gql(Some(&owner.access), doc!("collection/CollectionJob"), json!({ "id": collected["job"]["id"] }))
        .await
        .data()["collectionJob"]
        .clone();
    assert_eq!(
        (job["recordCount"].as_i64(), job["folderId"].clone()),
        (Some(6), collected["folderId"].clone())
    );
    let top = out("top");
    let items = top["items"].as_array().unwrap();
    assert_eq!((top["count"].as_i64(), items.len()), (Some(6), 2));
    assert!(items[0]["likes"].as_i64() >= items[1]["likes"].as_i64(), "{top}");

    // A member outside the project reads nothing of it through a node either.
    let (member, _) = app.join_as(&owner, &tenant, "member@example.com", "member").await;
    let (id, _) = create(
        &app,
        &Org { owner: member.clone(), tenant: tenant.clone() },
        "Peek",
        vec![
            node("start", "trigger.manual", json!({})),
            node("read", "collection.records", json!({ "project": "Feeds" })),
        ],
        vec![edge("e1", "start", "main", "read")],
    )
    .await;
    let run = execute(&app, &member.access, &id, json!({})).await;
    let e = finished(&app, &member.access, &run).await;
    assert_eq!(e.status, ExecutionStatus::FAILED, "{e:?}");
    assert!(format!("{e:?}").contains("project"), "{e:?}");
}

#[tokio::test]
async fn cancelling_a_brightdata_job_cancels_its_snapshot_there_once() {
    let (w, _fake, base) = brightdata_world().await;
    let http = w.brightdata(&base).await;
    let project = w.project(&w.owner, "P").await;
    let reels = w.collector(&w.owner, "Instagram reels").await;
    let r = w.start(&w.owner, &project, &reels, "https://www.instagram.com/reel/OK1").await;
    let job = r.data()["startCollectionJob"]["job"]["id"].as_str().unwrap().to_string();
    w.drain().await;
    assert_eq!(w.job(&w.owner, &job).await["status"], "TRIGGERED");
    w.gql(&w.owner, doc!("collection/CancelCollectionJob"), json!({ "id": job })).await.data();
    w.drain().await;
    let state: Value = http.get(format!("{base}/_state")).send().await.unwrap().json().await.unwrap();
    let snap = &state["triggers"][0];
    assert_eq!((snap["status"].as_str(), snap["cancelled"].as_i64()), (Some("canceled"), Some(1)), "{state}");
    // The later poll does nothing, and the job stays cancelled.
    w.clock.advance(Duration::seconds(61));
    w.drain().await;
    assert_eq!(w.job(&w.owner, &job).await["status"], "CANCELLED");
}
