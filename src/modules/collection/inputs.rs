//! A job's inputs: URLs typed or pasted (one a line, or the first URL of each CSV row), each
//! checked against its platform's addresses and normalised (https, canonical host, no
//! tracking parameters or fragment), duplicates removed, and every bad line reported by its
//! number.

use reqwest::Url;

/// Most inputs of one job.
pub const MAX_INPUTS: usize = 5_000;

/// The hosts of a platform, the first being canonical.
fn hosts(platform: &str) -> Option<&'static [&'static str]> {
    Some(match platform {
        "instagram" => &["www.instagram.com", "instagram.com"],
        "tiktok" => &["www.tiktok.com", "tiktok.com", "vm.tiktok.com"],
        "facebook" => &["www.facebook.com", "facebook.com", "fb.com", "web.facebook.com"],
        "linkedin" => &["www.linkedin.com", "linkedin.com"],
        "x" => &["x.com", "twitter.com", "www.twitter.com", "www.x.com"],
        "youtube" => &["www.youtube.com", "youtube.com", "youtu.be"],
        _ => return None,
    })
}

fn platform_label(platform: &str) -> String {
    match platform {
        "x" => "X".into(),
        "tiktok" => "TikTok".into(),
        "youtube" => "YouTube".into(),
        "linkedin" => "LinkedIn".into(),
        p => {
            let mut c = p.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        }
    }
}

/// One URL normalised for `platform`, or why it cannot be collected.
pub fn normalise_url(platform: &str, raw: &str) -> Result<String, String> {
    let raw = raw.trim().trim_matches(|c| c == '"' || c == '\'');
    let with_scheme = if raw.contains("://") { raw.to_string() } else { format!("https://{raw}") };
    let mut url = Url::parse(&with_scheme).map_err(|_| "not a URL".to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https addresses".into());
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    // Mobile hosts are the same pages.
    let host = host
        .strip_prefix("m.")
        .or_else(|| host.strip_prefix("mobile."))
        .map(|h| format!("www.{h}"))
        .unwrap_or(host);
    if let Some(known) = hosts(platform) {
        let bare = host.trim_start_matches("www.");
        if !known.iter().any(|h| h.trim_start_matches("www.") == bare) {
            return Err(format!("not an address of {}", platform_label(platform)));
        }
        if platform == "youtube" && bare == "youtu.be" {
            let id = url.path().trim_matches('/').to_string();
            if id.is_empty() {
                return Err("a youtu.be address names a video".into());
            }
            return Ok(format!("https://www.youtube.com/watch?v={id}"));
        }
        url.set_host(Some(known[0])).map_err(|_| "not a URL".to_string())?;
    } else {
        url.set_host(Some(&host)).map_err(|_| "not a URL".to_string())?;
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err("the address names no page, profile or post".into());
    }
    let _ = url.set_scheme("https");
    url.set_fragment(None);
    // Only the video id survives of a query; everything else is tracking.
    let keep: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k == "v").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    url.set_query(None);
    if !keep.is_empty() {
        url.query_pairs_mut().extend_pairs(keep);
    }
    let mut s = url.to_string();
    if s.ends_with('/') && url.query().is_none() {
        s.pop();
    }
    Ok(s)
}

/// The URL of one line of text or CSV: the line itself, or its first cell that looks like one.
fn candidate(line: &str) -> &str {
    if line.contains(',') || line.contains(';') || line.contains('\t') {
        line.split([',', ';', '\t'])
            .map(str::trim)
            .find(|c| c.contains("://") || c.contains(".com/") || c.contains("youtu.be/"))
            .unwrap_or(line)
    } else {
        line
    }
}

/// Every URL of `text` for `platform`, normalised and each once (first occurrence kept), or
/// every bad line as `(line number, reason)`. Blank lines and a CSV header row (a first line
/// without a URL) are skipped.
pub fn parse(platform: &str, text: &str) -> Result<Vec<String>, Vec<(usize, String)>> {
    let mut urls: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let c = candidate(line);
        if i == 0
            && (line.contains(',') || line.contains(';'))
            && normalise_url(platform, c).is_err()
            && !c.contains('.')
        {
            continue;
        }
        match normalise_url(platform, c) {
            Ok(u) if !urls.contains(&u) => urls.push(u),
            Ok(_) => {}
            Err(e) => errors.push((i + 1, e)),
        }
    }
    if urls.is_empty() && errors.is_empty() {
        errors.push((1, "no addresses given".into()));
    }
    if urls.len() > MAX_INPUTS {
        errors.push((0, format!("at most {MAX_INPUTS} addresses per job")));
    }
    if errors.is_empty() { Ok(urls) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_per_platform_and_bad_lines_named() {
        assert_eq!(
            normalise_url("instagram", "http://m.instagram.com/p/C1xyz/?utm_source=ig#x").unwrap(),
            "https://www.instagram.com/p/C1xyz"
        );
        assert_eq!(normalise_url("x", "twitter.com/nasa/status/1").unwrap(), "https://x.com/nasa/status/1");
        assert_eq!(
            normalise_url("youtube", "https://youtu.be/abc123").unwrap(),
            "https://www.youtube.com/watch?v=abc123"
        );
        assert_eq!(
            normalise_url("youtube", "https://www.youtube.com/watch?v=abc&t=3").unwrap(),
            "https://www.youtube.com/watch?v=abc"
        );
        assert!(normalise_url("instagram", "https://www.tiktok.com/@a").unwrap_err().contains("Instagram"));
        let text =
            "https://www.instagram.com/p/A/\n\nnot a url at all\nhttps://instagram.com/p/A\nftp://x/y\n";
        let errs = parse("instagram", text).unwrap_err();
        assert_eq!(errs.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 5]);
        let csv = "url,note\nhttps://www.instagram.com/p/A/,first\nhttps://www.instagram.com/p/B/,second\n";
        assert_eq!(parse("instagram", csv).unwrap().len(), 2);
    }
}
