//! The layering of DESIGN.md, read from the sources: nothing below `src/modules` imports it,
//! and no new pair of modules reaches into each other's `schema`/`types` both ways.

use std::{collections::BTreeSet, path::Path};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The layers below the modules (DESIGN.md §2).
const LOWER: &[&str] = &[
    "access",
    "auth",
    "db",
    "pubsub",
    "mail",
    "jobs",
    "config",
    "error.rs",
    "telemetry.rs",
    "ratelimit.rs",
    "crypto.rs",
    "pdf.rs",
];

/// Module pairs that still import each other's `schema`/`types`: none (`Tenant` and `Viewer`
/// are merged from module parts in `src/graphql/`). This list may only shrink: a pair not on it
/// fails the test.
const KNOWN_CYCLES: &[(&str, &str)] = &[];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
    } else if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
}

/// Lines of code (not comments) of the files under `path` that contain `needle`.
fn uses(path: &Path, needle: &str) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(path, &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if !line.trim_start().starts_with("//") && line.contains(needle) {
                out.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    out
}

#[test]
fn nothing_below_the_modules_imports_them() {
    // A layer that moved or was renamed must be renamed here too, else it goes unchecked.
    let missing: Vec<&&str> = LOWER.iter().filter(|layer| !Path::new(SRC).join(layer).exists()).collect();
    assert!(missing.is_empty(), "layers named here but not in src/: {missing:?}");
    let offenders: Vec<String> =
        LOWER.iter().flat_map(|layer| uses(&Path::new(SRC).join(layer), "crate::modules")).collect();
    assert!(offenders.is_empty(), "lower layers import crate::modules:\n{}", offenders.join("\n"));
}

#[test]
fn no_new_pair_of_modules_imports_each_others_schema_or_types() {
    let modules: Vec<String> = std::fs::read_dir(Path::new(SRC).join("modules"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let reaches = |a: &str, b: &str| {
        let dir = Path::new(SRC).join("modules").join(a);
        !uses(&dir, &format!("modules::{b}::schema")).is_empty()
            || !uses(&dir, &format!("modules::{b}::types")).is_empty()
    };
    let mut cycles = BTreeSet::new();
    for a in &modules {
        for b in &modules {
            if a < b && reaches(a, b) && reaches(b, a) {
                cycles.insert((a.clone(), b.clone()));
            }
        }
    }
    let known: BTreeSet<(String, String)> =
        KNOWN_CYCLES.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let new: Vec<_> = cycles.difference(&known).collect();
    assert!(new.is_empty(), "modules that now import each other's schema/types: {new:?}");
    let gone: Vec<_> = known.difference(&cycles).collect();
    assert!(gone.is_empty(), "cycles that are gone — take them off KNOWN_CYCLES: {gone:?}");
}

/// Lines a source file may have before it must say why it is one file (DESIGN.md: split by
/// responsibility; a file that must stay whole says so in a comment containing "one file").
const MAX_LINES: usize = 600;

#[test]
fn no_source_file_is_long_without_saying_why() {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let lines = text.lines().count();
            (lines > MAX_LINES && !text.to_lowercase().contains("one file"))
                .then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by responsibility or say why they are one file:\n{}",
        long.join("\n")
    );
}
