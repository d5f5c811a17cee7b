//! The sample provider of the embedded default: realistic records for each input URL, made
//! up locally (no account, no network) in BrightData's output shape, so the whole path —
//! normalising, de-duplication, folders, search — runs without a provider. The same URL gives
//! the same posts; their metrics grow with time, so a re-collection updates them.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const WORDS: &[&str] = &[
    "sunset", "coffee", "launch", "travel", "recipe", "workout", "design", "music", "city", "weekend",
    "product", "team", "ocean", "mountain", "review",
];

fn seed(s: &str) -> u64 {
    let d = Sha256::digest(s.as_bytes());
    u64::from_be_bytes(d[..8].try_into().unwrap_or_default())
}

/// Items (BrightData post shape) for `url` of `platform`, as seen at `now`.
pub fn items_for(platform: &str, service_type: &str, url: &str, now: DateTime<Utc>) -> Vec<Value> {
    let author = url
        .trim_end_matches('/')
        .rsplit('/')
        .find(|s| !s.is_empty() && !matches!(*s, "p" | "reel" | "status" | "video"))
        .unwrap_or("someone");
    let author = author.trim_start_matches('@').chars().take(30).collect::<String>();
    let per = if service_type == "profiles" { 1 } else { 3 };
    (0..per)
        .map(|i| {
            let s = seed(&format!("{url}#{i}"));
            let (a, b) = ((s % 15) as usize, ((s >> 8) % 14) as usize);
            // Two different words: the second skips over the first.
            let (w1, w2) = (WORDS[a], WORDS[if b >= a { b + 1 } else { b }]);
            // A fixed posting time per post, so later collections see the same post older.
            let epoch = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now);
            let posted = epoch + Duration::hours(((s >> 16) % 7_000) as i64);
            // Engagement grows with the post's age in hours.
            let age = (now - posted).num_hours().max(1);
            let likes = (s >> 24) % 500 + age as u64 * 3;
            json!({
                "post_id": format!("{platform}-{:016x}", s),
                "url": format!("{url}#sample-{i}"),
                "user_posted": author,
                "description": format!("A {w1} moment and some {w2} #{w1} #{w2} with @{author}"),
                "date_posted": posted.to_rfc3339(),
                "likes": likes,
                "num_comments": likes / 12,
                "shares": likes / 40,
                "views": likes * 9,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_url_gives_the_same_posts_with_growing_metrics() {
        let now = Utc::now();
        let a = items_for("instagram", "posts", "https://www.instagram.com/p/A", now);
        let b = items_for("instagram", "posts", "https://www.instagram.com/p/A", now + Duration::hours(5));
        assert_eq!(a.len(), 3);
        assert_eq!(a[0]["post_id"], b[0]["post_id"]);
        assert!(b[0]["likes"].as_u64() > a[0]["likes"].as_u64());
        let n = crate::modules::collection::records::normalise(&a[0], &json!({})).unwrap();
        assert!(!n.hashtags.is_empty() && n.likes > 0);
    }
}
